"""Channel rules the FAQ implies, through the HTTP API: several years of maintenance with a new license, a
marketplace renewal at the tier the host has grown into, and an app licensed once per host instance."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from mercato.clock import FixedClock
from support.world import World, add_second_wiki_server

from .test_seed_scenarios import MOCKUPS, SSO, buy, license_detail, quote, validate


def _host_of(session_factory: sessionmaker[Session], world: World, users: int) -> None:
    """Acme's lab wiki server, licensed for ``users`` users (``world.wiki_lab``)."""
    with session_factory() as session, session.begin():
        add_second_wiki_server(session, world).user_tier = users


# -- new licenses with several years --------------------------------------------------------------------------


def test_a_new_license_with_three_years_on_the_marketplace(shop: TestClient, world: World) -> None:
    invoice = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100", "years": 3}])
    [line] = invoice["lines"]
    assert line["amount"] == "2200.00"  # 1,100.00 + 2 × 550.00
    assert (line["period_start"], line["period_end"]) == ("2026-11-26", "2029-11-26")
    assert (
        "(first year) + 50% of the current 100-user list price USD 1,100.00 × 2 more years"
        in (line["description"])
    )
    detail = license_detail(shop, world, line["license"])
    assert detail["maintenance_end"] == "2029-11-26"
    assert [t["kind"] for t in detail["history"]] == ["new"]
    assert validate(shop, detail["keys"][0]["key"])["status"] == "VALID"


def test_one_year_is_the_default_and_costs_what_it_did(shop: TestClient, world: World) -> None:
    default = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    one = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100", "years": 1}])
    assert default.status_code == one.status_code == 201
    assert default.json()["lines"][0]["amount"] == one.json()["lines"][0]["amount"] == "1100.00"
    assert default.json()["lines"][0]["explanation"] == one.json()["lines"][0]["explanation"]


def test_years_beyond_the_channels_cap_are_refused_with_the_years_that_fit(
    shop: TestClient, world: World
) -> None:
    four = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100", "years": 4}])
    assert four.status_code == 422
    problem = four.json()
    assert problem["type"] == "/api/v1/problems/maintenance-cap-exceeded"
    assert problem["most_years_now"] == 3 and problem["pointer"] == "/items/0"
    assert "You can buy at most 3 years now." in problem["detail"]
    direct = quote(
        shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "10", "years": 2}], channel="direct"
    )
    assert direct.status_code == 422
    assert direct.json()["most_years_now"] == 1
    assert "at most 12 months ahead on the direct channel" in direct.json()["detail"]


def test_a_datacenter_or_cloud_purchase_takes_its_years_the_same_way(shop: TestClient, world: World) -> None:
    cloud = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "years": 2}], instance="wiki_cloud")
    assert cloud.status_code == 422 and "`years`" in cloud.json()["detail"]
    assert cloud.json()["pointer"] == "/items/0"


def test_the_preview_prices_years_too(shop: TestClient, world: World) -> None:
    body = {
        "channel": "marketplace",
        "host": {"product": "wiki", "hosting": "server", "user_tier": "100"},
        "items": [{"action": "new", "product_key": MOCKUPS, "tier": "100", "years": 2}],
    }
    answer = shop.post("/api/v1/pricing/preview", json=body)
    assert answer.status_code == 200, answer.text
    [line] = answer.json()["lines"]
    assert (line["amount"], line["period_end"], line["formula"]["years"]) == ("1650.00", "2028-11-26", "2")


# -- a renewal at the host's tier -----------------------------------------------------------------------------


def test_a_marketplace_renewal_on_a_grown_host_is_quoted_paid_and_keyed_at_the_hosts_tier(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    _host_of(session_factory, world, 25)
    assert world.wiki_lab is not None
    bought = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "25"}], instance="wiki_lab")
    entitlement = bought["lines"][0]["license"]
    changed = shop.patch(
        f"/api/v1/host-instances/{world.wiki_lab.id}",
        json={"user_tier": 50},
        headers=world.auth("acme_admin"),
    )
    assert changed.status_code == 200, changed.text
    old_key = license_detail(shop, world, entitlement)["keys"][0]["key"]
    host = {"server_id": "ACME-WIKI-LAB", "host_tier": "50"}
    assert validate(shop, old_key, **host)["status"] == "USER_MISMATCH"

    renewal = quote(shop, world, [{"action": "renewal", "license": entitlement}], instance="wiki_lab")
    assert renewal.status_code == 201, renewal.text
    [line] = renewal.json()["lines"]
    assert (line["action"], line["tier"], line["license"]) == ("renewal", "50", entitlement)
    assert line["amount"] == "600.00"  # upgrade 600.00 − 300.00 + renewal 50% × 600.00
    assert (line["period_start"], line["period_end"]) == ("2027-11-26", "2028-11-26")
    assert line["explanation"].startswith("Renewal at 50 users (was 25 users): upgrade (")
    assert (line["formula"]["old_tier"], line["formula"]["new_tier"]) == ("25 users", "50 users")

    accepted = shop.post(f"/api/v1/quotes/{renewal.json()['id']}/accept", headers=world.auth("acme_admin"))
    invoice = accepted.json()["invoice"]
    paid = shop.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"amount": invoice["amount_due"], "reference": "TRF-TIER"},
        headers=world.auth("operator"),
    )
    assert paid.status_code == 200, paid.text
    detail = license_detail(shop, world, entitlement)
    assert (detail["tier"], detail["maintenance_end"]) == ("50", "2028-11-26")
    assert [t["kind"] for t in detail["history"]] == ["new", "renewal"]
    new_key = next(k["key"] for k in detail["keys"] if k["state"] == "current")
    assert validate(shop, new_key, **host)["status"] == "VALID"


