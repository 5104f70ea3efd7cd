"""What the "My licenses" pages show about a license beyond the API's fields: its standing as a badge (active,
in grace, maintenance ended, evaluation, expired, ...), which end date matters for it, and how its seller and
history read. Plain functions over what the presenters and repositories returned: no queries here."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from mercato.billing.service import GRACE_DAYS
from mercato.commerce import schemas
from mercato.licenses.models import LicenseEventKind, LicenseState, LicenseTransaction
from mercato.pricing import Channel, Hosting


class Standing(StrEnum):
    """Where a license stands today, as its owner reads it. The stored status says less: an active cloud
    subscription may be unpaid and in its grace period, an active server license may be past its maintenance."""

    ACTIVE = "active"
    IN_GRACE = "in_grace"
    MAINTENANCE_ENDED = "maintenance_ended"
    EVALUATION = "evaluation"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def tone(self) -> str:
        """The badge's colour class: ok, warn, bad or info (mercato.css)."""
        return _TONES[self]

    @property
    def stored_status(self) -> LicenseState:
        """The stored status every license of this standing has (the list query filters on it)."""
        try:
            return LicenseState(self.value)
        except ValueError:
            return LicenseState.ACTIVE


_LABELS = {
    Standing.ACTIVE: "Active",
    Standing.IN_GRACE: "In grace",
    Standing.MAINTENANCE_ENDED: "Maintenance ended",
    Standing.EVALUATION: "Evaluation",
    Standing.SUSPENDED: "Suspended",
    Standing.EXPIRED: "Expired",
    Standing.CANCELLED: "Cancelled",
    Standing.SUPERSEDED: "Superseded",
}
_TONES = {
    Standing.ACTIVE: "ok",
    Standing.IN_GRACE: "warn",
    Standing.MAINTENANCE_ENDED: "warn",
    Standing.EVALUATION: "info",
    Standing.SUSPENDED: "bad",
    Standing.EXPIRED: "bad",
    Standing.CANCELLED: "bad",
    Standing.SUPERSEDED: "info",
}


def standing(license: schemas.LicenseOut, today: date) -> Standing:
    if license.status != LicenseState.ACTIVE:
        return Standing(license.status.value)
    if license.evaluation:
        return Standing.EVALUATION
    # The billing run suspends an unpaid cloud subscription GRACE_DAYS after its paid-until date; until then
    # it works, but the invoice is due.
    if license.hosting == Hosting.CLOUD and license.term_end is not None and license.term_end < today:
        return Standing.IN_GRACE
    if (
        license.hosting == Hosting.SERVER
        and license.maintenance_end is not None
        and license.maintenance_end < today
    ):
        return Standing.MAINTENANCE_ENDED
    return Standing.ACTIVE


def grace_ends(license: schemas.LicenseOut) -> date | None:
    """The last day of an unpaid cloud subscription's grace period."""
    return None if license.term_end is None else license.term_end + timedelta(days=GRACE_DAYS)


@dataclass(frozen=True)
class EndDate:
    """The date that matters for a license: maintenance for server and Data Center, the term for cloud
    subscriptions and evaluations."""

    label: str
    on: date | None


def end_date(license: schemas.LicenseOut) -> EndDate:
    if license.evaluation or license.hosting == Hosting.CLOUD:
        return EndDate("Term ends", license.term_end)
    return EndDate("Maintenance ends", license.maintenance_end or license.term_end)


def channel_label(channel: Channel) -> str:
    return "Marketplace" if channel == Channel.MARKETPLACE else "Direct"


def current_key(keys: Sequence[schemas.KeyOut]) -> schemas.KeyOut | None:
    """The key to paste: the newest current one (older ones are superseded or revoked)."""
    current = [key for key in keys if key.state == "current"]
    return current[-1] if current else None


HISTORY_LABELS = {
    LicenseEventKind.NEW: "Sale",
    LicenseEventKind.EVALUATION: "Evaluation",
    LicenseEventKind.CLOUD_SUBSCRIPTION: "Subscription",
    LicenseEventKind.RENEWAL: "Renewal",
    LicenseEventKind.UPGRADE: "Upgrade",
    LicenseEventKind.CO_TERM: "Co-term",
    LicenseEventKind.REFUND: "Refund",
    LicenseEventKind.SUSPENSION: "Suspended",
    LicenseEventKind.EXPIRY: "Expired",
    LicenseEventKind.UNLICENSED: "Unlicensed",
    LicenseEventKind.MAINTENANCE_LAPSED: "Maintenance ended",
    LicenseEventKind.REISSUE: "New key",
    LicenseEventKind.REVOCATION: "Revocation",
    LicenseEventKind.CANCELLATION: "Cancellation",
}


@dataclass(frozen=True)
class InvoiceRef:
    id: uuid.UUID
    number: str


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a license's history as the page shows it: the API's entry and the invoice it came from."""

    label: str
    entry: schemas.TransactionOut
    invoice: InvoiceRef | None


def history(
    presented: Sequence[schemas.TransactionOut],
    rows: Sequence[LicenseTransaction],
    invoices: Mapping[int, tuple[uuid.UUID, str]],
) -> list[HistoryEntry]:
    """The presented history (oldest first, as the API gives it) with each entry's invoice, newest first."""
    entries = []
    for shown, row in zip(presented, rows, strict=True):
        found = invoices.get(row.invoice_line_id) if row.invoice_line_id is not None else None
        entries.append(
            HistoryEntry(
                HISTORY_LABELS.get(shown.kind, shown.kind.value),
                shown,
                InvoiceRef(*found) if found else None,
            )
        )
    return entries[::-1]


# "Item 1: " or "Item 1 (com.example.mockups.wiki): ", as the quoting and pricing rules begin their sentences.
_ITEM_PREFIX = re.compile(r"^Item \d+(?: \([^)]*\))?: ")


def form_sentence(detail: str) -> str:
    """A quoting rule's sentence for a form about one license or host: the item number of an API request means
    nothing there."""
    sentence = _ITEM_PREFIX.sub("", detail, count=1)
    return sentence[:1].upper() + sentence[1:]
