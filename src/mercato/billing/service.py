"""What ``mercato billing run`` does for a given day. Every step is idempotent: running it twice on the same
day changes nothing the second time, and every change is recorded in the license's history. Two runs at once
change nothing twice either: each item is re-checked under its row lock, and the database refuses a second
renewal of a site for a billing date (``CloudRenewal``) and a second history entry of a once-per-date change
(``once_key``). The command also serialises whole runs (``billing.run_lock``).

1. **Cloud renewals.** A cloud site whose next billing date has come gets one renewal invoice for the apps
   it pays for, for the next cycle (the apps follow the site's billing date), and its billing date moves on.
2. **Dunning** of cloud subscriptions whose renewal is unpaid: 15 days of grace after the paid-until date,
   then *suspended*, then 15 more days, then *expired* (unlicensed). Paying the invoice restores the license.
3. **Evaluations** and **Data Center terms** past their end expire.
4. **Maintenance** of perpetual server licenses lapses: recorded once per maintenance end; the license keeps
   working for builds released before it.

Customers of direct licenses in a vendor's transition campaign get its announcement and reminders
(``mercato.transitions``). The command then announces scheduled price changes
(``mercato.catalog.price_notices``): each once, to the customers with renewals due around it.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from mercato import pricing
from mercato.accounts.models import HostInstance
from mercato.billing.models import CloudRenewal
from mercato.billing.repository import BillingRepository
from mercato.catalog.domain import pricing_listing
from mercato.catalog.models import Listing
from mercato.catalog.repository import CatalogRepository
from mercato.catalog.vendors import RevenueSchedules
from mercato.commerce.invoicing import Invoicing
from mercato.commerce.models import LineAction, QuoteLine
from mercato.commerce.quoting import Quoting, quote_line
from mercato.commerce.repository import CommerceRepository
from mercato.database import transaction
from mercato.licenses.events import LicenseEvent, LicenseEvents
from mercato.licenses.models import License, LicenseEventKind, LicenseState
from mercato.reminders.service import RenewalReminders
from mercato.services import Services
from mercato.transitions.mailing import TransitionMailing

GRACE_DAYS = 15
SUSPENDED_DAYS = 15


@dataclass(frozen=True)
class RenewalInvoice:
    """One renewal invoice a run made: its number, the site it renews and its total."""

    number: str
    site: str
    billing_date: date
    total: str


@dataclass
class BillingReport:
    renewal_invoices: list[str] = field(default_factory=list)
    suspended: list[str] = field(default_factory=list)
    unlicensed: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    maintenance_lapsed: list[str] = field(default_factory=list)
    renewals: list[RenewalInvoice] = field(default_factory=list)
    renewal_reminders: list[str] = field(default_factory=list)
    """``<entitlement number>:<reminder>`` for each renewal reminder sent (``mercato.reminders``)."""
    transition_emails: list[str] = field(default_factory=list)
    """``<entitlement number>:<kind>`` for each transition campaign e-mail sent (``mercato.transitions``)."""

    def merge(self, other: BillingReport) -> None:
        for name in (
            "renewal_invoices",
            "suspended",
            "unlicensed",
            "expired",
            "maintenance_lapsed",
            "renewals",
            "renewal_reminders",
            "transition_emails",
        ):
            getattr(self, name).extend(getattr(other, name))


@dataclass(frozen=True)
class StateChange:
    """A change the sweep makes to one license: its new status (None: the status stays), the history kind,
    the sentence, and the date it is about (once per license, kind and date)."""

    status: LicenseState | None
    kind: LicenseEventKind
    description: str
    on: date


RENEWAL_BATCH = 200
"""Cloud sites renewed together: in one transaction, with one statement per table for all of them."""
SWEEP_BATCH = 500
"""Licenses whose state changes are applied together, in one transaction."""


@dataclass(frozen=True)
class RenewalBatch:
    """What one batch of cloud renewals did: the report, and the sites it renewed (once each)."""

    report: BillingReport
    sites: list[uuid.UUID]


class BillingRun:
    """One day's billing, as of the services' clock. Due work is found by indexed queries and done in batches:
    what a batch reads (subscriptions, listings, organisations) is read once for all its items, and what it
    writes goes in one statement per table, so a run costs the same per due item at any size."""

    def __init__(self, session: Session, services: Services) -> None:
        self.session = session
        self.services = services
        self.clock = services.clock
        self.repo = BillingRepository(session)
        self.catalog = CatalogRepository(session)
        self.commerce = CommerceRepository(session)
        self.events = LicenseEvents(session, services.license_subscribers)

    # -- 1. cloud renewals ---------------------------------------------------------------------------------

    def cloud_sites_due(self) -> Sequence[HostInstance]:
        return self.repo.cloud_sites_due(self.clock.today())

    def cloud_sites_due_next(self, limit: int, skip: Collection[uuid.UUID] = ()) -> Sequence[HostInstance]:
        """The sites the next ``renew_due_batch(limit, skip)`` would renew (reads only)."""
        return self.repo.cloud_sites_due(self.clock.today(), limit=limit, skip=skip)

    def count_cloud_sites_due(self) -> int:
        return self.repo.count_cloud_sites_due(self.clock.today())

    def renew_due_batch(
        self, limit: int, skip: Collection[uuid.UUID] = (), *, skip_locked: bool = False
    ) -> RenewalBatch | None:
        """Renew the next ``limit`` due sites (not those in ``skip``), locked and re-checked under their row
        locks (another run may have renewed them meanwhile); None when no site is due. With ``skip_locked``,
        sites another transaction holds are passed over (the jobs of one run), and None means none is free."""
        sites = self.repo.cloud_sites_due(
            self.clock.today(), limit=limit, skip=skip, for_update=True, skip_locked=skip_locked
        )
        if not sites:
            return None
        return RenewalBatch(self.renew_sites(sites), [site.id for site in sites])

    def renew_due_site(self, site_id: uuid.UUID) -> BillingReport | None:
        """Renew the site if it is still due, re-checked under its row lock (another run may have renewed it
        meanwhile); None when it is not due any more."""
        site = self.repo.cloud_site_due(site_id, self.clock.today(), for_update=True)
        return None if site is None else self.renew_sites([site])

    def renew_site(self, site: HostInstance) -> BillingReport:
        return self.renew_sites([site])

    def renew_sites(self, sites: Sequence[HostInstance]) -> BillingReport:
        """Invoice each site's next cycle of every app it pays for up to its billing date, and move the date on
        by one cycle. (Apps left unpaid are not invoiced again: dunning takes them from there.)

        Each site's renewal is claimed with a ``CloudRenewal`` row, written in the same flush as the invoices:
        the table's key refuses a second renewal of a site and date, so a run that got past the row lock anyway
        fails there and writes nothing."""
        report = BillingReport()
        renewing = self.repo.cloud_subscriptions_renewing(sites)
        listings = self.catalog.listings(
            {license.product_key for licenses in renewing.values() for license in licenses},
            pricing.Hosting.CLOUD,
        )
        schedules = RevenueSchedules(self.session)  # the vendor's agreement, else the standard rates
        billed = [site for site in sites if renewing.get(site.id)]
        quotes = Quoting(self.commerce, self.services).renewal_quotes(
            [self._renewal(site, renewing[site.id], listings, schedules) for site in billed]
        )
        issued = Invoicing(self.commerce, self.services).issue_all(quotes)
        invoices = {site.id: invoice for site, (_, invoice) in zip(billed, issued, strict=True)}
        for site in sites:
            assert site.next_billing_date is not None and site.billing_cycle is not None
            billing_date = site.next_billing_date
            invoice = invoices.get(site.id)
            self.session.add(
                CloudRenewal(
                    host_instance_id=site.id,
                    billing_date=billing_date,
                    invoice_id=invoice.id if invoice is not None else None,
                )
            )
            if invoice is not None:
                report.renewal_invoices.append(invoice.number)
                total = pricing.format_money(
                    pricing.from_minor_units(invoice.total_minor, invoice.currency), invoice.currency
                )
                report.renewals.append(RenewalInvoice(invoice.number, site.server_id, billing_date, total))
            site.next_billing_date = pricing.add_months(
                billing_date, pricing.cycle_months(site.billing_cycle)
            )
        self.session.flush()
        return report

    def _renewal(
        self,
        site: HostInstance,
        licenses: Sequence[License],
        listings: Mapping[str, Listing],
        schedules: RevenueSchedules,
    ) -> tuple[HostInstance, str, list[QuoteLine]]:
        """The site's renewal quote's lines (with their currency), priced by the pricing core."""
        billing_date, cycle = site.next_billing_date, site.billing_cycle
        host_product = self.catalog.host_product_by_id(site.host_product_id)  # the session's, after the first
        assert host_product is not None and site.cloud_users is not None
        assert billing_date is not None and cycle is not None
        host = pricing.HostContext(
            hosting=pricing.Hosting.CLOUD,
            license_type=site.host_license_type,
            cloud_users=site.cloud_users,
            billing_cycle=cycle,
            next_billing_date=billing_date,
            product_name=host_product.name,
        )
        lines: list[QuoteLine] = []
        currency = ""
        for position, license in enumerate(licenses, 1):
            listing = listings[license.product_key]
            name = listing.app.name if listing.app is not None else host_product.name
            line = pricing.price_cloud_subscription(
                pricing_listing(listing, name, billing_date),
                host,
                billing_date,
                license_type=license.license_type,
                renewing=True,
            )
            vendor_id = listing.app.vendor_id if listing.app is not None else None
            split = pricing.split_revenue(line, schedules.of(vendor_id), self.clock.today())
            currency = line.currency
            lines.append(quote_line(position, LineAction.RENEWAL, listing, line, split, license))
        return site, currency, lines

    def renew_all_due(self, max_cycles_per_site: int) -> BillingReport:
        """Every due site's renewals in this one session (``whole_day``), batch by batch."""
        report = BillingReport()
        for batch in renewal_batches(
            lambda skip: self.renew_due_batch(RENEWAL_BATCH, skip), max_cycles_per_site
        ):
            report.merge(batch.report)
        return report

    def whole_day(self, max_cycles_per_site: int) -> BillingReport:
        """Every step of the day in this one session, as the run does them (which commits batch by batch).
        ``billing run --dry-run`` calls it and rolls the session back: what it reports is exactly what a run
        would do, priced and numbered by the same code, and nothing of it is kept."""
        report = self.renew_all_due(max_cycles_per_site)
        report.merge(self.sweep_licenses())
        report.renewal_reminders.extend(
            RenewalReminders(self.session, self.clock, self.services.secret_key).send_all()
        )
        report.transition_emails.extend(
            sent.describe() for sent in TransitionMailing(self.session, self.services).send_all()
        )
        return report

    # -- 2.–4. license states ------------------------------------------------------------------------------

    def license_batches_due_for_change(self) -> list[list[uuid.UUID]]:
        """The licenses the sweep may change today, in batches of at most ``SWEEP_BATCH`` (indexed queries, ids
        only; ``change_licenses`` decides under their row locks). A batch holds one kind of change (ended
        terms, unpaid subscriptions, lapsed maintenance), so its rows are updated in one statement."""
        kinds = self.repo.licenses_due_for_change(self.clock.today(), GRACE_DAYS, GRACE_DAYS + SUSPENDED_DAYS)
        return [
            ids[start : start + SWEEP_BATCH] for ids in kinds for start in range(0, len(ids), SWEEP_BATCH)
        ]

    def sweep_licenses(self) -> BillingReport:
        """Every due state change in this one session, batch by batch."""
        report = BillingReport()
        for batch in self.license_batches_due_for_change():
            report.merge(self.change_licenses(batch))
        return report

    def change_licenses(self, license_ids: Sequence[uuid.UUID]) -> BillingReport:
        """Apply what is due to these licenses, re-read under their row locks first (another run, or a payment,
        may have changed them meanwhile); their history entries are recorded together."""
        report = BillingReport()
        events: list[LicenseEvent] = []
        for license in self.repo.licenses_locked(license_ids):
            change = self.change_due(license)
            if change is not None:
                events.append(self._apply(license, change, report))
        if events:
            self.events.record(*events)
        self.session.flush()
        return report

    def change_due(self, license: License) -> StateChange | None:
        """What the sweep changes on this license today, if anything (reads only)."""
        today = self.clock.today()
        if license.status not in (LicenseState.ACTIVE, LicenseState.SUSPENDED):
            return None
        if license.evaluation or (
            license.hosting == pricing.Hosting.DATACENTER and license.term_end is not None
        ):
            if license.term_end is None or license.term_end >= today or license.status != LicenseState.ACTIVE:
                return None
            what = "evaluation" if license.evaluation else "Data Center term"
            ended = f"The {what} ended on {license.term_end}."
            return StateChange(LicenseState.EXPIRED, LicenseEventKind.EXPIRY, ended, license.term_end)
        if license.hosting == pricing.Hosting.CLOUD and license.term_end is not None:
            overdue = (today - license.term_end).days
            if overdue > GRACE_DAYS + SUSPENDED_DAYS:
                ended = f"Unpaid for {overdue} days after {license.term_end}: the subscription ended."
                return StateChange(LicenseState.EXPIRED, LicenseEventKind.UNLICENSED, ended, license.term_end)
            if overdue > GRACE_DAYS and license.status == LicenseState.ACTIVE:
                held = f"Unpaid {overdue} days after {license.term_end}: suspended until the invoice is paid."
                return StateChange(
                    LicenseState.SUSPENDED, LicenseEventKind.SUSPENSION, held, license.term_end
                )
            return None
        if (
            license.hosting == pricing.Hosting.SERVER
            and license.maintenance_end is not None
            and license.maintenance_end < today
            and license.maintenance_lapse_recorded_for != license.maintenance_end
        ):
            lapsed = (
                f"Maintenance ended on {license.maintenance_end.isoformat()}: the license keeps working for "
                "app versions built before then; renew for newer ones."
            )
            return StateChange(None, LicenseEventKind.MAINTENANCE_LAPSED, lapsed, license.maintenance_end)
        return None

    def _apply(self, license: License, change: StateChange, report: BillingReport) -> LicenseEvent:
        if change.status is not None:
            license.status = change.status
        if change.kind == LicenseEventKind.MAINTENANCE_LAPSED:
            license.maintenance_lapse_recorded_for = change.on
        reported = {
            LicenseEventKind.EXPIRY: report.expired,
            LicenseEventKind.UNLICENSED: report.unlicensed,
            LicenseEventKind.SUSPENSION: report.suspended,
            LicenseEventKind.MAINTENANCE_LAPSED: report.maintenance_lapsed,
        }
        reported[change.kind].append(license.entitlement_number)
        return LicenseEvent(
            change.kind,
            license,
            self.clock.now(),
            change.description,
            details={"on": change.on.isoformat()},
            once_key=f"{change.kind.value}:{change.on.isoformat()}",
        )


