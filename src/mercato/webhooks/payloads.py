"""The events a webhook endpoint may subscribe to, and the JSON body each one is posted with.

Every body is an envelope, as the Standard Webhooks specification suggests: ``type`` (the event), ``timestamp``
(when it happened) and ``data``. These models are the contract: the OpenAPI document publishes them in its
``webhooks`` section, and the tests check that every body Mercato posts validates against its model.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class WebhookEventType(StrEnum):
    LICENSE_CREATED = "license.created"
    LICENSE_RENEWED = "license.renewed"
    LICENSE_UPGRADED = "license.upgraded"
    LICENSE_MIGRATED = "license.migrated"
    LICENSE_CANCELLED = "license.cancelled"
    LICENSE_REFUNDED = "license.refunded"
    TRANSACTION_CREATED = "transaction.created"
    PAYOUT_PAID = "payout.paid"


EVENT_DESCRIPTIONS: dict[WebhookEventType, str] = {
    WebhookEventType.LICENSE_CREATED: "A license was sold, started as an evaluation or a cloud subscription, "
    "issued by support staff, or imported by its vendor (change `import`).",
    WebhookEventType.LICENSE_RENEWED: "A license's maintenance or term was extended: a renewal, or a co-term "
    "that aligned its end date with the customer's others.",
    WebhookEventType.LICENSE_UPGRADED: "A license moved to a larger tier.",
    WebhookEventType.LICENSE_MIGRATED: "A direct license moved to the marketplace (same license, new seller and key).",
    WebhookEventType.LICENSE_CANCELLED: "A license was cancelled, or revoked with every key.",
    WebhookEventType.LICENSE_REFUNDED: "A license's sale was refunded.",
    WebhookEventType.TRANSACTION_CREATED: "A new entry of the vendor's revenue ledger: a sale, renewal, upgrade, "
    "refund or adjustment.",
    WebhookEventType.PAYOUT_PAID: "The operator paid the vendor's balance.",
}


# License history kinds (``LicenseEventKind`` values) → the webhook event they are. The other kinds (expiry,
# suspension, lapsed maintenance, a reissued key) are not webhook events.
LICENSE_EVENT_TYPES: dict[str, WebhookEventType] = {
    "new": WebhookEventType.LICENSE_CREATED,
    "evaluation": WebhookEventType.LICENSE_CREATED,
    "cloud_subscription": WebhookEventType.LICENSE_CREATED,
    "import": WebhookEventType.LICENSE_CREATED,
    "renewal": WebhookEventType.LICENSE_RENEWED,
    "co_term": WebhookEventType.LICENSE_RENEWED,
    "upgrade": WebhookEventType.LICENSE_UPGRADED,
    "migration": WebhookEventType.LICENSE_MIGRATED,
    "refund": WebhookEventType.LICENSE_REFUNDED,
    "cancellation": WebhookEventType.LICENSE_CANCELLED,
    "revocation": WebhookEventType.LICENSE_CANCELLED,
}

_EXAMPLE_TIME = "2026-11-26T12:00:00Z"


class Money(BaseModel):
    currency: str = Field(description="ISO 4217.", examples=["USD"])
    amount: Decimal = Field(description="What the customer paid (negative: paid back).", examples=["1100.00"])
    vendor_amount: Decimal | None = Field(
        default=None, description="The vendor's share of it; none for a direct sale.", examples=["880.00"]
    )


class LicenseData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entitlement_number: str = Field(examples=["E-7KQ2-M4XD-9P3A"])
    app_key: str = Field(examples=["com.example.mockups.wiki"])
    vendor: str | None = Field(description="The vendor's slug.", examples=["example-mockups"])
    hosting: Literal["server", "datacenter", "cloud"]
    channel: Literal["marketplace", "direct"]
    license_type: str = Field(examples=["commercial"])
    tier: str = Field(description="A number of users, or `unlimited`.", examples=["100"])
    host_binding: str = Field(
        description="The server id, or the cloud site.", examples=["BX7Q-2M9L-33KD-W1PA"]
    )
    status: Literal["active", "expired", "suspended", "cancelled", "superseded"]
    evaluation: bool
    maintenance_start: date | None
    maintenance_end: date | None
    term_end: date | None
    change: str = Field(
        description="What happened, as the license's history names it: new, evaluation, cloud_subscription, "
        "import, renewal, co_term, upgrade, migration, refund, cancellation, revocation.",
        examples=["new"],
    )
    description: str = Field(examples=["Sold on invoice INV-2026-000042."])
    invoice_number: str | None = Field(default=None, examples=["INV-2026-000042"])
    money: Money | None = Field(
        default=None, description="What the change charged or paid back, if anything."
    )


class TransactionData(BaseModel):
    """Sent by the revenue ledger for each new entry."""

    model_config = ConfigDict(extra="allow")

    transaction_id: str = Field(examples=["42"])
    vendor: str = Field(examples=["example-mockups"])
    entitlement_number: str | None = Field(default=None, examples=["E-7KQ2-M4XD-9P3A"])
    app_key: str | None = Field(default=None, examples=["com.example.mockups.wiki"])
    sale_type: str = Field(description="new, renewal, upgrade, co_term, migration, refund, adjustment.")
    currency: str = Field(examples=["USD"])
    amount: Decimal = Field(description="Gross, after discounts.", examples=["1100.00"])
    vendor_amount: Decimal = Field(examples=["880.00"])
    occurred_at: datetime
    invoice_number: str | None = None


class PayoutData(BaseModel):
    """Sent by the payout run for each payout it records as paid."""

    model_config = ConfigDict(extra="allow")

    payout_id: str = Field(examples=["PO-2026-11-0007"])
    vendor: str = Field(examples=["example-mockups"])
    month: str = Field(description="The statement month paid, YYYY-MM.", examples=["2026-11"])
    currency: str = Field(examples=["USD"])
    amount: Decimal = Field(examples=["12480.00"])
    reference: str = Field(description="The operator's payment reference.", examples=["SEPA-20261205-0007"])
    paid_at: datetime


def _envelope(event: WebhookEventType, data_model: type[BaseModel], title: str) -> type[BaseModel]:
    annotations: dict[str, Any] = {"type": Literal[event.value], "timestamp": datetime, "data": data_model}
    namespace: dict[str, Any] = {
        "__annotations__": annotations,
        "__doc__": f"The body of a `{event.value}` webhook. {EVENT_DESCRIPTIONS[event]}",
        "model_config": ConfigDict(title=title),
        "type": Field(description="The event type."),
        "timestamp": Field(description="When the event happened (UTC).", examples=[_EXAMPLE_TIME]),
        "data": Field(description="The object the event is about."),
    }
    return type(title, (BaseModel,), namespace)


def _title(event: WebhookEventType) -> str:
    return "".join(part.capitalize() for part in event.value.replace(".", "_").split("_")) + "Webhook"


EVENT_MODELS: dict[WebhookEventType, type[BaseModel]] = {
    event: _envelope(
        event,
        TransactionData
        if event is WebhookEventType.TRANSACTION_CREATED
        else PayoutData
        if event is WebhookEventType.PAYOUT_PAID
        else LicenseData,
        _title(event),
    )
    for event in WebhookEventType
}
"""Each event's body, as a pydantic model (``LicenseCreatedWebhook``, ``PayoutPaidWebhook``, ...)."""
