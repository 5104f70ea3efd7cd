"""``POST /api/v1/pricing/preview`` through HTTP: the seed FAQ's cases, splits, totals and bad input."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

MOCKUPS = "com.example.mockups.wiki"
WIKI_SERVER_100 = {
    "product": "wiki",
    "hosting": "server",
    "user_tier": "100",
    "maintenance_end": "2027-06-30",
}


def preview(
    client: TestClient, items: list[dict[str, Any]], channel: str = "marketplace", **host: Any
) -> Any:
    body = {"channel": channel, "date": "2026-11-26", "host": {**WIKI_SERVER_100, **host}, "items": items}
    return client.post("/api/v1/pricing/preview", json=body)


def test_host_license_and_apps_of_several_vendors_on_one_preview(client: TestClient) -> None:
    response = preview(
        client,
        [
            {"action": "new", "product_key": "wiki", "tier": "100"},
            {"action": "new", "product_key": MOCKUPS, "tier": "100"},
            {"action": "new", "product_key": "com.diagramly.diagrams.wiki", "tier": "100"},
        ],
    )
    assert response.status_code == 200, response.text
    result = response.json()
    amounts = [Decimal(line["amount"]) for line in result["lines"]]
    assert amounts == [Decimal("3300.00"), Decimal("1100.00"), Decimal("950.00")]
    assert result["totals"] == [{"currency": "USD", "amount": "5350.00"}]
    host_line, *app_lines = result["lines"]
    assert host_line["revenue_split"] is None  # the operator's own product: nothing to share
    for line in app_lines:
        split = line["revenue_split"]
        assert Decimal(split["vendor_amount"]) + Decimal(split["operator_amount"]) == Decimal(line["amount"])
        assert split["vendor_share_rate"] == "0.7500"
    assert "USD 1,100.00" in app_lines[0]["explanation"]
    assert all(line["seller_of_record"] == "operator" for line in result["lines"])


def test_marketplace_refuses_10_user_app_for_100_user_host_and_offers_the_matching_tier(
    client: TestClient,
) -> None:
    response = preview(client, [{"action": "new", "product_key": MOCKUPS, "tier": "10"}])
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["type"] == "/api/v1/problems/tier-mismatch"
    assert problem["suggested_tier"] == "100 users"
    assert "100-user tier" in problem["detail"]
    assert (problem["item"], problem["pointer"]) == (1, "/items/0")


def test_direct_channel_allows_10_user_app_for_100_user_host(client: TestClient) -> None:
    response = preview(client, [{"action": "new", "product_key": MOCKUPS, "tier": "10"}], channel="direct")
    assert response.status_code == 200, response.text
    line = response.json()["lines"][0]
    assert line["amount"] == "10.00"
    assert line["seller_of_record"] == "vendor"
    assert line["revenue_split"] is None


def test_three_years_of_maintenance_at_once_on_marketplace_refused_direct(client: TestClient) -> None:
    item = {
        "action": "renewal",
        "product_key": MOCKUPS,
        "tier": "100",
        "maintenance_end": "2026-12-20",
        "years": 3,
    }
    marketplace = preview(client, [item])
    assert marketplace.status_code == 200, marketplace.text
    line = marketplace.json()["lines"][0]
    assert line["amount"] == "1650.00"  # 50% of 1,100.00 × 3
    assert (line["period_start"], line["period_end"]) == ("2026-12-20", "2029-12-20")
    direct = preview(client, [item], channel="direct")
    assert direct.status_code == 422
    assert direct.json()["type"] == "/api/v1/problems/maintenance-cap-exceeded"


def test_co_term_two_apps_of_different_vendors_to_host_maintenance_end(client: TestClient) -> None:
    response = preview(
        client,
        [
            {"action": "co_term", "product_key": MOCKUPS, "tier": "100", "maintenance_end": "2027-01-15"},
            {
                "action": "co_term",
                "product_key": "com.gatekeeper.sso.wiki",
                "tier": "100",
                "maintenance_end": "2027-03-01",
            },
        ],
    )
    assert response.status_code == 200, response.text
    lines = response.json()["lines"]
    assert {line["period_end"] for line in lines} == {"2027-06-30"}
    # 50% of 1,100.00 × 166 days / 365 = 250.136... → 250.14
    assert lines[0]["amount"] == "250.14"


def test_co_term_that_would_shorten_is_refused(client: TestClient) -> None:
    response = preview(
        client,
        [{"action": "co_term", "product_key": MOCKUPS, "tier": "100", "maintenance_end": "2028-01-01"}],
    )
    assert response.status_code == 422
    assert response.json()["type"] == "/api/v1/problems/co-term-would-shorten"


def test_cloud_app_is_sold_only_through_the_marketplace(client: TestClient) -> None:
    cloud = {
        "hosting": "cloud",
        "user_tier": None,
        "users": 40,
        "billing_cycle": "monthly",
        "maintenance_end": None,
    }
    item = {"action": "cloud_subscription", "product_key": MOCKUPS}
    marketplace = preview(client, [item], **cloud)
    assert marketplace.status_code == 200, marketplace.text
    # 10.00 flat + 30 users × 1.50
    assert marketplace.json()["lines"][0]["amount"] == "55.00"
    assert marketplace.json()["lines"][0]["revenue_split"]["vendor_share_rate"] == "0.8500"
    direct = preview(client, [item], channel="direct", **cloud)
    assert direct.status_code == 422
    assert direct.json()["type"] == "/api/v1/problems/channel-not-allowed"


def test_direct_preview_of_several_vendors_is_refused(client: TestClient) -> None:
    # Both apps are for the tracker and sold direct, so each alone prices: only their mix is refused.
    mockups = {"action": "new", "product_key": "com.example.mockups.tracker", "tier": "100"}
    timekeep = {"action": "new", "product_key": "io.timekeep.tracker", "tier": "100"}
    for item in (mockups, timekeep):
        alone = preview(client, [item], channel="direct", product="tracker")
        assert alone.status_code == 200, alone.text
    response = preview(client, [mockups, timekeep], channel="direct", product="tracker")
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "A direct purchase is billed by one vendor, but these items come from several. Price each vendor's "
        "apps separately, or buy them together on the marketplace."
    )


@pytest.mark.parametrize(
    ("items", "host", "status", "problem_type"),
    [
        (
            [{"action": "new", "product_key": "com.example.unknown", "tier": "100"}],
            {},
            422,
            "unknown-product",
        ),
        ([{"action": "new", "product_key": MOCKUPS, "tier": "-5"}], {}, 422, "invalid-input"),
        (
            [{"action": "new", "product_key": MOCKUPS, "tier": "100"}],
            {"user_tier": "lots"},
            422,
            "invalid-input",
        ),
        (
            [{"action": "new", "product_key": MOCKUPS, "tier": "30"}],
            {"user_tier": "25"},
            422,
            "tier-not-sold",
        ),
        (
            [{"action": "new", "product_key": "com.example.mockups.tracker", "tier": "100"}],
            {},
            422,
            "invalid-input",
        ),
        (
            [{"action": "new", "product_key": "com.gatekeeper.sso.wiki", "tier": "100"}],
            {"hosting": "datacenter"},
            422,
            "invalid-input",
        ),
        (
            [
                {
                    "action": "cloud_user_change",
                    "product_key": MOCKUPS,
                    "old_users": 0,
                    "new_users": 5,
                    "cycle_end": "2026-12-01",
                }
            ],
            {},
            422,
            "invalid-input",
        ),
        (
            [
                {
                    "action": "upgrade",
                    "product_key": MOCKUPS,
                    "from_tier": "100",
                    "tier": "50",
                    "maintenance_end": "2027-03-01",
                }
            ],
            {},
            422,
            "not-an-upgrade",
        ),
        (
            [
                {
                    "action": "upgrade",
                    "product_key": MOCKUPS,
                    "from_tier": "50",
                    "tier": "100",
                    "maintenance_end": "2026-03-01",
                }
            ],
            {},
            422,
            "renewal-required-first",
        ),
        ([{"action": "refund", "product_key": MOCKUPS}], {}, 422, "invalid-input"),
        ([], {}, 422, "invalid-input"),
        (
            [{"action": "new", "product_key": MOCKUPS, "tier": "100"}],
            {"product": "spreadsheet"},
            422,
            "unknown-product",
        ),
    ],
)
def test_bad_input_is_a_problem_document_never_a_500(
    client: TestClient, items: list[dict[str, Any]], host: dict[str, Any], status: int, problem_type: str
) -> None:
    response = preview(client, items, **host)
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["type"] == f"/api/v1/problems/{problem_type}"
    assert problem["detail"] and problem["detail"][0].isupper()


def test_dates_in_the_wrong_order_are_refused(client: TestClient) -> None:
    response = preview(
        client,
        [
            {
                "action": "cloud_user_change",
                "product_key": MOCKUPS,
                "old_users": 20,
                "new_users": 30,
                "cycle_end": "2026-11-01",
            }
        ],
        hosting="cloud",
        user_tier=None,
        users=20,
        billing_cycle="monthly",
        maintenance_end=None,
    )
    assert response.status_code == 422
    assert response.json()["type"] == "/api/v1/problems/dates-out-of-order"


def test_malformed_json_is_a_400_problem(client: TestClient) -> None:
    response = client.post(
        "/api/v1/pricing/preview",
        content=b'{"channel": "marketplace",',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["type"] == "/api/v1/problems/malformed-json"


def test_unknown_route_and_wrong_method_are_problems(client: TestClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = client.get("/api/v1/pricing/preview")
    assert wrong.status_code == 405
    assert wrong.json()["type"] == "/api/v1/problems/method-not-allowed"
