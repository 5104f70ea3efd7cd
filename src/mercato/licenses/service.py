"""Issuing, re-issuing and revoking license keys, for support staff and for paid orders.

The rules of who may sign what live here: the seller of record signs (the operator on the marketplace, the
app's vendor on its direct store), a channel the listing does not sell is refused, and a tier must be one the
listing sells. Every key is recorded against its license, so the validate API can tell revoked and superseded
keys apart from current ones. Support's own changes (issue, reissue, revoke) are license events like a sale's.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from mercato import pricing
from mercato.accounts.errors import HostInstanceNotFound, OrganisationNotFound
from mercato.accounts.models import HostInstance, Organisation
from mercato.accounts.repository import AccountsRepository
from mercato.cache_invalidation import Topic, changed
from mercato.catalog.domain import pricing_listing, tier_of
from mercato.catalog.listings import check_on_sale
from mercato.catalog.models import UNLIMITED_USERS, Listing
from mercato.catalog.repository import CatalogRepository
from mercato.database import new_id
from mercato.keys.models import OPERATOR_ISSUER, vendor_issuer
from mercato.keys.service import KeyService
from mercato.licenses.events import LicenseEvent, LicenseEvents
from mercato.licenses.models import License, LicenseEventKind, LicenseKey, LicenseState
from mercato.licenses.repository import LicenseRepository
from mercato.licensing import LicensePayload, sign_license
from mercato.pricing import Channel, Hosting, LicenseType
from mercato.problems import Conflict, InvalidInput, NotFound
from mercato.services import Services

EVALUATION_DAYS = 30


class LicenseClosed(Conflict):
    type = "license-closed"
    title = "The license is closed"


class HostInstanceOfAnotherCustomer(InvalidInput):
    """A support-issued license names a customer and a host instance that belongs to another customer. Name the
    customer that owns the instance (`mercato customers show SLUG` lists its host instances), or leave the
    customer out: the instance's owner is then the license's."""

    type = "host-instance-of-another-customer"
    title = "The host instance belongs to another customer"


class HostInstanceDoesNotFit(InvalidInput):
    """A license for a host instance must be for a product and hosting that instance runs: an app of the
    instance's host product (or the host product itself), sold for the instance's hosting. Choose the instance
    that runs it, or issue for the right app and hosting."""

    type = "host-instance-does-not-fit"
    title = "The license does not fit the host instance"


@dataclass(frozen=True)
class IssueRequest:
    app_key: str
    hosting: str | None  # None: the host instance's
    channel: str
    tier: int | None  # None: unlimited
    license_type: str
    host_binding: str | None  # None: the host instance's server id
    maintenance_end: date | None = None
    term_end: date | None = None
    evaluation: bool = False
    organisation: str | None = None
    """The customer the license belongs to (slug or id): its admins see it and receive its keys."""
    host_instance_id: uuid.UUID | None = None
    """The host instance it is for: its customer, hosting and server id are the license's (unless given)."""


@dataclass(frozen=True)
class _Owner:
    organisation_id: uuid.UUID | None
    host_instance_id: uuid.UUID | None
    host_binding: str


@dataclass(frozen=True)
class IssuedKey:
    license: License
    key: LicenseKey

    @property
    def token(self) -> str:
        return self.key.token


def _as_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        return None


def _entitlement_number() -> str:
    """A random entitlement number; the caller checks that no license has it."""
    return f"SEN-{secrets.randbelow(9 * 10**9) + 10**9}"


def _tier_users(tier: int | None) -> int:
    return UNLIMITED_USERS if tier is None else tier


