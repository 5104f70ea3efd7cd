"""The rules of vendors: who creates one (the operator, or anyone signing up for approval), who manages its
profile, team and payout details (its members and the operator), its revenue-share agreement (the operator),
its status (pending → active ⇄ suspended) and its direct store (its own signing key ring and invoice series).

Methods whose name ends in ``_for`` act on behalf of a ``Principal``: a vendor the principal is not a member of
answers ``VendorNotFound`` exactly like a missing one (operator staff see all); an action it may see but not
take (a member changing the agreement) is ``OperatorOnly``. The other methods are for trusted callers (the CLI,
the catalog file). Services flush; the request or command commits.

Other features ask two questions of a vendor: ``sells(vendor)`` (its apps may be sold: it is active) and
``sells_direct(vendor)`` (it may also sell on its own bills: active with its direct store on). Licenses already
sold are never touched by either: they keep validating and renewing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from mercato import pricing
from mercato.accounts.access import Principal
from mercato.accounts.errors import InvalidEmail, InvalidSlug, OperatorOnly, VendorNotFound
from mercato.accounts.models import Role
from mercato.accounts.service import AccountService, normalise_email, parse_id, required_text
from mercato.catalog.models import RevenueShareRate, Vendor, VendorRevenueShare, VendorStatus
from mercato.catalog.vendors_repository import VendorMember, VendorsRepository
from mercato.clock import Clock
from mercato.keys.models import vendor_issuer
from mercato.keys.service import KeyService
from mercato.paging import Page, PageRequest
from mercato.problems import Conflict, InvalidInput

# -- errors --------------------------------------------------------------------------------------------------


class VendorSlugTaken(Conflict):
    """Another vendor has this slug. Choose another one (the slug never changes once a vendor has it)."""

    type = "vendor-slug-taken"
    title = "The vendor slug is taken"


class InvalidPayoutDetails(InvalidInput):
    """Payout details are `method` `bank_transfer` (with `account_holder`, a valid `iban` and `bic`) or
    `paypal` (with `account_holder` and `account_email`), and the payout `currency` (ISO 4217, like EUR).
    `errors` names each field that is wrong."""

    type = "invalid-payout-details"
    title = "Invalid payout details"


class InvalidRevenueShare(InvalidInput):
    """A revenue-share agreement is a list of rates, each a `hosting` (server, datacenter, cloud), the date
    it takes effect (`effective_from`) and the vendor's share as a fraction from 0 to 1 (`0.80` is 80%), at
    most one per hosting and date. `errors` names each field that is wrong."""

    type = "invalid-revenue-share"
    title = "Invalid revenue-share agreement"


class InvalidWebsite(InvalidInput):
    """A website is an `https://` or `http://` address, like `https://mockups.example`."""

    type = "invalid-website"
    title = "Not a website address"


class VendorStatusConflict(Conflict):
    """The vendor's status does not allow this change: approve a pending vendor, suspend a pending or active
    one, reactivate a suspended one. The sentence says the status it has."""

    type = "vendor-status-conflict"
    title = "The vendor's status does not allow this"


class VendorNotActive(Conflict):
    """Only an active vendor can turn its direct store on: a pending vendor waits for the operator's approval,
    a suspended one for its reactivation."""

    type = "vendor-not-active"
    title = "The vendor is not active"


class LastVendorMember(Conflict):
    """A vendor keeps at least one member. Add another member first, then remove this one."""

    type = "last-vendor-member"
    title = "A vendor keeps at least one member"


# -- what other features ask ---------------------------------------------------------------------------------


def sells(vendor: Vendor) -> bool:
    """Whether the vendor's apps may be sold to new buyers now: it is active (not pending, not suspended)."""
    return vendor.status == VendorStatus.ACTIVE


def sells_direct(vendor: Vendor) -> bool:
    """Whether the vendor may sell on its own bills now: active, with its direct store on. A listing that
    offers the direct channel keeps its spec while this is false; the direct channel refuses it."""
    return sells(vendor) and vendor.direct_store


