"""The one path for every change to a license.

Whatever changes a license — a sale, renewal, upgrade, co-term, evaluation, refund, suspension, expiry,
reissue, revocation, and later migration — ends in ``LicenseEvents.record``: it writes the license's history
entry and hands the events to the subscribers, which queue their side effects (e-mails today; the vendor
ledger and webhooks next) in the same transaction. Nothing else writes license history or license e-mail.

A subscriber is a function ``(session, events) -> None``. It receives every event recorded together (all the
licenses one invoice issued, say), so it can send one e-mail for many keys. Subscribers write only outbox rows
or rows of their own; they never commit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from mercato.cache_invalidation import Topic, changed
from mercato.ledger.recording import record_revenue
from mercato.licenses.emails import queue_key_emails
from mercato.licenses.models import License, LicenseEventKind, LicenseKey, LicenseTransaction
from mercato.pricing import Channel
from mercato.webhooks.service import queue_license_webhooks


@dataclass(frozen=True)
class MoneyMoved:
    """What an event charged or gave back, in minor units, with the marketplace revenue split if any."""

    currency: str
    amount_minor: int
    vendor_share_rate: Decimal | None = None
    vendor_amount_minor: int | None = None
    operator_amount_minor: int | None = None

    def reversed(self) -> MoneyMoved:
        """The same money going back (a refund), split at the rate the sale recorded."""
        return MoneyMoved(
            currency=self.currency,
            amount_minor=-self.amount_minor,
            vendor_share_rate=self.vendor_share_rate,
            vendor_amount_minor=None if self.vendor_amount_minor is None else -self.vendor_amount_minor,
            operator_amount_minor=None if self.operator_amount_minor is None else -self.operator_amount_minor,
        )


@dataclass(frozen=True)
class LicenseEvent:
    kind: LicenseEventKind
    license: License
    occurred_at: datetime
    description: str = ""
    money: MoneyMoved | None = None
    invoice_line_id: int | None = None
    invoice_number: str | None = None
    key: LicenseKey | None = None
    """The key this event signed, if it signed one."""
    replaced_earlier_keys: bool = False
    """Whether that key replaces keys issued before (they are superseded, with grace)."""
    details: Mapping[str, Any] = field(default_factory=dict)
    once_key: str | None = None
    """For changes that happen once per license and date (``maintenance_lapsed:2026-11-26``): the history
    refuses a second entry with the same key."""

    @property
    def seller(self) -> str:
        """The seller of record: ``operator`` on the marketplace, ``vendor:<slug>`` on a direct store."""
        return self.license.issuer

    @property
    def channel(self) -> Channel:
        return self.license.channel


LicenseSubscriber = Callable[[Session, Sequence[LicenseEvent]], None]

DEFAULT_SUBSCRIBERS: tuple[LicenseSubscriber, ...] = (
    queue_key_emails,
    record_revenue,
    queue_license_webhooks,
)


def subscribers_linking_to(public_url: str) -> tuple[LicenseSubscriber, ...]:
    """The default subscribers, with the keys e-mail linking to the pages at ``public_url`` (if set)."""
    return tuple(
        functools.partial(queue_key_emails, public_url=public_url)
        if subscriber is queue_key_emails
        else subscriber
        for subscriber in DEFAULT_SUBSCRIBERS
    )


class LicenseEvents:
    def __init__(
        self, session: Session, subscribers: Sequence[LicenseSubscriber] = DEFAULT_SUBSCRIBERS
    ) -> None:
        self.session = session
        self.subscribers = tuple(subscribers)

    def record(self, *events: LicenseEvent) -> list[LicenseTransaction]:
        """Write one history entry per event, then let every subscriber react to all of them."""
        entries = [_history_entry(event) for event in events]
        for event in events:
            # The server's clock (the event's), not the wall clock the column's onupdate would take.
            event.license.updated_at = event.occurred_at
        # Every license event may change what validation answers (revoked, superseded, suspended, ...).
        changed(self.session, Topic.KEY_STANDINGS)
        self.session.add_all(entries)
        self.session.flush()
        for subscriber in self.subscribers:
            subscriber(self.session, events)
        return entries


def _history_entry(event: LicenseEvent) -> LicenseTransaction:
    money = event.money
    details = dict(event.details)
    if event.invoice_number is not None:
        details.setdefault("invoice", event.invoice_number)
    return LicenseTransaction(
        license_id=event.license.id,
        kind=event.kind,
        invoice_line_id=event.invoice_line_id,
        currency=money.currency if money else None,
        amount_minor=money.amount_minor if money else 0,
        vendor_share_rate=money.vendor_share_rate if money else None,
        vendor_amount_minor=money.vendor_amount_minor if money else None,
        operator_amount_minor=money.operator_amount_minor if money else None,
        description=event.description,
        details=details,
        occurred_at=event.occurred_at,
        once_key=event.once_key,
    )
