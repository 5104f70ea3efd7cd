"""Nonsense is refused at the edge with a 422 problem that names the field, on SQLite and PostgreSQL alike.

Each test replays a finding: before the shared field types (``mercato.fields``) these inputs answered 500 on
PostgreSQL, were stored on SQLite, or were accepted as if they meant something.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from support.world import World

QUOTES = "/api/v1/quotes"
PREVIEW = "/api/v1/pricing/preview"
VALIDATE = "/api/v1/licenses/validate"
NOT_USER_TIERS = ["abc", "", "-1", "1e9", "100.0", "0", "١٠٠", "²", "1000001"]


def assert_refused(response: httpx.Response, field: str) -> None:
    """A 422 ``invalid-input`` problem whose sentence and ``errors`` name ``field``."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "/api/v1/problems/invalid-input"
    assert f"{field}: " in problem["detail"], problem["detail"]
    assert any(error["field"].endswith(field) for error in problem["errors"]), problem["errors"]


def new_item(tier: str) -> dict[str, Any]:
    return {"action": "new", "product_key": "com.example.mockups.wiki", "tier": tier}


def test_nul_in_a_stored_text_field_is_refused_and_nothing_is_stored(api: TestClient, world: World) -> None:
    body = {"slug": "nul-corp", "name": "NUL\x00Corp", "billing_email": "ap@nul.example"}
    assert_refused(api.post("/api/v1/organisations", headers=world.auth("operator"), json=body), "name")
    listed = api.get("/api/v1/organisations", headers=world.auth("operator"), params={"q": "nul-corp"}).json()
    assert listed["total"] == 0


@pytest.mark.parametrize("character", ["\x00", "\x1b", "\n", "\x7f", "\x85"])
def test_control_characters_in_one_line_text_are_refused(
    api: TestClient, world: World, character: str
) -> None:
    body = {"host_product": "wiki", "hosting": "server", "server_id": f"SRV{character}1", "user_tier": 100}
    response = api.post(
        f"/api/v1/organisations/{world.acme.slug}/host-instances", headers=world.auth("acme_admin"), json=body
    )
    assert_refused(response, "server_id")


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/apps", {"q": "wiki\x00"}, "q"),
        ("/api/v1/apps", {"vendor": "\x00"}, "vendor"),
        ("/api/v1/apps/com.example%00", {}, "app_key"),
        ("/api/v1/host-products/wiki%00", {}, "key"),
        ("/api/v1/organisations", {"q": "\x00"}, "q"),
        ("/api/v1/organisations/acme%00/members", {}, "organisation"),
        ("/api/v1/licenses", {"product_key": "\x00"}, "product_key"),
        ("/api/v1/licenses/SEN-1%00", {}, "entitlement_number"),
        ("/api/v1/issuers/operator%00/jwks", {}, "issuer"),
        ("/api/v1/vendors/example-mockups%00/transitions", {}, "slug"),
        ("/api/v1/vendors/example-mockups/transitions/1%00", {}, "campaign_id"),
        ("/api/v1/vendors/example-mockups%00/license-imports", {}, "slug"),
    ],
)
def test_nul_in_a_query_or_path_is_refused(
    api: TestClient, world: World, path: str, params: dict[str, str], field: str
) -> None:
    assert_refused(api.get(path, params=params, headers=world.auth("operator")), field)


def list_endpoints(api: TestClient) -> list[str]:
    document = api.get("/api/v1/openapi.json").json()
    return [
        path
        for path, operations in document["paths"].items()
        if any(parameter["name"] == "offset" for parameter in operations.get("get", {}).get("parameters", []))
    ]


def test_every_list_endpoint_refuses_an_offset_beyond_what_a_database_takes(
    api: TestClient, world: World
) -> None:
    paths = list_endpoints(api)
    assert len(paths) >= 8, paths
    hook = {"url": "https://hooks.example.com/in", "events": ["license.created"], "vendor": "example-mockups"}
    endpoint = api.post("/api/v1/webhook-endpoints", headers=world.auth("operator"), json=hook).json()["id"]
    for path in paths:
        url = path.format(organisation=world.acme.slug, endpoint=endpoint, slug="example-mockups")
        for offset in (2**63, 2**64 + 1, 2**31):
            assert_refused(api.get(url, params={"offset": offset}, headers=world.auth("operator")), "offset")
        assert api.get(url, params={"offset": 2**31 - 1}, headers=world.auth("operator")).status_code == 200


def test_a_quote_item_tier_that_is_not_a_number_of_users_is_refused(api: TestClient, world: World) -> None:
    for tier in NOT_USER_TIERS:
        body = {"host_instance_id": str(world.wiki_server.id), "items": [new_item(tier)]}
        assert_refused(api.post(QUOTES, headers=world.auth("acme_admin"), json=body), "tier")


def test_preview_prices_tiers_as_people_write_them_and_refuses_the_rest(api: TestClient) -> None:
    def preview(tier: str) -> httpx.Response:
        host = {"product": "wiki", "hosting": "server", "user_tier": "100"}
        return api.post(PREVIEW, json={"host": host, "items": [new_item(tier)]})

    for tier in ["100", "10,000", "100 users", "unlimited", "Unlimited"]:
        assert preview(tier).status_code == 200, (tier, preview(tier).text)
    for tier in NOT_USER_TIERS:
        assert_refused(preview(tier), "tier")


