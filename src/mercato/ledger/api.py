"""Statements and payouts API: operator staff run a month's payouts; operator staff and the vendor's own members
read its monthly statements, its payouts and each payout's remittance report. Another vendor's statements,
payouts and remittances answer 404, exactly like missing ones."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from mercato.accounts.access import Forbidden, NotAuthenticated
from mercato.accounts.dependencies import Reader, Writer
from mercato.accounts.errors import OperatorOnly, VendorNotFound
from mercato.fields import Text
from mercato.ledger.errors import InvalidMonth, MonthNotOver, PayoutNotFound
from mercato.ledger.models import LedgerEntry, Payout
from mercato.ledger.service import (
    DEFAULT_REFERENCE_PREFIX,
    EntryDetail,
    Ledger,
    PayoutDecision,
    PayoutRun,
    Remittance,
    Statement,
)
from mercato.paging import InvalidCursor, PageOut, page_fields
from mercato.pricing import from_minor_units
from mercato.problems import InvalidInput
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.paging import PageParams
from mercato.web.responses import problem_responses
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(tags=["payouts"], route_class=UnitOfWorkRoute)

_SIGNED_IN = (NotAuthenticated, Forbidden)
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
VendorPath = Annotated[Text, Path(max_length=64, description="The vendor's slug, e.g. example-mockups.")]
MonthQuery = Annotated[
    str, Query(pattern=MONTH_PATTERN, description="The month, YYYY-MM.", examples=["2026-11"])
]
CurrencyQuery = Annotated[
    str | None, Query(pattern=r"^[A-Z]{3}$", description="Only this currency (ISO 4217), e.g. EUR.")
]


# -- shapes --------------------------------------------------------------------------------------------------


class LedgerEntryOut(BaseModel):
    id: int
    kind: str = Field(
        description="new, cloud_subscription, renewal, upgrade, co_term, migration, refund or adjustment."
    )
    channel: str
    occurred_at: datetime
    entitlement_number: str | None
    invoice: str | None = Field(description="The invoice number of the line the entry comes from.")
    invoice_line_id: int | None
    hosting: str | None
    currency: str
    gross: Decimal
    discount: Decimal
    amount: Decimal = Field(description="What the customer paid (negative: given back).")
    vendor_share_rate: Decimal
    vendor_amount: Decimal
    operator_amount: Decimal
    corrects_entry_id: int | None
    description: str


class PayoutOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b9f0c9e-8d3c-4a51-9a43-2f7c1b0e5d11",
                    "vendor": "example-mockups",
                    "month": "2026-11",
                    "currency": "EUR",
                    "amount": "825.00",
                    "entry_count": 1,
                    "reference": "PAYOUT-2026-11-example-mockups-EUR",
                    "status": "paid",
                    "method": "bank_transfer",
                    "paid_at": "2026-12-01T09:00:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    vendor: str
    month: str
    currency: str
    amount: Decimal
    entry_count: int
    reference: str = Field(description="The operator's reference for the transfer.")
    status: str
    method: str | None
    paid_at: datetime


class PayoutPage(PageOut):
    items: list[PayoutOut]


class StatementOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "vendor": "example-mockups",
                    "month": "2026-11",
                    "currency": "EUR",
                    "opening_balance": "0.00",
                    "entries_total": "825.00",
                    "payouts_total": "825.00",
                    "closing_balance": "0.00",
                    "direct_sales": "0.00",
                    "entries": [],
                    "payouts": [],
                }
            ]
        }
    )

    vendor: str
    month: str
    currency: str
    opening_balance: Decimal = Field(description="Owed to the vendor at the month's start.")
    entries_total: Decimal = Field(description="The vendor's share of the month's marketplace entries.")
    payouts_total: Decimal = Field(description="What this month's payout paid.")
    closing_balance: Decimal = Field(
        description="opening + entries − payouts: owed at the month's end, and the next month's opening."
    )
    direct_sales: Decimal = Field(
        description="Direct-channel sales of the month: collected by the vendor itself, not in the balance."
    )
    entries: list[LedgerEntryOut]
    payouts: list[PayoutOut]


class StatementsOut(BaseModel):
    vendor: str
    month: str
    statements: list[StatementOut] = Field(description="One per currency the vendor has entries in.")


class RemittanceOut(BaseModel):
    payout: PayoutOut
    entries: list[LedgerEntryOut] = Field(description="Every ledger entry the payout paid.")
    entries_total: Decimal = Field(description="The sum of the entries' vendor amounts: the payout's amount.")
    reconciled: bool = Field(description="Whether entries_total equals the payout's amount, to the cent.")


class PayoutRunIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"month": "2026-11", "threshold": "50", "reference_prefix": "NOV-"}]},
    )

    month: str = Field(pattern=MONTH_PATTERN, description="The month whose closing balances to pay, YYYY-MM.")
    threshold: Decimal = Field(
        default=Decimal("0"),
        ge=0,
        max_digits=12,
        decimal_places=4,
        allow_inf_nan=False,
        description="Pay only balances of at least this much (major units, per currency); smaller balances "
        "wait for a later month.",
    )
    reference_prefix: Text = Field(
        default=DEFAULT_REFERENCE_PREFIX,
        max_length=40,
        description="Each payout's reference is this prefix, the month, the vendor and the currency.",
    )


class PayoutDecisionOut(BaseModel):
    vendor: str
    currency: str
    outcome: str = Field(description="paid, already_paid, below_threshold or nothing_owed.")
    balance: Decimal
    payout: PayoutOut | None


class PayoutRunOut(BaseModel):
    month: str
    paid: int = Field(description="How many payouts this run made.")
    decisions: list[PayoutDecisionOut]


# -- presenters ----------------------------------------------------------------------------------------------


def _money(minor: int, currency: str) -> Decimal:
    return from_minor_units(minor, currency)


def entry_out(detail: EntryDetail) -> LedgerEntryOut:
    e: LedgerEntry = detail.entry
    c = e.currency
    return LedgerEntryOut(
        id=e.id,
        kind=e.kind.value,
        channel=e.channel.value,
        occurred_at=e.occurred_at,
        entitlement_number=detail.entitlement_number,
        invoice=detail.invoice_number,
        invoice_line_id=e.invoice_line_id,
        hosting=e.hosting.value if e.hosting else None,
        currency=c,
        gross=_money(e.gross_minor, c),
        discount=_money(e.discount_minor, c),
        amount=_money(e.amount_minor, c),
        vendor_share_rate=e.vendor_share_rate,
        vendor_amount=_money(e.vendor_amount_minor, c),
        operator_amount=_money(e.operator_amount_minor, c),
        corrects_entry_id=e.corrects_entry_id,
        description=e.description,
    )


def payout_out(payout: Payout, vendor_slug: str) -> PayoutOut:
    return PayoutOut(
        id=payout.id,
        vendor=vendor_slug,
        month=payout.month,
        currency=payout.currency,
        amount=_money(payout.amount_minor, payout.currency),
        entry_count=payout.entry_count,
        reference=payout.reference,
        status=payout.status.value,
        method=payout.method,
        paid_at=payout.paid_at,
    )


def statement_out(ledger: Ledger, statement: Statement) -> StatementOut:
    c, t, slug = statement.currency, statement.totals, statement.vendor.slug
    return StatementOut(
        vendor=slug,
        month=str(statement.month),
        currency=c,
        opening_balance=_money(t.opening_minor, c),
        entries_total=_money(t.entries_minor, c),
        payouts_total=_money(t.payouts_minor, c),
        closing_balance=_money(t.closing_minor, c),
        direct_sales=_money(statement.direct_sales_minor, c),
        entries=[entry_out(d) for d in ledger.details(statement.entries)],
        payouts=[payout_out(p, slug) for p in statement.payouts],
    )


def remittance_out(remittance: Remittance) -> RemittanceOut:
    payout = remittance.payout
    total = remittance.entries_total_minor
    return RemittanceOut(
        payout=payout_out(payout, remittance.vendor.slug),
        entries=[entry_out(d) for d in remittance.entries],
        entries_total=_money(total, payout.currency),
        reconciled=total == payout.amount_minor,
    )


def decision_out(decision: PayoutDecision) -> PayoutDecisionOut:
    return PayoutDecisionOut(
        vendor=decision.vendor_slug,
        currency=decision.currency,
        outcome=decision.outcome,
        balance=_money(decision.balance_minor, decision.currency),
        payout=payout_out(decision.payout, decision.vendor_slug) if decision.payout else None,
    )


# -- routes --------------------------------------------------------------------------------------------------


@router.post(
    "/payouts/runs",
    response_model=PayoutRunOut,
    summary="Run a month's payouts",
    responses=problem_responses(*_SIGNED_IN, OperatorOnly, InvalidMonth, MonthNotOver),
)
def run_payouts(
    body: PayoutRunIn, principal: Writer, session: SessionDep, services: ServicesDep
) -> PayoutRunOut:
    """Pays every vendor, per currency, its ledger entries up to the month's end that no payout has paid yet,
    when they reach the threshold (operator staff only). Each payout is recorded with the operator's
    reference. Safe to send again, and at the same time: a vendor is paid at most once per currency and month,
    and an entry at most once ever; a repeat answers `already_paid` or nothing for the vendors already paid."""
    report = PayoutRun(session, services).run_for(
        principal, body.month, body.threshold, body.reference_prefix
    )
    return PayoutRunOut(
        month=report.month, paid=len(report.paid), decisions=[decision_out(d) for d in report.decisions]
    )


@router.get(
    "/vendors/{slug}/statements",
    response_model=StatementsOut,
    summary="Get a vendor's monthly statements",
    responses=problem_responses(*_SIGNED_IN, VendorNotFound, InvalidMonth, InvalidInput),
)
def get_statements(
    slug: VendorPath,
    month: MonthQuery,
    principal: Reader,
    session: SessionDep,
    services: ServicesDep,
    currency: CurrencyQuery = None,
) -> StatementsOut:
    """The vendor's statement of the month, one per currency: opening balance, the month's ledger entries,
    its payout and the closing balance, which is the next month's opening balance. For operator staff and
    the vendor's members."""
    ledger = Ledger(session, services)
    statements = ledger.statements_for(principal, slug, month, currency)
    return StatementsOut(
        vendor=slug.strip().lower(), month=month, statements=[statement_out(ledger, s) for s in statements]
    )


