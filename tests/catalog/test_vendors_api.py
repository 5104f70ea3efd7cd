"""Vendors through HTTP on both databases: creation, sign-up and approval, profile and payout details, members,
revenue-share agreements (and the split they give a sale), the direct store and its keys, and who may do what."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.access import Endpoint, assert_access

from mercato.accounts.api_tokens import TokenService
from mercato.accounts.demo import load_demo_accounts
from mercato.accounts.service import AccountService
from mercato.catalog.models import Vendor, VendorRevenueShare
from mercato.catalog.vendors import VendorProfile, VendorService
from mercato.clock import FixedClock
from mercato.commerce.models import InvoiceSeries
from mercato.keys.models import SigningKey

IBAN = "DE89370400440532013000"
BANK = {
    "method": "bank_transfer",
    "account_holder": "Fjord Apps AS",
    "iban": "DE89 3704 0044 0532 0130 00",
    "bic": "COBADEFFXXX",
    "currency": "EUR",
}


@dataclass(frozen=True)
class People:
    tokens: dict[str, str]

    def auth(self, caller: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[caller]}"}


@pytest.fixture
def people(session_factory: sessionmaker[Session], server_clock: FixedClock) -> People:
    """The demo accounts (operator, Acme's admin, a member of Example Mockups) and Fjord Apps, an active
    vendor whose one member has a token; and a read-only token of Fjord's member."""
    with session_factory() as session:
        load_demo_accounts(session)
        vendors = VendorService(session, "test-secret-key", server_clock)
        vendors.create(
            "fjord-test",
            VendorProfile("Fjord Test", "sales@fjord.example", "Fjord Test AS"),
            members=["ingrid@fjord.example"],
        )
        tokens = TokenService(session)
        accounts = AccountService(session)
        fjord = tokens.create(
            accounts.user_by_email("ingrid@fjord.example"), scopes=["read", "write"], name="t"
        )
        fjord_read = tokens.create(accounts.user_by_email("ingrid@fjord.example"), scopes=["read"], name="r")
        session.commit()
    return People(
        {
            "operator": "mct_demo_operator",
            "acme_admin": "mct_demo_acme_admin",
            "mockups_vendor": "mct_demo_mockups_vendor",
            "fjord": fjord.token,
            "fjord_read_only": fjord_read.token,
        }
    )


def _count(session_factory: sessionmaker[Session], model: Any, *where: Any) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def new_vendor(slug: str = "aurora-apps", **changes: Any) -> dict[str, Any]:
    body = {
        "slug": slug,
        "name": "Aurora Apps",
        "legal_name": "Aurora Apps Oy",
        "email": "sales@aurora.example",
        "website": "https://aurora.example",
        "payout_details": BANK,
        "revenue_share": [{"hosting": "server", "effective_from": "2026-01-01", "vendor_share": "0.80"}],
        "members": ["aino@aurora.example", "Eero@Aurora.example"],
    }
    return {**body, **changes}


def test_the_operator_creates_an_active_vendor_with_members_payout_and_agreement(
    client: TestClient, people: People, session_factory: sessionmaker[Session]
) -> None:
    created = client.post("/api/v1/vendors", json=new_vendor(), headers=people.auth("operator"))
    assert created.status_code == 201, created.text
    vendor = created.json()
    assert vendor["status"] == "active" and vendor["selling"] is True
    assert vendor["direct_store"] is False and vendor["selling_direct"] is False
    assert vendor["payout_details"] == {**BANK, "iban": IBAN, "account_email": None}
    assert vendor["revenue_share"] == [
        {"hosting": "server", "effective_from": "2026-01-01", "vendor_share": "0.8000"}
    ]
    members = client.get("/api/v1/vendors/aurora-apps/members", headers=people.auth("operator")).json()
    assert [m["email"] for m in members["items"]] == ["aino@aurora.example", "eero@aurora.example"]
    with session_factory() as session:  # new people get password-less accounts
        assert AccountService(session).user_by_email("aino@aurora.example").password_hash is None

    again = client.post("/api/v1/vendors", json=new_vendor(), headers=people.auth("operator"))
    assert again.status_code == 409 and again.json()["type"].endswith("/vendor-slug-taken")
    assert _count(session_factory, Vendor, Vendor.slug == "aurora-apps") == 1


def test_a_user_applies_and_nothing_is_sold_until_the_operator_approves(
    client: TestClient, people: People
) -> None:
    application = {"slug": "acme-tools", "name": "Acme Tools", "email": "tools@acme.example"}
    applied = client.post("/api/v1/vendor-applications", json=application, headers=people.auth("acme_admin"))
    assert applied.status_code == 201, applied.text
    assert applied.json()["status"] == "pending" and applied.json()["selling"] is False
    again = client.post("/api/v1/vendor-applications", json=application, headers=people.auth("acme_admin"))
    assert again.status_code == 200 and again.json()["id"] == applied.json()["id"]
    mine = client.get("/api/v1/vendors", headers=people.auth("acme_admin")).json()
    assert [v["slug"] for v in mine["items"]] == ["acme-tools"]
    pending = client.get("/api/v1/vendors?status=pending", headers=people.auth("operator")).json()
    assert "acme-tools" in [v["slug"] for v in pending["items"]]

    # The applicant can prepare, but only the operator decides; a pending store stays closed.
    assert (
        client.post("/api/v1/vendors/acme-tools/approve", headers=people.auth("acme_admin")).status_code
        == 403
    )
    closed = client.post(
        "/api/v1/vendors/acme-tools/direct-store", json={"enabled": True}, headers=people.auth("acme_admin")
    )
    assert closed.status_code == 409 and closed.json()["type"].endswith("/vendor-not-active")

    note = {"note": "Checked the company register."}
    approved = client.post("/api/v1/vendors/acme-tools/approve", json=note, headers=people.auth("operator"))
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "active" and approved.json()["status_note"] == note["note"]
    twice = client.post(
        "/api/v1/vendors/acme-tools/approve", json={"note": "x"}, headers=people.auth("operator")
    )
    assert twice.status_code == 200 and twice.json()["status_note"] == note["note"]

    suspended = client.post("/api/v1/vendors/acme-tools/suspend", headers=people.auth("operator"))
    assert suspended.json()["status"] == "suspended" and suspended.json()["selling"] is False
    wrong_way = client.post("/api/v1/vendors/acme-tools/approve", headers=people.auth("operator"))
    assert wrong_way.status_code == 409 and wrong_way.json()["type"].endswith("/vendor-status-conflict")
    back = client.post("/api/v1/vendors/acme-tools/reactivate", headers=people.auth("operator"))
    assert back.status_code == 200 and back.json()["status"] == "active"

    taken = client.post(
        "/api/v1/vendor-applications", json=application, headers=people.auth("mockups_vendor")
    )
    assert taken.status_code == 409


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"slug": "Not A Slug"}, "body.slug"),
        ({"email": "not-an-address"}, "body.email"),
        ({"website": "ftp://aurora.example"}, "body.website"),
        ({"members": ["aino@aurora.example", "nobody"]}, "body.members.1"),
        ({"payout_details": {**BANK, "iban": "DE00370400440532013000"}}, "body.payout_details.iban"),
        ({"payout_details": {**BANK, "bic": "12"}}, "body.payout_details.bic"),
        ({"payout_details": {**BANK, "currency": "euro"}}, "body.payout_details.currency"),
        ({"payout_details": {**BANK, "method": "cash"}}, "body.payout_details.method"),
        (
            {"payout_details": {"method": "paypal", "account_holder": "A", "currency": "EUR"}},
            "body.payout_details.account_email",
        ),
        (
            {"revenue_share": [{"hosting": "server", "effective_from": "2026-01-01", "vendor_share": "1.5"}]},
            "body.revenue_share.0.vendor_share",
        ),
        (
            {
                "revenue_share": [
                    {"hosting": "server", "effective_from": "2026-01-01", "vendor_share": "-0.1"}
                ]
            },
            "body.revenue_share.0.vendor_share",
        ),
        (
            {
                "revenue_share": [
                    {"hosting": "server", "effective_from": "2026-01-01", "vendor_share": "lots"}
                ]
            },
            "body.revenue_share.0.vendor_share",
        ),
        (
            {
                "revenue_share": [
                    {"hosting": "cloud", "effective_from": "2026-01-01", "vendor_share": "0.9"},
                    {"hosting": "cloud", "effective_from": "2026-01-01", "vendor_share": "0.8"},
                ]
            },
            "body.revenue_share.1.effective_from",
        ),
        ({"name": "Aurora\x00Apps"}, "body.name"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    client: TestClient,
    people: People,
    session_factory: sessionmaker[Session],
    changes: dict[str, Any],
    field: str,
) -> None:
    vendors_before, shares_before = (
        _count(session_factory, Vendor),
        _count(session_factory, VendorRevenueShare),
    )
    answer = client.post("/api/v1/vendors", json=new_vendor(**changes), headers=people.auth("operator"))
    assert answer.status_code == 422, answer.text
    assert field in [error["field"] for error in answer.json()["errors"]], answer.json()
    assert _count(session_factory, Vendor) == vendors_before
    assert _count(session_factory, VendorRevenueShare) == shares_before


