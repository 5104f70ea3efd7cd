"""Every commerce endpoint × every kind of caller: operator staff, Acme's admin and billing contact, the mockup
vendor's team member, Globex's admin (another organisation), no token, and Acme's admin's read-only token."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from support.access import Endpoint, assert_access
from support.world import World, add_wiki_server

from .test_seed_scenarios import MOCKUPS, buy, quote

DIAGRAMS = "com.diagramly.diagrams.wiki"
EVERYONE = {"operator", "acme_admin", "acme_billing", "globex_admin", "mockups_vendor"}
ACME = {"operator", "acme_admin", "acme_billing"}


def test_commerce_endpoints_show_nothing_outside_the_callers_organisations_and_vendors(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    # An app is licensed once per host instance: the mockup app's unpaid, direct and paid sales each get a host.
    with session_factory() as session, session.begin():
        add_wiki_server(session, world, "wiki_lab")
        add_wiki_server(session, world, "wiki_staging")
    open_quote = quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}]).json()
    to_accept = quote(shop, world, [{"action": "new", "product_key": DIAGRAMS, "tier": "100"}]).json()
    unpaid = shop.post(f"/api/v1/quotes/{open_quote['id']}/accept", headers=world.auth("acme_admin")).json()
    direct = quote(
        shop,
        world,
        [{"action": "new", "product_key": MOCKUPS, "tier": "10"}],
        channel="direct",
        instance="wiki_lab",
    ).json()
    direct_invoice = shop.post(
        f"/api/v1/quotes/{direct['id']}/accept", headers=world.auth("acme_admin")
    ).json()
    paid = buy(
        shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}], instance="wiki_staging"
    )
    params = {
        "quote": open_quote["id"],
        "to_accept": to_accept["id"],
        "invoice": unpaid["invoice"]["id"],
        "direct_invoice": direct_invoice["invoice"]["id"],
        "paid_invoice": paid["id"],
        "paid_line": str(paid["lines"][0]["id"]),
        "license": paid["lines"][0]["license"],
        "instance": str(world.wiki_server.id),
    }
    endpoints = [
        Endpoint("GET", "/api/v1/quotes", allowed=EVERYONE),
        Endpoint(
            "POST",
            "/api/v1/quotes",
            allowed={"operator", "acme_admin"},
            forbidden={"acme_billing"},
            body={
                "host_instance_id": params["instance"],
                # Neither MOCKUPS nor DIAGRAMS: the instance has them (an app is licensed once per host).
                "items": [{"action": "new", "product_key": "com.gatekeeper.sso.wiki", "tier": "100"}],
            },
        ),
        Endpoint("GET", "/api/v1/quotes/{quote}", allowed=ACME),
        Endpoint(
            "POST",
            "/api/v1/quotes/{to_accept}/accept",
            allowed={"operator", "acme_admin"},
            forbidden={"acme_billing"},
        ),
        Endpoint("GET", "/api/v1/invoices", allowed=EVERYONE),
        Endpoint("GET", "/api/v1/invoices/{invoice}", allowed=ACME),
        Endpoint("GET", "/api/v1/invoices/{direct_invoice}", allowed=ACME | {"mockups_vendor"}),
        Endpoint(
            "POST",
            "/api/v1/invoices/{invoice}/payments",
            allowed={"operator"},
            forbidden={"acme_admin", "acme_billing"},
            body={"amount": "1.00", "reference": "M-1"},
        ),
        # The vendor is the seller of record of its direct invoices: operator staff see them but do not act.
        Endpoint(
            "POST",
            "/api/v1/invoices/{direct_invoice}/payments",
            allowed={"mockups_vendor"},
            forbidden={"operator", "acme_admin", "acme_billing"},
            body={"amount": "1.00", "reference": "M-2"},
        ),
        Endpoint(
            "POST",
            "/api/v1/invoices/{paid_invoice}/lines/{paid_line}/refund",
            allowed={"operator"},
            forbidden={"acme_admin", "acme_billing"},
            body={"reason": "matrix"},
        ),
        Endpoint("GET", "/api/v1/licenses", allowed=EVERYONE),
        Endpoint("GET", "/api/v1/licenses/{license}", allowed=ACME | {"mockups_vendor"}),
    ]
    assert_access(shop, endpoints, world.tokens, read_only={"acme_read_only": "acme_admin"}, params=params)


def test_lists_hold_only_what_the_caller_may_see(shop: TestClient, world: World) -> None:
    buy(
        shop,
        world,
        [
            {"action": "new", "product_key": MOCKUPS, "tier": "100"},
            {"action": "new", "product_key": "com.gatekeeper.sso.wiki", "tier": "100"},
        ],
    )

    def total(path: str, caller: str) -> int:
        return int(shop.get(path, params={"include": "total"}, headers=world.auth(caller)).json()["total"])

    assert [total("/api/v1/quotes", who) for who in ("acme_admin", "globex_admin", "operator")] == [1, 0, 1]
    assert [total("/api/v1/invoices", who) for who in ("acme_billing", "globex_admin", "mockups_vendor")] == [
        1,
        0,
        0,  # the vendor sees its direct invoices only; this one was the marketplace's
    ]
    vendor_licenses = shop.get("/api/v1/licenses", headers=world.auth("mockups_vendor")).json()["items"]
    assert [lic["product_key"] for lic in vendor_licenses] == [MOCKUPS]
    keys = shop.get(
        f"/api/v1/licenses/{vendor_licenses[0]['entitlement_number']}", headers=world.auth("mockups_vendor")
    ).json()["keys"]
    assert keys[0]["key"] is None  # a marketplace license's key is the customer's, not the vendor's
    billing_keys = shop.get(
        f"/api/v1/licenses/{vendor_licenses[0]['entitlement_number']}", headers=world.auth("acme_billing")
    ).json()["keys"]
    assert billing_keys[0]["key"] is None
