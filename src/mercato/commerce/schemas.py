"""Requests and responses of the quote, order, invoice, payment and license endpoints."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mercato.catalog.schemas import ReleaseRef
from mercato.commerce.models import InvoiceStatus, LineAction, QuoteStatus
from mercato.fields import Day, Note, Text
from mercato.licenses.models import LicenseEventKind, LicenseState
from mercato.paging import PageOut
from mercato.preview.schemas import TierText
from mercato.pricing import Channel, Hosting, LicenseType

Entitlement = Annotated[Text, Field(max_length=32, pattern=r"^SEN-\S+$", examples=["SEN-5643777687"])]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewQuoteItem(Strict):
    action: Literal["new"]
    product_key: Text = Field(max_length=200, description="App key or host product key.")
    tier: TierText | None = Field(
        default=None,
        description="Server and datacenter: the tier. Cloud: an annual tier, or none for monthly.",
    )
    license_type: LicenseType = LicenseType.COMMERCIAL
    years: int = Field(
        default=1,
        ge=1,
        le=10,
        description="Server and datacenter: years of maintenance (or term) bought with the license, the first "
        "at the new price and each further one at the renewal price. The marketplace sells up to 3, a direct "
        "store 1. Cloud: 1 (a subscription renews with its site).",
    )


class EvaluationQuoteItem(Strict):
    action: Literal["evaluation"]
    product_key: Text = Field(max_length=200)


class RenewalQuoteItem(Strict):
    action: Literal["renewal"]
    license: Entitlement
    years: int = Field(default=1, ge=1, le=10)
    tier: TierText | None = Field(
        default=None,
        description="Renew at this larger tier (the upgrade and the renewal in one line); it must cover the host "
        "on the marketplace. Omitted: the license's tier, or on the marketplace, when the host has grown past "
        "it, the smallest tier sold that covers the host.",
    )


class UpgradeQuoteItem(Strict):
    action: Literal["upgrade"]
    license: Entitlement
    tier: TierText


class CoTermQuoteItem(Strict):
    action: Literal["co_term"]
    license: Entitlement | None = Field(
        default=None,
        description="The license to co-term; omitted: every marketplace app license of the host instance.",
    )
    target_date: Day | None = Field(default=None, description="Default: the host license's maintenance end.")


class MigrationQuoteItem(Strict):
    action: Literal["migration"]
    license: Entitlement | None = Field(
        default=None,
        description="The direct license to move to the marketplace; omitted: every direct server or Data Center "
        "app license of the host instance.",
    )
    tier: TierText | None = Field(
        default=None,
        description="The marketplace tier; by default the license's own, or the smallest that covers the host.",
    )


QuoteItem = Annotated[
    NewQuoteItem
    | EvaluationQuoteItem
    | RenewalQuoteItem
    | UpgradeQuoteItem
    | CoTermQuoteItem
    | MigrationQuoteItem,
    Field(discriminator="action"),
]


class QuoteRequest(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "host_instance_id": "b1307e65-4cf4-4a5e-9d0e-6f2a1c3b8d47",
                    "channel": "marketplace",
                    "po_number": "PO-4711",
                    "items": [
                        {"action": "new", "product_key": "wiki", "tier": "100"},
                        {"action": "new", "product_key": "com.gatekeeper.sso.wiki", "tier": "100"},
                        {"action": "renewal", "license": "SEN-7290803472", "years": 2},
                    ],
                }
            ]
        }
    )

    host_instance_id: uuid.UUID
    channel: Channel = Channel.MARKETPLACE
    po_number: Text | None = Field(
        default=None, max_length=100, description="Shown on the invoice; a reference."
    )
    items: list[QuoteItem] = Field(min_length=1, max_length=100)


class SplitOut(BaseModel):
    vendor_share_rate: Decimal
    vendor_amount: Decimal
    operator_amount: Decimal


class QuoteLineOut(BaseModel):
    position: int
    action: LineAction
    product_key: str
    license: str | None = Field(description="Entitlement number of the license the line changes.")
    tier: str
    users: int | None
    license_type: LicenseType
    period_start: date
    period_end: date
    amount: Decimal
    explanation: str
    formula: dict[str, Any]
    revenue_split: SplitOut | None


class QuoteOut(BaseModel):
    id: uuid.UUID
    number: str
    organisation_id: uuid.UUID
    host_instance_id: uuid.UUID
    channel: Channel
    seller: str = Field(description="Seller of record: 'operator', or 'vendor:<slug>' on a direct store.")
    currency: str
    total: Decimal
    status: QuoteStatus = Field(description="See `expired` for open quotes past validity.")
    expired: bool
    po_number: str | None
    priced_on: date
    valid_until: date
    lines: list[QuoteLineOut]


class InvoiceLineOut(BaseModel):
    position: int
    id: int
    product_key: str
    action: LineAction
    period_start: date
    period_end: date
    description: str
    amount: Decimal
    license: str | None
    revenue_split: SplitOut | None
    refunded: bool


class PaymentOut(BaseModel):
    id: int
    provider: str
    reference: str
    amount: Decimal
    received_on: date


class InvoiceOut(BaseModel):
    id: uuid.UUID
    number: str
    seller: str
    organisation_id: uuid.UUID
    currency: str
    total: Decimal
    amount_paid: Decimal
    amount_due: Decimal
    amount_refunded: Decimal = Field(
        description="The refunded lines' amounts (their licenses are cancelled)."
    )
    status: InvoiceStatus
    po_number: str | None
    issued_on: date
    due_on: date
    paid_at: datetime | None
    lines: list[InvoiceLineOut]
    payments: list[PaymentOut]


class OrderOut(BaseModel):
    id: uuid.UUID
    quote_id: uuid.UUID
    seller: str
    created_at: datetime


class AcceptedQuote(BaseModel):
    order: OrderOut
    invoice: InvoiceOut


class PaymentIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "amount": "6150.00",
                    "provider": "bank_transfer",
                    "reference": "BANK-2026-11-26-0042",
                    "received_on": "2026-11-26",
                }
            ]
        }
    )

    amount: Decimal = Field(gt=0, max_digits=14, examples=["1100.00"])
    provider: Literal["bank_transfer", "purchase_order"] = "bank_transfer"
    reference: Text = Field(min_length=1, max_length=200, description="The bank reference or PO number.")
    received_on: Day | None = Field(
        default=None, description="The day the money arrived (default: today); never after today."
    )


class RefundIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "bought for the wrong host instance"}]}
    )

    reason: Note = Field(default="refund requested by the customer", max_length=500)


class TransactionOut(BaseModel):
    kind: LicenseEventKind
    amount: Decimal
    currency: str | None
    vendor_amount: Decimal | None
    operator_amount: Decimal | None
    description: str
    occurred_at: datetime


class KeyOut(BaseModel):
    serial: str
    kid: str
    issued_at: datetime
    state: Literal["current", "superseded", "revoked"]
    key: str | None = Field(
        description="The key to paste; shown to the organisation's admins and operator staff."
    )


class LicenseOut(BaseModel):
    entitlement_number: str
    product_key: str
    hosting: Hosting
    channel: Channel
    issuer: str
    license_type: LicenseType
    tier: str
    host_binding: str
    evaluation: bool
    maintenance_end: date | None
    term_end: date | None
    status: LicenseState
    organisation_id: uuid.UUID | None
    host_instance_id: uuid.UUID | None
    newest_installable_release: ReleaseRef | None = Field(
        description="The newest release of the app this license may install: built on or before the end of "
        "its maintenance (a newer build answers VERSION_MISMATCH). Null when the listing has no such release."
    )
    renewal_unlocks_newer_release: bool = Field(
        description="Whether a newer release exists, built after maintenance ended: renew maintenance to "
        "install it."
    )


class LicenseDetailOut(LicenseOut):
    keys: list[KeyOut]
    history: list[TransactionOut]


class QuotePage(PageOut):
    items: list[QuoteOut]


class InvoicePage(PageOut):
    items: list[InvoiceOut]


class LicensePage(PageOut):
    items: list[LicenseOut]
