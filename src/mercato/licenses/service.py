"""Issuing, re-issuing and revoking license keys, for support staff and (later) for paid orders.

The rules of who may sign what live here: the seller of record signs (the operator on the marketplace, the
app's vendor on its direct store), a channel the listing does not sell is refused, and a tier must be one the
listing sells. Every key is recorded against its license, so the validate API can tell revoked and superseded
keys apart from current ones.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from mercato.catalog.models import UNLIMITED_USERS, Listing
from mercato.catalog.repository import CatalogRepository
from mercato.database import utcnow
from mercato.keys.models import OPERATOR_ISSUER, vendor_issuer
from mercato.keys.service import KeyService
from mercato.licenses.models import License, LicenseKey
from mercato.licenses.repository import LicenseRepository
from mercato.licensing import LicensePayload, sign_license
from mercato.problems import Conflict, InvalidInput, NotFound, Problem

EVALUATION_DAYS = 30
LICENSE_TYPES = ("commercial", "academic", "starter", "community", "open_source", "evaluation", "developer")


class ChannelNotSold(Problem):
    status = 422
    type = "channel-not-allowed"
    title = "Channel not allowed"


class TierNotSold(Problem):
    status = 422
    type = "tier-not-sold"
    title = "Tier not sold"


@dataclass(frozen=True)
class IssueRequest:
    app_key: str
    hosting: str
    channel: str
    tier: int | None  # None: unlimited
    license_type: str
    host_binding: str
    today: date
    maintenance_end: date | None = None
    term_end: date | None = None
    evaluation: bool = False


@dataclass(frozen=True)
class IssuedKey:
    license: License
    key: LicenseKey

    @property
    def token(self) -> str:
        return self.key.token


def _tier_users(tier: int | None) -> int:
    return UNLIMITED_USERS if tier is None else tier


def _tiers_sold(listing: Listing) -> set[int]:
    return {p.tier_users for p in listing.tier_prices}


class LicenseService:
    def __init__(self, session: Session, secret: str, superseded_grace_days: int = 30) -> None:
        self.catalog = CatalogRepository(session)
        self.licenses = LicenseRepository(session)
        self.keys = KeyService(session, secret)
        self.superseded_grace = timedelta(days=superseded_grace_days)

    # -- issuing -------------------------------------------------------------------------------------------

    def issue(self, request: IssueRequest) -> IssuedKey:
        """Create a license with the given terms and sign its first key."""
        listing = self.catalog.listing(request.app_key, request.hosting)
        if listing is None:
            raise NotFound(
                f"{request.app_key!r} has no {request.hosting} listing. "
                "GET /api/v1/apps/{key} shows the hostings an app is sold for."
            )
        evaluation = request.evaluation or request.license_type == "evaluation"
        license_type = "evaluation" if evaluation else request.license_type
        if license_type not in LICENSE_TYPES:
            raise InvalidInput(
                f"{license_type!r} is not a license type. Use one of: {', '.join(LICENSE_TYPES)}."
            )
        issuer = self._issuer_for(listing, request.channel)
        tier, maintenance_end, term_end = self._terms(listing, request, evaluation)
        license = License(
            entitlement_number=self._new_entitlement_number(),
            listing_id=listing.id,
            product_key=listing.product_key,
            hosting=listing.hosting,
            channel=request.channel,
            issuer=issuer,
            license_type=license_type,
            tier_users=_tier_users(tier),
            host_binding=request.host_binding.strip(),
            evaluation=evaluation,
            maintenance_start=request.today,
            maintenance_end=maintenance_end,
            term_end=term_end,
            status="active",
        )
        self.licenses.add(license)
        return IssuedKey(license, self._sign(license))

    def reissue(self, entitlement_number: str) -> IssuedKey:
        """A new key for the license's current terms; earlier current keys are superseded (with grace)."""
        license = self._license(entitlement_number)
        if license.status in ("cancelled", "superseded"):
            raise Conflict(f"License {entitlement_number} is {license.status}; it gets no new keys.")
        now = utcnow()
        for old in self.licenses.current_keys(license.id):
            old.superseded_at = now
            old.superseded_grace_until = now + self.superseded_grace
        return IssuedKey(license, self._sign(license, now))

    # -- revoking ------------------------------------------------------------------------------------------

    def revoke_key(self, serial: str, reason: str) -> LicenseKey:
        key = self.licenses.key_by_serial(serial)
        if key is None:
            raise NotFound(f"No key with serial {serial!r} was issued by this deployment.")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            key.revoked_reason = reason
            self.licenses.session.flush()
        return key

    def revoke_license(self, entitlement_number: str, reason: str) -> License:
        """Revoke every key of the license and cancel it."""
        license = self._license(entitlement_number)
        now = utcnow()
        for key in license.keys:
            if key.revoked_at is None:
                key.revoked_at = now
                key.revoked_reason = reason
        license.status = "cancelled"
        self.licenses.session.flush()
        return license

    # -- helpers -------------------------------------------------------------------------------------------

    def _license(self, entitlement_number: str) -> License:
        license = self.licenses.by_entitlement(entitlement_number)
        if license is None:
            raise NotFound(f"There is no license {entitlement_number}.")
        return license

    def _issuer_for(self, listing: Listing, channel: str) -> str:
        if channel == "marketplace":
            if not listing.sold_on_marketplace:
                raise ChannelNotSold(
                    f"{listing.product_key} ({listing.hosting}) is not sold on the marketplace."
                )
            return OPERATOR_ISSUER
        if channel == "direct":
            if not listing.sold_direct or listing.app is None:
                raise ChannelNotSold(
                    f"{listing.product_key} ({listing.hosting}) is not sold directly by its vendor"
                    + (
                        ": cloud apps are sold only through the marketplace."
                        if listing.hosting == "cloud"
                        else "."
                    )
                )
            return vendor_issuer(self._vendor_slug(listing))
        raise InvalidInput(f"{channel!r} is not a channel. Use 'marketplace' or 'direct'.")

    def _vendor_slug(self, listing: Listing) -> str:
        assert listing.app is not None
        vendor = self.catalog.vendor_by_id(listing.app.vendor_id)
        assert vendor is not None
        return vendor.slug

    def _terms(
        self, listing: Listing, request: IssueRequest, evaluation: bool
    ) -> tuple[int | None, date | None, date | None]:
        if evaluation:
            # Evaluations: free, 30 days, the highest tier (unless support staff choose otherwise).
            term_end = request.term_end or request.today + timedelta(days=EVALUATION_DAYS)
            return request.tier, term_end, term_end
        if listing.hosting != "cloud" and _tier_users(request.tier) not in _tiers_sold(listing):
            sold = sorted(_tiers_sold(listing), key=lambda t: (t == UNLIMITED_USERS, t))
            labels = ", ".join("unlimited" if t == UNLIMITED_USERS else str(t) for t in sold)
            tier_text = "unlimited" if request.tier is None else str(request.tier)
            raise TierNotSold(
                f"{listing.product_key} ({listing.hosting}) is not sold in a {tier_text}-user tier. "
                f"Its tiers are: {labels}.",
                tiers=labels.split(", "),
            )
        if listing.hosting == "server":
            if request.maintenance_end is None:
                raise InvalidInput("A server license needs a maintenance end date (--maintenance-end).")
            return request.tier, request.maintenance_end, request.term_end
        if request.term_end is None:
            raise InvalidInput(
                f"A {listing.hosting} license is a term license: it needs a term end (--term-end)."
            )
        return request.tier, request.maintenance_end or request.term_end, request.term_end

    def _new_entitlement_number(self) -> str:
        while True:
            number = f"SEN-{secrets.randbelow(9 * 10**9) + 10**9}"
            if not self.licenses.entitlement_exists(number):
                return number

    def _sign(self, license: License, now: datetime | None = None) -> LicenseKey:
        now = now or utcnow()
        kid, private_key = self.keys.signer(license.issuer)
        serial = uuid.uuid4().hex
        payload = LicensePayload(
            license_id=str(license.id),
            entitlement_number=license.entitlement_number,
            app_key=license.product_key,
            hosting=license.hosting,  # type: ignore[arg-type]
            channel=license.channel,  # type: ignore[arg-type]
            issuer=license.issuer,
            license_type=license.license_type,  # type: ignore[arg-type]
            tier=None if license.tier_users == UNLIMITED_USERS else license.tier_users,
            host_binding=license.host_binding,
            maintenance_end=license.maintenance_end,
            term_end=license.term_end,
            evaluation=license.evaluation,
            issued_at=now,
            key_serial=serial,
        )
        key = LicenseKey(
            serial=serial,
            license_id=license.id,
            kid=kid,
            token=sign_license(payload, private_key, kid),
            issued_at=now,
        )
        self.licenses.add(key)
        return key
