"""Money arithmetic for pricing: per-currency minor units, one rounding per line, integer storage.

Amounts are computed as exact fractions (``fractions.Fraction``) and turned into a ``Decimal`` exactly once,
by :func:`round_money`, so no intermediate step ever loses a fraction of a cent and the result does not depend
on the caller's ``decimal`` context.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from babel.numbers import get_currency_precision, is_currency

Exact = Fraction | Decimal | int


# Babel validates a code against the whole CLDR list on every call; a billing run asks about the same few
# currencies hundreds of thousands of times. The cache is bounded, as callers may pass any text.
@lru_cache(maxsize=64)
def is_known_currency(currency: str) -> bool:
    """Whether ``currency`` is an ISO 4217 code that Babel (CLDR) knows."""
    return len(currency) == 3 and currency.isupper() and bool(is_currency(currency))


@lru_cache(maxsize=64)
def currency_precision(currency: str) -> int:
    """The number of minor-unit digits of ``currency`` (USD 2, JPY 0, KWD 3), from Babel's CLDR data."""
    if not is_known_currency(currency):
        raise ValueError(f"{currency!r} is not an ISO 4217 currency code")
    return int(get_currency_precision(currency))


def _minor_units_per_unit(currency: str) -> int:
    return int(10 ** currency_precision(currency))


def round_money(amount: Exact, currency: str) -> Decimal:
    """``amount`` rounded half-even to the minor unit of ``currency``, computed exactly.

    The result has exactly the currency's number of decimal places (``Decimal("5.00")``, ``Decimal("5")``
    for JPY), so equal amounts compare and print alike.
    """
    # round() on a Fraction rounds half to even, exactly, whatever the decimal context says.
    minor_units = round(Fraction(amount) * _minor_units_per_unit(currency))
    return from_minor_units(minor_units, currency)


def is_whole_minor_units(amount: Decimal, currency: str) -> bool:
    """Whether ``amount`` is exactly representable in whole minor units of ``currency``."""
    scaled = Fraction(amount) * _minor_units_per_unit(currency)
    return scaled.denominator == 1


def to_minor_units(amount: Decimal, currency: str) -> int:
    """The integer number of minor units the database stores for ``amount`` (USD 12.34 → 1234).

    Raises ``ValueError`` rather than rounding silently when ``amount`` has more digits than the currency.
    """
    if not amount.is_finite() or not is_whole_minor_units(amount, currency):
        raise ValueError(f"{amount} is not a whole number of minor units of {currency}")
    return int(Fraction(amount) * _minor_units_per_unit(currency))


def from_minor_units(minor_units: int, currency: str) -> Decimal:
    """The ``Decimal`` amount for an integer number of minor units (1234 USD cents → ``Decimal("12.34")``)."""
    return Decimal(minor_units).scaleb(-currency_precision(currency))


def sum_money(amounts: Iterable[Decimal], currency: str) -> Decimal:
    """The exact sum of already-rounded amounts, at the currency's precision (no rounding happens)."""
    total = sum((Fraction(amount) for amount in amounts), Fraction(0))
    return round_money(total, currency)


def format_money(amount: Exact, currency: str) -> str:
    """``amount`` as a buyer reads it on a quote: ``"USD 2,200.00"``, ``"JPY 15,000"``, ``"KWD 1.250"``.

    The currency's minor units are always shown; an intermediate amount that is exact but finer than the
    minor unit (an academic price of USD 5.005) shows its extra digits instead of being rounded for display.
    """
    precision = currency_precision(currency)
    value = Decimal(amount) if not isinstance(amount, Fraction) else _fraction_to_decimal(amount)
    exponent = value.as_tuple().exponent
    places = max(precision, -exponent if isinstance(exponent, int) else 0)
    sign = "-" if value < 0 else ""
    return f"{currency} {sign}{abs(value):,.{places}f}"


def format_fraction(value: Exact) -> str:
    """A plain rate or quantity for a formula: ``"0.5"``, ``"92/365"``, ``"2"``."""
    fraction = Fraction(value)
    if fraction.denominator == 1:
        return str(fraction.numerator)
    decimal = _fraction_to_decimal(fraction, max_places=12)
    if Fraction(decimal) == fraction:
        return str(decimal)
    return f"{fraction.numerator}/{fraction.denominator}"


def format_percent(rate: Exact) -> str:
    """A rate as a percentage: ``Decimal("0.5")`` → ``"50%"``, ``Decimal("0.825")`` → ``"82.5%"``."""
    return f"{format_fraction(Fraction(rate) * 100)}%"


def _fraction_to_decimal(fraction: Fraction, max_places: int = 12) -> Decimal:
    # Display helper only: exact for terminating fractions (the only ones formatted as amounts).
    for places in range(max_places + 1):
        scaled = fraction * 10**places
        if scaled.denominator == 1:
            return Decimal(scaled.numerator).scaleb(-places)
    return Decimal(round(fraction * 10**max_places)).scaleb(-max_places)


def exact_decimal(value: Exact) -> Decimal:
    """``value`` as a ``Decimal`` without any rounding; raises ``ValueError`` for a non-terminating fraction.

    Used for intermediate amounts (a bracketed monthly price, an academic list price) that must stay exact.
    """
    fraction = Fraction(value)
    denominator = fraction.denominator
    places = 0
    while denominator % 10 == 0 or denominator % 2 == 0 or denominator % 5 == 0:
        if denominator % 10 == 0:
            denominator //= 10
        elif denominator % 2 == 0:
            denominator //= 2
        else:
            denominator //= 5
        places += 1
    if denominator != 1:
        raise ValueError(f"{fraction} has no exact decimal form")
    return _fraction_to_decimal(fraction, max_places=places)