class LicenseService:
    def __init__(self, session: Session, services: Services) -> None:
        self.catalog = CatalogRepository(session)
        self.accounts = AccountsRepository(session)
        self.licenses = LicenseRepository(session)
        self.keys = KeyService(session, services.secret_key, services.clock)
        self.events = LicenseEvents(session, services.license_subscribers)
        self.clock = services.clock
        self.superseded_grace = services.superseded_key_grace
        self._spare_numbers: list[str] = []
        """Entitlement numbers drawn and checked ahead (``reserve_entitlement_numbers``), used first."""

    # -- issuing -------------------------------------------------------------------------------------------

    def issue(self, request: IssueRequest) -> IssuedKey:
        """Create a license with the given terms and sign its first key. With a customer (and a host instance)
        it belongs to that customer like a bought one: its admins see it and receive its keys."""
        instance = self._host_instance(request.host_instance_id)
        if instance is not None:
            request = replace(
                request,
                hosting=request.hosting or instance.hosting.value,
                host_binding=request.host_binding or instance.server_id,
            )
        if not request.hosting:
            raise InvalidInput("Say which hosting the license is for (--hosting), or name its host instance.")
        if not request.host_binding or not request.host_binding.strip():
            raise InvalidInput(
                "Say which server the license binds to (--server-id), or name its host instance."
            )
        listing = self.catalog.listing(request.app_key, request.hosting)
        if listing is None:
            raise NotFound(
                f"{request.app_key!r} has no {request.hosting} listing. "
                "GET /api/v1/apps/{key} shows the hostings an app is sold for."
            )
        vendor = self.catalog.vendor_by_id(listing.app.vendor_id) if listing.app is not None else None
        check_on_sale(
            listing,
            vendor,
            f"{request.app_key} ({request.hosting}) is not sold to new buyers",
            channel=request.channel,
        )
        evaluation = request.evaluation or request.license_type == "evaluation"
        license_type = "evaluation" if evaluation else request.license_type
        if license_type not in LicenseType.__members__.values():
            types = ", ".join(LicenseType)
            raise InvalidInput(f"{license_type!r} is not a license type. Use one of: {types}.")
        if request.channel not in ("marketplace", "direct"):
            raise InvalidInput(f"{request.channel!r} is not a channel. Use 'marketplace' or 'direct'.")
        # The pricing core owns the rules of what a listing sells: the same checks and errors as a quote.
        name = listing.app.name if listing.app else listing.host_product.name
        offer = pricing_listing(listing, name, self.clock.today())
        channel = pricing.Channel(request.channel)
        pricing.check_channel(offer, channel)
        if not evaluation:
            pricing.check_license_type_offered(offer, pricing.LicenseType(license_type))
        if not evaluation and isinstance(offer.price_table, pricing.TierPriceTable):
            table = offer.price_table_for(channel)
            assert isinstance(table, pricing.TierPriceTable)
            wanted = tier_of(_tier_users(request.tier))
            if table.price_of(wanted) is None:
                raise pricing.TierNotSold(
                    app_name=offer.name, tier=str(wanted), sold_tiers=[str(t) for t in table.tiers]
                )
        issuer = OPERATOR_ISSUER if channel is pricing.Channel.MARKETPLACE else self._vendor_issuer(listing)
        owner = self._owner(request, listing, instance)
        today, now = self.clock.today(), self.clock.now()
        maintenance_end, term_end = self._terms(listing, request, evaluation, today)
        license = License(
            entitlement_number=self._new_entitlement_number(),
            listing_id=listing.id,
            organisation_id=owner.organisation_id,
            host_instance_id=owner.host_instance_id,
            product_key=listing.product_key,
            hosting=listing.hosting,
            channel=Channel(request.channel),
            issuer=issuer,
            license_type=LicenseType(license_type),
            tier_users=_tier_users(request.tier),
            host_binding=owner.host_binding,
            evaluation=evaluation,
            maintenance_start=today,
            maintenance_end=maintenance_end,
            term_end=term_end,
            status=LicenseState.ACTIVE,
            created_at=now,
            updated_at=now,
        )
        self.licenses.add(license)
        issued = IssuedKey(license, self._sign(license))
        self._record(LicenseEventKind.NEW, license, "Issued by support staff.", key=issued.key)
        return issued

    def _host_instance(self, instance_id: uuid.UUID | None) -> HostInstance | None:
        if instance_id is None:
            return None
        found = self.accounts.host_instance(instance_id)
        if found is None:
            raise HostInstanceNotFound(
                f"There is no host instance {instance_id}. `mercato customers show SLUG` lists a customer's."
            )
        return found.instance

    def _owner(self, request: IssueRequest, listing: Listing, instance: HostInstance | None) -> _Owner:
        """Whose license it is: the named customer's, and the host instance's, which must be the customer's and
        run what the license is for."""
        assert request.host_binding is not None
        organisation: Organisation | None = None
        if request.organisation is not None:
            organisation = self._organisation(request.organisation)
        if instance is None:
            return _Owner(organisation.id if organisation else None, None, request.host_binding.strip())
        if organisation is not None and instance.organisation_id != organisation.id:
            raise HostInstanceOfAnotherCustomer(
                f"Host instance {instance.id} belongs to another customer, not to {organisation.slug}."
            )
        if instance.host_product_id != listing.host_product_id or instance.hosting != listing.hosting:
            raise HostInstanceDoesNotFit(
                f"Host instance {instance.id} runs a {instance.hosting} host that {listing.product_key} "
                f"({listing.hosting}) is not sold for."
            )
        if request.host_binding.strip() != instance.server_id:
            raise HostInstanceDoesNotFit(
                f"Host instance {instance.id} has the server id {instance.server_id}, not "
                f"{request.host_binding.strip()}: a key bound to another server would not work there. Leave "
                "--server-id out."
            )
        return _Owner(instance.organisation_id, instance.id, instance.server_id)

    def _organisation(self, reference: str) -> Organisation:
        organisation_id = _as_id(reference)
        found = (
            self.accounts.organisation_by_id(organisation_id)
            if organisation_id is not None
            else self.accounts.organisation_by_slug(reference.strip().lower())
        )
        if found is None:
            raise OrganisationNotFound(
                f"There is no customer {reference!r}. `mercato customers list` shows them."
            )
        return found

    def reissue(self, entitlement_number: str) -> IssuedKey:
        """A new key for the license's current terms; earlier current keys are superseded (with grace)."""
        license = self._license(entitlement_number)
        if license.status.is_closed:
            raise LicenseClosed(f"License {entitlement_number} is {license.status}; it gets no new keys.")
        issued = self.rekey(license)
        self._record(
            LicenseEventKind.REISSUE,
            license,
            "A new key for the same terms; earlier keys are superseded.",
            key=issued.key,
            replaced_earlier_keys=True,
        )
        return issued

    def create(self, license: License, *, together: bool = False) -> IssuedKey:
        """Record a license whose terms the caller has set (an order's fulfilment) and sign its first key. The
        caller records the event that made it.

        ``together``: the license and its key are written with the caller's next flush rather than at once, so
        that the licenses of a paid invoice go to the database in one statement; the caller sets every column
        (no column default is applied before that flush) and flushes before recording the events."""
        license.entitlement_number = license.entitlement_number or self._new_entitlement_number()
        if not together:
            self.licenses.add(license)
            return IssuedKey(license, self._sign(license))
        license.id = license.id or new_id()
        # Signed before it joins the session: reading the signing key then flushes nothing of it.
        key = self._sign(license, together=True)
        self.licenses.session.add(license)
        return IssuedKey(license, key)

    def reserve_entitlement_numbers(self, count: int) -> None:
        """Draw ``count`` new entitlement numbers, checked in one query, for the licenses about to be created
        (the lines of a paid invoice); ``create`` uses them before drawing others one at a time."""
        while len(self._spare_numbers) < count:
            drawn = {_entitlement_number() for _ in range(count - len(self._spare_numbers))}
            drawn -= set(self._spare_numbers) | self.licenses.entitlements_taken(drawn)
            self._spare_numbers.extend(sorted(drawn))

    def rekey(self, license: License) -> IssuedKey:
        """Sign a key for the license's terms as they are now; its earlier keys are superseded with grace."""
        now = self.clock.now()
        for old in self.licenses.current_keys(license.id):
            old.superseded_at = now
            old.superseded_grace_until = now + self.superseded_grace
        return IssuedKey(license, self._sign(license, now))

    def revoke_all_keys(self, license: License, reason: str) -> None:
        """Revoke every key of the license (a refund or a cancellation records the event)."""
        now = self.clock.now()
        changed(self.licenses.session, Topic.KEY_STANDINGS)
        for key in self.licenses.keys_of(license.id):
            if key.revoked_at is None:
                key.revoked_at = now
                key.revoked_reason = reason

    # -- revoking ------------------------------------------------------------------------------------------

    def revoke_key(self, serial: str, reason: str) -> LicenseKey:
        key = self.licenses.key_by_serial(serial)
        if key is None:
            raise NotFound(f"No key with serial {serial!r} was issued by this deployment.")
        if key.revoked_at is None:
            key.revoked_at = self.clock.now()
            key.revoked_reason = reason
            self._record(
                LicenseEventKind.REVOCATION,
                key.license,
                f"Key {serial} revoked: {reason}",
                details={"serial": serial},
            )
        return key

    def revoke_license(self, entitlement_number: str, reason: str) -> License:
        """Revoke every key of the license and cancel it."""
        license = self._license(entitlement_number)
        self.revoke_all_keys(license, reason)
        license.status = LicenseState.CANCELLED
        self._record(LicenseEventKind.CANCELLATION, license, f"Cancelled and every key revoked: {reason}")
        return license

    # -- helpers -------------------------------------------------------------------------------------------

    def _license(self, entitlement_number: str) -> License:
        license = self.licenses.by_entitlement(entitlement_number)
        if license is None:
            raise NotFound(f"There is no license {entitlement_number}.")
        return license

    def _vendor_issuer(self, listing: Listing) -> str:
        assert listing.app is not None  # check_channel refused direct sales of host products
        vendor = self.catalog.vendor_by_id(listing.app.vendor_id)
        assert vendor is not None
        return vendor_issuer(vendor.slug)

    def _record(
        self,
        kind: LicenseEventKind,
        license: License,
        description: str,
        *,
        key: LicenseKey | None = None,
        replaced_earlier_keys: bool = False,
        details: dict[str, str] | None = None,
    ) -> None:
        self.events.record(
            LicenseEvent(
                kind,
                license,
                self.clock.now(),
                description,
                key=key,
                replaced_earlier_keys=replaced_earlier_keys,
                details=details or {},
            )
        )

    @staticmethod
    def _terms(
        listing: Listing, request: IssueRequest, evaluation: bool, today: date
    ) -> tuple[date | None, date | None]:
        """The maintenance end and term end the key will carry."""
        if evaluation:
            # Evaluations: free, 30 days, the highest tier (unless support staff choose otherwise).
            term_end = request.term_end or today + timedelta(days=EVALUATION_DAYS)
            return term_end, term_end
        if listing.hosting == Hosting.SERVER:
            if request.maintenance_end is None:
                raise InvalidInput("A server license needs a maintenance end date (--maintenance-end).")
            return request.maintenance_end, request.term_end
        if request.term_end is None:
            raise InvalidInput(
                f"A {listing.hosting} license is a term license: it needs a term end (--term-end)."
            )
        return request.maintenance_end or request.term_end, request.term_end

    def _new_entitlement_number(self) -> str:
        if self._spare_numbers:
            return self._spare_numbers.pop(0)
        while True:
            number = _entitlement_number()
            if not self.licenses.entitlement_exists(number):
                return number

    def _licensed_users(self, license: License) -> bool:
        """Whether the key says its listing sells licensed users: a marketplace license of a listing whose
        tier need not match the host's (the listing's setting when the key is signed)."""
        if license.channel is not Channel.MARKETPLACE:
            return False
        listing = self.catalog.listing_by_id(license.listing_id)
        return listing is not None and not listing.tier_must_match_host_marketplace

    def _sign(self, license: License, now: datetime | None = None, *, together: bool = False) -> LicenseKey:
        now = now or self.clock.now()
        kid, private_key = self.keys.signer(license.issuer)
        serial = uuid.uuid4().hex
        payload = LicensePayload(
            license_id=str(license.id),
            entitlement_number=license.entitlement_number,
            app_key=license.product_key,
            hosting=license.hosting.value,  # type: ignore[arg-type]
            channel=license.channel.value,  # type: ignore[arg-type]
            issuer=license.issuer,
            license_type=license.license_type.value,  # type: ignore[arg-type]
            tier=None if license.tier_users == UNLIMITED_USERS else license.tier_users,
            host_binding=license.host_binding,
            maintenance_end=license.maintenance_end,
            term_end=license.term_end,
            evaluation=license.evaluation,
            issued_at=now,
            key_serial=serial,
            licensed_users=self._licensed_users(license),
        )
        key = LicenseKey(
            id=new_id(),  # given here, not at the flush: a key written ``together`` is known by it at once
            serial=serial,
            license_id=license.id,
            kid=kid,
            token=sign_license(payload, private_key, kid),
            issued_at=now,
        )
        if together:
            self.licenses.session.add(key)
        else:
            self.licenses.add(key)
        return key
