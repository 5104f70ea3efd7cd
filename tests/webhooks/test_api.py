"""The webhook endpoints API on both databases: registering and its rules, the secret shown only when made,
the delivery log and resend, the OpenAPI webhooks section, and who may see and do what (a vendor never sees
another vendor's endpoints or deliveries)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.support.access import Endpoint, assert_access

from mercato.accounts.models import Membership, Role, User
from mercato.catalog.models import Vendor
from mercato.clock import FixedClock
from mercato.commerce.models import IdempotentRequest
from mercato.licenses.service import IssueRequest, LicenseService
from mercato.services import Services
from mercato.webhooks.models import WebhookEndpoint
from mercato.webhooks.sealing import open_secret
from support.world import _token, build_world

WATCHED = ["license.created", "license.refunded"]


@dataclass(frozen=True)
class Setup:
    tokens: dict[str, str]
    mockups_endpoint: str
    operator_endpoint: str
    delivery: str

    def auth(self, caller: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[caller]}"}


def _sell(session: Session, clock: FixedClock, server_id: str) -> None:
    LicenseService(session, Services(secret_key="test-secret-key", clock=clock)).issue(
        IssueRequest(
            app_key="com.example.mockups.wiki",
            hosting="server",
            channel="marketplace",
            tier=100,
            license_type="commercial",
            host_binding=server_id,
            maintenance_end=date(2030, 1, 1),
        )
    )


@pytest.fixture
def setup(client: TestClient, session_factory: sessionmaker[Session], server_clock: FixedClock) -> Setup:
    """The world's people, a member of Diagramly, a Mockups endpoint (registered by its member through the API)
    with one delivery, and the operator's own endpoint."""
    with session_factory() as session:
        world = build_world(session)
        diagramly = session.scalars(select(Vendor).where(Vendor.slug == "diagramly")).one()
        user = User(email="diagramly_vendor@test.example", name="Diagramly dev")
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, role=Role.VENDOR_MEMBER, vendor_id=diagramly.id))
        world.tokens["diagramly_vendor"] = _token(session, user, ["read", "write"])
        session.commit()
    tokens = world.tokens
    mockups = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "https://hooks.mockups.example/mercato", "events": WATCHED},
        headers={"Authorization": f"Bearer {tokens['mockups_vendor']}"},
    )
    assert mockups.status_code == 201, mockups.text
    operator = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "https://ops.northwind.example/hooks", "events": ["payout.paid", "license.created"]},
        headers={"Authorization": f"Bearer {tokens['operator']}"},
    )
    assert operator.status_code == 201, operator.text
    with session_factory() as session:
        _sell(session, server_clock, "API-TEST-1")
        session.commit()
    listed = client.get(
        f"/api/v1/webhook-endpoints/{mockups.json()['id']}/deliveries",
        headers={"Authorization": f"Bearer {tokens['mockups_vendor']}"},
    ).json()
    [delivery] = listed["items"]
    return Setup(tokens, mockups.json()["id"], operator.json()["id"], delivery["id"])


def test_registering_answers_the_secret_once_and_the_endpoint_without_it(
    client: TestClient, setup: Setup
) -> None:
    created = client.post(
        "/api/v1/webhook-endpoints",
        json={
            "url": "https://crm.mockups.example/in",
            "events": ["license.renewed", "license.created", "license.renewed"],
            "description": "CRM",
        },
        headers=setup.auth("mockups_vendor"),
    )
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["vendor"] == "example-mockups"  # a member of one vendor need not name it
    assert body["events"] == ["license.created", "license.renewed"]
    shown = client.get(f"/api/v1/webhook-endpoints/{body['id']}", headers=setup.auth("mockups_vendor")).json()
    assert "secret" not in shown
    assert shown["enabled"] is True and shown["consecutive_failures"] == 0

    rotated = client.post(
        f"/api/v1/webhook-endpoints/{body['id']}/rotate-secret", headers=setup.auth("mockups_vendor")
    ).json()
    assert rotated["secret"] != body["secret"] and rotated["previous_secret_until"] == "2026-11-27T12:00:00Z"


