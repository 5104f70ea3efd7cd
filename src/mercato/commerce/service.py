"""The commerce rules: quote → order → invoice → payment → licenses and keys, and refunds.

Services flush and never commit: the request or command that calls them commits once, so a failure anywhere
leaves nothing behind. Prices are the ones quoted; a quote is valid for 30 days.
"""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from mercato import pricing
from mercato.accounts.access import Forbidden, Principal
from mercato.accounts.models import HostInstance
from mercato.catalog.models import UNLIMITED_USERS, Listing
from mercato.catalog.repository import CatalogRepository
from mercato.commerce import schemas
from mercato.commerce.emails import queue_invoice_email, queue_keys_email
from mercato.commerce.models import (
    Invoice,
    InvoiceLine,
    LicenseTransaction,
    Order,
    Quote,
    QuoteLine,
)
from mercato.commerce.payments import ManualPaymentProvider
from mercato.commerce.repository import CommerceRepository
from mercato.keys.models import OPERATOR_ISSUER, vendor_issuer
from mercato.licenses.models import License
from mercato.licenses.service import LicenseService
from mercato.preview import schemas as preview
from mercato.preview.service import PreviewService
from mercato.problems import Conflict, InvalidInput, NotFound, Problem

QUOTE_VALID_DAYS = 30
PAYMENT_TERMS_DAYS = 30
REFUND_WINDOW_DAYS = 30
MAX_EVALUATION_REGENERATIONS = 5


class QuoteExpired(Problem):
    status = 422
    type = "quote-expired"
    title = "The quote has expired"


class Overpayment(Problem):
    status = 422
    type = "overpayment"
    title = "More than the invoice is due"


class EvaluationLimitReached(Problem):
    status = 422
    type = "evaluation-limit-reached"
    title = "No more evaluations of this app here"


class RefundWindowClosed(Problem):
    status = 422
    type = "refund-window-closed"
    title = "The refund window has closed"


def at_item(index: int) -> dict[str, object]:
    """Where in the request an error is: the item counted from 1 (as the sentence says) and a JSON pointer."""
    return {"item": index + 1, "pointer": f"/items/{index}"}


def tier_label(users: int) -> str:
    return "unlimited" if users == UNLIMITED_USERS else str(users)


def tier_users(tier: pricing.Tier) -> int:
    return UNLIMITED_USERS if tier.users is None else tier.users


@dataclass(frozen=True)
class Acceptance:
    order: Order
    invoice: Invoice
    created: bool


