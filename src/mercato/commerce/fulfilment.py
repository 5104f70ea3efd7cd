"""Fulfilment: a paid invoice issues or changes the license of every line and signs its keys, in the payment's
transaction. One handler per line action, looked up by the action; each returns what it did, and the whole
invoice is recorded on the license-event path at once (so the customer gets one e-mail with every key).

A new line action is a new handler function and one entry in ``HANDLERS``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mercato.accounts.models import HostInstance
from mercato.catalog.domain import tier_of
from mercato.catalog.models import Listing
from mercato.catalog.repository import CatalogRepository
from mercato.commerce.evaluations import Evaluations
from mercato.commerce.models import Invoice, InvoiceLine, LineAction, Quote, QuoteLine
from mercato.commerce.repository import CommerceRepository
from mercato.licenses.events import LicenseEvent, LicenseEvents, MoneyMoved
from mercato.licenses.models import License, LicenseEventKind, LicenseKey, LicenseState
from mercato.licenses.service import LicenseService
from mercato.pricing import BillingCycle, Channel, Hosting, LicenseType
from mercato.services import Services


@dataclass(frozen=True)
class LineContext:
    """What a handler gets: the line as quoted, its listing, the quote and the host instance it is for."""

    quoted: QuoteLine
    listing: Listing
    quote: Quote
    instance: HostInstance
    evaluations_before: int
    """Evaluation lines of the same app fulfilled earlier on this invoice."""


@dataclass(frozen=True)
class Fulfilled:
    license: License
    key: LicenseKey
    replaced_earlier_keys: bool
    details: dict[str, Any] = field(default_factory=dict)


Handler = Callable[["Fulfilment", LineContext], Fulfilled]


class Fulfilment:
    def __init__(self, repo: CommerceRepository, services: Services) -> None:
        self.repo = repo
        self.session = repo.session
        self.clock = services.clock
        self.licenses = LicenseService(repo.session, services)
        self.events = LicenseEvents(repo.session, services.license_subscribers)
        self.evaluations = Evaluations(repo)
        self.catalog = CatalogRepository(repo.session)
        self.now = self.clock.now()
        """When the invoice is fulfilled: its new licenses are made and their events occur at this one instant,
        so that recording the events leaves a new license's ``updated_at`` as it was written."""

    def fulfil(self, invoice: Invoice, quote: Quote, instance: HostInstance | None = None) -> None:
        """Issue or change the license of every line of the paid ``invoice``. ``instance``: the quote's host
        instance, when the caller read it already."""
        instance = instance or self.repo.host_instance(quote.host_instance_id)
        assert instance is not None
        # Read for every line at once: the listings (with app and vendor, which the ledger and webhooks name),
        # and the entitlement numbers of the licenses the lines may create.
        listings = self.catalog.listings_by_id(line.quote_line.listing_id for line in invoice.lines)
        self.licenses.reserve_entitlement_numbers(
            sum(line.quote_line.action in _CREATING for line in invoice.lines)
        )
        evaluations: Counter[str] = Counter()
        events = []
        for line in invoice.lines:
            quoted = line.quote_line
            listing = listings[quoted.listing_id]
            context = LineContext(quoted, listing, quote, instance, evaluations[listing.product_key])
            if quoted.action is LineAction.EVALUATION:
                evaluations[listing.product_key] += 1
            done = HANDLERS[quoted.action](self, context)
            line.license = done.license
            events.append(self._event(invoice, line, quoted, quote, done))
        # The new licenses, their keys and the lines that name them, each table in one statement.
        self.session.flush()
        self.events.record(*events)

    def _event(
        self, invoice: Invoice, line: InvoiceLine, quoted: QuoteLine, quote: Quote, done: Fulfilled
    ) -> LicenseEvent:
        return LicenseEvent(
            kind=LicenseEventKind(quoted.action.value),
            license=done.license,
            occurred_at=self.now,
            description=line.description,
            money=MoneyMoved(
                currency=quote.currency,
                amount_minor=line.amount_minor,
                vendor_share_rate=line.vendor_share_rate,
                vendor_amount_minor=line.vendor_amount_minor,
                operator_amount_minor=line.operator_amount_minor,
            ),
            invoice_line_id=line.id,
            invoice_number=invoice.number,
            key=done.key,
            replaced_earlier_keys=done.replaced_earlier_keys,
            details={"quote": quote.number, **done.details},
        )

    # -- what the handlers share ---------------------------------------------------------------------------

    def new_license(self, context: LineContext, *, evaluation: bool) -> License:
        quoted, listing = context.quoted, context.listing
        term = listing.hosting != Hosting.SERVER or evaluation
        return License(
            entitlement_number="",
            listing_id=listing.id,
            organisation_id=context.quote.organisation_id,
            host_instance_id=context.instance.id,
            product_key=listing.product_key,
            hosting=listing.hosting,
            channel=context.quote.channel,
            issuer=context.quote.seller,
            license_type=LicenseType.EVALUATION if evaluation else quoted.license_type,
            tier_users=quoted.tier_users,
            host_binding=context.instance.server_id,
            evaluation=evaluation,
            maintenance_start=quoted.period_start,
            maintenance_end=quoted.period_end,
            term_end=quoted.period_end if term else None,
            status=LicenseState.ACTIVE,
            created_at=self.now,
            updated_at=self.now,
        )

    def licensed(self, context: LineContext) -> License:
        license = self.session.get(License, context.quoted.license_id) if context.quoted.license_id else None
        assert license is not None, "renewals, upgrades and co-terms name their license"
        return license

    @staticmethod
    def host_follows(context: LineContext, license: License) -> None:
        """The host's own license changed: the instance's tier and maintenance follow it, so the next quote
        checks apps against the host as it now is."""
        if context.listing.app_id is None and license.host_instance_id == context.instance.id:
            context.instance.user_tier = license.tier_users
            context.instance.host_maintenance_end = license.maintenance_end


