"""Every online verdict follows the deployment's clock: moved, the test clock ends an evaluation's term and a
replaced key's grace for the validate API and the license check page alike, whatever the wall clock says."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mercato.app import create_app
from mercato.settings import Settings
from support.pages import HTML, csrf_of

OPERATOR = {"Authorization": "Bearer mct_demo_operator"}
CUSTOMER = {"Authorization": "Bearer mct_demo_acme_admin"}
MOCKUPS = "com.example.mockups.wiki"
SSO = "com.gatekeeper.sso.wiki"


@pytest.fixture
def demo_client(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    from mercato.accounts.demo import load_demo_accounts

    with session_factory() as session, session.begin():
        load_demo_accounts(session)
    enabled = settings.model_copy(update={"test_clock": True})
    with TestClient(create_app(enabled, engine, session_factory), raise_server_exceptions=False) as client:
        yield client


def _set_clock(client: TestClient, day: str) -> None:
    moved = client.put("/api/v1/test-clock", json={"now": day}, headers=OPERATOR)
    assert moved.status_code == 200, moved.text


def _wiki(client: TestClient) -> dict[str, Any]:
    instances = client.get("/api/v1/organisations/acme/host-instances?hosting=server", headers=CUSTOMER)
    return dict(next(i for i in instances.json()["items"] if i["host_product"] == "wiki"))


def _buy(client: TestClient, wiki: dict[str, Any], item: dict[str, Any]) -> str:
    """Quote, accept and pay ``item`` for the wiki server; the license's entitlement number."""
    quote = client.post(
        "/api/v1/quotes", headers=CUSTOMER, json={"host_instance_id": wiki["id"], "items": [item]}
    )
    assert quote.status_code == 201, quote.text
    invoice = client.post(f"/api/v1/quotes/{quote.json()['id']}/accept", headers=CUSTOMER).json()["invoice"]
    if invoice["status"] != "paid":
        paid = client.post(
            f"/api/v1/invoices/{invoice['id']}/payments",
            json={"amount": invoice["amount_due"], "reference": f"TRF-{invoice['number']}"},
            headers=OPERATOR,
        )
        assert paid.status_code == 200, paid.text
        invoice = paid.json()
    return str(invoice["lines"][0]["license"])


def _keys(client: TestClient, entitlement: str) -> list[str]:
    detail = client.get(f"/api/v1/licenses/{entitlement}", headers=CUSTOMER).json()
    return [key["key"] for key in detail["keys"]]


def _verdicts(client: TestClient, wiki: dict[str, Any], key: str, app_key: str) -> tuple[str, str]:
    """The validate API's status and the license check page's, for ``key`` on the wiki server."""
    host = {
        "app_key": app_key,
        "hosting": "server",
        "server_id": wiki["server_id"],
        "host_tier": str(wiki["user_tier"]),
        "host_license_type": "commercial",
    }
    api = client.post("/api/v1/licenses/validate", json=host | {"key": key}).json()["status"]
    token = csrf_of(client.get("/license-check", headers=HTML).text)
    page = client.post("/license-check", data=host | {"key": key, "csrf_token": token}, headers=HTML).text
    found = re.search(r'<p class="verdict-status">([A-Z_]+)</p>', page)
    assert found, "the license check page shows no verdict"
    return api, found.group(1)


def test_an_evaluation_expires_by_the_moved_clock(demo_client: TestClient) -> None:
    _set_clock(demo_client, "2026-11-26")
    wiki = _wiki(demo_client)
    [key] = _keys(demo_client, _buy(demo_client, wiki, {"action": "evaluation", "product_key": MOCKUPS}))
    assert _verdicts(demo_client, wiki, key, MOCKUPS) == ("VALID", "VALID")
    _set_clock(demo_client, "2026-12-27")  # the 30-day term ended on 2026-12-26
    assert _verdicts(demo_client, wiki, key, MOCKUPS) == ("EXPIRED", "EXPIRED")


def test_a_replaced_keys_grace_ends_by_the_moved_clock(demo_client: TestClient) -> None:
    _set_clock(demo_client, "2026-11-26")
    wiki = _wiki(demo_client)
    entitlement = _buy(
        demo_client, wiki, {"action": "new", "product_key": SSO, "tier": str(wiki["user_tier"])}
    )
    _buy(demo_client, wiki, {"action": "upgrade", "license": entitlement, "tier": "unlimited"})
    old, new = _keys(demo_client, entitlement)
    assert _verdicts(demo_client, wiki, old, SSO) == ("VALID", "VALID")  # within its 30 days of grace
    _set_clock(demo_client, "2026-12-27")
    assert _verdicts(demo_client, wiki, old, SSO) == ("REVOKED", "REVOKED")
    assert _verdicts(demo_client, wiki, new, SSO) == ("VALID", "VALID")
