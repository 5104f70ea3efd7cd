"""A vendor's cloud transition: each of its direct cloud customers of ``from_app`` gets one marketplace quote and
invoice (seller: the operator) for its site, with one migration line: the marketplace subscription from today to
the customer's billing date, less the unused part of what it prepaid the vendor (``pricing.cloud_transition``).
Paying the invoice moves the license (``commerce.fulfilment``); an invoice of nothing to pay is settled, and the
license moved, when it is issued.

Nothing moves twice: a license whose migration invoice waits is skipped, one already moved is no longer a direct
license, and the transition row (one per vendor and ``from_app``) is locked while a run issues invoices. Each
license is re-read under its row lock before it is invoiced, so two runs at once invoice it once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from mercato import pricing
from mercato.accounts.models import HostInstance
from mercato.catalog.domain import pricing_listing
from mercato.catalog.models import App, Vendor
from mercato.catalog.repository import CatalogRepository
from mercato.catalog.vendors import RevenueSchedules
from mercato.cloud_transitions.errors import (
    NoMarketplaceCloudListing,
    NotTheVendorsApp,
    OtherHostProduct,
    TransitionGoesElsewhere,
)
from mercato.cloud_transitions.repository import CloudTransitionRepository
from mercato.commerce.invoicing import Invoicing
from mercato.commerce.models import InvoiceStatus, LineAction
from mercato.commerce.quoting import Quoting, quote_line
from mercato.commerce.repository import CommerceRepository
from mercato.keys.models import OPERATOR_ISSUER, vendor_issuer
from mercato.licenses.models import License, LicenseState
from mercato.services import Services


class MoveState(StrEnum):
    MOVED = "moved"
    """The invoice had nothing to pay: it was settled and the license moved at once."""
    INVOICED = "invoiced"
    """The invoice waits for the customer's payment; paying it moves the license."""
    WAITING = "waiting"
    """A migration invoice made earlier still waits for payment: nothing new was made."""
    ALREADY_MOVED = "already_moved"
    """Another run moved it to the marketplace while this one ran: nothing new was made."""
    WOULD_MOVE = "would_move"
    WOULD_INVOICE = "would_invoice"
    """A dry run's answers: what a run would do."""
    REFUSED = "refused"
    """The license cannot move as it is; ``reason`` says why and what to correct."""


@dataclass(frozen=True)
class LicenseMove:
    """What the transition did (or would do) with one direct cloud license."""

    entitlement_number: str
    site: str
    state: MoveState
    users: int | None = None
    billing_date: date | None = None
    currency: str | None = None
    charge: Decimal | None = None
    credit: Decimal | None = None
    net: Decimal | None = None
    credit_unused: Decimal | None = None
    """Credit the charge could not absorb: the vendor refunds it to the customer."""
    invoice: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Plan:
    """A transition checked and (unless a dry run) claimed: the licenses it is to move."""

    vendor_id: uuid.UUID
    vendor_slug: str
    from_app: str
    to_app: str
    listing_id: uuid.UUID
    license_ids: Sequence[uuid.UUID]
    dry_run: bool


@dataclass
class TransitionReport:
    vendor: str
    from_app: str
    to_app: str
    dry_run: bool
    licenses: list[LicenseMove] = field(default_factory=list)

    @property
    def counts(self) -> Mapping[str, int]:
        return {state.value: sum(move.state is state for move in self.licenses) for state in MoveState}


