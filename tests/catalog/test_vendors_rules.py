"""The pure rules of vendors: which revenue-share rate a sale gets, and which payout details are usable."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mercato import pricing
from mercato.catalog.models import RevenueShareRate, Vendor, VendorRevenueShare, VendorStatus
from mercato.catalog.vendors import (
    InvalidPayoutDetails,
    check_payout_details,
    revenue_schedule_of,
    sells,
    sells_direct,
)

HOSTINGS = [h.value for h in pricing.Hosting]
days = st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31))
shares = st.decimals(min_value=0, max_value=1, places=4)
STANDARD = [
    RevenueShareRate(hosting=h, effective_from=date(2012, 1, 1), vendor_share=Decimal(s))
    for h, s in (("server", "0.75"), ("datacenter", "0.75"), ("cloud", "0.85"))
]


@settings(max_examples=60, deadline=None)
@given(
    agreement=st.lists(
        st.tuples(st.sampled_from(HOSTINGS), days, shares), max_size=6, unique_by=lambda r: r[:2]
    ),
    hosting=st.sampled_from(HOSTINGS),
    sale=days,
)
def test_a_sale_gets_the_vendors_rate_in_force_else_the_standard_one(
    agreement: list[tuple[str, date, Decimal]], hosting: str, sale: date
) -> None:
    rows = [VendorRevenueShare(hosting=h, effective_from=d, vendor_share=s) for h, d, s in agreement]
    rate = revenue_schedule_of(STANDARD, rows).rate_on(pricing.Hosting(hosting), sale)
    own = sorted((d, s) for h, d, s in agreement if h == hosting and d <= sale)
    if own:
        assert (rate.effective_from, rate.vendor_share) == own[-1]
    else:
        assert rate.vendor_share == {"cloud": Decimal("0.85")}.get(hosting, Decimal("0.75"))


def test_without_configured_rates_the_default_ones_apply() -> None:
    schedule = revenue_schedule_of(
        [],
        [VendorRevenueShare(hosting="cloud", effective_from=date(2026, 1, 1), vendor_share=Decimal("0.9"))],
    )
    assert schedule.rate_on(pricing.Hosting.SERVER, date(2026, 6, 1)).vendor_share == Decimal("0.75")
    assert schedule.rate_on(pricing.Hosting.CLOUD, date(2026, 6, 1)).vendor_share == Decimal("0.9")
    assert schedule.rate_on(
        pricing.Hosting.CLOUD, date(2026, 1, 1) - timedelta(days=1)
    ).vendor_share == Decimal("0.85")


@pytest.mark.parametrize(
    ("status", "direct_store", "sold", "sold_direct"),
    [
        (VendorStatus.ACTIVE, True, True, True),
        (VendorStatus.ACTIVE, False, True, False),
        (VendorStatus.PENDING, True, False, False),
        (VendorStatus.SUSPENDED, True, False, False),
    ],
)
def test_only_active_vendors_sell_and_only_with_the_store_open_directly(
    status: VendorStatus, direct_store: bool, sold: bool, sold_direct: bool
) -> None:
    vendor = Vendor(slug="v", name="V", email="v@v.example", status=status, direct_store=direct_store)
    assert (sells(vendor), sells_direct(vendor)) == (sold, sold_direct)


def test_usable_payout_details_are_stored_tidy() -> None:
    bank = check_payout_details(
        {"method": "bank_transfer", "account_holder": " A ", "iban": "gb82 west 1234 5698 7654 32",
         "bic": "westgb2l", "currency": "gbp"}
    )  # fmt: skip
    assert bank == {
        "method": "bank_transfer", "account_holder": "A", "iban": "GB82WEST12345698765432", "bic": "WESTGB2L",
        "currency": "GBP",
    }  # fmt: skip
    paypal = check_payout_details(
        {"method": "paypal", "account_holder": "A", "account_email": "Pay@A.example", "currency": "USD"}
    )
    assert paypal == {
        "method": "paypal",
        "account_holder": "A",
        "account_email": "pay@a.example",
        "currency": "USD",
    }
    assert check_payout_details(None) is None


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="0123456789", min_size=18, max_size=18))
def test_an_iban_with_a_wrong_check_digit_is_refused(account: str) -> None:
    iban = "DE" + "00" + account  # 00 is never a valid pair of check digits (they run 02 to 98)
    with pytest.raises(InvalidPayoutDetails) as refused:
        check_payout_details(
            {
                "method": "bank_transfer",
                "account_holder": "A",
                "iban": iban,
                "bic": "COBADEFF",
                "currency": "EUR",
            }
        )
    assert [e["field"] for e in refused.value.extensions["errors"]] == ["body.payout_details.iban"]


def test_every_unusable_field_is_named() -> None:
    with pytest.raises(InvalidPayoutDetails) as refused:
        check_payout_details(
            {"method": "paypal", "iban": "X", "colour": "red", "currency": "€"}, where="payout"
        )
    assert sorted(e["field"] for e in refused.value.extensions["errors"]) == [
        "payout.account_email", "payout.account_holder", "payout.colour", "payout.currency", "payout.iban",
    ]  # fmt: skip
