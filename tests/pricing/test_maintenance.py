from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from mercato.pricing import (
    Channel,
    CommerceTerms,
    CoTermAlreadyAligned,
    CoTermNotOffered,
    CoTermWouldShorten,
    InvalidRenewalYears,
    LicenseType,
    LineKind,
    Listing,
    MaintenanceCapExceeded,
    Tier,
    latest_maintenance_end,
    price_co_term,
    price_renewal,
)

MARKETPLACE, DIRECT = Channel.MARKETPLACE, Channel.DIRECT
COMMERCIAL = LicenseType.COMMERCIAL


def test_renewal_is_half_the_current_list_price_per_year(mockups: Listing) -> None:
    line = price_renewal(mockups, Tier(100), MARKETPLACE, COMMERCIAL, date(2027, 3, 1), 2, date(2027, 2, 1))
    assert line.kind is LineKind.RENEWAL
    assert line.amount == Decimal("2200.00")
    assert line.explanation == (
        "Renewal: 50% of the current 100-user list price USD 2,200.00 × 2 years = USD 2,200.00, "
        "maintenance 2027-03-01 → 2029-03-01"
    )
    assert line.formula["renewal_rate"] == "1/2"
    assert line.formula["years"] == "2"


def test_renewal_uses_the_current_list_price(make_server_listing: Callable[..., Listing]) -> None:
    repriced = make_server_listing(
        prices=("120", "600", "1100", "2600", "4000", "6500", "12000", "20000", "30000")
    )
    line = price_renewal(repriced, Tier(100), MARKETPLACE, COMMERCIAL, date(2027, 3, 1), 1, date(2027, 2, 1))
    assert line.amount == Decimal("1300.00")


def test_renewal_starts_at_previous_maintenance_end_when_lapsed(mockups: Listing) -> None:
    lapsed_on = date(2025, 6, 15)
    line = price_renewal(mockups, Tier(100), MARKETPLACE, COMMERCIAL, lapsed_on, 1, date(2026, 3, 1))
    assert line.period_start == lapsed_on
    assert line.period_end == date(2026, 6, 15)


def test_renewal_starts_at_previous_maintenance_end_when_renewed_early(mockups: Listing) -> None:
    line = price_renewal(mockups, Tier(100), MARKETPLACE, COMMERCIAL, date(2026, 5, 1), 1, date(2026, 3, 1))
    assert (line.period_start, line.period_end) == (date(2026, 5, 1), date(2027, 5, 1))


def test_marketplace_sells_three_years_of_maintenance_at_once(mockups: Listing) -> None:
    line = price_renewal(mockups, Tier(100), MARKETPLACE, COMMERCIAL, date(2026, 3, 1), 3, date(2026, 3, 1))
    assert line.amount == Decimal("3300.00")
    assert line.period_end == date(2029, 3, 1)


def test_marketplace_refuses_four_years_ahead(mockups: Listing) -> None:
    with pytest.raises(MaintenanceCapExceeded) as raised:
        price_renewal(mockups, Tier(100), MARKETPLACE, COMMERCIAL, date(2026, 3, 1), 4, date(2026, 3, 1))
    error = raised.value
    assert error.type == "maintenance-cap-exceeded"
    assert error.details["most_years_now"] == 3
    assert error.details["cap_months"] == 36
    assert "You can buy at most 3 years now." in str(error)


def test_marketplace_cap_counts_the_maintenance_still_ahead(mockups: Listing) -> None:
    # Eleven months of maintenance left: three more years would end 47 months from today.
    with pytest.raises(MaintenanceCapExceeded) as raised:
        price_renewal(mockups, Tier(100), MARKETPLACE, COMMERCIAL, date(2027, 2, 1), 3, date(2026, 3, 1))
    assert raised.value.details["most_years_now"] == 2
    price_renewal(mockups, Tier(100), MARKETPLACE, COMMERCIAL, date(2027, 2, 1), 2, date(2026, 3, 1))