# -- the handlers, one per line action -----------------------------------------------------------------------


def _sell_new(fulfilment: Fulfilment, context: LineContext) -> Fulfilled:
    license = fulfilment.new_license(context, evaluation=False)
    issued = fulfilment.licenses.create(license, together=True)
    details: dict[str, Any] = {}
    if context.listing.app_id is None:
        # The host license itself was bought: the instance now has that tier and maintenance. What it had
        # before is kept with the sale, so that a refund can put it back.
        instance = context.instance
        details["host_before"] = {
            "user_tier": instance.user_tier,
            "host_maintenance_end": _iso(instance.host_maintenance_end),
        }
        instance.user_tier = context.quoted.tier_users
        instance.host_maintenance_end = context.quoted.period_end
    return Fulfilled(license, issued.key, replaced_earlier_keys=False, details=details)


def _evaluate(fulfilment: Fulfilment, context: LineContext) -> Fulfilled:
    previous = fulfilment.evaluations.of(context.instance.id, context.listing.product_key)
    if previous is None:
        license = fulfilment.new_license(context, evaluation=True)
        return Fulfilled(
            license, fulfilment.licenses.create(license, together=True).key, replaced_earlier_keys=False
        )
    # A regeneration: the same evaluation license runs for another period with a new key. Checked again here,
    # under the quote's lock, because several open quotes may each have passed the quote's check.
    fulfilment.evaluations.check_allowed(
        context.instance.id, context.listing.product_key, context.evaluations_before, None
    )
    previous.maintenance_end = previous.term_end = context.quoted.period_end
    previous.status = LicenseState.ACTIVE
    return Fulfilled(previous, fulfilment.licenses.rekey(previous).key, replaced_earlier_keys=True)


def _upgrade(fulfilment: Fulfilment, context: LineContext) -> Fulfilled:
    license = fulfilment.licensed(context)
    license.tier_users = context.quoted.tier_users
    fulfilment.host_follows(context, license)
    return Fulfilled(license, fulfilment.licenses.rekey(license).key, replaced_earlier_keys=True)


def _extend(fulfilment: Fulfilment, context: LineContext) -> Fulfilled:
    """Renewals and co-terms: the paid-until date moves to the end of the period bought. A renewal quoted at the
    tier the host has grown into upgrades the license to it too; a smaller line tier never lowers it (a renewal
    quoted before another quote's upgrade was paid)."""
    license = fulfilment.licensed(context)
    if tier_of(context.quoted.tier_users) > tier_of(license.tier_users):
        license.tier_users = context.quoted.tier_users
    license.maintenance_end = context.quoted.period_end
    if license.hosting != Hosting.SERVER:
        license.term_end = context.quoted.period_end
    license.status = LicenseState.ACTIVE
    fulfilment.host_follows(context, license)
    return Fulfilled(license, fulfilment.licenses.rekey(license).key, replaced_earlier_keys=True)


def _migrate(fulfilment: Fulfilment, context: LineContext) -> Fulfilled:
    """The license moves to the marketplace: same license, entitlement number, maintenance end and history; the
    operator becomes its seller and signs its new key, at the tier the line sold (the host's, if it had to be
    upgraded). Its direct keys are superseded: they keep validating through the grace period, then stop.

    A cloud license (a vendor's cloud transition) also moves to the line's listing and runs to the line's period
    end, the billing date on which the billing run renews it with the site."""
    license = fulfilment.licensed(context)
    before: dict[str, Any] = {
        "channel": license.channel.value,
        "issuer": license.issuer,
        "tier_users": license.tier_users,
    }
    if license.hosting == Hosting.CLOUD:
        before |= _move_cloud_subscription(context, license)
    license.channel = Channel.MARKETPLACE
    license.issuer = context.quote.seller
    license.tier_users = context.quoted.tier_users
    issued = fulfilment.licenses.rekey(license)
    return Fulfilled(license, issued.key, replaced_earlier_keys=True, details={"migrated_from": before})


def _move_cloud_subscription(context: LineContext, license: License) -> dict[str, Any]:
    """The cloud license follows the line: its listing (when the vendor moved its customers to another app),
    its term to the line's period end; the site takes the subscription's users, cycle and billing date unless
    it bills on a date of its own. Returns what the license had before."""
    quoted, listing, site = context.quoted, context.listing, context.instance
    before: dict[str, Any] = {
        "term_end": _iso(license.term_end),
        "maintenance_end": _iso(license.maintenance_end),
    }
    if license.listing_id != listing.id:
        before |= {"listing_id": str(license.listing_id), "product_key": license.product_key}
        license.listing_id = listing.id
        license.product_key = listing.product_key
    license.term_end = license.maintenance_end = quoted.period_end
    cycle = quoted.formula.get("subscription_cycle")
    if site.next_billing_date is None and quoted.users is not None and cycle in set(BillingCycle):
        site.cloud_users = quoted.users
        site.billing_cycle = BillingCycle(cycle)
        site.next_billing_date = quoted.period_end
    return before


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


_CREATING = frozenset({LineAction.NEW, LineAction.CLOUD_SUBSCRIPTION, LineAction.EVALUATION})
"""Line actions that may create a license (an evaluation regenerated keeps its own)."""

HANDLERS: dict[LineAction, Handler] = {
    LineAction.NEW: _sell_new,
    LineAction.CLOUD_SUBSCRIPTION: _sell_new,
    LineAction.EVALUATION: _evaluate,
    LineAction.UPGRADE: _upgrade,
    LineAction.RENEWAL: _extend,
    LineAction.CO_TERM: _extend,
    LineAction.MIGRATION: _migrate,
}