def test_the_buyer_may_name_a_larger_tier_but_not_one_below_the_host(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    _host_of(session_factory, world, 25)
    assert world.wiki_lab is not None
    bought = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "25"}], instance="wiki_lab")
    entitlement = bought["lines"][0]["license"]
    shop.patch(
        f"/api/v1/host-instances/{world.wiki_lab.id}",
        json={"user_tier": 50},
        headers=world.auth("acme_admin"),
    )
    larger = quote(
        shop, world, [{"action": "renewal", "license": entitlement, "tier": "100"}], instance="wiki_lab"
    )
    assert larger.status_code == 201, larger.text
    assert larger.json()["lines"][0]["tier"] == "100"
    assert larger.json()["lines"][0]["amount"] == "1350.00"  # 1,100.00 − 300.00 + 550.00
    too_small = quote(
        shop, world, [{"action": "renewal", "license": entitlement, "tier": "25"}], instance="wiki_lab"
    )
    assert too_small.status_code == 422
    assert too_small.json()["type"] == "/api/v1/problems/tier-mismatch"
    assert too_small.json()["suggested_tier"] == "50 users" and too_small.json()["pointer"] == "/items/0"


def test_a_direct_renewal_stays_at_the_licenses_tier(
    shop: TestClient, world: World, clock: FixedClock
) -> None:
    bought = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "10"}], channel="direct")
    clock.advance(days=340)  # within the renewal window: a direct store sells 12 months ahead
    renewal = quote(
        shop, world, [{"action": "renewal", "license": bought["lines"][0]["license"]}], channel="direct"
    )
    assert renewal.status_code == 201, renewal.text
    [line] = renewal.json()["lines"]
    assert (line["tier"], line["amount"]) == ("10", "5.00")  # the host has 100 users: no match is required
    assert line["explanation"].startswith("Renewal: ")


def test_a_renewal_of_a_license_that_covers_the_host_is_unchanged(shop: TestClient, world: World) -> None:
    bought = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "250"}])
    renewal = quote(shop, world, [{"action": "renewal", "license": bought["lines"][0]["license"]}])
    [line] = renewal.json()["lines"]
    assert (line["tier"], line["amount"]) == ("250", "1100.00")
    assert line["formula"]["rule"] == "renewal"


# -- once per host ---------------------------------------------------------------------------------------------


def test_an_app_licensed_for_a_host_cannot_be_bought_again_for_it(shop: TestClient, world: World) -> None:
    bought = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    entitlement = bought["lines"][0]["license"]
    for channel, tier in (("marketplace", "100"), ("direct", "10")):
        again = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": tier}], channel=channel)
        assert again.status_code == 409, again.text
        problem = again.json()
        assert problem["type"] == "/api/v1/problems/already-licensed"
        assert problem["license"] == entitlement and entitlement in problem["detail"]
        assert problem["way_out"] == ["renewal", "upgrade"]
        assert "Renew it" in problem["detail"] and "upgrade it" in problem["detail"]
        assert problem["product_key"] == MOCKUPS and problem["pointer"] == "/items/0"
    with_another_app = quote(
        shop,
        world,
        [
            {"action": "new", "product_key": SSO, "tier": "100"},
            {"action": "new", "product_key": MOCKUPS, "tier": "100"},
        ],
    )
    assert with_another_app.status_code == 409 and with_another_app.json()["pointer"] == "/items/1"


def test_an_app_cannot_be_bought_twice_in_one_quote(shop: TestClient, world: World) -> None:
    twice = quote(
        shop,
        world,
        [
            {"action": "new", "product_key": MOCKUPS, "tier": "100"},
            {"action": "new", "product_key": MOCKUPS, "tier": "250"},
        ],
    )
    assert twice.status_code == 409
    assert twice.json()["type"] == "/api/v1/problems/already-licensed"
    assert (twice.json()["item"], twice.json()["pointer"]) == (2, "/items/1")
    assert "twice in this quote" in twice.json()["detail"]


def test_an_unpaid_invoice_for_the_app_counts_as_licensed(shop: TestClient, world: World) -> None:
    created = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}]).json()
    invoice = shop.post(f"/api/v1/quotes/{created['id']}/accept", headers=world.auth("acme_admin")).json()
    again = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    assert again.status_code == 409
    assert again.json()["invoice"] == invoice["invoice"]["number"]


def test_a_renewal_paid_after_another_quotes_upgrade_keeps_the_larger_tier(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    _host_of(session_factory, world, 25)
    bought = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "25"}], instance="wiki_lab")
    entitlement = bought["lines"][0]["license"]
    renewal = quote(shop, world, [{"action": "renewal", "license": entitlement}], instance="wiki_lab").json()
    assert renewal["lines"][0]["tier"] == "25"
    buy(shop, world, [{"action": "upgrade", "license": entitlement, "tier": "100"}], instance="wiki_lab")
    invoice = shop.post(f"/api/v1/quotes/{renewal['id']}/accept", headers=world.auth("acme_admin")).json()[
        "invoice"
    ]
    paid = shop.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"amount": invoice["amount_due"], "reference": "TRF-LATE-RENEWAL"},
        headers=world.auth("operator"),
    )
    assert paid.status_code == 200, paid.text
    detail = license_detail(shop, world, entitlement)
    assert (detail["tier"], detail["maintenance_end"]) == ("100", "2028-11-26")