def test_direct_channel_refuses_two_years_at_once(mockups: Listing) -> None:
    with pytest.raises(MaintenanceCapExceeded) as raised:
        price_renewal(mockups, Tier(100), DIRECT, COMMERCIAL, date(2026, 3, 1), 2, date(2026, 3, 1))
    assert raised.value.details["most_years_now"] == 1


def test_direct_channel_renews_one_year_within_the_renewal_window(mockups: Listing) -> None:
    # 90 days before the maintenance end, when the first renewal reminder goes out.
    line = price_renewal(mockups, Tier(100), DIRECT, COMMERCIAL, date(2026, 5, 30), 1, date(2026, 3, 1))
    assert line.period_end == date(2027, 5, 30)


def test_direct_channel_refuses_renewal_long_before_the_end(mockups: Listing) -> None:
    with pytest.raises(MaintenanceCapExceeded, match="Renew closer"):
        price_renewal(mockups, Tier(100), DIRECT, COMMERCIAL, date(2026, 9, 1), 1, date(2026, 3, 1))


def test_latest_maintenance_end_is_cap_plus_renewal_window(mockups: Listing) -> None:
    assert latest_maintenance_end(mockups, MARKETPLACE, date(2026, 3, 1)) == date(2029, 5, 30)
    assert latest_maintenance_end(mockups, DIRECT, date(2026, 3, 1)) == date(2027, 5, 30)


def test_back_filled_years_do_not_count_as_bought_ahead(mockups: Listing) -> None:
    # Lapsed two years ago: four years bring maintenance to two years from today, within the cap.
    line = price_renewal(mockups, Tier(100), MARKETPLACE, COMMERCIAL, date(2024, 3, 1), 4, date(2026, 3, 1))
    assert line.period_end == date(2028, 3, 1)
    assert line.amount == Decimal("4400.00")


@pytest.mark.parametrize("years", [0, -1])
def test_renewal_needs_whole_positive_years(mockups: Listing, years: int) -> None:
    with pytest.raises(InvalidRenewalYears) as raised:
        price_renewal(mockups, Tier(100), MARKETPLACE, COMMERCIAL, date(2026, 3, 1), years, date(2026, 3, 1))
    assert raised.value.type == "invalid-renewal-years"


def test_academic_renewal_is_half_of_the_academic_price(mockups: Listing) -> None:
    line = price_renewal(
        mockups, Tier(100), MARKETPLACE, LicenseType.ACADEMIC, date(2026, 3, 1), 1, date(2026, 3, 1)
    )
    assert line.amount == Decimal("550.00")
    assert line.explanation.startswith(
        "Academic renewal: 50% of 50% (academic) of the current 100-user list price"
    )


def test_community_renewal_is_free(mockups: Listing) -> None:
    line = price_renewal(
        mockups, Tier(100), MARKETPLACE, LicenseType.COMMUNITY, date(2026, 3, 1), 1, date(2026, 3, 1)
    )
    assert line.amount == 0
    assert "free (community)" in line.explanation


def test_datacenter_renewal_is_half_the_current_annual_price(mockups_dc: Listing) -> None:
    line = price_renewal(
        mockups_dc, Tier(500), MARKETPLACE, COMMERCIAL, date(2026, 3, 1), 1, date(2026, 3, 1)
    )
    assert line.amount == Decimal("4500.00")
    assert line.explanation == (
        "Data Center renewal: 50% of the current 500-user annual price USD 9,000.00 × 1 year = USD 4,500.00, "
        "term 2026-03-01 → 2027-03-01"
    )


def test_datacenter_renewal_rate_is_a_setting(mockups_dc: Listing) -> None:
    full_price = CommerceTerms(datacenter_renewal_rate=Decimal("1"))
    line = price_renewal(
        mockups_dc,
        Tier(500),
        MARKETPLACE,
        COMMERCIAL,
        date(2026, 3, 1),
        1,
        date(2026, 3, 1),
        terms=full_price,
    )
    assert line.amount == Decimal("9000.00")