def renewal_batches(
    renew_batch: Callable[[Collection[uuid.UUID]], RenewalBatch | None], max_cycles_per_site: int
) -> Iterator[RenewalBatch]:
    """Batches of renewals until no site is due, each from ``renew_batch(skip)``. A site renewed
    ``max_cycles_per_site`` times in this run is skipped from then on: one far behind is caught up over several
    runs rather than in one."""
    cycles: Counter[uuid.UUID] = Counter()
    capped: set[uuid.UUID] = set()
    while (batch := renew_batch(capped)) is not None:
        yield batch
        for site_id in batch.sites:
            cycles[site_id] += 1
            if cycles[site_id] >= max_cycles_per_site:
                capped.add(site_id)


def renew_next_batch(
    factory: sessionmaker[Session],
    services: Services,
    skip: Collection[uuid.UUID],
    *,
    skip_locked: bool = False,
) -> RenewalBatch | None:
    """The next batch of due sites, in a transaction of its own. Should it fail, its sites are renewed one per
    transaction instead: the others are invoiced, and the failing one stops the run, naming the error. With
    ``skip_locked`` (the jobs of one run), sites another transaction holds are passed over."""
    try:
        with transaction(factory) as session:
            return BillingRun(session, services).renew_due_batch(RENEWAL_BATCH, skip, skip_locked=skip_locked)
    except Exception:
        with transaction(factory) as session:
            sites = [
                site.id for site in BillingRun(session, services).cloud_sites_due_next(RENEWAL_BATCH, skip)
            ]
        report, renewed_sites = BillingReport(), []
        for site_id in sites:
            with transaction(factory) as session:
                renewed = BillingRun(session, services).renew_due_site(site_id)
            if renewed is not None:  # None: renewed meanwhile by another run or job
                report.merge(renewed)
                renewed_sites.append(site_id)
        return RenewalBatch(report, renewed_sites) if sites else None
