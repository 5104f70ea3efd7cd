"""A direct cloud customer moves to the marketplace listing: the first period to the same billing date,
priced like any co-termed cloud subscription, less the unused part of the prepaid term."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mercato.pricing import (
    BillingCycle,
    DatesOutOfOrder,
    Hosting,
    LineKind,
    Listing,
    PrepaidTerm,
    PrepaidTermUnusable,
    RevenueShareRate,
    RevenueShareSchedule,
    add_months,
    direct_subscription_host,
    price_cloud_subscription,
    price_cloud_transition,
    split_cloud_transition,
    unused_credit,
)

from .conftest import cloud_listing

MONTHLY, ANNUAL = BillingCycle.MONTHLY, BillingCycle.ANNUAL
SCHEDULE = RevenueShareSchedule.default()


def prepaid(
    amount: str, start: date, end: date, users: int = 40, cycle: BillingCycle = ANNUAL
) -> PrepaidTerm:
    return PrepaidTerm(Decimal(amount), "USD", start, end, users, cycle)


def test_an_annual_customer_pays_the_co_termed_charge_less_the_unused_prepayment(
    mockups_cloud: Listing,
) -> None:
    term = prepaid("1200.00", date(2026, 4, 1), date(2027, 4, 1), users=40)
    priced = price_cloud_transition(mockups_cloud, term, date(2026, 11, 26))
    # 40 users annual: the 50-user tier, 10 × (10 + 40 × 4.00) = 1,700 a year, × 126/365 days to 2027-04-01.
    assert priced.charge == Decimal("586.85")  # 1700 × 126/365 = 586.849...
    assert priced.credit.amount == Decimal("414.25")  # 1200 × 126/365 = 414.246...
    assert priced.net == priced.charge - priced.credit.amount == Decimal("172.60")
    assert priced.credit_unused == Decimal("0.00")
    line = priced.line
    assert (line.kind, line.period_start, line.period_end) == (
        LineKind.MIGRATION,
        date(2026, 11, 26),
        date(2027, 4, 1),
    )
    assert line.users == 40 and line.channel.value == "marketplace"
    assert line.formula["credit_fraction"] == "126/365"
    assert (line.formula["charge"], line.formula["credit"], line.formula["net"]) == (
        "586.85",
        "414.25",
        "172.60",
    )
    assert "USD 1,200.00 × 126/365 days left of 2026-04-01 → 2027-04-01 = USD 414.25" in line.explanation
    assert line.explanation.endswith("net USD 586.85 − USD 414.25 = USD 172.60")


def test_the_charge_is_the_cloud_subscription_to_the_customers_billing_date(mockups_cloud: Listing) -> None:
    term = prepaid("55.00", date(2026, 11, 10), date(2026, 12, 10), users=12, cycle=MONTHLY)
    host = direct_subscription_host(term)
    assert (host.cloud_users, host.billing_cycle, host.next_billing_date) == (12, MONTHLY, date(2026, 12, 10))
    priced = price_cloud_transition(mockups_cloud, term, date(2026, 11, 26))
    assert priced.charge == price_cloud_subscription(mockups_cloud, host, date(2026, 11, 26)).amount


def test_a_credit_larger_than_the_charge_leaves_nothing_to_pay_and_the_rest_for_the_vendor_to_refund(
    mockups_cloud: Listing,
) -> None:
    term = prepaid("9000.00", date(2026, 4, 1), date(2027, 4, 1), users=40)
    priced = price_cloud_transition(mockups_cloud, term, date(2026, 11, 26))
    assert priced.net == Decimal("0.00")
    assert priced.credit_unused == priced.credit.amount - priced.charge > 0
    assert "never below zero = USD 0.00 (the vendor refunds the" in priced.line.explanation
    split = split_cloud_transition(priced, SCHEDULE, date(2026, 11, 26))
    assert split.operator_amount > 0 and split.vendor_amount == -split.operator_amount


def test_the_operator_keeps_its_share_of_the_charge_and_the_vendor_bears_the_credit(
    mockups_cloud: Listing,
) -> None:
    term = prepaid("1200.00", date(2026, 4, 1), date(2027, 4, 1), users=40)
    priced = price_cloud_transition(mockups_cloud, term, date(2026, 11, 26))
    split = split_cloud_transition(priced, SCHEDULE, date(2026, 11, 26))
    # 15% of 586.85 for the operator: 586.85 − round(0.85 × 586.85 = 498.8225) = 586.85 − 498.82 = 88.03.
    assert split.operator_amount == Decimal("88.03")
    assert split.vendor_amount == Decimal("172.60") - Decimal("88.03")
    assert split.vendor_share_rate == Decimal("0.85")


def test_the_credit_runs_out_with_the_term() -> None:
    term = prepaid("365.00", date(2026, 1, 1), date(2027, 1, 1))
    assert unused_credit(term, date(2026, 12, 31)).amount == Decimal("1.00")
    assert unused_credit(term, date(2027, 1, 1)).amount == Decimal("0.00")
    assert unused_credit(term, date(2027, 3, 1)).amount == Decimal("0.00")
    assert unused_credit(term, date(2025, 12, 1)).amount == Decimal("365.00")


def test_a_term_that_ended_before_the_transition_is_refused(mockups_cloud: Listing) -> None:
    term = prepaid("100.00", date(2025, 11, 1), date(2026, 11, 1))
    with pytest.raises(DatesOutOfOrder):
        price_cloud_transition(mockups_cloud, term, date(2026, 11, 26))


def test_a_prepayment_in_another_currency_or_below_zero_is_refused(mockups_cloud: Listing) -> None:
    euros = PrepaidTerm(Decimal("100"), "EUR", date(2026, 4, 1), date(2027, 4, 1), 40, ANNUAL)
    with pytest.raises(PrepaidTermUnusable) as refused:
        price_cloud_transition(mockups_cloud, euros, date(2026, 11, 26))
    assert refused.value.details["prepaid_currency"] == "EUR"
    with pytest.raises(PrepaidTermUnusable):
        prepaid("-1", date(2026, 4, 1), date(2027, 4, 1))
    with pytest.raises(DatesOutOfOrder):
        prepaid("1", date(2026, 4, 1), date(2026, 4, 1))


# -- properties ------------------------------------------------------------------------------------------------

LISTING = cloud_listing()
cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c).scaleb(-2))
shares = st.integers(min_value=0, max_value=10_000).map(lambda s: Decimal(s).scaleb(-4))


@st.composite
def transitions(draw: st.DrawFn) -> tuple[PrepaidTerm, date]:
    cycle = draw(st.sampled_from([MONTHLY, ANNUAL]))
    end = draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31)))
    start = add_months(end, -1 if cycle is MONTHLY else -12)
    today = start + timedelta(days=draw(st.integers(min_value=0, max_value=(end - start).days)))
    users = draw(st.integers(min_value=1, max_value=1000))
    return PrepaidTerm(draw(cents), "USD", start, end, users, cycle), today


@settings(max_examples=300, deadline=None)
@given(transitions(), shares)
def test_the_split_always_adds_up_to_the_net_and_the_operator_keeps_its_share_of_the_charge(
    case: tuple[PrepaidTerm, date], share: Decimal
) -> None:
    term, today = case
    priced = price_cloud_transition(LISTING, term, today)
    schedule = RevenueShareSchedule((RevenueShareRate(date.min, Hosting.CLOUD, share),))
    split = split_cloud_transition(priced, schedule, today)
    assert split.operator_amount + split.vendor_amount == split.line_amount == priced.net
    assert abs(Fraction(split.operator_amount) - Fraction(priced.charge) * (1 - Fraction(share))) <= Fraction(
        1, 200
    )
    for amount in (split.operator_amount, split.vendor_amount, priced.net, priced.credit.amount):
        assert amount == amount.quantize(Decimal("0.01"))


@settings(max_examples=300, deadline=None)
@given(transitions())
def test_the_net_is_the_charge_less_the_credit_never_below_zero_and_nothing_is_lost(
    case: tuple[PrepaidTerm, date],
) -> None:
    term, today = case
    priced = price_cloud_transition(LISTING, term, today)
    assert priced.net >= 0 and priced.credit_unused >= 0
    assert priced.net - priced.credit_unused == priced.charge - priced.credit.amount
    assert priced.net == 0 or priced.credit_unused == 0
    assert priced.line.period_end == term.end or today == term.end
    exact = Fraction(term.amount) * Fraction((term.end - today).days, (term.end - term.start).days)
    assert abs(Fraction(priced.credit.amount) - exact) <= Fraction(1, 200)
    assert 0 <= priced.credit.amount <= term.amount


@settings(max_examples=200, deadline=None)
@given(transitions(), st.integers(min_value=1, max_value=30))
def test_a_later_transition_never_earns_more_credit(case: tuple[PrepaidTerm, date], days: int) -> None:
    term, today = case
    later = min(term.end, today + timedelta(days=days))
    assert unused_credit(term, later).amount <= unused_credit(term, today).amount
