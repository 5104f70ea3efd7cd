"""Importing a vendor's licenses sold elsewhere into its direct channel.

Three steps, in one transaction. **Check** every row against the catalog and the customers, collecting every
problem (nothing is written while any remains). **Write** each row: the customer organisation (found by slug
or exact name, else made), the host instance (found by host product, hosting and server id, else registered),
an invitation of the contact as the organisation's admin, and a direct license signed by the vendor's keys.
**Record** one ``import`` license event per license, all in one call, so that the customers' admins get their
keys in one e-mail per organisation; no money moves, so the ledger writes nothing.

Nothing twice: a file is known by its SHA-256 and a reference by its text, both unique per vendor in the
database, and the vendor's row is locked while it imports. The same file again answers the first import; a
reference imported before with the same terms is skipped, with other terms it is a problem.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mercato import pricing
from mercato.accounts.invitations import InvitationService
from mercato.accounts.models import HostInstance, Organisation, Role
from mercato.accounts.service import AccountService
from mercato.catalog.domain import pricing_listing, tier_of, tier_users
from mercato.catalog.models import HostProduct, Listing, Vendor
from mercato.catalog.repository import CatalogRepository
from mercato.catalog.vendors_repository import VendorsRepository
from mercato.imports.errors import DirectStoreClosed, ImportCollided, ImportRefused
from mercato.imports.models import ImportedLicense, LicenseImport
from mercato.imports.repository import ImportRepository
from mercato.imports.rows import ImportRow, RowProblem, ordered, parse_file, tier_text
from mercato.keys.models import vendor_issuer
from mercato.licenses.events import LicenseEvent, LicenseEvents
from mercato.licenses.models import License, LicenseEventKind, LicenseState
from mercato.licenses.service import LicenseService
from mercato.paging import Page, PageRequest
from mercato.pricing import Channel, Hosting
from mercato.pricing.money import from_minor_units, to_minor_units
from mercato.services import Services

Progress = Callable[[int, int], None]
"""Told ``(rows written, rows to write)`` as an import writes."""

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class ImportedLine:
    line: int
    reference: str
    entitlement_number: str | None
    skipped: bool = False
    """Imported before with the same terms: nothing was written for it this time."""


@dataclass(frozen=True)
class ImportSummary:
    """What an import made (or, for a dry run, would make)."""

    vendor: str
    sha256: str
    dry_run: bool
    rows: int
    licenses_created: int
    rows_skipped: int
    organisations_created: int
    host_instances_created: int
    invitations_sent: int
    import_id: uuid.UUID | None = None
    created_at: datetime | None = None
    repeated: bool = False
    """The same file was imported before: this is that import's summary, and nothing was written now."""
    lines: Sequence[ImportedLine] = ()
    """Each row with its license, in file order (an earlier import's answer again: the licenses it created)."""


@dataclass
class _Planned:
    """One checked row and where it goes."""

    row: ImportRow
    listing: Listing
    organisation: Organisation | None
    """An existing organisation; None: made by this import (``organisation_key``)."""
    organisation_key: str
    instance: HostInstance | None
    """An existing host instance; None: registered by this import."""
    skipped_as: str | None = None
    """The entitlement number of the license this reference became before, if the row is skipped."""