@router.get(
    "/vendors/{slug}/payouts",
    response_model=PayoutPage,
    summary="List a vendor's payouts",
    responses=problem_responses(*_SIGNED_IN, VendorNotFound, InvalidCursor),
)
def list_payouts(
    slug: VendorPath,
    principal: Reader,
    session: SessionDep,
    services: ServicesDep,
    page: PageParams,
) -> PayoutPage:
    """The vendor's payouts, newest month first. For operator staff and the vendor's members."""
    vendor, payouts = Ledger(session, services).payouts_for(principal, slug, page)
    return PayoutPage(items=[payout_out(p, vendor.slug) for p in payouts.rows], **page_fields(payouts, page))


@router.get(
    "/payouts/{payout_id}/remittance",
    response_model=RemittanceOut,
    summary="Get a payout's remittance report",
    responses=problem_responses(*_SIGNED_IN, PayoutNotFound),
)
def get_remittance(
    payout_id: Annotated[uuid.UUID, Path(description="The payout's id.")],
    principal: Reader,
    session: SessionDep,
    services: ServicesDep,
) -> RemittanceOut:
    """Every ledger entry the payout paid, with its license and invoice, and their total, which equals the
    payout's amount to the cent. For operator staff and the payout's vendor's members."""
    return remittance_out(Ledger(session, services).remittance_for(principal, payout_id))