class CommerceService:
    def __init__(self, session: Session, secret: str, superseded_grace_days: int = 30) -> None:
        self.session = session
        self.repo = CommerceRepository(session)
        self.catalog = CatalogRepository(session)
        self.licenses = LicenseService(session, secret, superseded_grace_days)

    # -- visibility ----------------------------------------------------------------------------------------

    def _host_instance_for_buyer(self, principal: Principal, host_instance_id: uuid.UUID) -> HostInstance:
        instance = self.repo.host_instance(host_instance_id)
        if instance is None or not principal.can_read_organisation(instance.organisation_id):
            raise NotFound(f"There is no host instance {host_instance_id} that you can see.")
        if not principal.can_buy_for(instance.organisation_id):
            raise Forbidden("Only the organisation's admins (or operator staff) can ask for quotes.")
        return instance

    def quote_for(self, principal: Principal, quote_id: uuid.UUID, *, for_update: bool = False) -> Quote:
        quote = self.repo.quote(quote_id, for_update=for_update)
        if quote is None or not principal.can_read_organisation(quote.organisation_id):
            raise NotFound(f"There is no quote {quote_id} that you can see.")
        return quote

    def invoice_for(
        self, principal: Principal, invoice_id: uuid.UUID, *, for_update: bool = False
    ) -> Invoice:
        invoice = self.repo.invoice(invoice_id, for_update=for_update)
        if invoice is None or not (
            principal.can_read_organisation(invoice.organisation_id)
            or self._is_seller(principal, invoice.seller)
        ):
            raise NotFound(f"There is no invoice {invoice_id} that you can see.")
        return invoice

    def _is_seller(self, principal: Principal, seller: str) -> bool:
        """Whether the principal acts for the seller of record: operator staff for the marketplace, the
        vendor's own team (not operator staff) for a vendor's direct store."""
        if seller == OPERATOR_ISSUER:
            return principal.operator
        vendor = self.catalog.vendor_by_slug(seller.removeprefix("vendor:"))
        return vendor is not None and vendor.id in principal.vendor_member_of

    # -- quotes --------------------------------------------------------------------------------------------

    def create_quote(self, principal: Principal, request: schemas.QuoteRequest, today: date) -> Quote:
        instance = self._host_instance_for_buyer(principal, request.host_instance_id)
        host_product = self.catalog.host_product_by_id(instance.host_product_id)
        assert host_product is not None
        items, licenses = self._preview_items(instance, request)
        priced = PreviewService(self.session).price_items(
            preview.PreviewRequest(
                channel=request.channel,
                date=today,
                host=self._host_in(instance, host_product.key),
                items=items,
            ),
            today,
        )
        currencies = {item.line.currency for item in priced}
        if len(currencies) != 1:
            raise InvalidInput(
                "A quote is in one currency; these items are priced in " + ", ".join(currencies)
            )
        currency = currencies.pop()
        seller = self._seller(request.channel, [item.listing for item in priced])
        lines = [
            QuoteLine(
                position=position,
                action=item_in.action,
                listing_id=item.listing.id,
                product_key=item.listing.product_key,
                vendor_id=item.listing.app.vendor_id if item.listing.app is not None else None,
                license_id=license.id if license is not None else None,
                tier_users=tier_users(item.line.tier),
                users=item.line.users,
                license_type=item.line.license_type.value,
                period_start=item.line.period_start,
                period_end=item.line.period_end,
                amount_minor=pricing.to_minor_units(item.line.amount, currency),
                explanation=item.line.explanation,
                formula=dict(item.line.formula),
                vendor_share_rate=item.split.vendor_share_rate if item.split else None,
                vendor_amount_minor=pricing.to_minor_units(item.split.vendor_amount, currency)
                if item.split
                else None,
                operator_amount_minor=(
                    pricing.to_minor_units(item.split.operator_amount, currency) if item.split else None
                ),
            )
            for position, (item_in, item, license) in enumerate(zip(items, priced, licenses, strict=True), 1)
        ]
        quote = Quote(
            number=self.new_quote_number(today),
            organisation_id=instance.organisation_id,
            host_instance_id=instance.id,
            channel=request.channel.value,
            seller=seller,
            currency=currency,
            total_minor=sum(line.amount_minor for line in lines),
            status="open",
            po_number=request.po_number,
            priced_on=today,
            valid_until=today + timedelta(days=QUOTE_VALID_DAYS),
            created_by_id=principal.user_id,
            lines=lines,
        )
        self.repo.add(quote)
        return quote

    def _preview_items(
        self, instance: HostInstance, request: schemas.QuoteRequest
    ) -> tuple[list[preview.Item], list[License | None]]:
        """The quote's items as the pricing engine's items, with the license each one changes."""
        items: list[preview.Item] = []
        licenses: list[License | None] = []
        evaluations: Counter[str] = Counter()
        for index, item in enumerate(request.items):
            match item:
                case schemas.NewQuoteItem():
                    if instance.hosting == "cloud":
                        items.append(
                            preview.CloudSubscriptionItem(
                                action="cloud_subscription",
                                product_key=item.product_key,
                                tier=item.tier,
                                license_type=item.license_type,
                            )
                        )
                    else:
                        if item.tier is None:
                            raise InvalidInput(
                                f"Item {index + 1}: a {instance.hosting} purchase needs a `tier`.",
                                **at_item(index),
                            )
                        items.append(
                            preview.NewItem(
                                action="new",
                                product_key=item.product_key,
                                tier=item.tier,
                                license_type=item.license_type,
                            )
                        )
                    licenses.append(None)
                case schemas.EvaluationQuoteItem():
                    self._check_evaluation_allowed(
                        instance.id, item.product_key, evaluations[item.product_key], index
                    )
                    evaluations[item.product_key] += 1
                    items.append(preview.EvaluationItem(action="evaluation", product_key=item.product_key))
                    licenses.append(None)
                case schemas.RenewalQuoteItem():
                    license = self._license_of_instance(instance, item.license, request.channel, index)
                    items.append(
                        preview.RenewalItem(
                            action="renewal",
                            product_key=license.product_key,
                            tier=tier_label(license.tier_users),
                            license_type=pricing.LicenseType(license.license_type),
                            maintenance_end=self._paid_until(license),
                            years=item.years,
                        )
                    )
                    licenses.append(license)
                case schemas.UpgradeQuoteItem():
                    license = self._license_of_instance(instance, item.license, request.channel, index)
                    items.append(
                        preview.UpgradeItem(
                            action="upgrade",
                            product_key=license.product_key,
                            from_tier=tier_label(license.tier_users),
                            tier=item.tier,
                            license_type=pricing.LicenseType(license.license_type),
                            maintenance_end=self._paid_until(license),
                        )
                    )
                    licenses.append(license)
                case schemas.CoTermQuoteItem():
                    target = item.target_date or instance.host_maintenance_end
                    if target is None:
                        raise InvalidInput(
                            f"Item {index + 1}: give a target_date; the host instance has no maintenance end.",
                            **at_item(index),
                        )
                    if item.license is not None:
                        chosen = [self._license_of_instance(instance, item.license, request.channel, index)]
                    else:
                        chosen = [
                            lic
                            for lic in self.repo.licenses_of_instance(instance.id)
                            if lic.channel == "marketplace"
                            and lic.status == "active"
                            and not lic.evaluation
                            and self._is_app(lic)
                            and self._paid_until(lic) < target
                        ]
                        if not chosen:
                            raise InvalidInput(
                                f"Item {index + 1}: no marketplace app license of this host instance ends before "
                                f"{target}; there is nothing to co-term.",
                                **at_item(index),
                            )
                    for license in chosen:
                        items.append(
                            preview.CoTermItem(
                                action="co_term",
                                product_key=license.product_key,
                                tier=tier_label(license.tier_users),
                                license_type=pricing.LicenseType(license.license_type),
                                maintenance_end=self._paid_until(license),
                                target_date=target,
                            )
                        )
                        licenses.append(license)
        return items, licenses

    def evaluation_of(self, instance_id: uuid.UUID, product_key: str) -> License | None:
        """The evaluation license of an app on a host instance: there is one, regenerated in place."""
        return next(
            (
                lic
                for lic in self.repo.licenses_of_instance(instance_id)
                if lic.product_key == product_key and lic.evaluation
            ),
            None,
        )

    def _evaluations_granted(self, instance_id: uuid.UUID, product_key: str) -> int:
        license = self.evaluation_of(instance_id, product_key)
        if license is None:
            return 0
        return sum(1 for t in self.repo.transactions_of(license.id) if t.kind == "evaluation")

    def _check_evaluation_allowed(
        self, instance_id: uuid.UUID, product_key: str, also_in_this_quote: int, index: int | None
    ) -> None:
        """One evaluation per app and host instance, regenerated at most five times (six in all)."""
        granted = self._evaluations_granted(instance_id, product_key) + also_in_this_quote
        if granted > MAX_EVALUATION_REGENERATIONS:
            prefix = f"Item {index + 1}: " if index is not None else ""
            raise EvaluationLimitReached(
                f"{prefix}{product_key} was evaluated on this host instance {granted} times, the most allowed "
                f"(one evaluation and {MAX_EVALUATION_REGENERATIONS} regenerations). Buy a license, or ask the "
                "vendor for an extension.",
                **(at_item(index) if index is not None else {}),
            )

    def _is_app(self, license: License) -> bool:
        listing = self.session.get(Listing, license.listing_id)
        return listing is not None and listing.app_id is not None

    @staticmethod
    def _paid_until(license: License) -> date:
        end = license.maintenance_end if license.hosting == "server" else license.term_end
        return end or license.maintenance_end or license.term_end or date.min

    def _license_of_instance(
        self, instance: HostInstance, entitlement: str, channel: pricing.Channel, index: int
    ) -> License:
        license = self.repo.license_by_entitlement(entitlement)
        if license is None or license.host_instance_id != instance.id:
            raise NotFound(
                f"Item {index + 1}: license {entitlement} is not a license of this host instance.",
                **at_item(index),
            )
        if license.status in ("cancelled", "superseded"):
            raise Conflict(f"Item {index + 1}: license {entitlement} is {license.status}.", **at_item(index))
        if license.channel != channel.value:
            raise InvalidInput(
                f"Item {index + 1}: license {entitlement} was sold through the {license.channel} channel; it "
                f"renews and upgrades there until it migrates.",
                **at_item(index),
            )
        return license

    @staticmethod
    def _host_in(instance: HostInstance, host_product_key: str) -> preview.HostIn:
        return preview.HostIn(
            product=host_product_key,
            hosting=pricing.Hosting(instance.hosting),
            user_tier=tier_label(instance.user_tier) if instance.user_tier is not None else None,
            users=instance.cloud_users,
            license_type=pricing.LicenseType(instance.host_license_type),
            maintenance_end=instance.host_maintenance_end,
            billing_cycle=pricing.BillingCycle(instance.billing_cycle) if instance.billing_cycle else None,
            next_billing_date=instance.next_billing_date,
        )

    def _seller(self, channel: pricing.Channel, listings: Sequence[Listing]) -> str:
        if channel is pricing.Channel.MARKETPLACE:
            return OPERATOR_ISSUER
        vendor_ids = {listing.app.vendor_id for listing in listings if listing.app is not None}
        vendor = self.catalog.vendor_by_id(vendor_ids.pop()) if len(vendor_ids) == 1 else None
        assert (
            vendor is not None
        )  # the pricing checks refuse direct quotes of host products or several vendors
        return vendor_issuer(vendor.slug)

    def new_quote_number(self, today: date) -> str:
        while True:
            number = f"Q-{today:%Y%m%d}-{secrets.token_hex(3).upper()}"
            if not self.repo.quote_number_exists(number):
                return number

    # -- acceptance ----------------------------------------------------------------------------------------

    def accept(self, principal: Principal, quote: Quote, today: date, now: datetime) -> Acceptance:
        """Turn a quote into one order and one invoice; accepting it again returns the same ones.

        ``quote`` must have been read with ``quote_for(..., for_update=True)``: with its row locked, concurrent
        accepts queue and all but the first find it accepted. An invoice of nothing to pay (evaluations, free
        license types) is settled at once.
        """
        if not principal.can_buy_for(quote.organisation_id):
            raise Forbidden("Only the organisation's admins (or operator staff) can accept its quotes.")
        if quote.status == "accepted":
            order = self.repo.order_of_quote(quote.id)
            assert order is not None
            invoice = self.repo.invoice_of_order(order.id)
            assert invoice is not None
            return Acceptance(order, invoice, created=False)
        if quote.status == "cancelled":
            raise Conflict(f"Quote {quote.number} was cancelled; ask for a new quote.")
        if today > quote.valid_until:
            raise QuoteExpired(
                f"Quote {quote.number} was valid until {quote.valid_until}. Ask for a new quote: prices may have "
                "changed since."
            )
        order, invoice = self.issue_invoice(quote, today, now)
        return Acceptance(order, invoice, created=True)

    def issue_invoice(self, quote: Quote, today: date, now: datetime) -> tuple[Order, Invoice]:
        """The order and invoice of an accepted quote, numbered in the seller's series and e-mailed to the
        organisation; an invoice of nothing to pay is settled at once."""
        order = Order(quote_id=quote.id, organisation_id=quote.organisation_id, seller=quote.seller)
        self.repo.add(order)
        # The whole vendor slug: two vendors must never print the same invoice number.
        prefix = "MKT" if quote.seller == OPERATOR_ISSUER else quote.seller.removeprefix("vendor:").upper()
        number = self.repo.take_invoice_number(quote.seller, prefix)
        invoice = Invoice(
            number=f"{prefix}-{today:%Y}-{number:06d}",
            seller=quote.seller,
            order_id=order.id,
            organisation_id=quote.organisation_id,
            currency=quote.currency,
            total_minor=quote.total_minor,
            amount_paid_minor=0,
            status="open",
            po_number=quote.po_number,
            issued_on=today,
            due_on=today + timedelta(days=PAYMENT_TERMS_DAYS),
            payments=[],
            lines=[
                InvoiceLine(
                    position=line.position,
                    quote_line_id=line.id,
                    license_id=line.license_id,
                    description=f"{line.product_key}: {line.explanation}",
                    amount_minor=line.amount_minor,
                    vendor_id=line.vendor_id,
                    vendor_share_rate=line.vendor_share_rate,
                    vendor_amount_minor=line.vendor_amount_minor,
                    operator_amount_minor=line.operator_amount_minor,
                )
                for line in quote.lines
            ],
        )
        self.repo.add(invoice)
        quote.status = "accepted"
        quote.accepted_at = now
        organisation = self.repo.organisation(quote.organisation_id)
        assert organisation is not None
        queue_invoice_email(self.session, invoice, organisation)
        if invoice.total_minor == 0:
            self._settle(invoice, now)
        self.session.flush()
        return order, invoice

    # -- payments ------------------------------------------------------------------------------------------

    def record_payment(
        self,
        principal: Principal,
        invoice_id: uuid.UUID,
        payment: schemas.PaymentIn,
        today: date,
        now: datetime,
    ) -> Invoice:
        """Record money received against an invoice; paid in full, its licenses and keys are issued at once."""
        invoice = self.invoice_for(principal, invoice_id, for_update=True)
        if not self._is_seller(principal, invoice.seller):
            raise Forbidden(
                f"Only the seller ({invoice.seller}) records payments of invoice {invoice.number}."
            )
        if invoice.status == "cancelled":
            raise Conflict(f"Invoice {invoice.number} was cancelled; it cannot be paid.")
        if invoice.status == "paid":
            raise Conflict(f"Invoice {invoice.number} is already paid in full.")
        try:
            amount_minor = pricing.to_minor_units(payment.amount, invoice.currency)
        except ValueError:
            raise InvalidInput(
                f"{payment.amount} is not an amount of {invoice.currency}: too many decimals."
            ) from None
        due = invoice.total_minor - invoice.amount_paid_minor
        if amount_minor > due:
            due_text = pricing.format_money(self._money(due, invoice), invoice.currency)
            paid_text = pricing.format_money(payment.amount, invoice.currency)
            raise Overpayment(
                f"Invoice {invoice.number} has {due_text} due; {paid_text} is more. Record at most the amount due.",
                amount_due=str(self._money(due, invoice)),
            )
        if payment.received_on is not None and payment.received_on > today:
            raise InvalidInput(
                f"A payment cannot be received in the future ({payment.received_on}; today is {today})."
            )
        record = ManualPaymentProvider(payment.provider).record(
            invoice, amount_minor, payment.reference, payment.received_on or today, principal.user_id
        )
        invoice.payments.append(record)
        invoice.amount_paid_minor += amount_minor
        if invoice.amount_paid_minor == invoice.total_minor:
            self._settle(invoice, now)
        self.session.flush()
        return invoice

    @staticmethod
    def _money(minor: int, invoice: Invoice) -> Decimal:
        return pricing.from_minor_units(minor, invoice.currency)

    def _settle(self, invoice: Invoice, now: datetime) -> None:
        """Paid in full: issue or change every license of the invoice and sign its keys, in this transaction."""
        invoice.status = "paid"
        invoice.paid_at = now
        quote_lines = self.repo.quote_lines_by_id(line.quote_line_id for line in invoice.lines)
        quote = (
            self.repo.quote(quote_lines[invoice.lines[0].quote_line_id].quote_id) if invoice.lines else None
        )
        assert quote is not None
        instance = self.repo.host_instance(quote.host_instance_id)
        assert instance is not None
        issued = [
            self._fulfil(invoice, line, quote_lines[line.quote_line_id], quote, instance, now)
            for line in invoice.lines
        ]
        organisation = self.repo.organisation(invoice.organisation_id)
        assert organisation is not None
        queue_keys_email(self.session, invoice, organisation, issued)

    def _fulfil(
        self,
        invoice: Invoice,
        line: InvoiceLine,
        quoted: QuoteLine,
        quote: Quote,
        instance: HostInstance,
        now: datetime,
    ) -> tuple[License, str, bool]:
        """Issue or change the line's license and sign its key; returns the license, the new key, and whether
        it replaces keys issued before."""
        listing = self.session.get(Listing, quoted.listing_id)
        assert listing is not None
        previous = (
            self.evaluation_of(instance.id, listing.product_key) if quoted.action == "evaluation" else None
        )
        replaced = previous is not None
        host_before: dict[str, object] = {}
        if previous is not None:
            # A regeneration: the same evaluation license runs for another period with a new key. Checked again
            # here, under the quote's lock, because several open quotes may each have passed the quote check.
            self._check_evaluation_allowed(instance.id, listing.product_key, 0, None)
            license = previous
            license.maintenance_end = license.term_end = quoted.period_end
            license.status = "active"
            key = self.licenses.rekey(license).token
            line.license_id = license.id
        elif quoted.action in ("new", "evaluation", "cloud_subscription"):
            evaluation = quoted.action == "evaluation"
            term = listing.hosting != "server" or evaluation
            license = License(
                entitlement_number="",
                listing_id=listing.id,
                organisation_id=quote.organisation_id,
                host_instance_id=instance.id,
                product_key=listing.product_key,
                hosting=listing.hosting,
                channel=quote.channel,
                issuer=quote.seller,
                license_type="evaluation" if evaluation else quoted.license_type,
                tier_users=quoted.tier_users,
                host_binding=instance.server_id,
                evaluation=evaluation,
                maintenance_start=quoted.period_start,
                maintenance_end=quoted.period_end,
                term_end=quoted.period_end if term else None,
                status="active",
            )
            key = self.licenses.create(license).token
            if listing.app_id is None and not evaluation:
                # The host license itself was bought: the instance now has that tier and maintenance. What it
                # had before is kept with the sale, so that a refund can put it back.
                host_before = {
                    "user_tier": instance.user_tier,
                    "host_maintenance_end": instance.host_maintenance_end.isoformat()
                    if instance.host_maintenance_end
                    else None,
                }
                instance.user_tier = quoted.tier_users
                instance.host_maintenance_end = quoted.period_end
            line.license_id = license.id
        else:
            license_or_none = self.session.get(License, quoted.license_id) if quoted.license_id else None
            assert license_or_none is not None
            license = license_or_none
            if quoted.action == "upgrade":
                license.tier_users = quoted.tier_users
            else:  # renewal, co_term: the paid-until date moves to the end of the period bought
                license.maintenance_end = quoted.period_end
                if license.hosting != "server":
                    license.term_end = quoted.period_end
                license.status = "active"
            if listing.app_id is None and license.host_instance_id == instance.id:
                # The host's own license changed: the instance's tier and maintenance follow it, so the
                # next quote checks apps against the host as it now is.
                instance.user_tier = license.tier_users
                instance.host_maintenance_end = license.maintenance_end
            key = self.licenses.rekey(license).token
            replaced = True
        self.repo.add(
            LicenseTransaction(
                license_id=license.id,
                kind=quoted.action,
                invoice_line_id=line.id,
                currency=quote.currency,
                amount_minor=line.amount_minor,
                vendor_share_rate=line.vendor_share_rate,
                vendor_amount_minor=line.vendor_amount_minor,
                operator_amount_minor=line.operator_amount_minor,
                description=line.description,
                details={"invoice": invoice.number, "quote": quote.number}
                | ({"host_before": host_before} if host_before else {}),
                occurred_at=now,
            )
        )
        return license, key, replaced

    def _restore_host_after_refund(self, license: License, sale_line_id: int) -> None:
        """A refunded host license: the instance gets back the tier and maintenance it had before the sale."""
        sale = next(
            (t for t in self.repo.transactions_of(license.id) if t.invoice_line_id == sale_line_id), None
        )
        before = (sale.details or {}).get("host_before") if sale else None
        instance = self.repo.host_instance(license.host_instance_id) if license.host_instance_id else None
        if not before or instance is None:
            return
        instance.user_tier = before["user_tier"]
        end = before["host_maintenance_end"]
        instance.host_maintenance_end = date.fromisoformat(end) if end else None

    # -- refunds -------------------------------------------------------------------------------------------

    def refund_line(
        self,
        principal: Principal,
        invoice_id: uuid.UUID,
        line_id: int,
        reason: str,
        today: date,
        now: datetime,
    ) -> InvoiceLine:
        """Refund a new purchase within 30 days: cancel the license, revoke its keys, reverse the split at the
        rate of the original sale (the amounts the sale recorded, negated)."""
        invoice = self.invoice_for(principal, invoice_id, for_update=True)
        if not self._is_seller(principal, invoice.seller):
            raise Forbidden(f"Only the seller ({invoice.seller}) refunds invoice {invoice.number}.")
        line = next((candidate for candidate in invoice.lines if candidate.id == line_id), None)
        if line is None:
            raise NotFound(f"Invoice {invoice.number} has no line {line_id}.")
        if line.refunded_at is not None:
            raise Conflict(f"Line {line.position} of invoice {invoice.number} was already refunded.")
        quoted = self.repo.quote_lines_by_id([line.quote_line_id])[line.quote_line_id]
        if (
            quoted.action not in ("new", "cloud_subscription")
            or invoice.paid_at is None
            or line.license_id is None
        ):
            raise InvalidInput("Only a paid new purchase can be refunded.")
        window_end = invoice.paid_at.date() + timedelta(days=REFUND_WINDOW_DAYS)
        if today > window_end:
            raise RefundWindowClosed(
                f"New purchases can be refunded within {REFUND_WINDOW_DAYS} days; this one was paid on "
                f"{invoice.paid_at:%Y-%m-%d}, so the window closed on {window_end}."
            )
        license = self.session.get(License, line.license_id)
        assert license is not None
        later = [
            t.kind
            for t in self.repo.transactions_of(license.id)
            if t.invoice_line_id != line.id and t.amount_minor
        ]
        if later:
            raise Conflict(
                f"License {license.entitlement_number} was changed after this purchase ({', '.join(later)}). "
                "Refunding only the purchase would keep those payments, and Mercato does not refund the later "
                "changes: credit the customer outside Mercato and cancel the license with "
                "`mercato license revoke --entitlement`."
            )
        license.status = "cancelled"
        self.licenses.revoke_all_keys(license, reason)
        self._restore_host_after_refund(license, line.id)
        line.refunded_at = now
        self.repo.add(
            LicenseTransaction(
                license_id=license.id,
                kind="refund",
                invoice_line_id=line.id,
                currency=invoice.currency,
                amount_minor=-line.amount_minor,
                vendor_share_rate=line.vendor_share_rate,
                vendor_amount_minor=-line.vendor_amount_minor
                if line.vendor_amount_minor is not None
                else None,
                operator_amount_minor=(
                    -line.operator_amount_minor if line.operator_amount_minor is not None else None
                ),
                description=f"Refund: {reason}",
                details={"invoice": invoice.number, "line": line.position},
                occurred_at=now,
            )
        )
        return line
