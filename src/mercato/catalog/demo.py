"""Demo catalog: the Northwind marketplace selling its wiki and tracker and apps from four vendors.

Prices are in USD, written in whole units for readability and stored in minor units. The mockup vendor sells the
same app for both hosts and all their hostings, like the seed FAQ's vendor; its app keys are stable
(``com.example.mockups.wiki``, ``com.example.mockups.tracker``) so that the docs and scripted checks can name them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from mercato.catalog.models import (
    UNLIMITED_USERS,
    App,
    CloudPriceBracket,
    HostProduct,
    Listing,
    Operator,
    PriceTable,
    Release,
    RevenueShareRate,
    TierPrice,
    Vendor,
)
from mercato.catalog.repository import CatalogRepository

U = UNLIMITED_USERS
SERVER_TIERS = [10, 25, 50, 100, 250, 500, 2000, 10000, U]
CLOUD_ANNUAL_TIERS = [10, 25, 50, 100, 250, 500, 1000, 2000, 5000, 10000]


@dataclass(frozen=True)
class CloudPrices:
    flat_monthly: int
    # (up to users or None, per-user monthly price in cents)
    brackets: list[tuple[int | None, int]]


@dataclass(frozen=True)
class ListingSpec:
    hosting: str
    prices: list[int] | CloudPrices  # server/datacenter: one price per SERVER_TIERS entry, whole USD
    direct: bool = False
    direct_prices: list[int] | None = None
    releases: list[tuple[str, date]] = field(default_factory=list)


WIKI_SERVER = [10, 1_200, 2_200, 3_300, 6_000, 9_500, 17_000, 30_000, 38_000]
WIKI_DC = [2_000, 2_600, 3_500, 5_200, 9_000, 14_500, 26_000, 44_000, 56_000]
TRACKER_SERVER = [10, 1_100, 2_000, 3_000, 5_500, 8_800, 16_000, 28_000, 35_000]
HOST_CLOUD = CloudPrices(10_00, [(100, 5_75), (250, 4_50), (1000, 2_90), (None, 1_40)])

MOCKUPS_SERVER = [10, 300, 600, 1_100, 2_200, 3_300, 5_500, 8_800, 11_000]
MOCKUPS_DC = [600, 800, 1_300, 2_200, 4_000, 6_000, 9_500, 15_000, 19_000]
MOCKUPS_CLOUD = CloudPrices(10_00, [(100, 1_50), (250, 1_00), (1000, 60), (None, 30)])
DIAGRAMS_SERVER = [10, 250, 500, 950, 1_900, 2_900, 4_800, 7_500, 9_500]
DIAGRAMS_CLOUD = CloudPrices(5_00, [(100, 1_20), (250, 80), (1000, 45), (None, 22)])
TIMEKEEP_SERVER = [10, 450, 850, 1_500, 2_900, 4_400, 7_200, 11_500, 14_000]
TIMEKEEP_DC = [900, 1_200, 1_900, 3_200, 5_800, 8_600, 13_800, 21_000, 27_000]
TIMEKEEP_CLOUD = CloudPrices(10_00, [(100, 2_10), (250, 1_40), (1000, 85), (None, 40)])
SSO_SERVER = [10, 600, 1_100, 1_900, 3_400, 5_200, 8_500, 12_500, 16_000]


def _releases(prefix: str) -> list[tuple[str, date]]:
    return [
        (f"{prefix}.0.0", date(2025, 3, 4)),
        (f"{prefix}.1.0", date(2025, 11, 18)),
        (f"{prefix}.2.0", date(2026, 6, 9)),
    ]


VENDORS = [
    ("example-mockups", "Example Mockups Ltd", "sales@mockups.example", "https://mockups.example"),
    ("diagramly", "Diagramly Labs", "hello@diagramly.example", "https://diagramly.example"),
    ("timekeep", "TimeKeep GmbH", "billing@timekeep.example", "https://timekeep.example"),
    ("gatekeeper", "Gatekeeper Security", "sales@gatekeeper.example", None),
]

# (key, name, vendor, host product, summary, listings)
APPS: list[tuple[str, str, str, str, str, list[ListingSpec]]] = [
    (
        "com.example.mockups.wiki",
        "Mockups for Wiki",
        "example-mockups",
        "wiki",
        "Sketch wireframes right inside wiki pages.",
        [
            ListingSpec("server", MOCKUPS_SERVER, direct=True, releases=_releases("4")),
            ListingSpec("datacenter", MOCKUPS_DC, direct=True, releases=_releases("4")),
            ListingSpec("cloud", MOCKUPS_CLOUD, releases=_releases("5")),
        ],
    ),
    (
        "com.example.mockups.tracker",
        "Mockups for Tracker",
        "example-mockups",
        "tracker",
        "Attach editable wireframes to tracker issues.",
        [
            ListingSpec("server", MOCKUPS_SERVER, direct=True, releases=_releases("3")),
            ListingSpec("datacenter", MOCKUPS_DC, direct=True, releases=_releases("3")),
            ListingSpec("cloud", MOCKUPS_CLOUD, releases=_releases("5")),
        ],
    ),
    (
        "com.diagramly.diagrams.wiki",
        "Diagrams for Wiki",
        "diagramly",
        "wiki",
        "Flowcharts, org charts and network diagrams in wiki pages.",
        [
            ListingSpec("server", DIAGRAMS_SERVER, releases=_releases("7")),
            ListingSpec("cloud", DIAGRAMS_CLOUD, releases=_releases("8")),
        ],
    ),
    (
        "io.timekeep.tracker",
        "TimeKeep for Tracker",
        "timekeep",
        "tracker",
        "Time tracking and timesheets on tracker issues.",
        [
            ListingSpec(
                "server",
                TIMEKEEP_SERVER,
                direct=True,
                # TimeKeep charges a little more on its own bills: a vendor may override the direct price table.
                direct_prices=[p + p // 10 if p > 10 else p for p in TIMEKEEP_SERVER],
                releases=_releases("2"),
            ),
            ListingSpec("datacenter", TIMEKEEP_DC, releases=_releases("2")),
            ListingSpec("cloud", TIMEKEEP_CLOUD, releases=_releases("3")),
        ],
    ),
    (
        "com.gatekeeper.sso.wiki",
        "Gatekeeper SSO for Wiki",
        "gatekeeper",
        "wiki",
        "SAML single sign-on for the wiki.",
        [ListingSpec("server", SSO_SERVER, releases=_releases("6"))],
    ),
]

HOST_PRODUCTS: list[tuple[str, str, str, list[ListingSpec]]] = [
    (
        "wiki",
        "Northwind Wiki",
        "The team wiki: pages, spaces and page trees.",
        [
            ListingSpec("server", WIKI_SERVER, releases=_releases("9")),
            ListingSpec("datacenter", WIKI_DC, releases=_releases("9")),
            ListingSpec("cloud", HOST_CLOUD),
        ],
    ),
    (
        "tracker",
        "Northwind Tracker",
        "Issue and project tracking.",
        [
            ListingSpec("server", TRACKER_SERVER, releases=_releases("10")),
            ListingSpec("cloud", HOST_CLOUD),
        ],
    ),
]


DEMO_PRICES_FROM = date(2025, 1, 1)


def _listing(spec: ListingSpec, product_key: str, host: HostProduct, app: App | None) -> Listing:
    listing = Listing(
        product_key=product_key,
        hosting=spec.hosting,
        app=app,
        host_product=host,
        currency="USD",
        sold_on_marketplace=True,
        sold_direct=spec.direct and spec.hosting != "cloud",
        tier_must_match_host_marketplace=True,
        tier_must_match_host_direct=False,
        max_maintenance_months_marketplace=36,
        max_maintenance_months_direct=12,
        published_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    table = PriceTable(effective_from=DEMO_PRICES_FROM)
    if isinstance(spec.prices, CloudPrices):
        table.cloud_flat_monthly_minor = spec.prices.flat_monthly
        table.cloud_annual_tiers = CLOUD_ANNUAL_TIERS
        table.cloud_brackets = [
            CloudPriceBracket(position=i, up_to_users=up_to, per_user_monthly_minor=cents)
            for i, (up_to, cents) in enumerate(spec.prices.brackets)
        ]
    else:
        table.tier_prices = [
            TierPrice(price_list="standard", tier_users=tier, amount_minor=price * 100)
            for tier, price in zip(SERVER_TIERS, spec.prices, strict=True)
        ]
        if spec.direct_prices:
            table.tier_prices += [
                TierPrice(price_list="direct", tier_users=tier, amount_minor=price * 100)
                for tier, price in zip(SERVER_TIERS, spec.direct_prices, strict=True)
            ]
    listing.price_tables = [table]
    listing.releases = [Release(version=v, build_date=d) for v, d in spec.releases]
    return listing


def load_demo_catalog(repository: CatalogRepository) -> None:
    """Fill an empty catalog. Safe to call on every start: it does nothing when listings exist."""
    if not repository.is_empty():
        return
    repository.add(
        Operator(slug="northwind", name="Northwind Marketplace", email="billing@northwind.example"),
        *[
            RevenueShareRate(hosting=h, effective_from=date(2012, 1, 1), vendor_share=Decimal(s))
            for h, s in (("server", "0.75"), ("datacenter", "0.75"), ("cloud", "0.85"))
        ],
    )
    hosts: dict[str, HostProduct] = {}
    for key, name, summary, specs in HOST_PRODUCTS:
        host = HostProduct(key=key, name=name, summary=summary, user_tiers=SERVER_TIERS)
        hosts[key] = host
        repository.add(host, *[_listing(spec, key, host, None) for spec in specs])
    direct_sellers = {vendor for _, _, vendor, _, _, specs in APPS if any(spec.direct for spec in specs)}
    vendors = {
        slug: Vendor(slug=slug, name=n, legal_name=n, email=e, website=w, direct_store=slug in direct_sellers)
        for slug, n, e, w in VENDORS
    }
    repository.add(*vendors.values())
    for key, name, vendor_slug, host_key, summary, specs in APPS:
        app = App(
            key=key, name=name, summary=summary, vendor=vendors[vendor_slug], host_product=hosts[host_key]
        )
        repository.add(app, *[_listing(spec, key, hosts[host_key], app) for spec in specs])
