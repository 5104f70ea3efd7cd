"""The swappable edges every service is handed, chosen in one place.

The application factory builds one ``Services`` for the web, ``cli_support.unit_of_work`` one per command, and
tests their own (with a ``FixedClock``). Services read the time, the payment provider, the signing secret and
the license-event subscribers from here and nowhere else, so a test clock reaches every path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from mercato.clock import Clock, SystemClock
from mercato.commerce.payments import ManualPaymentProvider, PaymentProvider
from mercato.licenses.events import DEFAULT_SUBSCRIBERS, LicenseSubscriber, subscribers_linking_to
from mercato.settings import Settings


@dataclass(frozen=True)
class Services:
    secret_key: str
    clock: Clock = field(default_factory=SystemClock)
    superseded_key_grace: timedelta = timedelta(days=30)
    price_change_notice: timedelta = timedelta(days=30)
    payments: PaymentProvider = field(default_factory=ManualPaymentProvider)
    license_subscribers: Sequence[LicenseSubscriber] = DEFAULT_SUBSCRIBERS
    public_url: str = ""
    """Where people open Mercato (``MERCATO_PUBLIC_URL``): e-mails link to its pages. Empty: they name them."""

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> Services:
        return cls(
            secret_key=settings.secret_key,
            clock=clock or SystemClock(),
            superseded_key_grace=timedelta(days=settings.superseded_key_grace_days),
            price_change_notice=timedelta(days=settings.price_change_notice_days),
            license_subscribers=subscribers_linking_to(settings.public_url),
            public_url=settings.public_url,
        )
