"""Revenue share: how a marketplace app line splits between the vendor and the operator, and its refund."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from mercato.pricing.errors import InvalidPriceTable, InvalidRefund, RevenueShareNotConfigured
from mercato.pricing.money import format_money, format_percent, is_whole_minor_units, round_money
from mercato.pricing.offers import PricedLine
from mercato.pricing.types import Channel, Hosting


@dataclass(frozen=True)
class RevenueShareRate:
    """The vendor's share (a fraction, 0 to 1) of marketplace sales of one hosting from ``effective_from``."""

    effective_from: date
    hosting: Hosting
    vendor_share: Decimal

    def __post_init__(self) -> None:
        if not self.vendor_share.is_finite() or not 0 <= self.vendor_share <= 1:
            raise InvalidPriceTable(f"A vendor share is a fraction from 0 to 1, not {self.vendor_share}.")


DEFAULT_VENDOR_SHARES = {
    Hosting.SERVER: Decimal("0.75"),
    Hosting.DATACENTER: Decimal("0.75"),
    Hosting.CLOUD: Decimal("0.85"),
}


@dataclass(frozen=True)
class RevenueShareSchedule:
    """Vendor shares by hosting over time; the rate in force on a sale's date applies to that sale."""

    rates: tuple[RevenueShareRate, ...]

    def __post_init__(self) -> None:
        keys = [(rate.hosting, rate.effective_from) for rate in self.rates]
        if len(set(keys)) != len(keys):
            raise InvalidPriceTable("A revenue share schedule has two rates for one hosting on one date.")
        ordered = tuple(sorted(self.rates, key=lambda rate: (rate.hosting.value, rate.effective_from)))
        object.__setattr__(self, "rates", ordered)

    @classmethod
    def default(cls, effective_from: date = date.min) -> RevenueShareSchedule:
        """75% to the vendor for server and Data Center sales, 85% for cloud."""
        return cls(
            tuple(RevenueShareRate(effective_from, h, share) for h, share in DEFAULT_VENDOR_SHARES.items())
        )

    def rate_on(self, hosting: Hosting, sale_date: date) -> RevenueShareRate:
        """The latest rate for ``hosting`` effective on or before ``sale_date``.

        Raises :class:`RevenueShareNotConfigured` when none was in force yet.
        """
        in_force = [r for r in self.rates if r.hosting is hosting and r.effective_from <= sale_date]
        if not in_force:
            raise RevenueShareNotConfigured(hosting=hosting.value, sale_date=sale_date)
        return max(in_force, key=lambda rate: rate.effective_from)


@dataclass(frozen=True)
class RevenueSplit:
    """A line's amount split between vendor and operator; ``vendor_amount + operator_amount == line_amount``.

    ``vendor_amount`` is rounded once (half-even) and the operator keeps the exact rest. Refunds are negative.
    ``sale_date`` is the date of the original sale, whose rate a refund reuses.
    """

    app_key: str
    hosting: Hosting
    currency: str
    line_amount: Decimal
    vendor_amount: Decimal
    operator_amount: Decimal
    vendor_share_rate: Decimal
    sale_date: date
    rate_effective_from: date
    explanation: str


def split_revenue(line: PricedLine, schedule: RevenueShareSchedule, sale_date: date) -> RevenueSplit | None:
    """The vendor/operator split of a marketplace app line at the rate in force on ``sale_date``.

    Returns ``None`` for lines that are not shared: direct-channel lines (the vendor is the seller and keeps
    everything) and the operator's own host products (the operator keeps everything).
    """
    if line.channel is Channel.DIRECT or line.host_product:
        return None
    rate = schedule.rate_on(line.hosting, sale_date)
    vendor_amount, operator_amount = _shares(line.amount, rate.vendor_share, line.currency)
    explanation = (
        f"Vendor share: {format_percent(rate.vendor_share)} of {format_money(line.amount, line.currency)} = "
        f"{format_money(vendor_amount, line.currency)}, the operator keeps "
        f"{format_money(operator_amount, line.currency)} "
        f"({line.hosting} rate in force on {sale_date.isoformat()})"
    )
    return RevenueSplit(
        app_key=line.app_key,
        hosting=line.hosting,
        currency=line.currency,
        line_amount=line.amount,
        vendor_amount=vendor_amount,
        operator_amount=operator_amount,
        vendor_share_rate=rate.vendor_share,
        sale_date=sale_date,
        rate_effective_from=rate.effective_from,
        explanation=explanation,
    )


def reverse_revenue_split(original: RevenueSplit, refund_amount: Decimal | None = None) -> RevenueSplit:
    """The split of a refund of ``original``, at the ORIGINAL sale's rate, with negative amounts.

    A full refund (``refund_amount`` omitted or equal to the line) is the exact negation of ``original``; a
    partial refund splits the refunded amount the same way a sale would, so it too sums exactly.
    Raises :class:`InvalidRefund` for a refund that is not positive or exceeds the line.
    """
    currency = original.currency
    refund = original.line_amount if refund_amount is None else refund_amount
    invalid = refund > original.line_amount or refund < 0 or (refund == 0 and original.line_amount != 0)
    if invalid or not is_whole_minor_units(refund, currency):
        raise InvalidRefund(
            refund=format_money(refund, currency), line=format_money(original.line_amount, currency)
        )
    refunded = round_money(-refund, currency)
    # Half-even rounding is symmetric, so a full refund is exactly the negated original split.
    vendor_amount, operator_amount = _shares(refunded, original.vendor_share_rate, currency)
    explanation = (
        f"Refund of {format_money(refund, currency)} at the vendor share of the original sale "
        f"({format_percent(original.vendor_share_rate)}, sold {original.sale_date.isoformat()}): vendor "
        f"{format_money(vendor_amount, currency)}, operator {format_money(operator_amount, currency)}"
    )
    return RevenueSplit(
        app_key=original.app_key,
        hosting=original.hosting,
        currency=currency,
        line_amount=refunded,
        vendor_amount=vendor_amount,
        operator_amount=operator_amount,
        vendor_share_rate=original.vendor_share_rate,
        sale_date=original.sale_date,
        rate_effective_from=original.rate_effective_from,
        explanation=explanation,
    )


def _shares(line_amount: Decimal, rate: Decimal, currency: str) -> tuple[Decimal, Decimal]:
    """(vendor, operator): the vendor's share rounded once; the operator takes the exact rest, so the two
    always add up to the line."""
    vendor_amount = round_money(Fraction(line_amount) * Fraction(rate), currency)
    operator_amount = round_money(Fraction(line_amount) - Fraction(vendor_amount), currency)
    return vendor_amount, operator_amount