def test_a_retry_with_the_same_idempotency_key_gets_the_same_endpoint_and_secret(
    client: TestClient, setup: Setup, session_factory: sessionmaker[Session]
) -> None:
    body = {"url": "https://crm.mockups.example/in", "events": ["license.created"], "description": "CRM"}
    headers = setup.auth("mockups_vendor") | {"Idempotency-Key": "crm-endpoint-1"}
    first = client.post("/api/v1/webhook-endpoints", json=body, headers=headers)
    retry = client.post("/api/v1/webhook-endpoints", json=body, headers=headers)
    assert first.status_code == retry.status_code == 201, retry.text
    assert retry.json() == first.json() and first.json()["secret"].startswith("whsec_")
    listed = client.get(
        "/api/v1/webhook-endpoints?vendor=example-mockups", headers=setup.auth("mockups_vendor")
    )
    assert [e["url"] for e in listed.json()["items"]].count(body["url"]) == 1
    with session_factory() as session:
        remembered = session.scalars(
            select(IdempotentRequest).where(IdempotentRequest.key == "crm-endpoint-1")
        ).one()
        assert "secret" not in remembered.response and "whsec_" not in str(remembered.response)

    other = client.post("/api/v1/webhook-endpoints", json=body | {"description": "Other"}, headers=headers)
    assert other.status_code == 422 and other.json()["type"].endswith("idempotency-key-reused")
    listed = client.get(
        "/api/v1/webhook-endpoints?vendor=example-mockups", headers=setup.auth("mockups_vendor")
    )
    assert [e["url"] for e in listed.json()["items"]].count(body["url"]) == 1


def test_a_retried_rotation_rotates_once_and_answers_the_current_secret(
    client: TestClient, setup: Setup, session_factory: sessionmaker[Session]
) -> None:
    rotate = f"/api/v1/webhook-endpoints/{setup.mockups_endpoint}/rotate-secret"
    headers = setup.auth("mockups_vendor") | {"Idempotency-Key": "rotation-1"}
    first = client.post(rotate, headers=headers)
    retry = client.post(rotate, headers=headers)
    assert first.status_code == retry.status_code == 200, retry.text
    assert retry.json() == first.json()
    with session_factory() as session:
        endpoint = session.get(WebhookEndpoint, uuid.UUID(setup.mockups_endpoint))
        assert endpoint is not None
        # Rotated once: a second rotation would have made the current secret another one.
        assert open_secret(endpoint.secret, "test-secret-key", endpoint.id) == first.json()["secret"]
    another = client.post(rotate, headers=setup.auth("mockups_vendor") | {"Idempotency-Key": "rotation-2"})
    assert another.json()["secret"] != first.json()["secret"]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.mockups.example/in", "must use https"),
        ("https://10.1.2.3/in", "not a public address"),
        ("https://169.254.169.254/latest/meta-data", "not a public address"),
        ("https://[::1]/in", "this server itself"),
        ("http://127.0.0.1:8080/in", "this server itself"),
        ("https://localhost/in", "this server itself"),
        ("https://user:pw@hooks.mockups.example/", "user name or password"),
        ("https://intranet/hooks", "no domain"),
        ("ftp://hooks.mockups.example/", "starts with https://"),
    ],
)
def test_endpoints_on_private_or_plain_addresses_are_refused(
    client: TestClient, setup: Setup, url: str, why: str
) -> None:
    answer = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": url, "events": WATCHED},
        headers=setup.auth("mockups_vendor"),
    )
    assert answer.status_code == 422
    assert answer.json()["type"] == "/api/v1/problems/invalid-webhook-url"
    assert why in answer.json()["detail"]


def test_unknown_events_are_refused(client: TestClient, setup: Setup) -> None:
    answer = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "https://hooks.mockups.example/x", "events": ["license.exploded"]},
        headers=setup.auth("mockups_vendor"),
    )
    assert answer.status_code == 422


def test_the_delivery_log_shows_the_event_and_resend_queues_it_again(
    client: TestClient, setup: Setup
) -> None:
    path = f"/api/v1/webhook-endpoints/{setup.mockups_endpoint}/deliveries/{setup.delivery}"
    detail = client.get(path, headers=setup.auth("mockups_vendor")).json()
    assert detail["event_type"] == "license.created"
    assert detail["status"] == "pending" and detail["attempts"] == 0 and detail["log"] == []
    assert detail["webhook_id"] == "msg_" + setup.delivery.replace("-", "")
    assert detail["payload"]["data"]["host_binding"] == "API-TEST-1"
    resent = client.post(path + "/resend", headers=setup.auth("mockups_vendor"))
    assert resent.status_code == 200 and resent.json()["status"] == "pending"

    disabled = client.patch(
        f"/api/v1/webhook-endpoints/{setup.mockups_endpoint}",
        json={"enabled": False},
        headers=setup.auth("mockups_vendor"),
    ).json()
    assert disabled["enabled"] is False and disabled["disabled_reason"] == "Disabled by its owner."
    refused = client.post(path + "/resend", headers=setup.auth("mockups_vendor"))
    assert refused.status_code == 409
    assert refused.json()["type"] == "/api/v1/problems/webhook-endpoint-disabled"