@pytest.mark.parametrize(
    ("currency", "list_price", "rounded_once", "sum_of_rounded_years"),
    [
        # academic renewal = 25% of list per year; three years at once.
        ("JPY", "1001", "751", "750"),  # 250.25 × 3 = 750.75 → 751, but 250 × 3 = 750
        ("KWD", "1.001", "0.751", "0.750"),  # 0.25025 × 3 = 0.75075 → 0.751, but 0.250 × 3 = 0.750
        ("USD", "10.01", "7.51", "7.50"),
    ],
)
def test_multi_year_renewal_rounds_once(
    make_server_listing: Callable[..., Listing],
    currency: str,
    list_price: str,
    rounded_once: str,
    sum_of_rounded_years: str,
) -> None:
    listing = make_server_listing(currency, (list_price, *["99999"] * 8))
    today = date(2026, 3, 1)
    three = price_renewal(listing, Tier(10), MARKETPLACE, LicenseType.ACADEMIC, today, 3, today)
    one = price_renewal(listing, Tier(10), MARKETPLACE, LicenseType.ACADEMIC, today, 1, today)
    assert three.amount == Decimal(rounded_once)
    assert str(three.amount) == rounded_once
    assert one.amount * 3 == Decimal(sum_of_rounded_years)


def test_co_term_is_renewal_price_times_days_over_365(mockups: Listing) -> None:
    line = price_co_term(
        mockups, Tier(100), MARKETPLACE, COMMERCIAL, date(2027, 3, 1), date(2027, 6, 1), date(2027, 2, 1)
    )
    assert line.kind is LineKind.CO_TERM
    assert line.amount == Decimal("277.26")  # 1,100 × 92/365 = 277.2603
    assert (line.period_start, line.period_end) == (date(2027, 3, 1), date(2027, 6, 1))
    assert line.explanation == (
        "Co-term: 50% of the current 100-user list price USD 2,200.00 × 92/365 days = USD 277.26, "
        "maintenance 2027-03-01 → 2027-06-01"
    )


def test_co_term_cannot_shorten(mockups: Listing) -> None:
    with pytest.raises(CoTermWouldShorten) as raised:
        price_co_term(
            mockups, Tier(100), MARKETPLACE, COMMERCIAL, date(2027, 3, 1), date(2027, 1, 1), date(2026, 6, 1)
        )
    assert raised.value.type == "co-term-would-shorten"
    assert raised.value.details["target_date"] == "2027-01-01"


def test_co_term_to_the_current_end_is_refused_as_already_aligned(mockups: Listing) -> None:
    with pytest.raises(CoTermAlreadyAligned) as raised:
        price_co_term(
            mockups, Tier(100), MARKETPLACE, COMMERCIAL, date(2027, 3, 1), date(2027, 3, 1), date(2026, 6, 1)
        )
    assert raised.value.type == "co-term-already-aligned"


def test_co_term_is_marketplace_only(mockups: Listing) -> None:
    with pytest.raises(CoTermNotOffered) as raised:
        price_co_term(
            mockups, Tier(100), DIRECT, COMMERCIAL, date(2027, 3, 1), date(2027, 6, 1), date(2027, 2, 1)
        )
    assert raised.value.type == "co-term-not-offered"


def test_co_term_obeys_the_maintenance_cap(mockups: Listing) -> None:
    with pytest.raises(MaintenanceCapExceeded):
        price_co_term(
            mockups, Tier(100), MARKETPLACE, COMMERCIAL, date(2027, 3, 1), date(2030, 3, 1), date(2026, 3, 1)
        )


def test_co_term_of_a_datacenter_term_is_the_renewal_price_prorated(mockups_dc: Listing) -> None:
    line = price_co_term(
        mockups_dc, Tier(500), MARKETPLACE, COMMERCIAL, date(2027, 3, 1), date(2027, 6, 1), date(2027, 2, 1)
    )
    assert line.amount == Decimal("1134.25")  # 50% × 9,000 × 92/365 = 1,134.2466
