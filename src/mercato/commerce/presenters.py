"""ORM rows → API schemas for commerce (amounts from integer minor units to decimal strings)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from mercato import pricing
from mercato.commerce import schemas
from mercato.commerce.models import Invoice, InvoiceLine, Quote, QuoteLine
from mercato.commerce.repository import CommerceRepository
from mercato.commerce.service import tier_label
from mercato.licenses.models import License, LicenseKey


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


def _entitlements(session: Session, license_ids: set[object]) -> dict[object, str]:
    if not license_ids:
        return {}
    rows = session.execute(select(License.id, License.entitlement_number).where(License.id.in_(license_ids)))
    return {row.id: row.entitlement_number for row in rows}


def quote_out(quote: Quote, session: Session, today: date) -> schemas.QuoteOut:
    entitlements = _entitlements(session, {line.license_id for line in quote.lines if line.license_id})
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
        expired=quote.status == "open" and today > quote.valid_until,
        po_number=quote.po_number,
        priced_on=quote.priced_on,
        valid_until=quote.valid_until,
        lines=[
            schemas.QuoteLineOut(
                position=line.position,
                action=line.action,
                product_key=line.product_key,
                license=entitlements.get(line.license_id) if line.license_id else None,
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
    session = Session.object_session(invoice)
    assert session is not None
    entitlements = _entitlements(session, {line.license_id for line in invoice.lines if line.license_id})
    quoted = CommerceRepository(session).quote_lines_by_id(line.quote_line_id for line in invoice.lines)
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
                product_key=quoted[line.quote_line_id].product_key,
                action=quoted[line.quote_line_id].action,
                period_start=quoted[line.quote_line_id].period_start,
                period_end=quoted[line.quote_line_id].period_end,
                description=line.description,
                amount=pricing.from_minor_units(line.amount_minor, currency),
                license=entitlements.get(line.license_id) if line.license_id else None,
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
    )


def _key_state(key: LicenseKey) -> str:
    if key.revoked_at is not None:
        return "revoked"
    return "superseded" if key.superseded_at is not None else "current"


def license_detail_out(
    license: License, repo: CommerceRepository, show_keys: bool
) -> schemas.LicenseDetailOut:
    keys = repo.session.scalars(
        select(LicenseKey).where(LicenseKey.license_id == license.id).order_by(LicenseKey.issued_at)
    ).all()
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
            for t in repo.transactions_of(license.id)
        ],
    )
