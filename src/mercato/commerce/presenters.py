"""ORM rows → API schemas for commerce (amounts from integer minor units to decimal strings). Presenters read
only what the repository loaded; they never query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Literal

from mercato import pricing
from mercato.catalog.domain import tier_label
from mercato.catalog.models import Release
from mercato.catalog.releases import installable
from mercato.catalog.schemas import ReleaseRef
from mercato.commerce import schemas
from mercato.commerce.models import Invoice, InvoiceLine, Quote, QuoteLine, QuoteStatus
from mercato.licenses.models import License, LicenseKey, LicenseTransaction


def _money(minor: int | None, currency: str) -> Decimal | None:
    return None if minor is None else pricing.from_minor_units(minor, currency)


def _split(line: QuoteLine | InvoiceLine, currency: str) -> schemas.SplitOut | None:
    if (
        line.vendor_share_rate is None
        or line.vendor_amount_minor is None
        or line.operator_amount_minor is None
    ):
        return None
    return schemas.SplitOut(
        vendor_share_rate=line.vendor_share_rate,
        vendor_amount=pricing.from_minor_units(line.vendor_amount_minor, currency),
        operator_amount=pricing.from_minor_units(line.operator_amount_minor, currency),
    )


def _entitlement(line: QuoteLine | InvoiceLine) -> str | None:
    return line.license.entitlement_number if line.license is not None else None


def quote_out(quote: Quote, today: date) -> schemas.QuoteOut:
    return schemas.QuoteOut(
        id=quote.id,
        number=quote.number,
        organisation_id=quote.organisation_id,
        host_instance_id=quote.host_instance_id,
        channel=quote.channel,
        seller=quote.seller,
        currency=quote.currency,
        total=pricing.from_minor_units(quote.total_minor, quote.currency),
        status=quote.status,
        expired=quote.status == QuoteStatus.OPEN and today > quote.valid_until,
        po_number=quote.po_number,
        priced_on=quote.priced_on,
        valid_until=quote.valid_until,
        lines=[
            schemas.QuoteLineOut(
                position=line.position,
                action=line.action,
                product_key=line.product_key,
                license=_entitlement(line),
                tier=tier_label(line.tier_users),
                users=line.users,
                license_type=line.license_type,
                period_start=line.period_start,
                period_end=line.period_end,
                amount=pricing.from_minor_units(line.amount_minor, quote.currency),
                explanation=line.explanation,
                formula=line.formula,
                revenue_split=_split(line, quote.currency),
            )
            for line in quote.lines
        ],
    )


def invoice_out(invoice: Invoice) -> schemas.InvoiceOut:
    currency = invoice.currency
    return schemas.InvoiceOut(
        id=invoice.id,
        number=invoice.number,
        seller=invoice.seller,
        organisation_id=invoice.organisation_id,
        currency=currency,
        total=pricing.from_minor_units(invoice.total_minor, currency),
        amount_paid=pricing.from_minor_units(invoice.amount_paid_minor, currency),
        amount_due=pricing.from_minor_units(invoice.total_minor - invoice.amount_paid_minor, currency),
        amount_refunded=pricing.from_minor_units(
            sum(line.amount_minor for line in invoice.lines if line.refunded_at is not None), currency
        ),
        status=invoice.status,
        po_number=invoice.po_number,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        paid_at=invoice.paid_at,
        lines=[
            schemas.InvoiceLineOut(
                position=line.position,
                id=line.id,
                product_key=line.quote_line.product_key,
                action=line.quote_line.action,
                period_start=line.quote_line.period_start,
                period_end=line.quote_line.period_end,
                description=line.description,
                amount=pricing.from_minor_units(line.amount_minor, currency),
                license=_entitlement(line),
                revenue_split=_split(line, currency),
                refunded=line.refunded_at is not None,
            )
            for line in invoice.lines
        ],
        payments=[
            schemas.PaymentOut(
                id=payment.id,
                provider=payment.provider,
                reference=payment.reference,
                amount=pricing.from_minor_units(payment.amount_minor, currency),
                received_on=payment.received_on,
            )
            for payment in invoice.payments
        ],
    )


def license_out(license: License) -> schemas.LicenseOut:
    """Needs ``license.listing.releases`` loaded (the repository's license reads load them)."""
    releases = installable(license.listing.releases, license.maintenance_end)
    return schemas.LicenseOut(
        entitlement_number=license.entitlement_number,
        product_key=license.product_key,
        hosting=license.hosting,
        channel=license.channel,
        issuer=license.issuer,
        license_type=license.license_type,
        tier=tier_label(license.tier_users),
        host_binding=license.host_binding,
        evaluation=license.evaluation,
        maintenance_end=license.maintenance_end,
        term_end=license.term_end,
        status=license.status,
        organisation_id=license.organisation_id,
        host_instance_id=license.host_instance_id,
        newest_installable_release=_release_ref(releases.newest_installable),
        renewal_unlocks_newer_release=releases.renewal_unlocks_newer,
    )


def _release_ref(release: Release | None) -> ReleaseRef | None:
    return None if release is None else ReleaseRef(version=release.version, build_date=release.build_date)


def _key_state(key: LicenseKey) -> Literal["current", "superseded", "revoked"]:
    if key.revoked_at is not None:
        return "revoked"
    return "superseded" if key.superseded_at is not None else "current"


def license_detail_out(
    license: License,
    keys: Sequence[LicenseKey],
    history: Sequence[LicenseTransaction],
    show_keys: bool,
) -> schemas.LicenseDetailOut:
    return schemas.LicenseDetailOut(
        **license_out(license).model_dump(),
        keys=[
            schemas.KeyOut(
                serial=key.serial,
                kid=key.kid,
                issued_at=key.issued_at,
                state=_key_state(key),
                key=key.token if show_keys else None,
            )
            for key in keys
        ],
        history=[
            schemas.TransactionOut(
                kind=t.kind,
                amount=pricing.from_minor_units(t.amount_minor, t.currency) if t.currency else Decimal(0),
                currency=t.currency,
                vendor_amount=_money(t.vendor_amount_minor, t.currency) if t.currency else None,
                operator_amount=_money(t.operator_amount_minor, t.currency) if t.currency else None,
                description=t.description,
                occurred_at=t.occurred_at,
            )
            for t in history
        ],
    )
