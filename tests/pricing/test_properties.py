"""Properties of the pricing rules that must hold for every price table, date and currency."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mercato.pricing import (
    DEFAULT_SERVER_TIERS,
    BillingCycle,
    Channel,
    ChannelPolicy,
    CloudBracket,
    CloudPriceTable,
    CoTermAlreadyAligned,
    CoTermWouldShorten,
    HostContext,
    Hosting,
    LicenseType,
    Listing,
    MaintenanceCapExceeded,
    PricedItems,
    PricedLine,
    RevenueShareRate,
    RevenueShareSchedule,
    Tier,
    TierPriceTable,
    add_months,
    currency_precision,
    from_minor_units,
    latest_maintenance_end,
    price_cloud_subscription,
    price_cloud_user_increase,
    price_co_term,
    price_new_purchase,
    price_renewal,
    reverse_revenue_split,
    split_revenue,
    to_minor_units,
)

CURRENCIES = st.sampled_from(["USD", "EUR", "JPY", "KWD", "BHD"])
DATES = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
TIERS = st.sampled_from(DEFAULT_SERVER_TIERS)
PAID_TYPES = st.sampled_from([LicenseType.COMMERCIAL, LicenseType.ACADEMIC])
MARKETPLACE = Channel.MARKETPLACE


def oracle_round(value: Decimal, currency: str) -> Decimal:
    """An independent rounding: Decimal arithmetic at 60 digits, then quantize half-even."""
    return value.quantize(Decimal(1).scaleb(-currency_precision(currency)), rounding=ROUND_HALF_EVEN)


@st.composite
def server_listings(draw: st.DrawFn, hosting: Hosting = Hosting.SERVER) -> Listing:
    currency = draw(CURRENCIES)
    minor = sorted(draw(st.lists(st.integers(0, 10**9), min_size=9, max_size=9)))
    prices = {
        tier: from_minor_units(units, currency)
        for tier, units in zip(DEFAULT_SERVER_TIERS, minor, strict=True)
    }
    return Listing(
        "com.example.app",
        "App",
        hosting,
        TierPriceTable(currency, prices),
        ChannelPolicy.default_for(hosting),
    )


@st.composite
def cloud_listings(draw: st.DrawFn) -> Listing:
    currency = draw(CURRENCIES)
    rates = draw(st.lists(st.decimals(min_value=0, max_value=50, places=4), min_size=1, max_size=4))
    bounds = sorted(
        draw(st.lists(st.integers(11, 20_000), min_size=len(rates) - 1, max_size=len(rates) - 1, unique=True))
    )
    brackets = (
        *(CloudBracket(b, r) for b, r in zip(bounds, rates, strict=False)),
        CloudBracket(None, rates[-1]),
    )
    flat = from_minor_units(draw(st.integers(0, 10**6)), currency)
    table = CloudPriceTable(currency, flat, brackets, (Tier(10), Tier(100), Tier(1000), Tier(50_000)))
    return Listing(
        "com.example.cloud", "Cloud app", Hosting.CLOUD, table, ChannelPolicy.default_for(Hosting.CLOUD)
    )


def _host(license_type: LicenseType, tier: Tier = Tier(10)) -> HostContext:
    return HostContext(Hosting.SERVER, tier=tier, license_type=license_type)


@given(listing=server_listings(), tier=TIERS, license_type=PAID_TYPES, end=DATES, years=st.integers(1, 3))
def test_multi_year_renewal_is_rounded_once(
    listing: Listing, tier: Tier, license_type: LicenseType, end: date, years: int
) -> None:
    line = price_renewal(listing, tier, MARKETPLACE, license_type, end, years, end)
    table = listing.price_table
    assert isinstance(table, TierPriceTable)
    type_rate = Decimal("0.5") if license_type is LicenseType.ACADEMIC else Decimal(1)
    with localcontext() as ctx:
        ctx.prec = 60
        exact = table.prices[tier] * Decimal("0.5") * type_rate * years
    assert line.amount == oracle_round(exact, table.currency)
    assert line.amount.as_tuple().exponent == -currency_precision(table.currency)


@given(listing=server_listings(), tier=TIERS, end=DATES, today=DATES, years=st.integers(1, 6))
def test_renewal_never_starts_before_the_previous_maintenance_end(
    listing: Listing, tier: Tier, end: date, today: date, years: int
) -> None:
    new_end = add_months(end, 12 * years)
    latest = latest_maintenance_end(listing, MARKETPLACE, today)
    try:
        line = price_renewal(listing, tier, MARKETPLACE, LicenseType.COMMERCIAL, end, years, today)
    except MaintenanceCapExceeded:
        assert new_end > latest
        return
    assert new_end <= latest
    assert line.period_start == end  # neither today nor any other date, lapsed or not
    assert line.period_end == new_end > end


@given(listing=server_listings(), tier=TIERS, end=DATES, target=DATES)
def test_co_term_never_shortens(listing: Listing, tier: Tier, end: date, target: date) -> None:
    today = end - timedelta(days=30)
    try:
        line = price_co_term(listing, tier, MARKETPLACE, LicenseType.COMMERCIAL, end, target, today)
    except CoTermWouldShorten:
        assert target < end
        return
    except CoTermAlreadyAligned:
        assert target == end
        return
    except MaintenanceCapExceeded:
        assert target > latest_maintenance_end(listing, MARKETPLACE, today)
        return
    assert line.period_start == end < target == line.period_end
    assert line.amount >= 0


@given(listing=server_listings(), tier=TIERS, end=DATES, days=st.integers(1, 1000), more=st.integers(1, 100))
def test_co_term_costs_more_for_more_days(
    listing: Listing, tier: Tier, end: date, days: int, more: int
) -> None:
    today = end
    shorter = price_co_term(
        listing, tier, MARKETPLACE, LicenseType.COMMERCIAL, end, end + timedelta(days), today
    )
    longer = price_co_term(
        listing, tier, MARKETPLACE, LicenseType.COMMERCIAL, end, end + timedelta(days + more), today
    )
    assert shorter.amount <= longer.amount
    table = listing.price_table
    assert isinstance(table, TierPriceTable)
    with localcontext() as ctx:
        ctx.prec = 60
        exact = table.prices[tier] * Decimal("0.5") * days / 365
    assert shorter.amount == oracle_round(exact, table.currency)


@given(
    listing=cloud_listings(),
    old=st.integers(1, 30_000),
    added=st.integers(0, 30_000),
    cycle=st.sampled_from(list(BillingCycle)),
    cycle_end=DATES,
    left=st.integers(0, 400),
    fewer=st.integers(0, 400),
)
def test_cloud_proration_never_costs_less_for_more_remaining_days(
    listing: Listing, old: int, added: int, cycle: BillingCycle, cycle_end: date, left: int, fewer: int
) -> None:
    cycle_days = (cycle_end - add_months(cycle_end, -1 if cycle is BillingCycle.MONTHLY else -12)).days
    left, fewer = min(left, cycle_days), min(fewer, min(left, cycle_days))
    new = old + added
    table = listing.price_table
    assert isinstance(table, CloudPriceTable)
    if cycle is BillingCycle.ANNUAL:
        assume(new <= 50_000)
    more_days = price_cloud_user_increase(listing, cycle, old, new, cycle_end - timedelta(left), cycle_end)
    fewer_days = price_cloud_user_increase(
        listing, cycle, old, new, cycle_end - timedelta(left - fewer), cycle_end
    )
    assert 0 <= fewer_days.amount <= more_days.amount


@given(
    listing=cloud_listings(),
    users=st.integers(1, 30_000),
    next_billing=DATES,
    early=st.integers(0, 31),
    later=st.integers(0, 31),
)
def test_cloud_first_period_never_costs_less_for_an_earlier_start(
    listing: Listing, users: int, next_billing: date, early: int, later: int
) -> None:
    site = HostContext(
        Hosting.CLOUD, cloud_users=users, billing_cycle=BillingCycle.MONTHLY, next_billing_date=next_billing
    )
    cycle_days = (next_billing - add_months(next_billing, -1)).days
    first, second = sorted((min(early, cycle_days - 1), min(later, cycle_days - 1)))
    nearer = price_cloud_subscription(listing, site, next_billing - timedelta(first + 1))
    farther = price_cloud_subscription(listing, site, next_billing - timedelta(second + 1))
    full = price_cloud_subscription(listing, site, next_billing)
    assert nearer.amount <= farther.amount <= full.amount


@given(listing=cloud_listings(), users=st.integers(1, 30_000), more=st.integers(0, 30_000))
def test_cloud_monthly_price_grows_with_users_and_annual_is_ten_months(
    listing: Listing, users: int, more: int
) -> None:
    table = listing.price_table
    assert isinstance(table, CloudPriceTable)
    assert table.monthly_price(users) <= table.monthly_price(users + more)
    for tier in table.annual_tiers:
        assert tier.users is not None
        assert table.annual_price(tier) == 10 * table.monthly_price(tier.users)


@given(
    amount_units=st.integers(0, 10**12),
    currency=CURRENCIES,
    share=st.one_of(
        st.sampled_from([Decimal(r) for r in ("0", "0.5", "0.75", "0.85", "1")]),
        st.decimals(min_value=0, max_value=1, places=4),
    ),
    refund_share=st.fractions(0, 1),
)
def test_revenue_split_and_its_refund_sum_to_the_line(
    amount_units: int, currency: str, share: Decimal, refund_share: Fraction
) -> None:
    listing = Listing(
        "a",
        "A",
        Hosting.SERVER,
        TierPriceTable(currency, {Tier.UNLIMITED: from_minor_units(amount_units, currency)}),
        ChannelPolicy.default_for(Hosting.SERVER),
    )
    line = price_new_purchase(
        listing,
        Tier.UNLIMITED,
        MARKETPLACE,
        _host(LicenseType.COMMERCIAL),
        LicenseType.COMMERCIAL,
        date(2026, 1, 1),
    )
    schedule = RevenueShareSchedule((RevenueShareRate(date(2000, 1, 1), Hosting.SERVER, share),))
    split = split_revenue(line, schedule, date(2026, 1, 1))
    assert split is not None
    assert split.vendor_amount + split.operator_amount == split.line_amount == line.amount
    assert (
        to_minor_units(split.vendor_amount, currency) + to_minor_units(split.operator_amount, currency)
        == amount_units
    )
    full = reverse_revenue_split(split)
    assert (full.vendor_amount, full.operator_amount, full.line_amount) == (
        -split.vendor_amount,
        -split.operator_amount,
        -split.line_amount,
    )
    partial_units = int(amount_units * refund_share)
    if partial_units > 0:
        partial = reverse_revenue_split(split, from_minor_units(partial_units, currency))
        assert partial.vendor_amount + partial.operator_amount == partial.line_amount


@settings(max_examples=50)
@given(data=st.data(), count=st.integers(0, 12))
def test_totals_equal_the_sum_of_their_lines(data: st.DataObject, count: int) -> None:
    lines: list[PricedLine] = []
    for _ in range(count):
        listing = data.draw(server_listings())
        tier, license_type, end = data.draw(TIERS), data.draw(PAID_TYPES), data.draw(DATES)
        kind = data.draw(st.sampled_from(["new", "renewal", "co_term"]))
        if kind == "new":
            line = price_new_purchase(listing, tier, MARKETPLACE, _host(license_type), license_type, end)
        elif kind == "renewal":
            line = price_renewal(
                listing, tier, MARKETPLACE, license_type, end, data.draw(st.integers(1, 3)), end
            )
        else:
            days = data.draw(st.integers(1, 700))
            line = price_co_term(listing, tier, MARKETPLACE, license_type, end, end + timedelta(days), end)
        lines.append(line)
    items = PricedItems.of(lines)
    assert set(items.totals) == {line.currency for line in lines}
    for currency, total in items.totals.items():
        in_currency = [line.amount for line in lines if line.currency == currency]
        assert total == sum(in_currency, Decimal(0))
        assert to_minor_units(total, currency) == sum(
            to_minor_units(amount, currency) for amount in in_currency
        )


@given(a=st.one_of(st.none(), st.integers(1, 10**6)), b=st.one_of(st.none(), st.integers(1, 10**6)))
def test_tiers_are_totally_ordered_with_unlimited_on_top(a: int | None, b: int | None) -> None:
    ta, tb = Tier(a), Tier(b)
    assert [ta < tb, ta == tb, ta > tb].count(True) == 1
    assert (ta <= tb) == (not ta > tb)
    if a is None:
        assert ta >= tb
    assert Tier.parse(str(ta)) == ta


@given(units=st.integers(-(10**15), 10**15), currency=CURRENCIES)
def test_minor_units_round_trip(units: int, currency: str) -> None:
    assert to_minor_units(from_minor_units(units, currency), currency) == units