def test_a_validated_host_tier_that_is_not_a_number_of_users_is_refused(api: TestClient) -> None:
    for tier in ["abc", "", "-1", "1e9", "100.0", "0", "١٠٠", "²"]:
        body = {"key": "x", "app_key": "com.example.mockups.wiki", "hosting": "server", "server_id": "S"}
        assert_refused(api.post(VALIDATE, json=body | {"host_tier": tier}), "host_tier")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"date": "9999-12-31"}, "date"),
        ({"date": "0001-01-01"}, "date"),
        (
            {"items": [{**new_item("100"), "action": "renewal", "maintenance_end": "9999-06-01"}]},
            "maintenance_end",
        ),
        (
            {
                "host": {
                    "product": "wiki",
                    "hosting": "server",
                    "user_tier": "100",
                    "maintenance_end": "9999-12-31",
                }
            },
            "maintenance_end",
        ),
    ],
)
def test_pricing_preview_refuses_dates_outside_the_years_it_computes(
    api: TestClient, changes: dict[str, Any], field: str
) -> None:
    body = {"host": {"product": "wiki", "hosting": "server", "user_tier": "100"}, "items": [new_item("100")]}
    assert_refused(api.post(PREVIEW, json=body | changes), field)


def test_a_payment_dated_year_one_is_refused_and_the_invoice_stays_open(
    api: TestClient, world: World
) -> None:
    quote = api.post(
        QUOTES,
        headers=world.auth("acme_admin"),
        json={"host_instance_id": str(world.wiki_server.id), "items": [new_item("100")]},
    ).json()
    invoice = api.post(f"{QUOTES}/{quote['id']}/accept", headers=world.auth("acme_admin")).json()["invoice"]
    payment = {"amount": invoice["total"], "reference": "BANK-1", "received_on": "0001-01-01"}
    response = api.post(
        f"/api/v1/invoices/{invoice['id']}/payments", headers=world.auth("operator"), json=payment
    )
    assert_refused(response, "received_on")
    after = api.get(f"/api/v1/invoices/{invoice['id']}", headers=world.auth("operator")).json()
    assert (after["status"], after["payments"]) == ("open", [])


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31", "2100-01-01"])
def test_host_dates_outside_the_years_mercato_computes_are_refused(
    api: TestClient, world: World, day: str
) -> None:
    server = api.patch(
        f"/api/v1/host-instances/{world.wiki_server.id}",
        headers=world.auth("acme_admin"),
        json={"host_maintenance_end": day},
    )
    assert_refused(server, "host_maintenance_end")
    cloud = api.patch(
        f"/api/v1/host-instances/{world.wiki_cloud.id}",
        headers=world.auth("acme_admin"),
        json={"next_billing_date": day},
    )
    assert_refused(cloud, "next_billing_date")


def test_refund_of_a_line_id_beyond_what_a_database_takes_is_refused(api: TestClient, world: World) -> None:
    response = api.post(
        f"/api/v1/invoices/{world.wiki_server.id}/lines/{2**64}/refund",
        headers=world.auth("operator"),
        json={},
    )
    assert_refused(response, "line_id")


def test_an_import_file_with_nul_bytes_or_absurd_cells_is_refused_naming_line_and_column(
    api: TestClient, world: World
) -> None:
    header = "organisation,contact_email,host_product,hosting,server_id,tier,license_type,purchase_date," + (
        "maintenance_end,reference,app,host_tier"
    )
    cells = (
        "Initech,it@initech.example,wiki,server,S-1,50,commercial,2026-03-01,2027-03-01,{},"
        "com.example.mockups.wiki,100"
    )
    for reference, detail in (("R\x001", "NUL"), ("R" * 5000, "characters long")):
        response = api.post(
            "/api/v1/vendors/example-mockups/license-imports",
            content=f"{header}\n{cells.format(reference)}\n".encode(),
            params={"dry_run": "true"},
            headers=world.auth("mockups_vendor") | {"Content-Type": "text/csv"},
        )
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert (error["line"], error["column"]) == (2, "reference") and detail in error["detail"]


def test_every_list_endpoint_pages_with_a_cursor_and_refuses_one_it_did_not_give_out(
    api: TestClient, world: World
) -> None:
    document = api.get("/api/v1/openapi.json").json()
    paths = [
        path
        for path, operations in document["paths"].items()
        if any(parameter["name"] == "after" for parameter in operations.get("get", {}).get("parameters", []))
    ]
    assert set(list_endpoints(api)) <= set(paths), "a list takes offset but not after"
    hook = {"url": "https://hooks.example.com/in", "events": ["license.created"], "vendor": "example-mockups"}
    endpoint = api.post("/api/v1/webhook-endpoints", headers=world.auth("operator"), json=hook).json()["id"]
    # A cursor of another list: well-formed, and still refused.
    foreign = base64.urlsafe_b64encode(b'["elsewhere","2026-01-01T00:00:00+00:00","x"]').decode().rstrip("=")
    for path in paths:
        url = path.format(organisation=world.acme.slug, endpoint=endpoint, slug="example-mockups")
        first = api.get(url, params={"limit": 1}, headers=world.auth("operator"))
        assert first.status_code == 200, (path, first.text)
        assert {"items", "has_more", "next_after"} <= set(first.json()), path
        if first.json()["has_more"]:
            following = api.get(
                url, params={"limit": 1, "after": first.json()["next_after"]}, headers=world.auth("operator")
            )
            assert following.status_code == 200 and following.json()["items"] != first.json()["items"], path
        refused = api.get(url, params={"after": foreign}, headers=world.auth("operator"))
        assert refused.status_code == 422, (path, refused.text)
        assert refused.json()["type"] == "/api/v1/problems/invalid-cursor", path
