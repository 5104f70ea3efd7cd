"""The operator's outbox API: operator staff only; lists, shows and sends undelivered messages again."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from mercato.accounts.api_tokens import TokenService
from mercato.accounts.demo import load_demo_accounts
from mercato.accounts.service import AccountService
from mercato.clock import FixedClock
from mercato.outbox.handlers import HandlerRegistry
from mercato.outbox.models import OutboxMessage
from mercato.outbox.worker import OutboxWorker
from outbox.doubles import messages_in_every_state
from support.access import Endpoint, assert_access

TOKENS = {
    "operator": "mct_demo_operator",
    "acme_admin": "mct_demo_acme_admin",
    "acme_billing": "mct_demo_acme_billing",
    "globex_admin": "mct_demo_globex_admin",
    "mockups_vendor": "mct_demo_mockups_vendor",
}
EVERYONE_BUT_STAFF = {"acme_admin", "acme_billing", "globex_admin", "mockups_vendor"}


@pytest.fixture
def outbox(session_factory: sessionmaker[Session], clock: FixedClock) -> dict[str, uuid.UUID]:
    with session_factory() as session:
        load_demo_accounts(session)
        session.commit()
    return messages_in_every_state(session_factory, clock)


def auth(token: str = TOKENS["operator"]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_only_operator_staff_see_and_resend_outbox_messages(
    client: TestClient, session_factory: sessionmaker[Session], outbox: dict[str, uuid.UUID]
) -> None:
    with session_factory() as session:
        staff = AccountService(session).user_by_email("ops@northwind.example")
        read_only = TokenService(session).create(staff, scopes=["read"], name="read-only").token
        session.commit()
    assert_access(
        client,
        [
            Endpoint("GET", "/api/v1/outbox/messages", allowed={"operator"}, forbidden=EVERYONE_BUT_STAFF),
            Endpoint(
                "GET", "/api/v1/outbox/messages/{dead}", allowed={"operator"}, forbidden=EVERYONE_BUT_STAFF
            ),
            Endpoint(
                "POST",
                "/api/v1/outbox/messages/{dead}/retry",
                allowed={"operator"},
                forbidden=EVERYONE_BUT_STAFF,
            ),
            Endpoint(
                "POST",
                "/api/v1/outbox/dead-messages/retry",
                allowed={"operator"},
                forbidden=EVERYONE_BUT_STAFF,
            ),
        ],
        tokens=TOKENS | {"operator_read_only": read_only},
        read_only={"operator_read_only": "operator"},
        params={"dead": str(outbox["dead"])},
    )


def test_the_list_shows_undelivered_messages_newest_first_and_filters_by_state_and_topic(
    client: TestClient, outbox: dict[str, uuid.UUID]
) -> None:
    undelivered = client.get("/api/v1/outbox/messages", headers=auth()).json()
    delivered = client.get("/api/v1/outbox/messages?status=delivered&topic=email", headers=auth()).json()
    other_topic = client.get("/api/v1/outbox/messages?topic=webhook", headers=auth()).json()
    paged = client.get("/api/v1/outbox/messages?limit=1&offset=1&include=total", headers=auth()).json()

    assert [(item["id"], item["status"]) for item in undelivered["items"]] == [
        (str(outbox["pending"]), "pending"),
        (str(outbox["retrying"]), "retrying"),
        (str(outbox["dead"]), "dead"),
    ]
    assert undelivered["total"] is None  # counted only when asked: include=total
    assert (undelivered["has_more"], undelivered["next_after"]) == (False, None)
    assert [item["id"] for item in delivered["items"]] == [str(outbox["delivered"])]
    assert other_topic == {
        "items": [],
        "has_more": False,
        "next_after": None,
        "total": None,
        "limit": 50,
        "offset": 0,
    }
    assert ([item["id"] for item in paged["items"]], paged["total"]) == ([str(outbox["retrying"])], 3)
    retrying = undelivered["items"][1]
    assert retrying["summary"] == "retrying → retrying@example.com"
    assert retrying["last_error"] == "ConnectionRefusedError: [Errno 111] Connection refused"
    assert retrying["attempts"] == 1 and retrying["next_attempt_at"] and retrying["retry_until"]


def test_a_message_is_shown_with_its_payload_by_id_or_by_its_first_characters(
    client: TestClient, outbox: dict[str, uuid.UUID]
) -> None:
    dead = outbox["dead"]

    by_id = client.get(f"/api/v1/outbox/messages/{dead}", headers=auth())
    by_prefix = client.get(f"/api/v1/outbox/messages/{dead.hex[:8]}", headers=auth())

    assert by_id.status_code == 200 and by_id.json() == by_prefix.json()
    shown = by_id.json()
    assert (shown["status"], shown["payload"]["to"]) == ("dead", ["dead@example.com"])
    assert shown["last_error"] == "Undeliverable: every recipient was refused: 550 No such mailbox"


def test_an_unknown_message_is_a_404_problem(client: TestClient, outbox: dict[str, uuid.UUID]) -> None:
    response = client.get(f"/api/v1/outbox/messages/{uuid.uuid4()}", headers=auth())

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "There is no outbox message" in response.json()["detail"]


def test_sending_a_dead_message_again_makes_it_due_now_with_a_fresh_horizon(
    client: TestClient, session_factory: sessionmaker[Session], outbox: dict[str, uuid.UUID]
) -> None:
    response = client.post(f"/api/v1/outbox/messages/{outbox['dead']}/retry", headers=auth())

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["dead_at"]) == ("retrying", None)
    with session_factory() as session:
        message = session.get(OutboxMessage, outbox["dead"])
        assert message is not None
        assert (message.dead_at, message.first_attempt_at, message.attempts) == (None, None, 1)


def test_a_delivered_message_is_not_sent_again(client: TestClient, outbox: dict[str, uuid.UUID]) -> None:
    response = client.post(f"/api/v1/outbox/messages/{outbox['delivered']}/retry", headers=auth())

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "nothing to send again" in response.json()["detail"]
    assert response.json()["message_status"] == "delivered"


def test_every_dead_message_can_be_sent_again_at_once(
    client: TestClient, outbox: dict[str, uuid.UUID]
) -> None:
    response = client.post("/api/v1/outbox/dead-messages/retry", headers=auth())

    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [str(outbox["dead"])]
    assert client.get("/api/v1/outbox/messages?status=dead", headers=auth()).json()["items"] == []


def test_a_message_a_worker_is_delivering_is_not_sent_again_under_it(
    client: TestClient,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    outbox: dict[str, uuid.UUID],
) -> None:
    worker = OutboxWorker(session_factory, HandlerRegistry(), clock=clock)
    clock.advance(days=2)  # the pending message is due: a worker claims it, and holds it for its lease
    assert outbox["pending"] in {message.id for message in worker.claim().messages}

    response = client.post(f"/api/v1/outbox/messages/{outbox['pending']}/retry", headers=auth())

    assert response.status_code == 409
    assert "being delivered right now" in response.json()["detail"]
    assert response.json()["message_status"] == "sending"
