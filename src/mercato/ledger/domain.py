"""The ledger's rules as plain functions: how an entry splits, what a month is, how a statement adds up.
No session, no clock: the service hands in what it read."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

from mercato.pricing import Channel
from mercato.pricing.money import currency_precision

DIRECT_RATE = Decimal("1")
"""On the direct channel the vendor is the seller of record and keeps everything: there is no operator share."""

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """``YYYY-MM``; raises ``ValueError`` for anything else."""
        match = _MONTH.fullmatch(text.strip())
        if match is None or int(match.group(1)) < 1:
            raise ValueError(f"{text!r} is not a month written YYYY-MM, e.g. 2026-11.")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, moment: datetime | date) -> Month:
        return cls(moment.year, moment.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def start(self) -> datetime:
        """The month's first instant, UTC: entries at or after it belong to it."""
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    @property
    def end(self) -> datetime:
        """The next month's first instant: entries before it are in this month or earlier."""
        return self.next().start

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class Split:
    amount_minor: int
    vendor_share_rate: Decimal
    vendor_amount_minor: int
    operator_amount_minor: int


def split_minor(amount_minor: int, rate: Decimal, currency: str) -> Split:
    """``amount_minor`` split at ``rate``: the vendor's share rounded once (half-even, symmetric, so a
    negated amount splits into the negated shares) and the operator keeps the exact rest."""
    del currency  # whole minor units are whole minor units in every currency
    # round() on a Fraction rounds half to even, exactly.
    vendor_minor = round(Fraction(amount_minor) * Fraction(rate))
    return Split(amount_minor, rate, vendor_minor, amount_minor - vendor_minor)


def direct_split(amount_minor: int) -> Split:
    """A direct-channel sale: all of it is the vendor's, the operator has no share."""
    return Split(amount_minor, DIRECT_RATE, amount_minor, 0)


def channel_split(
    channel: Channel,
    amount_minor: int,
    rate: Decimal | None,
    vendor_minor: int | None,
    operator_minor: int | None,
    currency: str,
) -> Split | None:
    """The split an event recorded, or ``None`` when a marketplace event carries no rate (the caller then
    looks up the schedule). Direct sales are the vendor's whole."""
    if channel is Channel.DIRECT:
        return direct_split(amount_minor)
    if rate is None:
        return None
    if vendor_minor is None or operator_minor is None or vendor_minor + operator_minor != amount_minor:
        return split_minor(amount_minor, rate, currency)
    return Split(amount_minor, rate, vendor_minor, operator_minor)


def threshold_minor(threshold: Decimal, currency: str) -> int:
    """A payout threshold in major units (50 is 50.00 EUR) as minor units of ``currency``, rounded up to
    a whole minor unit."""
    units: int = 10 ** currency_precision(currency)
    return math.ceil(Fraction(threshold) * units)


@dataclass(frozen=True)
class StatementTotals:
    """One vendor's month in one currency: ``closing = opening + entries − payouts``; the next month's
    opening is this closing, because both count every entry and every payout before the month's end."""

    opening_minor: int
    entries_minor: int
    payouts_minor: int

    @property
    def closing_minor(self) -> int:
        return self.opening_minor + self.entries_minor - self.payouts_minor