def revenue_schedule_of(
    standard: Iterable[RevenueShareRate], agreement: Iterable[VendorRevenueShare]
) -> pricing.RevenueShareSchedule:
    """The vendor's revenue-share schedule: for each hosting where its agreement has rates, those rates from
    the first of them on (the marketplace's rates before it); elsewhere the marketplace's standard rates (or
    the default ones where none are configured)."""
    configured = [
        pricing.RevenueShareRate(r.effective_from, pricing.Hosting(r.hosting), r.vendor_share)
        for r in standard
    ]
    base = configured or list(pricing.RevenueShareSchedule.default().rates)
    own = [
        pricing.RevenueShareRate(r.effective_from, pricing.Hosting(r.hosting), Decimal(r.vendor_share))
        for r in agreement
    ]
    first: dict[pricing.Hosting, date] = {}
    for rate in own:
        first[rate.hosting] = min(first.get(rate.hosting, rate.effective_from), rate.effective_from)
    kept = [r for r in base if r.hosting not in first or r.effective_from < first[r.hosting]]
    return pricing.RevenueShareSchedule(tuple(kept + own))


class RevenueSchedules:
    """Revenue-share schedules by vendor, read once per unit of work: ``of(vendor_id)`` for an app's vendor,
    ``of(None)`` for the marketplace's standard schedule."""

    def __init__(self, session: Session) -> None:
        self.repository = VendorsRepository(session)
        self._standard: Sequence[RevenueShareRate] | None = None
        self._schedules: dict[uuid.UUID | None, pricing.RevenueShareSchedule] = {}

    def read(self, vendor_ids: Iterable[uuid.UUID]) -> None:
        """Read the schedules of these vendors at once (the apps of one quote): one query however many (with
        the standard rates, the first time)."""
        missing = {vendor_id for vendor_id in vendor_ids if vendor_id not in self._schedules}
        if not missing:
            return
        if self._standard is None:
            self._standard, agreements = self.repository.standard_rates_and_agreements_of(missing)
        else:
            agreements = self.repository.agreements_of(missing)
        for vendor_id in missing:
            self._schedules[vendor_id] = revenue_schedule_of(self._standard, agreements.get(vendor_id, ()))

    def of(self, vendor_id: uuid.UUID | None) -> pricing.RevenueShareSchedule:
        if vendor_id not in self._schedules:
            if self._standard is None:
                self._standard = self.repository.standard_rates()
            agreement = self.repository.agreement_of(vendor_id) if vendor_id is not None else ()
            self._schedules[vendor_id] = revenue_schedule_of(self._standard, agreement)
        return self._schedules[vendor_id]


# -- checks of what a request or command says ----------------------------------------------------------------

_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
_WEBSITE = re.compile(r"https?://[^\s/$.?#][^\s]*", re.I)
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_BIC = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?")
_CURRENCY = re.compile(r"[A-Z]{3}")
PAYOUT_METHODS = ("bank_transfer", "paypal")
_PAYOUT_FIELDS = ("method", "account_holder", "iban", "bic", "account_email", "currency")


def _error(where: str, name: str, message: str, code: str) -> dict[str, str]:
    return {"field": f"{where}.{name}" if where else name, "message": message, "code": code}


def _iban_checksum_ok(iban: str) -> bool:
    """ISO 13616: check digits 02 to 98, and the rearranged number is 1 modulo 97."""
    if not 2 <= int(iban[2:4]) <= 98:
        return False
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(c, 36)) for c in rearranged)
    return int(digits) % 97 == 1