def test_members_change_the_profile_but_never_the_slug(client: TestClient, people: People) -> None:
    changed = client.patch(
        "/api/v1/vendors/fjord-test",
        json={"website": "https://fjord.example", "payout_details": BANK, "legal_name": "Fjord Test ASA"},
        headers=people.auth("fjord"),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["website"] == "https://fjord.example"
    assert changed.json()["payout_details"]["iban"] == IBAN
    assert changed.json()["name"] == "Fjord Test"  # left out: kept
    cleared = client.patch(
        "/api/v1/vendors/fjord-test", json={"payout_details": None}, headers=people.auth("fjord")
    )
    assert cleared.json()["payout_details"] is None
    renamed = client.patch("/api/v1/vendors/fjord-test", json={"slug": "other"}, headers=people.auth("fjord"))
    assert renamed.status_code == 422
    bad = client.patch(
        "/api/v1/vendors/fjord-test",
        json={"payout_details": {**BANK, "iban": "GB00"}},
        headers=people.auth("fjord"),
    )
    assert bad.status_code == 422 and "body.payout_details.iban" in [e["field"] for e in bad.json()["errors"]]
    assert (
        client.get("/api/v1/vendors/fjord-test", headers=people.auth("fjord")).json()["payout_details"]
        is None
    )


def test_members_are_added_once_and_the_last_one_stays(client: TestClient, people: People) -> None:
    path = "/api/v1/vendors/fjord-test/members"
    added = client.post(
        path, json={"email": "Ola@Fjord.example", "name": "Ola"}, headers=people.auth("fjord")
    )
    assert added.status_code == 201 and added.json()["email"] == "ola@fjord.example"
    again = client.post(path, json={"email": "ola@fjord.example"}, headers=people.auth("fjord"))
    assert again.status_code == 200 and again.json()["user_id"] == added.json()["user_id"]
    emails = [m["email"] for m in client.get(path, headers=people.auth("fjord")).json()["items"]]
    assert emails == ["ingrid@fjord.example", "ola@fjord.example"]

    assert client.delete(f"{path}/ola@fjord.example", headers=people.auth("fjord")).status_code == 204
    assert client.delete(f"{path}/ola@fjord.example", headers=people.auth("fjord")).status_code == 204
    last = client.delete(f"{path}/ingrid@fjord.example", headers=people.auth("operator"))
    assert last.status_code == 409 and last.json()["type"].endswith("/last-vendor-member")
    assert [m["email"] for m in client.get(path, headers=people.auth("fjord")).json()["items"]] == [
        "ingrid@fjord.example"
    ]


def test_the_direct_store_opens_one_ring_and_one_invoice_series_however_often(
    client: TestClient, people: People, session_factory: sessionmaker[Session]
) -> None:
    path = "/api/v1/vendors/fjord-test/direct-store"
    assert client.get("/api/v1/vendors/fjord-test/keys", headers=people.auth("fjord")).json()["keys"] == []
    first = client.post(path, json={"enabled": True}, headers=people.auth("fjord"))
    assert first.status_code == 200, first.text
    second = client.post(path, json={"enabled": True}, headers=people.auth("operator"))
    assert second.json() == first.json()
    assert first.json()["selling_direct"] is True and first.json()["invoice_prefix"] == "FJORD-TEST"
    assert _count(session_factory, SigningKey, SigningKey.issuer == "vendor:fjord-test") == 1
    assert _count(session_factory, InvoiceSeries, InvoiceSeries.seller == "vendor:fjord-test") == 1

    keys = client.get("/api/v1/vendors/fjord-test/keys", headers=people.auth("fjord")).json()
    assert keys["issuer"] == "vendor:fjord-test" and keys["jwks_url"] == "/api/v1/issuers/fjord-test/jwks"
    assert [(k["kid"], k["state"]) for k in keys["keys"]] == [(first.json()["signing_kid"], "signing")]
    published = client.get("/api/v1/issuers/fjord-test/jwks").json()
    assert published["keys"] == [keys["keys"][0]["jwk"]]

    closed = client.post(path, json={"enabled": False}, headers=people.auth("fjord"))
    assert closed.json()["direct_store"] is False and closed.json()["selling_direct"] is False
    # The ring stays, so keys it signed keep verifying.
    assert client.get("/api/v1/issuers/fjord-test/jwks").json() == published
    reopened = client.post(path, json={"enabled": True}, headers=people.auth("fjord"))
    assert reopened.json()["signing_kid"] == first.json()["signing_kid"]


def test_a_vendor_with_an_80_percent_server_agreement_gets_80_percent_of_a_marketplace_sale(
    client: TestClient, people: People
) -> None:
    agreement = {"rates": [{"hosting": "server", "effective_from": "2026-01-01", "vendor_share": "0.80"}]}
    put = client.put(
        "/api/v1/vendors/example-mockups/revenue-share", json=agreement, headers=people.auth("operator")
    )
    assert put.status_code == 200, put.text
    assert put.json() == {
        "vendor": "example-mockups",
        "rates": [{**agreement["rates"][0], "vendor_share": "0.8000"}],
    }

    def split(product_key: str, on: str, hosting: str = "server") -> dict[str, Any]:
        host = {"product": "wiki", "hosting": hosting, "user_tier": "100", "maintenance_end": "2027-06-30"}
        body = {
            "channel": "marketplace",
            "date": on,
            "host": host,
            "items": [{"action": "new", "product_key": product_key, "tier": "100"}],
        }
        answer = client.post("/api/v1/pricing/preview", json=body)
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["lines"][0]["revenue_split"])

    mockups = split("com.example.mockups.wiki", "2026-11-26")
    assert mockups["vendor_share_rate"] == "0.8000"
    assert Decimal(mockups["vendor_amount"]) == Decimal("880.00")
    assert Decimal(mockups["operator_amount"]) == Decimal("220.00")
    # Before the agreement, other hostings, other vendors: the marketplace's standard rates.
    assert split("com.example.mockups.wiki", "2025-12-31")["vendor_share_rate"] == "0.7500"
    assert split("com.example.mockups.wiki", "2026-11-26", "datacenter")["vendor_share_rate"] == "0.7500"
    assert split("com.diagramly.diagrams.wiki", "2026-11-26")["vendor_share_rate"] == "0.7500"

    # A sale: Acme's admin quotes the app for Acme's wiki server and accepts; the quote keeps the 80% split.
    admin = people.auth("acme_admin")
    hosts = client.get(
        "/api/v1/organisations/acme/host-instances?host_product=wiki&hosting=server", headers=admin
    )
    items = [{"action": "new", "product_key": "com.example.mockups.wiki", "tier": "100"}]
    quote = client.post(
        "/api/v1/quotes",
        json={"host_instance_id": hosts.json()["items"][0]["id"], "items": items},
        headers=admin,
    )
    assert quote.status_code == 201, quote.text
    sold = quote.json()["lines"][0]["revenue_split"]
    assert (sold["vendor_share_rate"], Decimal(sold["vendor_amount"])) == ("0.8000", Decimal("880.00"))
    accepted = client.post(f"/api/v1/quotes/{quote.json()['id']}/accept", headers=admin)
    assert accepted.status_code == 201, accepted.text

    bad = client.put(
        "/api/v1/vendors/example-mockups/revenue-share",
        json={"rates": [{"hosting": "moon", "effective_from": "2026-01-01", "vendor_share": "0.8"}]},
        headers=people.auth("operator"),
    )
    assert bad.status_code == 422 and "body.rates.0.hosting" in [e["field"] for e in bad.json()["errors"]]
    back = client.put(
        "/api/v1/vendors/example-mockups/revenue-share", json={"rates": []}, headers=people.auth("operator")
    )
    assert back.json()["rates"] == []
    assert split("com.example.mockups.wiki", "2026-11-26")["vendor_share_rate"] == "0.7500"