class CloudTransitions:
    def __init__(self, session: Session, services: Services) -> None:
        self.session = session
        self.services = services
        self.clock = services.clock
        self.repo = CloudTransitionRepository(session)
        self.catalog = CatalogRepository(session)
        self.commerce = CommerceRepository(session)

    def run(
        self,
        vendor: Vendor,
        from_app: str,
        to_app: str,
        *,
        dry_run: bool,
        created_by: uuid.UUID | None = None,
    ) -> TransitionReport:
        """The whole transition in this session (the API's request); the command does the same license by
        license, one transaction each."""
        plan = self.plan(vendor, from_app, to_app, dry_run=dry_run)
        moves = [self.move(plan, license_id, created_by=created_by) for license_id in plan.license_ids]
        return self.finish(plan, moves)

    def plan(self, vendor: Vendor, from_app: str, to_app: str, *, dry_run: bool) -> Plan:
        """Check the two apps and claim the transition (a dry run only reads); the licenses that are to move."""
        from_app, to_app = from_app.strip(), to_app.strip()
        source = self._vendors_app(vendor, from_app, "from_app")
        existing = self.repo.transition(vendor.id, from_app)
        if existing is not None and existing.to_app != to_app:
            raise TransitionGoesElsewhere(
                f"{vendor.slug}'s direct cloud customers of {from_app} move to {existing.to_app}; run the "
                f"transition again with to_app {existing.to_app}.",
                to_app=existing.to_app,
            )
        target = self._vendors_app(vendor, to_app, "to_app")
        listing = self.catalog.listing(to_app, pricing.Hosting.CLOUD.value)
        if listing is None or listing.app_id is None or not listing.price_tables:
            raise NoMarketplaceCloudListing(
                f"{to_app} has no cloud listing with prices to sell on the marketplace. Add one first, or name "
                "the app whose cloud listing the customers move to.",
                to_app=to_app,
            )
        if source.host_product_id != target.host_product_id:
            raise OtherHostProduct(
                f"{from_app} and {to_app} run on different host products; customers keep their cloud site, so "
                "name an app of the same host product.",
                from_app=from_app,
                to_app=to_app,
            )
        if not dry_run:
            self.repo.claim(vendor.id, from_app, to_app)
        licenses = self.repo.direct_cloud_licenses(vendor_issuer(vendor.slug), from_app)
        return Plan(
            vendor.id,
            vendor.slug,
            from_app,
            to_app,
            listing.id,
            [license.id for license in licenses],
            dry_run,
        )

    def move(self, plan: Plan, license_id: uuid.UUID, *, created_by: uuid.UUID | None = None) -> LicenseMove:
        """Invoice one license's move (or, in a dry run, price it), re-checked under its row lock."""
        license = self.repo.license(license_id, for_update=not plan.dry_run)
        assert license is not None
        site = self.session.get(HostInstance, license.host_instance_id) if license.host_instance_id else None
        where = site.server_id if site is not None else license.host_binding
        entitlement = license.entitlement_number
        if license.channel is not pricing.Channel.DIRECT or license.product_key != plan.from_app:
            return LicenseMove(
                entitlement, where, MoveState.ALREADY_MOVED, reason="It moved to the marketplace already."
            )
        if license.status != LicenseState.ACTIVE:
            return LicenseMove(
                entitlement,
                where,
                MoveState.REFUSED,
                reason=f"It is {license.status} now; only an active license moves.",
            )
        waiting = self.commerce.migration_waiting(license.id)
        if waiting is not None:
            return LicenseMove(
                entitlement,
                where,
                MoveState.WAITING,
                invoice=waiting,
                reason=f"Invoice {waiting} moves it when it is paid.",
            )
        if site is None or site.hosting != pricing.Hosting.CLOUD:
            return LicenseMove(
                entitlement, where, MoveState.REFUSED, reason="It is not bound to a cloud site of Mercato."
            )
        prepaid = self._prepaid(license)
        if isinstance(prepaid, str):
            return LicenseMove(entitlement, where, MoveState.REFUSED, reason=prepaid)
        listing = self.catalog.listing(plan.to_app, pricing.Hosting.CLOUD.value)
        assert listing is not None and listing.app is not None
        today = self.clock.today()
        try:
            priced = pricing.price_cloud_transition(
                pricing_listing(listing, listing.app.name, today),
                prepaid,
                today,
                host=self._host(site, prepaid),
                license_type=license.license_type,
            )
            split = pricing.split_cloud_transition(
                priced, RevenueSchedules(self.session).of(plan.vendor_id), today
            )
        except pricing.PricingError as refused:
            return LicenseMove(entitlement, where, MoveState.REFUSED, reason=str(refused))
        line = priced.line
        move = LicenseMove(
            entitlement,
            where,
            MoveState.WOULD_MOVE if line.amount == 0 else MoveState.WOULD_INVOICE,
            users=line.users,
            billing_date=line.period_end,
            currency=line.currency,
            charge=priced.charge,
            credit=priced.credit.amount,
            net=priced.net,
            credit_unused=priced.credit_unused,
        )
        if plan.dry_run:
            return move
        quoted = quote_line(1, LineAction.MIGRATION, listing, line, split, license)
        quote = Quoting(self.commerce, self.services).new_quote(
            site, pricing.Channel.MARKETPLACE, OPERATOR_ISSUER, line.currency, [quoted], None, created_by
        )
        _, invoice = Invoicing(self.commerce, self.services).issue(quote)
        moved = invoice.status == InvoiceStatus.PAID
        return replace(move, state=MoveState.MOVED if moved else MoveState.INVOICED, invoice=invoice.number)

    def finish(self, plan: Plan, moves: Sequence[LicenseMove]) -> TransitionReport:
        """The report; a run adds its invoices to the transition's counts."""
        report = TransitionReport(plan.vendor_slug, plan.from_app, plan.to_app, plan.dry_run, list(moves))
        if not plan.dry_run:
            transition = self.repo.transition(plan.vendor_id, plan.from_app, for_update=True)
            assert transition is not None
            counts = report.counts
            transition.runs += 1
            transition.invoiced += counts[MoveState.MOVED] + counts[MoveState.INVOICED]
            transition.moved_at_once += counts[MoveState.MOVED]
            transition.last_run_at = self.clock.now()
            self.session.flush()
        return report

    # -- what a move reads ---------------------------------------------------------------------------------

    def _vendors_app(self, vendor: Vendor, app_key: str, field_name: str) -> App:
        app = self.catalog.app_by_key(app_key)
        if app is None or app.vendor_id != vendor.id:
            raise NotTheVendorsApp(
                f"{field_name}: {app_key!r} is not an app of {vendor.slug}. Name one of the vendor's apps "
                f"(GET /api/v1/vendors/{vendor.slug}/apps lists them).",
                field=field_name,
            )
        return app

    def _prepaid(self, license: License) -> pricing.PrepaidTerm | str:
        """What the customer prepaid for the current term, as its import recorded it; or why it cannot be read."""
        entry = self.repo.import_entry(license.id)
        details: Mapping[str, Any] = entry.details if entry is not None else {}
        prepaid = details.get("prepaid")
        cycle = details.get("billing_cycle")
        missing = "Its import recorded no prepayment and billing cycle; import it again with them."
        if not isinstance(prepaid, Mapping) or cycle not in {c.value for c in pricing.BillingCycle}:
            return missing
        if license.maintenance_start is None or license.term_end is None:
            return "It has no term start and end; import it again with the prepaid term."
        if license.tier_users < 1:
            return "It is for unlimited users; a cloud subscription is for the site's number of users."
        try:
            return pricing.PrepaidTerm(
                amount=Decimal(str(prepaid.get("amount"))),
                currency=str(prepaid.get("currency", "")).upper(),
                start=license.maintenance_start,
                end=license.term_end,
                users=license.tier_users,
                cycle=pricing.BillingCycle(cycle),
            )
        except InvalidOperation:
            return missing
        except pricing.PricingError as refused:
            return str(refused)

    def _host(self, site: HostInstance, prepaid: pricing.PrepaidTerm) -> pricing.HostContext:
        """The site the subscription is priced for: as the direct subscription knew it (users, cycle and billing
        date carry over), unless the site already bills marketplace apps on a date of its own, which every app
        of the site follows."""
        host_product = self.catalog.host_product_by_id(site.host_product_id)
        name = host_product.name if host_product is not None else "host"
        if site.next_billing_date is None or site.cloud_users is None or site.billing_cycle is None:
            return pricing.direct_subscription_host(
                prepaid, license_type=site.host_license_type, product_name=name
            )
        return pricing.HostContext(
            hosting=pricing.Hosting.CLOUD,
            license_type=site.host_license_type,
            cloud_users=site.cloud_users,
            billing_cycle=site.billing_cycle,
            next_billing_date=site.next_billing_date,
            product_name=name,
        )
