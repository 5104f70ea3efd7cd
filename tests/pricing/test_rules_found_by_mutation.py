"""Rules that mutation testing (``make mutation``, docs/testing.md) showed no test would notice breaking."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from mercato.pricing import (
    DEFAULT_SERVER_TIERS,
    BillingCycle,
    Channel,
    ChannelNotAllowed,
    ChannelPolicy,
    CloudBracket,
    CloudPriceTable,
    DatesOutOfOrder,
    HostContext,
    Hosting,
    HostingMismatch,
    InvalidPriceTable,
    InvalidUserCount,
    LicenseType,
    LicenseTypeNotAllowed,
    Listing,
    NotAnUpgrade,
    PricingError,
    RevenueShareSchedule,
    Tier,
    TierNotSold,
    TierPriceTable,
    price_cloud_subscription,
    price_cloud_user_increase,
    price_evaluation,
    price_new_purchase,
    price_upgrade,
    reverse_revenue_split,
    split_revenue,
)

from .conftest import cloud_listing, server_listing, wiki_server

MARKETPLACE, DIRECT = Channel.MARKETPLACE, Channel.DIRECT
MONTHLY, ANNUAL = BillingCycle.MONTHLY, BillingCycle.ANNUAL
COMMERCIAL = LicenseType.COMMERCIAL
TODAY = date(2026, 3, 1)
SOLD_ANNUALLY = ["10 users", "25 users", "50 users", "100 users", "250 users", "500 users", "1,000 users"]


def site(users: int, cycle: BillingCycle = MONTHLY, license_type: LicenseType = COMMERCIAL) -> HostContext:
    return HostContext(
        Hosting.CLOUD,
        cloud_users=users,
        billing_cycle=cycle,
        next_billing_date=date(2026, 4, 1),
        license_type=license_type,
        product_name="wiki",
    )


REFUSALS: list[tuple[str, Callable[[], object], type[PricingError], str, dict[str, object]]] = [
    (
        "a smaller tier is not an upgrade",
        lambda: price_upgrade(
            server_listing(), Tier(250), Tier(100), MARKETPLACE, COMMERCIAL, date(2026, 9, 1), TODAY
        ),
        NotAnUpgrade,
        "You already hold the 250 users tier; an upgrade must go to a larger tier than that, not to 100 users. "
        "Smaller tiers are not refunded.",
        {"old_tier": "250 users", "new_tier": "100 users"},
    ),
    (
        "a cloud app has no tiers to upgrade",
        lambda: price_upgrade(
            cloud_listing(), Tier(100), Tier(250), MARKETPLACE, COMMERCIAL, date(2026, 9, 1), TODAY
        ),
        HostingMismatch,
        "A tier upgrade applies to server or datacenter licenses; Mockups for Wiki Cloud is a cloud app.",
        {"expected": ["server", "datacenter"], "actual": "cloud"},
    ),
    (
        "a user change after the cycle",
        lambda: price_cloud_user_increase(
            cloud_listing(), MONTHLY, 10, 20, date(2026, 4, 2), date(2026, 4, 1)
        ),
        DatesOutOfOrder,
        "The date of the change (2026-04-02) must be on or before the end of the billing cycle (2026-04-01).",
        {
            "earlier_name": "date of the change",
            "earlier": "2026-04-02",
            "later_name": "end of the billing cycle",
            "later": "2026-04-01",
        },
    ),
    (
        "a user change before the cycle",
        lambda: price_cloud_user_increase(
            cloud_listing(), MONTHLY, 10, 20, date(2026, 2, 28), date(2026, 4, 1)
        ),
        DatesOutOfOrder,
        "The start of the billing cycle (2026-03-01) must be on or before the date of the change (2026-02-28).",
        {
            "earlier_name": "start of the billing cycle",
            "earlier": "2026-03-01",
            "later_name": "date of the change",
            "later": "2026-02-28",
        },
    ),
    (
        "no users",
        lambda: price_cloud_user_increase(
            cloud_listing(), MONTHLY, 0, 20, date(2026, 3, 22), date(2026, 4, 1)
        ),
        InvalidUserCount,
        "The number of users must be at least 1, not 0.",
        {"users": 0},
    ),
    (
        "more users than any annual tier, by a user change",
        lambda: price_cloud_user_increase(
            cloud_listing(), ANNUAL, 80, 1200, date(2026, 4, 1), date(2026, 10, 1)
        ),
        TierNotSold,
        "Mockups for Wiki Cloud is not sold for 1,200 users. It is sold for: "
        + ", ".join(SOLD_ANNUALLY)
        + ".",
        {"tier": "1,200 users", "sold_tiers": SOLD_ANNUALLY},
    ),
    (
        "more users than any annual tier, by a subscription",
        lambda: price_cloud_subscription(cloud_listing(), site(1200, ANNUAL), TODAY),
        TierNotSold,
        "Mockups for Wiki Cloud is not sold for 1,200 users. It is sold for: "
        + ", ".join(SOLD_ANNUALLY)
        + ".",
        {"tier": "1,200 users", "sold_tiers": SOLD_ANNUALLY},
    ),
    (
        "a cloud app bought direct",
        lambda: price_cloud_subscription(cloud_listing(), site(120), TODAY, channel=DIRECT),
        ChannelNotAllowed,
        "Mockups for Wiki Cloud cannot be bought through the direct channel; it is sold only through the "
        "marketplace.",
        {"channel": "direct", "allowed_channels": ["marketplace"]},
    ),
]


@pytest.mark.parametrize(
    ("price", "error", "sentence", "details"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_a_refusal_says_what_was_asked_and_what_is_allowed(
    price: Callable[[], object], error: type[PricingError], sentence: str, details: dict[str, object]
) -> None:
    with pytest.raises(error) as refused:
        price()
    assert (refused.value.detail, dict(refused.value.details)) == (sentence, details)


@pytest.mark.parametrize(
    ("price", "refused_because"),
    [
        (
            lambda: price_cloud_subscription(
                cloud_listing(), site(40), TODAY, license_type=LicenseType.EVALUATION
            ),
            "Evaluation licenses are free and are requested as evaluations, not bought.",
        ),
        (
            lambda: price_cloud_subscription(
                cloud_listing(), site(40), TODAY, license_type=LicenseType.ACADEMIC
            ),
            "An app license of type academic is available only for a host licensed as academic;",
        ),
        (
            lambda: price_cloud_subscription(
                cloud_listing(),
                site(40, license_type=LicenseType.STARTER),
                TODAY,
                license_type=LicenseType.STARTER,
            ),
            "A starter license covers at most 10 users, not 40 users;",
        ),
        (
            lambda: price_cloud_user_increase(
                cloud_listing(),
                MONTHLY,
                5,
                20,
                date(2026, 3, 22),
                date(2026, 4, 1),
                license_type=LicenseType.STARTER,
            ),
            "A starter license covers at most 10 users, not 20 users;",
        ),
        (
            lambda: price_cloud_user_increase(
                cloud_listing(),
                MONTHLY,
                5,
                8,
                date(2026, 3, 22),
                date(2026, 4, 1),
                license_type=LicenseType.EVALUATION,
            ),
            "Evaluation licenses are free and are requested as evaluations, not bought.",
        ),
    ],
    ids=[
        "subscription-evaluation-type",
        "academic-app-on-commercial-site",
        "starter-subscription-for-40",
        "starter-increase-to-20",
        "increase-of-an-evaluation-type",
    ],
)
def test_cloud_prices_check_the_license_type(price: Callable[[], object], refused_because: str) -> None:
    with pytest.raises(LicenseTypeNotAllowed) as refused:
        price()
    assert refused.value.detail.startswith(refused_because)


def test_a_cloud_evaluation_is_for_the_most_users_the_brackets_admit() -> None:
    closed = CloudPriceTable(
        "USD",
        flat_monthly=Decimal("10"),
        brackets=(CloudBracket(100, Decimal("4.00")), CloudBracket(1000, Decimal("1.50"))),
        annual_tiers=(Tier(100), Tier(1000)),
    )
    listing = Listing(
        "com.example.capped", "Capped", Hosting.CLOUD, closed, ChannelPolicy.default_for(Hosting.CLOUD)
    )
    assert price_evaluation(listing, site(40), TODAY).tier == Tier(1000)
    assert price_evaluation(cloud_listing(), site(40), TODAY).tier == Tier.UNLIMITED


def test_an_upgrade_in_the_direct_channel_prices_from_the_vendors_direct_table() -> None:
    direct = TierPriceTable(
        "USD", {tier: Decimal(100 * (n + 1)) for n, tier in enumerate(DEFAULT_SERVER_TIERS)}
    )
    listing = server_listing(direct_price_table=direct)
    line = price_upgrade(listing, Tier(100), Tier(250), DIRECT, COMMERCIAL, date(2026, 9, 1), TODAY)
    assert line.amount == Decimal("100.00")  # 500 − 400 from the direct table (the marketplace's is 1,800)


def test_an_academic_upgrade_pays_half_the_difference() -> None:
    line = price_upgrade(
        server_listing(),
        Tier(100),
        Tier(250),
        MARKETPLACE,
        LicenseType.ACADEMIC,
        date(2026, 9, 1),
        TODAY,
        host=wiki_server(100, license_type=LicenseType.ACADEMIC),
    )
    assert line.amount == Decimal("900.00")  # 50% of (4,000 − 2,200)


def test_a_split_and_its_refund_name_the_app_the_hosting_and_the_rates_start() -> None:
    line = price_new_purchase(server_listing(), Tier(100), MARKETPLACE, wiki_server(100), COMMERCIAL, TODAY)
    split = split_revenue(line, RevenueShareSchedule.default(date(2012, 1, 1)), TODAY)
    assert split is not None
    refund = reverse_revenue_split(split, Decimal("1100.00"))
    for shares in (split, refund):
        assert (shares.app_key, shares.hosting, shares.rate_effective_from) == (
            "com.example.mockups",
            Hosting.SERVER,
            date(2012, 1, 1),
        )


def test_an_academic_site_pays_half_for_users_added_mid_cycle() -> None:
    line = price_cloud_user_increase(
        cloud_listing(),
        MONTHLY,
        100,
        150,
        date(2026, 3, 22),
        date(2026, 4, 1),
        license_type=LicenseType.ACADEMIC,
    )
    assert line.amount == Decimal("24.19")  # 50% of (520 − 370) × 10/31


def test_an_unchanged_user_count_costs_nothing_and_says_so() -> None:
    line = price_cloud_user_increase(cloud_listing(), MONTHLY, 100, 100, date(2026, 3, 22), date(2026, 4, 1))
    assert (line.amount, line.period_start, line.period_end) == (
        Decimal("0.00"),
        date(2026, 3, 22),
        date(2026, 4, 1),
    )
    assert line.explanation == "Users 100 → 100: no users added, nothing to pay = USD 0.00"


def test_a_one_user_tier_reads_in_the_singular() -> None:
    assert (str(Tier(1)), str(Tier(2)), str(Tier(1000))) == ("1 user", "2 users", "1,000 users")


def test_a_negative_per_user_price_is_refused() -> None:
    with pytest.raises(InvalidPriceTable) as refused:
        CloudPriceTable(
            "USD",
            flat_monthly=Decimal("10"),
            brackets=(CloudBracket(None, Decimal("-1")),),
            annual_tiers=(Tier(10),),
        )
    assert refused.value.detail == "A per-user price must be zero or more, not -1."
