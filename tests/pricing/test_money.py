from decimal import Decimal
from fractions import Fraction

import pytest

from mercato.pricing import (
    currency_precision,
    format_money,
    from_minor_units,
    round_money,
    sum_money,
    to_minor_units,
)


def test_minor_units_come_from_babel() -> None:
    assert (currency_precision("USD"), currency_precision("JPY"), currency_precision("KWD")) == (2, 0, 3)


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        currency_precision("ABC")


@pytest.mark.parametrize(
    ("amount", "currency", "rounded"),
    [
        ("2.345", "USD", "2.34"),  # half to even: down to the even cent
        ("2.355", "USD", "2.36"),  # half to even: up to the even cent
        ("-2.345", "USD", "-2.34"),
        ("2.5", "JPY", "2"),
        ("3.5", "JPY", "4"),
        ("1.2345", "KWD", "1.234"),
        ("1.2355", "KWD", "1.236"),
    ],
)
def test_round_money_rounds_half_to_even_at_the_minor_unit(amount: str, currency: str, rounded: str) -> None:
    result = round_money(Decimal(amount), currency)
    assert result == Decimal(rounded)
    assert str(result) == rounded


def test_round_money_is_exact_for_fractions() -> None:
    # 1100 × 92/365 = 277.2602...: computed exactly, then rounded once.
    assert round_money(Fraction(1100 * 92, 365), "USD") == Decimal("277.26")


def test_minor_units_round_trip() -> None:
    assert to_minor_units(Decimal("12.34"), "USD") == 1234
    assert to_minor_units(Decimal("1500"), "JPY") == 1500
    assert to_minor_units(Decimal("1.250"), "KWD") == 1250
    assert from_minor_units(1234, "USD") == Decimal("12.34")
    assert str(from_minor_units(1250, "KWD")) == "1.250"
    assert str(from_minor_units(1500, "JPY")) == "1500"


def test_to_minor_units_refuses_to_round_silently() -> None:
    with pytest.raises(ValueError, match="minor units"):
        to_minor_units(Decimal("0.005"), "USD")
    with pytest.raises(ValueError, match="minor units"):
        to_minor_units(Decimal("1.5"), "JPY")


def test_sum_money_is_exact() -> None:
    assert sum_money([Decimal("0.10")] * 3, "USD") == Decimal("0.30")
    assert str(sum_money([], "KWD")) == "0.000"


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        ("2200", "USD", "USD 2,200.00"),
        ("15000", "JPY", "JPY 15,000"),
        ("1.25", "KWD", "KWD 1.250"),
        ("-5", "USD", "USD -5.00"),
        ("5.005", "USD", "USD 5.005"),  # an exact intermediate amount keeps its digits
    ],
)
def test_format_money(amount: str, currency: str, text: str) -> None:
    assert format_money(Decimal(amount), currency) == text