@dataclass
class _Plan:
    rows: list[_Planned] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    new_organisations: dict[str, str] = field(default_factory=dict)
    """Organisation key → the slug it will get."""
    new_hosts: dict[tuple[str, str, str], tuple[str, int]] = field(default_factory=dict)
    """Host key → (organisation key, line of its first row)."""
    invitations: set[tuple[str, str]] = field(default_factory=set)
    """(organisation key, e-mail) to invite."""

    def problem(self, row: ImportRow, column: str | None, detail: str) -> None:
        self.problems.append(RowProblem(row.line, column, detail))

    @property
    def to_write(self) -> list[_Planned]:
        return [p for p in self.rows if p.skipped_as is None]


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def slug_from(name: str) -> str:
    """A slug for a new organisation named ``name``: its letters and digits, ASCII, lower case."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_name.lower()).strip("-")[:56].strip("-")
    return slug or "customer"


class ImportService:
    def __init__(self, session: Session, services: Services) -> None:
        self.session = session
        self.services = services
        self.clock = services.clock
        self.repo = ImportRepository(session)
        self.catalog = CatalogRepository(session)
        self.accounts = AccountService(session)
        self._listings: dict[tuple[str, str], Listing | None] = {}
        self._offers: dict[uuid.UUID, pricing.Listing] = {}
        self._host_products: dict[str, HostProduct | None] = {}

    # -- the whole import ---------------------------------------------------------------------------------------

    def run(
        self,
        vendor: Vendor,
        data: bytes,
        *,
        dry_run: bool = False,
        imported_by: uuid.UUID | None = None,
        progress: Progress | None = None,
    ) -> ImportSummary:
        """Import ``data`` (the CSV file) for ``vendor``: every row or none (``ImportRefused`` lists every
        problem). A dry run checks and says what it would make, writing nothing."""
        if not vendor.direct_store:
            raise DirectStoreClosed(
                f"{vendor.name} has no open direct store: imported licenses are signed with its keys. Open it "
                f"first (POST /api/v1/vendors/{vendor.slug}/direct-store), then import."
            )
        sha256 = file_hash(data)
        if not dry_run:
            # One import of a vendor at a time: a second one waits here, then finds the first one's work.
            VendorsRepository(self.session).lock_vendor(vendor)
        earlier = self.repo.import_by_hash(vendor.id, sha256)
        if earlier is not None:
            return self.summary_of(earlier, vendor, repeated=True)
        plan = self.check(vendor, data)
        if plan.problems:
            raise ImportRefused(ordered(plan.problems))
        if dry_run:
            return self._would_make(vendor, sha256, plan)
        return self._write(vendor, sha256, plan, imported_by, progress)

    def check(self, vendor: Vendor, data: bytes) -> _Plan:
        """Every row checked for form, then against the catalog, the customers and earlier imports."""
        parsed = parse_file(data, self.clock.today())
        plan = _Plan(problems=list(parsed.problems))
        # The well-formed rows are checked against the database even when others are not: every problem at once.
        earlier = self.repo.imported(vendor.id, (row.reference for row in parsed.rows))
        organisations: dict[str, Organisation | None] = {}
        for row in parsed.rows:
            self._check_row(vendor, row, plan, organisations, earlier.get(row.reference))
        return plan

    # -- checking one row ---------------------------------------------------------------------------------------

    def _check_row(
        self,
        vendor: Vendor,
        row: ImportRow,
        plan: _Plan,
        organisations: dict[str, Organisation | None],
        before: ImportedLicense | None,
    ) -> None:
        listing = self._listing_for(vendor, row, plan)
        found, organisation = self._organisation_for(row, plan, organisations)
        if listing is None or not found:
            return
        key = row.organisation if organisation is None else str(organisation.id)
        if before is not None:
            license = self.session.get(License, before.license_id)
            if before.terms != row.terms or license is None:
                plan.problem(
                    row,
                    "reference",
                    f"{row.reference!r} was imported before (line {before.line} of an earlier file) with other "
                    "terms; a reference is imported once. Give the row a new reference, or leave it out.",
                )
                return
            plan.rows.append(_Planned(row, listing, organisation, key, None, license.entitlement_number))
            return
        usable, instance = self._host_for(row, plan, organisation, key)
        if not usable:
            return
        if instance is not None:
            holding = self.repo.license_on(instance.id, listing.product_key)
            if holding is not None:
                plan.problem(
                    row,
                    "server_id",
                    f"{row.server_id} has license {holding.entitlement_number} of {row.app} already; an app is "
                    "licensed once per host. Leave the row out, or renew or upgrade that license.",
                )
                return
        if organisation is None or not self.repo.is_member(organisation.id, row.contact_email):
            plan.invitations.add((key, row.contact_email))
        plan.rows.append(_Planned(row, listing, organisation, key, instance))

    def _listing_for(self, vendor: Vendor, row: ImportRow, plan: _Plan) -> Listing | None:
        """The app's listing for the row's hosting, if the app is the vendor's and sells the row's terms."""
        cache_key = (row.app, row.hosting.value)
        if cache_key not in self._listings:
            self._listings[cache_key] = self.catalog.listing(row.app, row.hosting.value)
        listing = self._listings[cache_key]
        app = self.catalog.app_by_key(row.app) if listing is None else listing.app
        if app is None or app.vendor_id != vendor.id:
            plan.problem(
                row, "app", f"{row.app!r} is not an app of {vendor.name}; give the key of one of its apps."
            )
            return None
        if listing is None:
            plan.problem(row, "hosting", f"{row.app} has no {row.hosting.value} listing.")
            return None
        if listing.host_product.key != row.host_product:
            plan.problem(
                row,
                "host_product",
                f"{row.app} runs on {listing.host_product.key}, not on {row.host_product!r}.",
            )
            return None
        offer = self._offer(listing)
        if row.hosting is not Hosting.CLOUD and not offer.policy.allows(Channel.DIRECT):
            plan.problem(
                row,
                "hosting",
                f"the {row.hosting.value} listing of {row.app} is not sold direct; imported licenses renew in "
                "the direct channel, so the listing must offer it.",
            )
            return None
        if row.license_type not in offer.license_types:
            sold = ", ".join(sorted(t.value for t in offer.license_types if t.value != "evaluation"))
            plan.problem(
                row, "license_type", f"{row.app} is not sold as {row.license_type.value}; it is: {sold}."
            )
            return None
        self._check_tier(row, offer, plan)
        return listing

    def _offer(self, listing: Listing) -> pricing.Listing:
        if listing.id not in self._offers:
            name = listing.app.name if listing.app else listing.product_key
            self._offers[listing.id] = pricing_listing(listing, name, self.clock.today())
        return self._offers[listing.id]

    def _check_tier(self, row: ImportRow, offer: pricing.Listing, plan: _Plan) -> None:
        table = offer.price_table_for(Channel.DIRECT)
        if isinstance(table, pricing.TierPriceTable):
            if table.price_of(tier_of(row.tier_users)) is None:
                tiers = ", ".join(tier_text(tier_users(t)) for t in table.tiers)
                plan.problem(
                    row,
                    "tier",
                    f"{row.app} is not sold direct with {tier_text(row.tier_users)} users; its tiers are {tiers}.",
                )
            return
        cycle = row.billing_cycle or pricing.BillingCycle.ANNUAL
        if not table.covers_users(row.tier_users):
            plan.problem(row, "tier", f"{row.app} is sold for at most {table.max_users} cloud users.")
        elif cycle is pricing.BillingCycle.ANNUAL and tier_of(row.tier_users) not in table.annual_tiers:
            tiers = ", ".join(tier_text(tier_users(t)) for t in table.annual_tiers)
            plan.problem(
                row,
                "tier",
                f"an annual {row.app} subscription is sold for {tiers} users, not {row.tier_users}; "
                "or make it monthly.",
            )

    def _organisation_for(
        self, row: ImportRow, plan: _Plan, seen: dict[str, Organisation | None]
    ) -> tuple[bool, Organisation | None]:
        """Whether the row's organisation is usable, and the existing one it names (None: this import makes
        it)."""
        if row.organisation not in seen:
            found = self.repo.organisations_named(row.organisation)
            if len(found) > 1:
                slugs = ", ".join(o.slug for o in found)
                plan.problem(
                    row,
                    "organisation",
                    f"{len(found)} organisations are named {row.organisation!r} ({slugs}); give the slug instead.",
                )
                return False, None
            seen[row.organisation] = found[0] if found else None
            if not found:
                plan.new_organisations[row.organisation] = self._new_slug(row.organisation, plan)
        return True, seen[row.organisation]

    def _new_slug(self, name: str, plan: _Plan) -> str:
        base = slug_from(name)
        taken = set(plan.new_organisations.values())
        slug, n = base, 1
        while slug in taken or self.repo.slug_taken(slug) or _looks_like_id(slug):
            n += 1
            slug = f"{base}-{n}"
        return slug

    def _host_for(
        self, row: ImportRow, plan: _Plan, organisation: Organisation | None, key: str
    ) -> tuple[bool, HostInstance | None]:
        """Whether the row's host is usable, and the existing instance it names (None: this import registers
        it)."""
        if row.host_product not in self._host_products:
            self._host_products[row.host_product] = self.repo.host_product(row.host_product)
        host = self._host_products[row.host_product]
        assert host is not None  # the app's listing runs on it
        instance = self.repo.host_instance(host.id, row.hosting.value, row.server_id)
        if instance is not None:
            if organisation is None or instance.organisation_id != organisation.id:
                plan.problem(
                    row,
                    "server_id",
                    f"the {row.host_product} {row.hosting.value} {row.server_id!r} belongs to another "
                    "organisation; name that organisation, or check the server id.",
                )
                return False, None
            return True, instance
        first = plan.new_hosts.setdefault(row.host_key, (key, row.line))
        if first[0] != key:
            plan.problem(
                row,
                "organisation",
                f"line {first[1]} puts {row.server_id} under another organisation; a host has one owner.",
            )
            return False, None
        if row.hosting is not Hosting.CLOUD and first[1] == row.line:
            if row.host_tier is None:
                plan.problem(
                    row,
                    "host_tier",
                    f"{row.server_id} is new to Mercato: give its host's user tier "
                    f"({', '.join(tier_text(t) for t in host.user_tiers)}).",
                )
                return False, None
            if row.host_tier not in host.user_tiers:
                plan.problem(
                    row,
                    "host_tier",
                    f"a {host.name} {row.hosting.value} has user tiers "
                    f"{', '.join(tier_text(t) for t in host.user_tiers)}, not {tier_text(row.host_tier)}.",
                )
                return False, None
        return True, None

    # -- dry run ------------------------------------------------------------------------------------------------

    def _would_make(self, vendor: Vendor, sha256: str, plan: _Plan) -> ImportSummary:
        writes = plan.to_write
        return ImportSummary(
            vendor=vendor.slug,
            sha256=sha256,
            dry_run=True,
            rows=len(plan.rows),
            licenses_created=len(writes),
            rows_skipped=len(plan.rows) - len(writes),
            organisations_created=len({p.organisation_key for p in writes if p.organisation is None}),
            host_instances_created=len({p.row.host_key for p in writes if p.instance is None}),
            invitations_sent=len(
                {(p.organisation_key, p.row.contact_email) for p in writes} & plan.invitations
            ),
            lines=[
                ImportedLine(p.row.line, p.row.reference, p.skipped_as, p.skipped_as is not None)
                for p in plan.rows
            ],
        )

    # -- writing ------------------------------------------------------------------------------------------------

    def _write(
        self,
        vendor: Vendor,
        sha256: str,
        plan: _Plan,
        imported_by: uuid.UUID | None,
        progress: Progress | None,
    ) -> ImportSummary:
        now = self.clock.now()
        record = LicenseImport(
            vendor_id=vendor.id,
            sha256=sha256,
            imported_by_id=imported_by,
            rows=len(plan.rows),
            licenses_created=0,
            rows_skipped=0,
            organisations_created=0,
            host_instances_created=0,
            invitations_sent=0,
            created_at=now,
        )
        try:
            with self.session.begin_nested():
                self.repo.add(record)
        except IntegrityError:
            # The same file, imported by another request between our look and our write: answer that one.
            self.session.expire_all()
            earlier = self.repo.import_by_hash(vendor.id, sha256)
            assert earlier is not None
            return self.summary_of(earlier, vendor, repeated=True)
        writer = _Writer(self, vendor, record, plan, now)
        try:
            with self.session.begin_nested():
                events = writer.write_all(progress)
        except IntegrityError:
            raise ImportCollided(
                f"Another import of {vendor.name} wrote some of these references at the same moment; nothing "
                "of this file was written. Send it again: what is imported by now is skipped."
            ) from None
        record.licenses_created = len(events)
        record.rows_skipped = len(plan.rows) - len(events)
        record.organisations_created = len(writer.organisations)
        record.host_instances_created = writer.hosts_created
        record.invitations_sent = writer.invitations_sent
        # One call for every license of the file: one keys e-mail per organisation, one history entry each.
        LicenseEvents(self.session, self.services.license_subscribers).record(*events)
        self.session.flush()
        written = iter(events)
        lines = [
            ImportedLine(p.row.line, p.row.reference, p.skipped_as, skipped=True)
            if p.skipped_as is not None
            else ImportedLine(p.row.line, p.row.reference, next(written).license.entitlement_number)
            for p in plan.rows
        ]
        return replace(self.summary_of(record, vendor), lines=lines)

    def summary_of(self, record: LicenseImport, vendor: Vendor, *, repeated: bool = False) -> ImportSummary:
        written = {
            imported.reference: (imported, number)
            for imported, number in self.repo.licenses_of_import(record.id)
        }
        return replace(
            self._brief(record, vendor),
            repeated=repeated,
            lines=[ImportedLine(row.line, ref, number) for ref, (row, number) in written.items()],
        )

    def imports_of(self, vendor: Vendor, page: PageRequest) -> Page[ImportSummary]:
        records = self.repo.imports_of(vendor.id, page)
        return records.shown_as([self._brief(record, vendor) for record in records.rows])

    @staticmethod
    def _brief(record: LicenseImport, vendor: Vendor) -> ImportSummary:
        return ImportSummary(
            vendor=vendor.slug,
            sha256=record.sha256,
            dry_run=False,
            rows=record.rows,
            licenses_created=record.licenses_created,
            rows_skipped=record.rows_skipped,
            organisations_created=record.organisations_created,
            host_instances_created=record.host_instances_created,
            invitations_sent=record.invitations_sent,
            import_id=record.id,
            created_at=record.created_at,
        )


def _looks_like_id(slug: str) -> bool:
    try:
        uuid.UUID(slug)
    except ValueError:
        return False
    return True


class _Writer:
    """Writes a checked plan, row by row, and gathers the license events to record."""

    def __init__(
        self, service: ImportService, vendor: Vendor, record: LicenseImport, plan: _Plan, now: datetime
    ):
        self.service = service
        self.session = service.session
        self.vendor = vendor
        self.record = record
        self.plan = plan
        self.now = now
        self.licenses = LicenseService(service.session, service.services)
        self.invitations = InvitationService(service.session)
        self.organisations: dict[str, Organisation] = {}
        self.instances: dict[tuple[str, str, str], HostInstance] = {}
        self.invited: set[tuple[uuid.UUID, str]] = set()
        self.hosts_created = 0
        self.invitations_sent = 0

    def write_all(self, progress: Progress | None) -> list[LicenseEvent]:
        writes = self.plan.to_write
        numbers = self._entitlement_numbers(len(writes))
        events: list[LicenseEvent] = []
        if progress is not None:
            progress(0, len(writes))
        # Each license flushes itself when it is added; the lookups between need not flush the rows before them.
        with self.session.no_autoflush:
            for done, (planned, number) in enumerate(zip(writes, numbers, strict=True), start=1):
                events.append(self.write(planned, number))
                if progress is not None:
                    progress(done, len(writes))
        return events

    def _entitlement_numbers(self, count: int) -> list[str]:
        """``count`` new entitlement numbers, found free in a few queries rather than one per license."""
        numbers: list[str] = []
        while len(numbers) < count:
            drawn = {new_entitlement_number() for _ in range(count - len(numbers))} - set(numbers)
            numbers.extend(drawn - self.service.repo.taken_entitlement_numbers(drawn))
        return numbers

    def write(self, planned: _Planned, entitlement_number: str) -> LicenseEvent:
        row = planned.row
        organisation = planned.organisation or self._new_organisation(planned)
        instance = planned.instance or self._new_instance(planned, organisation)
        if (planned.organisation_key, row.contact_email) in self.plan.invitations:
            self._invite(organisation, row.contact_email)
        listing = planned.listing
        term_end = row.maintenance_end if row.hosting in (Hosting.CLOUD, Hosting.DATACENTER) else None
        issued = self.licenses.create(
            License(
                entitlement_number=entitlement_number,
                listing_id=listing.id,
                organisation_id=organisation.id,
                host_instance_id=instance.id,
                product_key=listing.product_key,
                hosting=listing.hosting,
                channel=Channel.DIRECT,
                issuer=vendor_issuer(self.vendor.slug),
                license_type=row.license_type,
                tier_users=row.tier_users,
                host_binding=instance.server_id,
                evaluation=False,
                maintenance_start=row.purchase_date,
                maintenance_end=row.maintenance_end,
                term_end=term_end,
                status=LicenseState.ACTIVE,
            )
        )
        self.session.add(
            ImportedLicense(
                vendor_id=self.vendor.id,
                reference=row.reference,
                import_id=self.record.id,
                license_id=issued.license.id,
                line=row.line,
                terms=row.terms,
            )
        )
        return LicenseEvent(
            LicenseEventKind.IMPORT,
            issued.license,
            self.now,
            f"Imported from {self.vendor.name}'s own records (reference {row.reference}).",
            key=issued.key,
            details=_details(row, self.record.id),
        )

    def _new_organisation(self, planned: _Planned) -> Organisation:
        key = planned.organisation_key
        if key not in self.organisations:
            self.organisations[key] = self.service.accounts.create_organisation(
                self.plan.new_organisations[key], planned.row.organisation, planned.row.contact_email
            )
        return self.organisations[key]

    def _new_instance(self, planned: _Planned, organisation: Organisation) -> HostInstance:
        """The host instance the row names, registered once. Its host product, hosting, server id and tier were
        checked with the file; a server registered by someone else meanwhile fails the import at the flush
        (the unique host instance), never makes a second one."""
        row = planned.row
        if row.host_key not in self.instances:
            instance = HostInstance(
                organisation_id=organisation.id,
                host_product_id=planned.listing.host_product_id,
                hosting=row.hosting,
                server_id=row.server_id,
                name="",
                host_license_type=pricing.LicenseType.COMMERCIAL,
            )
            if row.hosting is Hosting.CLOUD:
                instance.cloud_users = row.tier_users
                instance.billing_cycle = row.billing_cycle or pricing.BillingCycle.ANNUAL
                instance.next_billing_date = row.maintenance_end
            else:
                instance.user_tier = row.host_tier
            self.session.add(instance)
            self.instances[row.host_key] = instance
            self.hosts_created += 1
        return self.instances[row.host_key]

    def _invite(self, organisation: Organisation, email: str) -> None:
        if (organisation.id, email) in self.invited:
            return
        self.invited.add((organisation.id, email))
        self.invitations.invite(
            organisation,
            email,
            Role.CUSTOMER_ADMIN,
            self.now,
            self.service.services.public_url,
            self.vendor.name,
            self.record.imported_by_id,
        )
        self.invitations_sent += 1


def new_entitlement_number() -> str:
    """A random entitlement number in the form every license has (``SEN-`` and ten digits)."""
    return f"SEN-{secrets.randbelow(9 * 10**9) + 10**9}"


def _details(row: ImportRow, import_id: uuid.UUID) -> dict[str, Any]:
    details: dict[str, Any] = {"reference": row.reference, "import": str(import_id), "line": row.line}
    if row.hosting is Hosting.CLOUD and row.prepaid_amount is not None and row.currency is not None:
        amount = from_minor_units(to_minor_units(row.prepaid_amount, row.currency), row.currency)
        details["prepaid"] = {"amount": str(amount), "currency": row.currency}
        details["billing_cycle"] = (row.billing_cycle or pricing.BillingCycle.ANNUAL).value
    return details