def check_payout_details(
    details: Mapping[str, Any] | None, where: str = "body.payout_details"
) -> dict[str, str] | None:
    """Payout details as stored (``None`` for none): every problem named by field, nothing kept on failure.
    IBANs and BICs are stored without spaces, in upper case."""
    if details is None:
        return None
    errors: list[dict[str, str]] = []
    unknown = sorted(set(details) - set(_PAYOUT_FIELDS))
    errors += [_error(where, name, "is not a payout detail", "unknown_field") for name in unknown]
    values = {
        name: str(details[name]).strip() for name in _PAYOUT_FIELDS if details.get(name) not in (None, "")
    }
    method = values.get("method")
    if method not in PAYOUT_METHODS:
        errors.append(_error(where, "method", "must be bank_transfer or paypal", "payout_method"))
    if not values.get("account_holder"):
        errors.append(_error(where, "account_holder", "the account holder's name is required", "missing"))
    elif len(values["account_holder"]) > 200:
        errors.append(_error(where, "account_holder", "may have at most 200 characters", "too_long"))
    currency = values.get("currency", "").upper()
    if not _CURRENCY.fullmatch(currency):
        errors.append(_error(where, "currency", "must be an ISO 4217 code like EUR or USD", "currency"))
    stored: dict[str, str] = {"method": method or "", "account_holder": values.get("account_holder", "")}
    stored["currency"] = currency
    if method == "bank_transfer":
        iban = values.get("iban", "").replace(" ", "").upper()
        bic = values.get("bic", "").replace(" ", "").upper()
        if not _IBAN.fullmatch(iban) or not _iban_checksum_ok(iban):
            errors.append(
                _error(where, "iban", "is not a valid IBAN (country, check digits, account)", "iban")
            )
        if not _BIC.fullmatch(bic):
            errors.append(_error(where, "bic", "is not a BIC: 8 or 11 letters and digits", "bic"))
        if "account_email" in values:
            errors.append(_error(where, "account_email", "is for paypal payouts only", "not_for_method"))
        stored.update(iban=iban, bic=bic)
    elif method == "paypal":
        try:
            stored["account_email"] = normalise_email(values.get("account_email", ""))
        except InvalidEmail:
            errors.append(_error(where, "account_email", "must be the PayPal account's e-mail", "email"))
        errors += [
            _error(where, name, "is for bank_transfer payouts only", "not_for_method")
            for name in ("iban", "bic")
            if name in values
        ]
    if errors:
        raise InvalidPayoutDetails(
            "The payout details are not usable: "
            + "; ".join(f"{e['field']}: {e['message']}" for e in errors)
            + ".",
            errors=errors,
        )
    return stored


@dataclass(frozen=True)
class ShareRate:
    """One rate of a vendor's revenue-share agreement, as a request or command gives it."""

    hosting: str
    effective_from: date
    vendor_share: Decimal | str


def check_agreement(
    rates: Sequence[ShareRate], where: str = "body.revenue_share"
) -> list[tuple[pricing.Hosting, date, Decimal]]:
    errors: list[dict[str, str]] = []
    checked: list[tuple[pricing.Hosting, date, Decimal]] = []
    seen: set[tuple[str, date]] = set()
    for index, rate in enumerate(rates):
        at = f"{where}.{index}"
        try:
            hosting = pricing.Hosting(rate.hosting)
        except ValueError:
            errors.append(_error(at, "hosting", "must be server, datacenter or cloud", "hosting"))
            continue
        try:
            share = Decimal(str(rate.vendor_share))
        except InvalidOperation:
            share = Decimal("NaN")
        if not share.is_finite() or not 0 <= share <= 1 or share.as_tuple().exponent < -4:  # type: ignore[operator]
            errors.append(
                _error(at, "vendor_share", "must be a fraction from 0 to 1 with at most 4 decimals", "share")
            )
            continue
        if (hosting.value, rate.effective_from) in seen:
            errors.append(
                _error(at, "effective_from", f"a second {hosting.value} rate from this date", "duplicate")
            )
            continue
        seen.add((hosting.value, rate.effective_from))
        checked.append((hosting, rate.effective_from, share))
    if errors:
        raise InvalidRevenueShare(
            "The revenue-share agreement is not usable: "
            + "; ".join(f"{e['field']}: {e['message']}" for e in errors)
            + ".",
            errors=errors,
        )
    return checked


def _slug(text: str) -> str:
    slug = text.strip().lower()
    if not _SLUG.fullmatch(slug) or parse_id(slug) is not None:
        raise InvalidSlug(
            f"{slug!r} is not a usable vendor slug: use 1 to 64 lower-case letters, digits and inner hyphens, "
            "like example-mockups.",
            errors=[_error("body", "slug", "must be lower-case letters, digits and inner hyphens", "slug")],
        )
    return slug


def _email(text: str, where: str) -> str:
    try:
        return normalise_email(text)
    except InvalidEmail as error:
        raise InvalidEmail(
            error.detail,
            errors=[_error("", where, "must be an e-mail address like name@example.com", "email")],
        ) from None