def test_who_may_see_and_manage_which_endpoint(client: TestClient, setup: Setup) -> None:
    own = {"operator", "mockups_vendor"}
    mockups = "/api/v1/webhook-endpoints/{mockups}"
    delivery = mockups + "/deliveries/{delivery}"
    endpoints = [
        Endpoint("GET", mockups, allowed=own),
        Endpoint("PATCH", mockups, allowed=own, body={"description": "changed"}),
        Endpoint("POST", mockups + "/rotate-secret", allowed=own),
        Endpoint("GET", mockups + "/deliveries", allowed=own),
        Endpoint("GET", delivery, allowed=own),
        Endpoint("POST", delivery + "/resend", allowed=own),
        Endpoint("GET", "/api/v1/webhook-endpoints/{operator_endpoint}", allowed={"operator"}),
        Endpoint("GET", "/api/v1/webhook-endpoints/{operator_endpoint}/deliveries", allowed={"operator"}),
        Endpoint(
            "POST",
            "/api/v1/webhook-endpoints",
            allowed=own,
            body={"url": "https://a.mockups.example/", "events": WATCHED, "vendor": "example-mockups"},
        ),
        Endpoint(
            "POST",
            "/api/v1/webhook-endpoints",
            allowed={"operator", "diagramly_vendor"},
            body={"url": "https://a.diagramly.example/", "events": WATCHED, "vendor": "diagramly"},
        ),
        Endpoint("GET", "/api/v1/webhook-endpoints/00000000-0000-0000-0000-000000000000", allowed=()),
    ]
    assert_access(
        client,
        endpoints,
        setup.tokens,
        read_only={"acme_read_only": "acme_admin"},
        params={
            "mockups": setup.mockups_endpoint,
            "delivery": setup.delivery,
            "operator_endpoint": setup.operator_endpoint,
        },
    )
    listed = {
        caller: {
            item["vendor"] or "operator"
            for item in client.get("/api/v1/webhook-endpoints", headers=setup.auth(caller)).json()["items"]
        }
        for caller in ("acme_admin", "mockups_vendor", "diagramly_vendor")
    }
    assert listed == {
        "acme_admin": set(),
        "mockups_vendor": {"example-mockups"},
        "diagramly_vendor": {"diagramly"},
    }
    everything = client.get("/api/v1/webhook-endpoints?limit=200", headers=setup.auth("operator")).json()
    assert {item["vendor"] for item in everything["items"]} == {None, "example-mockups", "diagramly"}
    own_only = client.get("/api/v1/webhook-endpoints?vendor=operator", headers=setup.auth("operator")).json()
    assert [item["id"] for item in own_only["items"]] == [setup.operator_endpoint]
    # A customer may not register an endpoint for every vendor.
    refused = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "https://acme.example/x", "events": WATCHED},
        headers=setup.auth("acme_admin"),
    )
    assert refused.status_code == 403


def test_deleting_an_endpoint_removes_it_and_its_log(client: TestClient, setup: Setup) -> None:
    path = f"/api/v1/webhook-endpoints/{setup.mockups_endpoint}"
    assert client.delete(path, headers=setup.auth("diagramly_vendor")).status_code == 404
    assert client.delete(path, headers=setup.auth("mockups_vendor")).status_code == 204
    assert client.get(path, headers=setup.auth("mockups_vendor")).status_code == 404
    assert client.get(path + "/deliveries", headers=setup.auth("operator")).status_code == 404


def test_the_openapi_document_publishes_every_events_body(client: TestClient) -> None:
    document: dict[str, Any] = client.get("/api/v1/openapi.json").json()
    webhooks = document["webhooks"]
    assert sorted(webhooks) == sorted(
        [
            "license.created",
            "license.renewed",
            "license.upgraded",
            "license.migrated",
            "license.cancelled",
            "license.refunded",
            "transaction.created",
            "payout.paid",
        ]
    )
    schemas = document["components"]["schemas"]
    for name, operation in webhooks.items():
        ref = operation["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schema = schemas[ref.rsplit("/", 1)[-1]]
        assert schema["properties"]["type"]["const"] == name
        assert set(operation["post"]["responses"]) == {"2XX"}
