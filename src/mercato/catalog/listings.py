"""Apps and their listings, managed by the vendor and reviewed by the operator.

An app's page texts (name, summary, description, links) publish at once. What is sold (a listing: its
channels, license types and prices) goes through review: the vendor edits a *draft* (a ``ListingRevision``
holding a ``ListingSpec``), submits it, and the operator approves it (which publishes it with
``apply_listing_spec``) or rejects it with a note. A changed price table of a public listing takes effect on a
date at least the notice period ahead, so quotes made before keep their prices and customers can be told.

Only public listings are sold to new buyers: published, of a public app, of an active vendor
(``sale_refusal``). Licenses already sold keep validating, renewing and upgrading whatever happens to the app.

Who may do what: a vendor's members and operator staff manage the vendor's apps and drafts; everyone else gets
404, as for an app that does not exist. Only operator staff review (a vendor member gets 403 on the review
endpoints of its own revisions).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from mercato.accounts.access import Principal
from mercato.catalog.domain import tier_of
from mercato.catalog.listings_errors import (
    AppHostProductUnknown,
    AppKeyTaken,
    AppNotFound,
    AppVendorNotFound,
    DraftNotFound,
    DraftUnderReview,
    HostingNotSoldForHost,
    ListingNotOnSale,
    OperatorReviewOnly,
    PriceChangeTooSoon,
    RetiredAppFinal,
    RevisionAlreadyDecided,
    RevisionNotFound,
)
from mercato.catalog.listings_repository import ListingsRepository
from mercato.catalog.models import (
    App,
    AppVisibility,
    Listing,
    ListingRevision,
    RevisionStatus,
    Vendor,
    VendorStatus,
)
from mercato.catalog.publishing import apply_listing_spec, listing_spec, spec_prices
from mercato.catalog.specs import AppLinks, AppSpec, ListingSpec, check_listing_for_host
from mercato.paging import Page, PageRequest
from mercato.pricing import Hosting
from mercato.pricing.money import is_known_currency, is_whole_minor_units
from mercato.problems import InvalidInput
from mercato.services import Services

# -- what is sold -----------------------------------------------------------------------------------------------


def sale_refusal(listing: Listing, app: App | None, vendor: Vendor | None) -> str | None:
    """Why ``listing`` (of ``app`` by ``vendor``; None for a host product's own listing) is not sold to new
    buyers, or None when it is. Host products' own listings are sold once published."""
    if listing.published_at is None:
        return "it is not published yet: its listing waits for the operator's approval"
    if app is None:
        return None
    if app.visibility == AppVisibility.RETIRED:
        return "the app is retired and no longer sold"
    if app.visibility == AppVisibility.HIDDEN:
        return "its vendor has hidden the app, so it is not sold to new buyers"
    if vendor is not None and vendor.status != VendorStatus.ACTIVE:
        return f"its vendor is {vendor.status.value} and sells nothing new"
    return None


def check_on_sale(
    listing: Listing, vendor: Vendor | None, what: str, channel: str | None = None, **extensions: Any
) -> None:
    """Raise ``ListingNotOnSale`` when ``listing`` (with ``app`` loaded) is not sold to new buyers, or not in
    ``channel``: a direct sale needs the vendor's direct store open. ``what`` starts the sentence."""
    reason = sale_refusal(listing, listing.app, vendor)
    store_closed = vendor is not None and not vendor.direct_store
    if reason is None and channel == "direct" and listing.sold_direct and store_closed:
        assert vendor is not None
        reason = (
            f"{vendor.name} has no direct store open, so it sells nothing new on its own bills; "
            "buy it on the marketplace"
        )
    if reason is not None:
        raise ListingNotOnSale(
            f"{what}: {reason}. Licenses already sold keep working and renewing.",
            product_key=listing.product_key,
            hosting=str(listing.hosting),
            **extensions,
        )


def _amounts(spec: ListingSpec) -> list[tuple[str, Decimal]]:
    """Every amount of the spec with the field it is in (``prices.25``, ``cloud_prices.brackets.0...``)."""
    found = [
        (f"{name}.{tier}", amount)
        for name in ("prices", "direct_prices")
        for tier, amount in (getattr(spec, name) or {}).items()
    ]
    if spec.cloud_prices is not None:
        found.append(("cloud_prices.flat_monthly", spec.cloud_prices.flat_monthly))
        found += [
            (f"cloud_prices.brackets.{index}.per_user_monthly", bracket.per_user_monthly)
            for index, bracket in enumerate(spec.cloud_prices.brackets)
        ]
    return found


def manages(principal: Principal, vendor_id: uuid.UUID) -> bool:
    """Whether ``principal`` manages the vendor's apps: its members, and operator staff."""
    return principal.operator or vendor_id in principal.vendor_member_of


def _field_error(field: str, message: str, code: str) -> dict[str, str]:
    return {"field": field, "message": message, "code": code}


@dataclass(frozen=True)
class AppChanges:
    """The page texts of an app that may change at once (None: leave as it is)."""

    name: str | None = None
    summary: str | None = None
    description: str | None = None
    links: AppLinks | None = None


@dataclass(frozen=True)
class Created:
    app: App
    created: bool  # False: the same app was created before (a retried request)


class ListingService:
    def __init__(self, session: Session, services: Services) -> None:
        self.session = session
        self.repo = ListingsRepository(session)
        self.clock = services.clock
        self.notice = services.price_change_notice

    # -- apps ----------------------------------------------------------------------------------------------------

    def create_app(self, principal: Principal, vendor_slug: str, spec: AppSpec) -> Created:
        """A new app of the vendor. Sending the same app again answers with it (nothing changes); another app
        with the same key is refused naming ``key``."""
        vendor = self.repo.vendor(vendor_slug)
        if vendor is None or not manages(principal, vendor.id):
            raise AppVendorNotFound(
                f"There is no vendor {vendor_slug!r} that you act for. Ask the operator to make you a member."
            )
        host = self.repo.host_product(spec.host_product)
        if host is None:
            raise AppHostProductUnknown(
                f"There is no host product {spec.host_product!r}. GET /api/v1/host-products lists them.",
                errors=[_field_error("body.host_product", "unknown host product", "unknown_host_product")],
            )
        existing = self.repo.app(spec.key)
        if existing is not None:
            if existing.vendor_id == vendor.id and self._same_app(existing, spec):
                return Created(existing, created=False)
            raise self._key_taken(spec.key)
        app = App(
            key=spec.key,
            name=spec.name,
            summary=spec.summary,
            description=spec.description,
            links=spec.links.model_dump(exclude_none=True),
            visibility=AppVisibility.PUBLIC,
            vendor_id=vendor.id,
            host_product_id=host.id,
        )
        try:
            with self.session.begin_nested():
                self.repo.add(app)
        except IntegrityError:  # the same key, created meanwhile by a request that raced this one
            raced = self.repo.app(spec.key)
            if raced is not None and raced.vendor_id == vendor.id and self._same_app(raced, spec):
                return Created(raced, created=False)
            raise self._key_taken(spec.key) from None
        created = self.repo.app(spec.key)
        assert created is not None
        return Created(created, created=True)

    @staticmethod
    def _key_taken(key: str) -> AppKeyTaken:
        return AppKeyTaken(
            f"An app with the key {key!r} exists already; app keys are unique and never reused. "
            "Choose another reverse-domain key.",
            errors=[_field_error("body.key", "an app with this key exists already", "key_taken")],
        )

    @staticmethod
    def _same_app(app: App, spec: AppSpec) -> bool:
        return (
            app.name == spec.name
            and app.summary == spec.summary
            and app.description == spec.description
            and app.links == spec.links.model_dump(exclude_none=True)
            and app.host_product.key == spec.host_product
        )

    def managed_app(self, principal: Principal, key: str, *, for_update: bool = False) -> App:
        app = self.repo.app(key, for_update=for_update)
        if app is None or not manages(principal, app.vendor_id):
            raise AppNotFound(
                f"There is no app {key!r} that you manage. A vendor's members manage its apps; "
                "GET /api/v1/apps lists the public catalog."
            )
        return app

    def apps_of_vendor(self, principal: Principal, vendor_slug: str) -> list[App]:
        vendor = self.repo.vendor(vendor_slug)
        if vendor is None or not manages(principal, vendor.id):
            raise AppVendorNotFound(f"There is no vendor {vendor_slug!r} that you act for.")
        return list(self.repo.apps_of_vendor(vendor.id))

    def update_app(self, principal: Principal, key: str, changes: AppChanges) -> App:
        """Change the app's page texts; they publish at once (they are not part of what is sold)."""
        app = self.managed_app(principal, key, for_update=True)
        if changes.name is not None:
            app.name = changes.name
        if changes.summary is not None:
            app.summary = changes.summary
        if changes.description is not None:
            app.description = changes.description
        if changes.links is not None:
            app.links = changes.links.model_dump(exclude_none=True)
        self.session.flush()
        return app

    def set_visibility(self, principal: Principal, key: str, visibility: AppVisibility) -> App:
        """Public, hidden (not listed nor sold to new buyers) or retired (for good). Licenses already sold are
        untouched. Asking for the visibility the app has changes nothing."""
        app = self.managed_app(principal, key, for_update=True)
        if app.visibility == visibility:
            return app
        if app.visibility == AppVisibility.RETIRED and not principal.operator:
            raise RetiredAppFinal(
                f"{app.name} is retired, which is final for its vendor. Operator staff may bring it back "
                "if it was retired by mistake."
            )
        app.visibility = visibility
        self.session.flush()
        return app

    # -- drafts --------------------------------------------------------------------------------------------------

    def _check_hosting(self, app: App, hosting: Hosting) -> None:
        if hosting.value not in self.repo.host_hostings(app.host_product_id):
            raise HostingNotSoldForHost(
                f"{app.host_product.name} is not sold for {hosting.value}, so {app.name} cannot be listed "
                "for it.",
                errors=[_field_error("path.hosting", "the host product is not sold in it", "hosting")],
            )

    def _check_spec(self, app: App, spec: ListingSpec, hosting: Hosting, where: str) -> None:
        if spec.hosting is not hosting:
            raise InvalidInput(
                f"The listing says hosting {spec.hosting.value!r} but is sent for {hosting.value!r}.",
                errors=[_field_error(f"{where}.hosting", f"must be {hosting.value!r}", "hosting")],
            )
        if not is_known_currency(spec.currency):
            raise InvalidInput(
                f"{spec.currency!r} is not an ISO 4217 currency code.",
                errors=[_field_error(f"{where}.currency", "not an ISO 4217 currency", "currency")],
            )
        errors = [
            _field_error(
                f"{where}.{field}", f"{amount} has more decimals than {spec.currency} has", "decimals"
            )
            for field, amount in _amounts(spec)
            if not is_whole_minor_units(amount, spec.currency)
        ]
        if errors:
            raise InvalidInput(
                "Amounts must be whole minor units of the currency: "
                + "; ".join(f"{e['field']}: {e['message']}" for e in errors)
                + ".",
                errors=errors,
            )
        listing = self._listing_of(app, hosting)
        if listing is not None and listing.published_at is not None and spec.currency != listing.currency:
            # Its price tables, and the quotes and licenses priced from them, are in that currency.
            raise InvalidInput(
                f"The {hosting.value} listing of {app.name} is sold in {listing.currency}; a public listing "
                "keeps its currency.",
                errors=[_field_error(f"{where}.currency", f"must be {listing.currency}", "currency")],
            )
        if hosting is not Hosting.CLOUD:
            check_listing_for_host(spec, [tier_of(t) for t in app.host_product.user_tiers], where)

    @staticmethod
    def _listing_of(app: App, hosting: Hosting) -> Listing | None:
        return next((listing for listing in app.listings if listing.hosting == hosting), None)

    def _earliest_price_change(self) -> date:
        return self.clock.today() + self.notice

    def _check_price_date(
        self, listing: Listing | None, spec: ListingSpec, day: date | None, field: str
    ) -> None:
        """A price change of a public listing takes effect no sooner than the notice period from today."""
        if day is None or listing is None or listing.published_at is None:
            return
        if spec_prices(spec, listing.prices_on(day), spec.currency).prices_equal(spec):
            return  # the prices do not change that day: no notice needed
        earliest = self._earliest_price_change()
        if day < earliest:
            raise PriceChangeTooSoon(
                f"New prices of a public listing take effect at the earliest {earliest.isoformat()} "
                f"({self.notice.days} days' notice), not {day.isoformat()}.",
                earliest=earliest.isoformat(),
                errors=[_field_error(field, f"must be on or after {earliest.isoformat()}", "too_soon")],
            )

    def put_draft(
        self,
        principal: Principal,
        key: str,
        hosting: Hosting,
        spec: ListingSpec | None,
        prices_effective_from: date | None,
    ) -> ListingRevision:
        """Create the listing's open draft, or replace it. Without ``spec`` the draft starts from the published
        listing as it is today. A draft under review cannot be changed (withdraw it first)."""
        app = self.managed_app(principal, key)
        self._check_hosting(app, hosting)
        listing = self._listing_of(app, hosting)
        if spec is None:
            if listing is None or listing.published_at is None:
                raise InvalidInput(
                    f"{app.name} has no published {hosting.value} listing to start from: send the whole "
                    "listing.",
                    errors=[_field_error("body.listing", "a new listing needs its whole spec", "missing")],
                )
            spec = listing_spec(listing, self.clock.today())
        self._check_spec(app, spec, hosting, "body.listing")
        self._check_price_date(listing, spec, prices_effective_from, "body.prices_effective_from")
        content = spec.model_dump(mode="json")
        draft = self.repo.open_revision(app.id, hosting.value, for_update=True)
        if draft is None:
            draft = ListingRevision(
                app_id=app.id,
                hosting=hosting,
                status=RevisionStatus.DRAFT,
                content=content,
                prices_effective_from=prices_effective_from,
                created_by=principal.user_id,
            )
            try:
                with self.session.begin_nested():
                    self.repo.add(draft)
                return draft
            except IntegrityError:  # another request opened the draft meanwhile: replace that one
                draft = self.repo.open_revision(app.id, hosting.value, for_update=True)
                assert draft is not None
        if draft.status == RevisionStatus.SUBMITTED:
            if draft.content == content and draft.prices_effective_from == prices_effective_from:
                return draft  # the same draft sent again
            raise DraftUnderReview(
                f"The {hosting.value} draft of {app.name} waits for review and cannot change. Withdraw it "
                "first, or wait for the decision."
            )
        draft.content = content
        draft.prices_effective_from = prices_effective_from
        self.session.flush()
        return draft

    def draft(self, principal: Principal, key: str, hosting: Hosting) -> ListingRevision:
        app = self.managed_app(principal, key)
        draft = self.repo.open_revision(app.id, hosting.value)
        if draft is None:
            raise self._no_draft(app, hosting)
        return draft

    @staticmethod
    def _no_draft(app: App, hosting: Hosting) -> DraftNotFound:
        return DraftNotFound(
            f"{app.name} has no open {hosting.value} draft. Start one with "
            f"PUT /api/v1/apps/{app.key}/listings/{hosting.value}/draft."
        )

    def submit(
        self, principal: Principal, key: str, hosting: Hosting, prices_effective_from: date | None
    ) -> ListingRevision:
        """Send the draft for review, with the day its new prices should take effect (if they change). Sending
        it again changes nothing."""
        app = self.managed_app(principal, key)
        draft = self.repo.open_revision(app.id, hosting.value, for_update=True)
        if draft is None:
            raise self._no_draft(app, hosting)
        if draft.status == RevisionStatus.SUBMITTED:
            return draft
        spec = ListingSpec.model_validate(draft.content)
        self._check_spec(app, spec, hosting, "draft.listing")
        day = prices_effective_from or draft.prices_effective_from
        field = "body.prices_effective_from" if prices_effective_from else "draft.prices_effective_from"
        self._check_price_date(self._listing_of(app, hosting), spec, day, field)
        draft.prices_effective_from = day
        draft.status = RevisionStatus.SUBMITTED
        draft.submitted_at = self.clock.now()
        self.session.flush()
        return draft

    def withdraw(self, principal: Principal, key: str, hosting: Hosting) -> ListingRevision:
        """Give the open draft up (before a decision). Withdrawing again answers with the withdrawn draft."""
        app = self.managed_app(principal, key)
        draft = self.repo.open_revision(app.id, hosting.value, for_update=True)
        if draft is None:
            latest = self.repo.latest_revision(app.id, hosting.value)
            if latest is not None and latest.status == RevisionStatus.WITHDRAWN:
                return latest
            raise self._no_draft(app, hosting)
        draft.status = RevisionStatus.WITHDRAWN
        self.session.flush()
        return draft

    def revisions(self, principal: Principal, key: str, hosting: Hosting) -> list[ListingRevision]:
        app = self.managed_app(principal, key)
        return list(self.repo.revisions(app.id, hosting.value))

    # -- review --------------------------------------------------------------------------------------------------

    def review_queue(self, principal: Principal, page: PageRequest) -> Page[ListingRevision]:
        if not principal.operator:
            raise OperatorReviewOnly("Only operator staff see the review queue.")
        return self.repo.review_queue(page)

    def _revision_to_review(
        self, principal: Principal, revision_id: uuid.UUID
    ) -> tuple[ListingRevision, App]:
        revision = self.repo.revision(revision_id, for_update=True)
        app = self.repo.app_by_id(revision.app_id) if revision is not None else None
        if revision is None or app is None or not manages(principal, app.vendor_id):
            raise RevisionNotFound(f"There is no listing revision {revision_id} that you may see.")
        if not principal.operator:
            raise OperatorReviewOnly(
                "Only operator staff approve or reject listings; your submitted draft waits for them."
            )
        set_committed_value(revision, "app", app)  # loaded already: the answer names the app
        return revision, app

    def approve(
        self,
        principal: Principal,
        revision_id: uuid.UUID,
        note: str,
        prices_effective_from: date | None,
    ) -> ListingRevision:
        """Publish the submitted revision. A new listing is published with its prices from today; new prices of
        a public listing take effect on ``prices_effective_from`` (or the vendor's proposed day, or the end of
        the notice period), never sooner than the notice period. Approving it again answers as the first time.
        """
        revision, app = self._revision_to_review(principal, revision_id)
        if revision.status == RevisionStatus.APPROVED:
            return revision
        if revision.status != RevisionStatus.SUBMITTED:
            raise self._decided(revision)
        hosting = Hosting(revision.hosting)
        spec = ListingSpec.model_validate(revision.content)
        self._check_spec(app, spec, hosting, "revision.content")
        today, now = self.clock.today(), self.clock.now()
        listing = self._listing_of(app, hosting)
        effective: date | None
        if listing is None or listing.published_at is None:
            if listing is None:
                listing = Listing(
                    product_key=app.key,
                    hosting=hosting,
                    app=app,
                    host_product=app.host_product,
                    currency=spec.currency,
                    price_tables=[],
                    releases=[],
                )
                self.session.add(listing)
            apply_listing_spec(listing, spec, today)
            listing.published_at = now
            effective = today
        else:
            chosen = prices_effective_from or revision.prices_effective_from
            day = chosen or self._earliest_price_change()
            field = (
                "body.prices_effective_from" if prices_effective_from else "revision.prices_effective_from"
            )
            self._check_price_date(listing, spec, day, field)
            changes = not spec_prices(spec, listing.prices_on(day), spec.currency).prices_equal(spec)
            # Channel rules and license types apply at once; prices (if they change) from ``day``.
            apply_listing_spec(listing, spec, day)
            effective = day if changes else None
        revision.status = RevisionStatus.APPROVED
        revision.prices_effective_from = effective
        revision.reviewed_at = now
        revision.reviewed_by = principal.user_id
        revision.reviewer_note = note
        self.session.flush()
        return revision

    def reject(self, principal: Principal, revision_id: uuid.UUID, note: str) -> ListingRevision:
        """Send the revision back with a note saying why. Rejecting it again answers as the first time."""
        revision, _ = self._revision_to_review(principal, revision_id)
        if revision.status == RevisionStatus.REJECTED:
            return revision
        if revision.status != RevisionStatus.SUBMITTED:
            raise self._decided(revision)
        revision.status = RevisionStatus.REJECTED
        revision.reviewed_at = self.clock.now()
        revision.reviewed_by = principal.user_id
        revision.reviewer_note = note
        self.session.flush()
        return revision

    @staticmethod
    def _decided(revision: ListingRevision) -> RevisionAlreadyDecided:
        return RevisionAlreadyDecided(
            f"This revision is {revision.status.value}, not waiting for review: only a submitted revision can "
            "be approved or rejected.",
            revision_status=revision.status.value,
        )