def _website(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    website = text.strip()
    if len(website) > 300 or not _WEBSITE.fullmatch(website):
        raise InvalidWebsite(
            f"{website[:80]!r} is not a website address; write it as https://mockups.example.",
            errors=[_error("body", "website", "must be an http(s) address", "website")],
        )
    return website


@dataclass
class VendorProfile:
    """What a vendor says about itself."""

    name: str
    email: str
    legal_name: str = ""
    website: str | None = None
    payout_details: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class DirectStore:
    """What turning the direct store on made (or found): the ring's signing key and the invoice series."""

    vendor: Vendor
    signing_kid: str | None
    invoice_prefix: str | None


# -- the service ---------------------------------------------------------------------------------------------


class VendorService:
    def __init__(self, session: Session, secret_key: str, clock: Clock) -> None:
        self.session = session
        self.repository = VendorsRepository(session)
        self.accounts = AccountService(session)
        self.secret_key = secret_key
        self.clock = clock

    # Creating

    def create(
        self,
        slug: str,
        profile: VendorProfile,
        *,
        members: Sequence[str] = (),
        agreement: Sequence[ShareRate] = (),
        status: VendorStatus = VendorStatus.ACTIVE,
        note: str = "",
    ) -> Vendor:
        """A new vendor with its first members (e-mails; unknown ones get a password-less account) and its
        revenue-share agreement (none: the marketplace's standard rates). Everything is checked first."""
        slug = _slug(slug)
        vendor = Vendor(
            slug=slug,
            name=required_text(profile.name, "vendor's name"),
            legal_name=required_text(profile.legal_name or profile.name, "vendor's legal name"),
            email=_email(profile.email, "body.email"),
            website=_website(profile.website),
            payout_details=check_payout_details(profile.payout_details),
            status=status,
            status_note=note.strip(),
            status_changed_at=self.clock.now(),
        )
        rates = check_agreement(agreement)
        addresses = [_email(m, f"body.members.{n}") for n, m in enumerate(members)]
        taken = VendorSlugTaken(f"A vendor with the slug {slug!r} already exists.", vendor_slug=slug)
        if self.repository.vendor_by_slug(slug) is not None:
            raise taken
        self.repository.add_unique(vendor, taken)
        for address in dict.fromkeys(addresses):
            self._add_member(vendor, address)
        self._replace_agreement(vendor, rates)
        return vendor

    def create_for(
        self,
        principal: Principal,
        slug: str,
        profile: VendorProfile,
        *,
        members: Sequence[str] = (),
        agreement: Sequence[ShareRate] = (),
    ) -> Vendor:
        if not principal.operator:
            raise OperatorOnly(
                "Only operator staff may create a vendor. To sell on the marketplace, apply with "
                "POST /api/v1/vendor-applications."
            )
        return self.create(slug, profile, members=members, agreement=agreement)

    def apply_for(self, principal: Principal, slug: str, profile: VendorProfile) -> tuple[Vendor, bool]:
        """A signed-in user applies to sell: a pending vendor with that user as its member. Sending the same
        application again answers the pending vendor (the flag says whether it was created now)."""
        slug = _slug(slug)
        existing = self.repository.vendor_by_slug(slug)
        if existing is not None:
            if existing.id in principal.vendor_member_of and existing.status == VendorStatus.PENDING:
                return existing, False
            raise VendorSlugTaken(f"A vendor with the slug {slug!r} already exists.", vendor_slug=slug)
        vendor = self.create(slug, profile, status=VendorStatus.PENDING, note="Applied; waiting for review.")
        user = self.accounts.user(principal.user_id)
        self.accounts.grant(user, Role.VENDOR_MEMBER, vendor=vendor)
        return vendor, True

    # Finding

    def vendor(self, slug: str) -> Vendor:
        vendor = self.repository.vendor_by_slug(slug.strip().lower())
        if vendor is None:
            raise VendorNotFound(
                f"There is no vendor with the slug {slug!r}. 'mercato vendors list' lists them."
            )
        return vendor

    def vendor_for(self, principal: Principal, slug: str) -> Vendor:
        """A vendor the principal is a member of (operator staff: any); others answer like missing ones."""
        vendor = self.repository.vendor_by_slug(slug.strip().lower())
        if vendor is None or not (principal.operator or vendor.id in principal.vendor_member_of):
            raise VendorNotFound(
                f"There is no vendor {slug!r} that you can see. GET /api/v1/vendors lists yours."
            )
        return vendor

    def operated_by(self, principal: Principal, slug: str, action: str) -> Vendor:
        vendor = self.vendor_for(principal, slug)
        if not principal.operator:
            raise OperatorOnly(f"Only operator staff may {action}.")
        return vendor

    def vendors_for(
        self, principal: Principal, *, status: str | None = None, page: PageRequest = PageRequest()
    ) -> Page[Vendor]:
        """Operator staff: every vendor; a vendor's members: their vendors; anyone else: none."""
        only = None if principal.operator else principal.vendor_member_of
        return self.repository.list_vendors(only=only, status=status, page=page)

    def vendors(self, *, status: str | None = None, limit: int = 1000) -> Page[Vendor]:
        return self.repository.list_vendors(only=None, status=status, page=PageRequest(limit))

    def agreement(self, vendor: Vendor) -> Sequence[VendorRevenueShare]:
        return self.repository.agreement_of(vendor.id)

    # Profile

    def change_profile(self, vendor: Vendor, changes: Mapping[str, Any]) -> Vendor:
        """Change the fields given (name, legal_name, email, website, payout_details); the slug never changes.
        All are checked before any is changed."""
        checked: dict[str, Any] = {}
        if "name" in changes:
            checked["name"] = required_text(changes["name"] or "", "vendor's name")
        if "legal_name" in changes:
            checked["legal_name"] = required_text(changes["legal_name"] or "", "vendor's legal name")
        if "email" in changes:
            checked["email"] = _email(changes["email"] or "", "body.email")
        if "website" in changes:
            checked["website"] = _website(changes["website"])
        if "payout_details" in changes:
            checked["payout_details"] = check_payout_details(changes["payout_details"])
        for name, value in checked.items():
            setattr(vendor, name, value)
        self.session.flush()
        return vendor

    def change_profile_for(self, principal: Principal, slug: str, changes: Mapping[str, Any]) -> Vendor:
        return self.change_profile(self.vendor_for(principal, slug), changes)

    # Status

    def _set_status(
        self, vendor: Vendor, to: VendorStatus, allowed_from: Iterable[VendorStatus], note: str
    ) -> Vendor:
        self.repository.lock_vendor(vendor)
        if vendor.status == to:
            return vendor  # sent again: nothing changes, the first note stays
        if vendor.status not in tuple(allowed_from):
            verbs = {
                VendorStatus.ACTIVE: "approve or reactivate",
                VendorStatus.SUSPENDED: "suspend",
                VendorStatus.PENDING: "return to pending",
            }
            hint = {
                VendorStatus.PENDING: " Approve it instead.",
                VendorStatus.SUSPENDED: " Reactivate it instead.",
                VendorStatus.ACTIVE: "",
            }[vendor.status]
            raise VendorStatusConflict(
                f"{vendor.name} is {vendor.status.value}: cannot {verbs[to]} it this way.{hint}",
                vendor_status=vendor.status.value,
            )
        vendor.status = to
        vendor.status_note = note.strip()
        vendor.status_changed_at = self.clock.now()
        self.session.flush()
        return vendor

    def approve(self, vendor: Vendor, note: str = "") -> Vendor:
        """A pending vendor becomes active: its apps may be listed and sold."""
        return self._set_status(vendor, VendorStatus.ACTIVE, (VendorStatus.PENDING,), note)

    def suspend(self, vendor: Vendor, note: str = "") -> Vendor:
        """Stop a vendor's new sales (or turn down its application); licenses already sold keep working."""
        return self._set_status(
            vendor, VendorStatus.SUSPENDED, (VendorStatus.PENDING, VendorStatus.ACTIVE), note
        )

    def reactivate(self, vendor: Vendor, note: str = "") -> Vendor:
        return self._set_status(vendor, VendorStatus.ACTIVE, (VendorStatus.SUSPENDED,), note)

    # Members

    def members(self, vendor: Vendor) -> list[VendorMember]:
        return self.repository.members_of(vendor.id)

    def members_for(self, principal: Principal, slug: str) -> tuple[Vendor, list[VendorMember]]:
        vendor = self.vendor_for(principal, slug)
        return vendor, self.members(vendor)

    def _add_member(self, vendor: Vendor, email: str, name: str | None = None) -> tuple[VendorMember, bool]:
        user, _ = self.accounts.find_or_create_user(email, name)
        membership = self.repository.membership(vendor.id, user.id)
        if membership is not None:
            return VendorMember(membership, user), False
        membership = self.accounts.grant(user, Role.VENDOR_MEMBER, vendor=vendor)
        return VendorMember(membership, user), True

    def add_member(self, vendor: Vendor, email: str, name: str | None = None) -> tuple[VendorMember, bool]:
        """Add the person with this e-mail to the vendor's team (a password-less account if the address is
        new). Adding a member again changes nothing; the flag says whether they were added now."""
        return self._add_member(vendor, _email(email, "body.email"), name)

    def add_member_for(
        self, principal: Principal, slug: str, email: str, name: str | None = None
    ) -> tuple[Vendor, VendorMember, bool]:
        vendor = self.vendor_for(principal, slug)
        member, added = self.add_member(vendor, email, name)
        return vendor, member, added

    def remove_member(self, vendor: Vendor, email: str) -> bool:
        """Take the person off the vendor's team; False if they were not on it. The last member stays."""
        address = normalise_email(email)
        self.repository.lock_vendor(vendor)
        members = self.repository.members_of(vendor.id)
        leaving = [m for m in members if m.user.email == address]
        if not leaving:
            return False
        if len(members) == 1:
            raise LastVendorMember(
                f"{address} is the last member of {vendor.name}; a vendor keeps at least one. "
                "Add another member first."
            )
        self.repository.remove(leaving[0].membership)
        return True

    def remove_member_for(self, principal: Principal, slug: str, email: str) -> bool:
        return self.remove_member(self.vendor_for(principal, slug), email)

    # Revenue share

    def _replace_agreement(
        self, vendor: Vendor, rates: Sequence[tuple[pricing.Hosting, date, Decimal]]
    ) -> None:
        self.repository.replace_agreement(
            vendor.id,
            [
                VendorRevenueShare(vendor_id=vendor.id, hosting=h, effective_from=d, vendor_share=s)
                for h, d, s in rates
            ],
        )

    def set_agreement(self, vendor: Vendor, rates: Sequence[ShareRate]) -> Sequence[VendorRevenueShare]:
        """Replace the vendor's whole agreement (an empty list: the standard rates apply). Sales already made
        keep the split they were made at."""
        checked = check_agreement(rates)
        self.repository.lock_vendor(vendor)
        self._replace_agreement(vendor, checked)
        return self.repository.agreement_of(vendor.id)

    def set_agreement_for(
        self, principal: Principal, slug: str, rates: Sequence[ShareRate]
    ) -> tuple[Vendor, Sequence[VendorRevenueShare]]:
        vendor = self.operated_by(principal, slug, "change a vendor's revenue-share agreement")
        return vendor, self.set_agreement(vendor, rates)

    # Direct store

    def set_direct_store(self, vendor: Vendor, enabled: bool) -> DirectStore:
        """Turn the vendor's direct store on or off. On makes its signing key ring and its invoice series if
        they are missing, once however often (or however concurrently) it is sent; off stops new direct sales
        and keeps both, so the licenses it sold keep validating."""
        self.repository.lock_vendor(vendor)
        issuer = vendor_issuer(vendor.slug)
        keys = KeyService(self.session, self.secret_key, self.clock)
        prefix = vendor.slug.upper()
        if enabled:
            if not sells(vendor):
                raise VendorNotActive(
                    f"{vendor.name} is {vendor.status.value}: its direct store can open once it is active.",
                    vendor_status=vendor.status.value,
                )
            keys.keys.lock_ring(issuer)
            if keys.keys.signing_key(issuer) is None:
                keys.rotate(issuer)
            self.repository.ensure_invoice_series(issuer, prefix)
            vendor.direct_store = True
        else:
            vendor.direct_store = False
        self.session.flush()
        signing = keys.keys.signing_key(issuer)
        series = self.repository.invoice_series(issuer)
        return DirectStore(vendor, signing.kid if signing else None, series.prefix if series else None)

    def set_direct_store_for(self, principal: Principal, slug: str, enabled: bool) -> DirectStore:
        return self.set_direct_store(self.vendor_for(principal, slug), enabled)

    def keys_for(self, principal: Principal, slug: str) -> tuple[Vendor, list[Any]]:
        """The vendor's ring (signing, verifying and retired keys), oldest first."""
        vendor = self.vendor_for(principal, slug)
        return vendor, KeyService(self.session, self.secret_key, self.clock).ring(vendor_issuer(vendor.slug))
