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
from mercato.catalog.models import Listing
from mercato.commerce.evaluations import Evaluations
from mercato.commerce.models import Invoice, InvoiceLine, LineAction, Quote, QuoteLine
from mercato.commerce.repository import CommerceRepository
from mercato.licenses.events import LicenseEvent, LicenseEvents, MoneyMoved
from mercato.licenses.models import License, LicenseEventKind, LicenseKey, LicenseState
from mercato.licenses.service import LicenseService
from mercato.pricing import Hosting, LicenseType
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

    def fulfil(self, invoice: Invoice, quote: Quote) -> None:
        instance = self.repo.host_instance(quote.host_instance_id)
        assert instance is not None
        evaluations: Counter[str] = Counter()
        events = []
        for line in invoice.lines:
            quoted = line.quote_line
            listing = self.session.get(Listing, quoted.listing_id)
            assert listing is not None
            context = LineContext(quoted, listing, quote, instance, evaluations[listing.product_key])
            if quoted.action is LineAction.EVALUATION:
                evaluations[listing.product_key] += 1
            done = HANDLERS[quoted.action](self, context)
            line.license = done.license
            events.append(self._event(invoice, line, quoted, quote, done))
        self.events.record(*events)

    def _event(
        self, invoice: Invoice, line: InvoiceLine, quoted: QuoteLine, quote: Quote, done: Fulfilled
    ) -> LicenseEvent:
        return LicenseEvent(
            kind=LicenseEventKind(quoted.action.value),
            license=done.license,
            occurred_at=self.clock.now(),
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
    issued = fulfilment.licenses.create(license)
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
        return Fulfilled(license, fulfilment.licenses.create(license).key, replaced_earlier_keys=False)
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
    """Renewals and co-terms: the paid-until date moves to the end of the period bought."""
    license = fulfilment.licensed(context)
    license.maintenance_end = context.quoted.period_end
    if license.hosting != Hosting.SERVER:
        license.term_end = context.quoted.period_end
    license.status = LicenseState.ACTIVE
    fulfilment.host_follows(context, license)
    return Fulfilled(license, fulfilment.licenses.rekey(license).key, replaced_earlier_keys=True)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


HANDLERS: dict[LineAction, Handler] = {
    LineAction.NEW: _sell_new,
    LineAction.CLOUD_SUBSCRIPTION: _sell_new,
    LineAction.EVALUATION: _evaluate,
    LineAction.UPGRADE: _upgrade,
    LineAction.RENEWAL: _extend,
    LineAction.CO_TERM: _extend,
}
