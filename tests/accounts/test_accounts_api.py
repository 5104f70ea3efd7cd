"""The accounts API as its users meet it: happy paths, and bad input answered with a 4xx problem, never 500."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from accounts.conftest import Demo

API = "/api/v1"


def test_me_shows_the_user_roles_and_scopes(client: TestClient, demo: Demo) -> None:
    me = client.get(f"{API}/me", headers=demo.auth("acme_billing")).json()
    assert (
        me["user"]["email"] == "billing@acme.example" and me["user"]["has_password"] is True
    )  # the demo password
    assert me["operator"] is False and me["scopes"] == ["read", "write"]
    assert me["memberships"] == [
        {
            "role": "billing_contact",
            "organisation": {"id": demo.acme_id, "slug": "acme", "name": "Acme Corp"},
            "vendor": None,
        }
    ]
    vendor = client.get(f"{API}/me", headers=demo.auth("mockups_vendor")).json()
    assert vendor["memberships"][0]["vendor"]["slug"] == "example-mockups"
    assert client.get(f"{API}/me", headers=demo.auth("operator")).json()["operator"] is True


def test_operator_creates_an_organisation_and_pages_through_all(client: TestClient, demo: Demo) -> None:
    created = client.post(
        f"{API}/organisations",
        headers=demo.auth("operator"),
        json={"slug": "initech", "name": "Initech", "billing_email": "AP@initech.example", "country": "us"},
    )
    assert created.status_code == 201
    assert created.json() | {"id": None, "created_at": None} == {
        "id": None,
        "slug": "initech",
        "name": "Initech",
        "billing_email": "ap@initech.example",
        "country": "US",
        "created_at": None,
    }
    first = client.get(f"{API}/organisations", headers=demo.auth("operator"), params={"limit": 2}).json()
    assert [o["slug"] for o in first["items"]] == ["acme", "globex"] and first["total"] == 3
    rest = client.get(f"{API}/organisations", headers=demo.auth("operator"), params={"offset": 2}).json()
    assert [o["slug"] for o in rest["items"]] == ["initech"]
    found = client.get(f"{API}/organisations", headers=demo.auth("operator"), params={"q": "init"}).json()
    assert found["total"] == 1
    by_id = client.get(f"{API}/organisations/{created.json()['id']}", headers=demo.auth("operator")).json()
    assert by_id["slug"] == "initech"


def test_customers_list_only_their_organisations(client: TestClient, demo: Demo) -> None:
    mine = client.get(f"{API}/organisations", headers=demo.auth("globex_admin")).json()
    assert [o["slug"] for o in mine["items"]] == ["globex"] and mine["total"] == 1
    assert client.get(f"{API}/organisations", headers=demo.auth("mockups_vendor")).json()["total"] == 0


def test_an_admin_adds_members_by_email(client: TestClient, demo: Demo) -> None:
    added = client.post(
        f"{API}/organisations/acme/members",
        headers=demo.auth("acme_admin"),
        json={"email": "Carol@Acme.example", "role": "customer_admin", "name": "Carol Acme"},
    )
    assert added.status_code == 201
    body = added.json()
    assert body | {"since": None} == {
        "email": "carol@acme.example",
        "role": "customer_admin",
        "organisation": "acme",
        "since": None,
    }
    # An existing user (Globex's admin) gets a role in Acme too; the answer has the same shape and says
    # nothing about whether the address had an account, nor about Globex.
    existing = client.post(
        f"{API}/organisations/{demo.acme_id}/members",
        headers=demo.auth("operator"),
        json={"email": "admin@globex.example", "role": "billing_contact"},
    )
    assert existing.status_code == 201
    assert set(existing.json()) == set(body) and "globex" not in existing.text.replace("admin@globex", "")
    twice = client.post(
        f"{API}/organisations/acme/members",
        headers=demo.auth("acme_admin"),
        json={"email": "carol@acme.example", "role": "customer_admin"},
    )
    assert twice.status_code == 409 and "already a customer admin of Acme Corp" in twice.json()["detail"]
    members = client.get(f"{API}/organisations/acme/members", headers=demo.auth("acme_billing")).json()
    assert members["total"] == 4
    assert [(m["user"]["email"], m["role"]) for m in members["items"]] == [
        ("admin@acme.example", "customer_admin"),
        ("admin@globex.example", "billing_contact"),
        ("billing@acme.example", "billing_contact"),
        ("carol@acme.example", "customer_admin"),
    ]
    # Carol's membership makes Acme visible to her at once.
    globex_admin_orgs = client.get(f"{API}/organisations", headers=demo.auth("globex_admin")).json()
    assert [o["slug"] for o in globex_admin_orgs["items"]] == ["acme", "globex"]


def test_demo_hosts_are_listed_and_filtered(client: TestClient, demo: Demo) -> None:
    hosts = client.get(f"{API}/organisations/acme/host-instances", headers=demo.auth("acme_billing")).json()
    assert [(h["host_product"], h["hosting"], h["server_id"]) for h in hosts["items"]] == [
        ("tracker", "server", "TR4K-8P2N-55ZX-Q9VE"),
        ("wiki", "cloud", "acme.wiki.example"),
        ("wiki", "server", "BX7Q-2M9L-33KD-W1PA"),
    ]
    wiki = hosts["items"][2]
    assert (wiki["user_tier"], wiki["host_license_type"], wiki["host_maintenance_end"]) == (
        100,
        "commercial",
        "2027-06-30",
    )
    cloud = hosts["items"][1]
    assert (cloud["cloud_users"], cloud["billing_cycle"], cloud["user_tier"]) == (40, "monthly", None)
    only_cloud = client.get(
        f"{API}/organisations/acme/host-instances",
        headers=demo.auth("acme_admin"),
        params={"hosting": "cloud"},
    ).json()
    assert only_cloud["total"] == 1
    trackers = client.get(
        f"{API}/organisations/acme/host-instances",
        headers=demo.auth("acme_admin"),
        params={"host_product": "tracker"},
    ).json()
    assert trackers["total"] == 1
    one = client.get(f"{API}/host-instances/{demo.acme_wiki_server_id}", headers=demo.auth("acme_admin"))
    assert one.json()["server_id"] == "BX7Q-2M9L-33KD-W1PA"


def test_an_admin_registers_and_changes_hosts(client: TestClient, demo: Demo) -> None:
    created = client.post(
        f"{API}/organisations/acme/host-instances",
        headers=demo.auth("acme_admin"),
        json={
            "host_product": "wiki",
            "hosting": "datacenter",
            "server_id": "DC7Q-0000-1111-2222",
            "user_tier": "unlimited",
            "host_maintenance_end": "2027-12-31",
            "host_license_type": "academic",
        },
    )
    assert created.status_code == 201, created.text
    host = created.json()
    assert (host["user_tier"], host["host_license_type"], host["name"]) == (-1, "academic", "")
    changed = client.patch(
        f"{API}/host-instances/{host['id']}",
        headers=demo.auth("operator"),
        json={"user_tier": 2000, "name": "Acme DC", "host_license_type": None},
    )
    assert changed.status_code == 200
    assert changed.json() | {"created_at": None} == host | {
        "user_tier": 2000,
        "name": "Acme DC",
        "host_license_type": "commercial",
        "created_at": None,
    }
    cloud = client.post(
        f"{API}/organisations/acme/host-instances",
        headers=demo.auth("acme_admin"),
        json={
            "host_product": "tracker",
            "hosting": "cloud",
            "server_id": "acme.tracker.example",
            "cloud_users": 12,
            "billing_cycle": "annual",
            "next_billing_date": "2027-01-15",
        },
    )
    assert cloud.status_code == 201
    grown = client.patch(
        f"{API}/host-instances/{cloud.json()['id']}",
        headers=demo.auth("acme_admin"),
        json={"cloud_users": 30},
    )
    assert grown.json()["cloud_users"] == 30 and grown.json()["billing_cycle"] == "annual"


WIKI_SERVER: dict[str, Any] = {
    "host_product": "wiki",
    "hosting": "server",
    "server_id": "NEW-1",
    "user_tier": 50,
}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "words"),
    [
        ("POST", "/organisations", {"slug": "x"}, 422, "name: Field required"),
        (
            "POST",
            "/organisations",
            {"slug": "Bad Slug", "name": "X", "billing_email": "a@b.example"},
            422,
            "slug",
        ),
        ("POST", "/organisations", {"slug": "x", "name": "X", "billing_email": "nope"}, 422, "e-mail"),
        ("POST", "/organisations", {"slug": "x", "name": " ", "billing_email": "a@b.example"}, 422, "empty"),
        (
            "POST",
            "/organisations",
            {"slug": "acme", "name": "X", "billing_email": "a@b.example"},
            409,
            "exists",
        ),
        (
            "POST",
            "/organisations",
            {"slug": "x", "name": "X", "billing_email": "a@b.example", "country": "XX"},
            422,
            "country",
        ),
        ("POST", "/organisations/acme/members", {"email": "a@acme.example", "role": "owner"}, 422, "role"),
        (
            "POST",
            "/organisations/acme/members",
            {"email": "not-mail", "role": "customer_admin"},
            422,
            "e-mail",
        ),
        ("POST", "/organisations/acme/host-instances", WIKI_SERVER | {"user_tier": 0}, 422, "tier"),
        ("POST", "/organisations/acme/host-instances", WIKI_SERVER | {"user_tier": 10**30}, 422, "tier"),
        ("POST", "/organisations/acme/host-instances", WIKI_SERVER | {"user_tier": "lots"}, 422, "user_tier"),
        ("POST", "/organisations/acme/host-instances", WIKI_SERVER | {"hosting": "moon"}, 422, "hosting"),
        ("POST", "/organisations/acme/host-instances", WIKI_SERVER | {"cloud_users": 5}, 422, "cloud users"),
        (
            "POST",
            "/organisations/acme/host-instances",
            WIKI_SERVER | {"server_id": "BX7Q-2M9L-33KD-W1PA"},
            409,
            "already registered",
        ),
        (
            "POST",
            "/organisations/acme/host-instances",
            {
                "host_product": "wiki",
                "hosting": "cloud",
                "server_id": "big.wiki.example",
                "cloud_users": 2**40,
                "billing_cycle": "monthly",
                "next_billing_date": "2027-01-01",
            },
            422,
            "users",
        ),
        ("PATCH", "/host-instances/{wiki}", {"server_id": "OTHER"}, 422, "server_id"),
        ("PATCH", "/host-instances/{wiki}", {"billing_cycle": "monthly"}, 422, "not cloud users"),
        ("PATCH", "/host-instances/{wiki}", {"user_tier": None}, 422, "tier given was none"),
        (
            "PATCH",
            "/host-instances/{wiki}",
            {"host_maintenance_end": "2027-02-30"},
            422,
            "host_maintenance_end",
        ),
        ("POST", "/tokens", {"scopes": ["admin"]}, 422, "scopes"),
        ("POST", "/tokens", {"scopes": []}, 422, "scopes"),
        ("POST", "/tokens", {"expires_in_days": 0}, 422, "expires_in_days"),
        ("DELETE", "/tokens/not-an-id", None, 404, "no API token"),
        ("DELETE", "/tokens/00000000-0000-4000-8000-00000000dead", None, 404, "no API token"),
        ("GET", "/host-instances/not-an-id", None, 404, "no host instance"),
        ("GET", "/organisations/no-such-org", None, 404, "no organisation"),
        ("GET", "/organisations?limit=0", None, 422, "limit"),
        ("GET", "/organisations?limit=201", None, 422, "limit"),
        ("GET", "/organisations/acme/host-instances?hosting=moon", None, 422, "hosting"),
    ],
)
def test_bad_input_is_a_problem_with_a_sentence(
    client: TestClient, demo: Demo, method: str, path: str, body: Any, status: int, words: str
) -> None:
    response = client.request(
        method, API + path.format(wiki=demo.acme_wiki_server_id), headers=demo.auth("operator"), json=body
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert words in response.json()["detail"]


def test_malformed_json_is_a_400_problem(client: TestClient, demo: Demo) -> None:
    response = client.post(
        f"{API}/tokens",
        headers=demo.auth("acme_admin") | {"content-type": "application/json"},
        content=b"{nope",
    )
    assert response.status_code == 400 and response.json()["type"].endswith("malformed-json")


def test_every_accounts_endpoint_is_described_for_people(client: TestClient) -> None:
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    ours = {
        p: ops
        for p, ops in paths.items()
        if p.startswith(("/api/v1/me", "/api/v1/tokens", "/api/v1/organ", "/api/v1/host-inst"))
    }
    operations = [op for ops in ours.values() for op in ops.values()]
    assert len(operations) == 13
    for operation in operations:
        assert operation["summary"] and len(operation["description"]) > 40
        assert "accounts" in operation["tags"]