def test_each_caller_sees_and_changes_only_what_is_theirs(client: TestClient, people: People) -> None:
    fjord = "/api/v1/vendors/fjord-test"
    vendor_side = {"operator", "fjord"}
    endpoints = [
        Endpoint("GET", "/api/v1/vendors", allowed=set(people.tokens)),
        Endpoint(
            "POST",
            "/api/v1/vendors",
            allowed={"operator"},
            forbidden={"acme_admin", "mockups_vendor", "fjord"},
            body=lambda caller: new_vendor(
                f"made-by-{caller.replace('_', '-')}", revenue_share=[], members=[]
            ),
        ),
        Endpoint("GET", fjord, allowed=vendor_side),
        Endpoint("PATCH", fjord, allowed=vendor_side, body={"website": "https://fjord.example"}),
        Endpoint("GET", f"{fjord}/members", allowed=vendor_side),
        Endpoint(
            "POST",
            f"{fjord}/members",
            allowed=vendor_side,
            body=lambda caller: {"email": f"{caller.replace('_', '-')}-friend@fjord.example"},
        ),
        Endpoint("DELETE", f"{fjord}/members/nobody@fjord.example", allowed=vendor_side),
        Endpoint(
            "PUT", f"{fjord}/revenue-share", allowed={"operator"}, forbidden={"fjord"}, body={"rates": []}
        ),
        Endpoint("POST", f"{fjord}/approve", allowed={"operator"}, forbidden={"fjord"}),
        Endpoint("POST", f"{fjord}/suspend", allowed={"operator"}, forbidden={"fjord"}),
        Endpoint("POST", f"{fjord}/reactivate", allowed={"operator"}, forbidden={"fjord"}),
        Endpoint("POST", f"{fjord}/direct-store", allowed=vendor_side, body={"enabled": False}),
        Endpoint("GET", f"{fjord}/keys", allowed=vendor_side),
        # Vendor B's own paths: Fjord's member sees nothing of them.
        Endpoint("GET", "/api/v1/vendors/example-mockups", allowed={"operator", "mockups_vendor"}),
        Endpoint(
            "PATCH",
            "/api/v1/vendors/example-mockups",
            allowed={"operator", "mockups_vendor"},
            body={"website": "https://mockups.example"},
        ),
        Endpoint("GET", "/api/v1/vendors/example-mockups/keys", allowed={"operator", "mockups_vendor"}),
        Endpoint("GET", "/api/v1/vendors/no-such-vendor", allowed=()),
    ]
    assert_access(client, endpoints, people.tokens, read_only={"fjord_read_only": "fjord"})
    listed = {
        caller: [
            v["slug"] for v in client.get("/api/v1/vendors", headers=people.auth(caller)).json()["items"]
        ]
        for caller in ("acme_admin", "mockups_vendor", "fjord")
    }
    assert listed == {"acme_admin": [], "mockups_vendor": ["example-mockups"], "fjord": ["fjord-test"]}
