"""Webhooks through the whole path: a license event, the outbox, the worker, and a real HTTP receiver on
loopback that verifies every signature with the stock ``standardwebhooks`` library."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mail.smtp_server import SmtpTestServer
from mercato.clock import FixedClock
from mercato.licenses.service import LicenseService
from mercato.outbox.worker import OutboxWorker
from mercato.services import Services
from mercato.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from mercato.webhooks.payloads import EVENT_MODELS, WebhookEventType
from mercato.webhooks.sealing import open_secret, reseal_webhook_secrets
from mercato.webhooks.service import WebhookService, queue_webhook, webhook_id
from webhooks.conftest import SECRET_KEY, IssueLicense, Registered, RegisterEndpoint, member_of, vendor_id
from webhooks.receiver import WebhookReceiver


def deliveries(session_factory: sessionmaker[Session], endpoint: Registered) -> list[WebhookDelivery]:
    with session_factory() as session:
        return list(
            session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
        )


def attempts(session_factory: sessionmaker[Session], delivery: WebhookDelivery) -> list[WebhookAttempt]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id == delivery.id)
                .order_by(WebhookAttempt.id)
            )
        )


def endpoint_now(session_factory: sessionmaker[Session], endpoint: Registered) -> WebhookEndpoint:
    with session_factory() as session:
        found = session.get(WebhookEndpoint, endpoint.id)
        assert found is not None
        return found


def test_a_sold_license_is_posted_signed_and_the_stock_library_verifies_it(
    session_factory: sessionmaker[Session],
    receiver: WebhookReceiver,
    register: RegisterEndpoint,
    issue: IssueLicense,
    worker: OutboxWorker,
) -> None:
    endpoint = register(receiver.url)
    receiver.secrets = [endpoint.secret]
    issued = issue()

    report = worker.drain()

    assert report.delivered == 1
    [received] = receiver.received
    assert received.verified_with == (endpoint.secret,)
    assert received.status == 200
    [delivery] = deliveries(session_factory, endpoint)
    assert received.headers["webhook-id"] == webhook_id(delivery.id)
    assert received.headers["content-type"] == "application/json"
    body = received.payload
    assert body["type"] == "license.created"
    assert body["data"]["entitlement_number"] == issued.license.entitlement_number
    assert body["data"]["vendor"] == "example-mockups"
    assert body["data"]["change"] == "new"
    EVENT_MODELS[WebhookEventType.LICENSE_CREATED].model_validate(body)  # the published contract holds
    [attempt] = attempts(session_factory, delivery)
    assert attempt.succeeded and attempt.status_code == 200 and attempt.response_snippet == "ok"
    assert attempt.duration_ms >= 0
    assert deliveries(session_factory, endpoint)[0].delivered_at is not None


def test_an_endpoint_that_fails_for_a_while_gets_the_delivery_once_it_recovers(
    session_factory: sessionmaker[Session],
    receiver: WebhookReceiver,
    register: RegisterEndpoint,
    issue: IssueLicense,
    worker: OutboxWorker,
    clock: FixedClock,
) -> None:
    endpoint = register(receiver.url)
    receiver.secrets = [endpoint.secret]
    receiver.answer(503, 503, 503)
    issue()

    assert worker.drain().retrying == 1  # 503: tried again later, with back-off
    assert worker.drain().settled == 0  # not due yet
    for wait in (30, 60):  # 30 s after the first failure, then doubling
        clock.advance(seconds=wait)
        assert worker.drain().retrying == 1
    clock.advance(seconds=120)
    assert worker.drain().delivered == 1

    assert [item.status for item in receiver.received] == [503, 503, 503, 200]
    assert all(item.verified_with == (endpoint.secret,) for item in receiver.received)
    # The same webhook-id on every attempt: the receiver can tell a redelivery.
    assert len({item.headers["webhook-id"] for item in receiver.received}) == 1
    [delivery] = deliveries(session_factory, endpoint)
    log = attempts(session_factory, delivery)
    assert [(row.succeeded, row.status_code, row.error) for row in log] == [
        (False, 503, "HTTP 503"),
        (False, 503, "HTTP 503"),
        (False, 503, "HTTP 503"),
        (True, 200, None),
    ]
    assert endpoint_now(session_factory, endpoint).consecutive_failures == 0  # a success ends the streak
    with session_factory() as session:
        owner = member_of(session, "example-mockups")
        view = WebhookService(session, clock, SECRET_KEY).delivery_for(owner, endpoint.id, delivery.id)
    assert view.status == "delivered" and view.attempts == 4 and len(view.log) == 4


def test_after_a_rotation_both_secrets_sign_for_24_hours_then_only_the_new_one(
    session_factory: sessionmaker[Session],
    receiver: WebhookReceiver,
    register: RegisterEndpoint,
    issue: IssueLicense,
    worker: OutboxWorker,
    clock: FixedClock,
) -> None:
    endpoint = register(receiver.url)
    old = endpoint.secret
    with session_factory() as session, session.begin():
        new = WebhookService(session, clock, SECRET_KEY).rotate_secret_for(
            member_of(session, "example-mockups"), endpoint.id
        )[1]
    assert new != old and new.startswith("whsec_")
    receiver.secrets = [old, new]
    issue()
    worker.drain()
    assert set(receiver.received[-1].verified_with) == {old, new}
    assert len(receiver.received[-1].headers["webhook-signature"].split(" ")) == 2

    clock.advance(hours=24, seconds=1)
    issue(server_id="SECOND-SERVER")
    worker.drain()
    assert receiver.received[-1].verified_with == (new,)


def test_resend_posts_the_same_webhook_id_and_body_again(
    session_factory: sessionmaker[Session],
    receiver: WebhookReceiver,
    register: RegisterEndpoint,
    issue: IssueLicense,
    worker: OutboxWorker,
    clock: FixedClock,
) -> None:
    endpoint = register(receiver.url)
    receiver.secrets = [endpoint.secret]
    issue()
    worker.drain()
    [delivery] = deliveries(session_factory, endpoint)
    with session_factory() as session, session.begin():
        view = WebhookService(session, clock, SECRET_KEY).resend_for(
            member_of(session, "example-mockups"), endpoint.id, delivery.id
        )
    assert view.status == "pending"
    assert worker.drain().delivered == 1
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    assert second.verified_with == (endpoint.secret,)


def test_an_endpoint_failing_long_enough_is_disabled_and_its_vendor_told_by_email(
    session_factory: sessionmaker[Session],
    receiver: WebhookReceiver,
    register: RegisterEndpoint,
    issue: IssueLicense,
    worker: OutboxWorker,
    clock: FixedClock,
    smtp_server: SmtpTestServer,
) -> None:
    """The tests' threshold: 5 failed attempts in a row over at least 2 hours (the default: 20 over 24)."""
    endpoint = register(receiver.url)
    receiver.secrets = [endpoint.secret]
    receiver.answer(*[503] * 100)
    issue()
    worker.drain()
    for _ in range(4):  # five failures, but within minutes: not disabled yet
        clock.advance(minutes=10)
        worker.drain()
    assert endpoint_now(session_factory, endpoint).enabled
    assert endpoint_now(session_factory, endpoint).consecutive_failures == 5

    clock.advance(hours=2)
    report = worker.drain()  # the sixth failure, over two hours after the first: disabled, and told

    stored = endpoint_now(session_factory, endpoint)
    assert not stored.enabled and stored.disabled_at is not None
    assert "6 failed delivery attempts in a row" in (stored.disabled_reason or "")
    assert report.dead == 1  # the delivery is not retried against a disabled endpoint
    [email] = smtp_server.received
    assert email.rcpt_tos == ["sales@mockups.example"]  # the vendor's address
    assert email.message["Subject"] == f"Webhook endpoint disabled: {receiver.url}"
    text = email.message.get_body(preferencelist=("plain",))
    assert text is not None and f"/api/v1/webhook-endpoints/{endpoint.id}" in text.get_content()

    posted = len(receiver.received)
    issue(server_id="SECOND-SERVER")  # nothing is queued for a disabled endpoint
    clock.advance(hours=1)
    worker.drain()
    assert len(receiver.received) == posted
    assert len(smtp_server.received) == 1


def test_a_vendor_endpoint_gets_only_its_own_vendors_events_and_the_operator_gets_all(
    session_factory: sessionmaker[Session],
    receiver: WebhookReceiver,
    register: RegisterEndpoint,
    issue: IssueLicense,
    worker: OutboxWorker,
    clock: FixedClock,
) -> None:
    mockups = register(receiver.url + "/mockups")
    diagramly = register(receiver.url + "/diagramly", vendor="diagramly")
    with session_factory() as session, session.begin():
        operator_principal = member_of(session, "example-mockups")
        operator_principal = type(operator_principal)(
            **{**operator_principal.__dict__, "operator": True, "vendor_member_of": frozenset()}
        )
        made, secret = WebhookService(session, clock, SECRET_KEY, allow_loopback=True).create_for(
            operator_principal, receiver.url + "/operator", ["license.created", "payout.paid"]
        )
        operator = Registered(made.id, secret)
    receiver.secrets = [mockups.secret, diagramly.secret, operator.secret]
    issue()  # a mockups license
    issue(app_key="com.diagramly.diagrams.wiki")
    with session_factory() as session, session.begin():
        queue_webhook(
            session,
            "payout.paid",
            vendor_id(session, "diagramly"),
            {
                "payout_id": "PO-1",
                "vendor": "diagramly",
                "month": "2026-11",
                "currency": "USD",
                "amount": "12.30",
                "reference": "SEPA-1",
                "paid_at": clock.now(),
            },
        )
    worker.drain()

    by_path: dict[str, list[str]] = {}
    for item in receiver.accepted:
        by_path.setdefault(item.path, []).append(f"{item.payload['type']}:{item.payload['data']['vendor']}")
    assert {path: sorted(events) for path, events in by_path.items()} == {
        "/hooks/mockups": ["license.created:example-mockups"],
        "/hooks/diagramly": ["license.created:diagramly"],  # it did not subscribe to payout.paid
        "/hooks/operator": [
            "license.created:diagramly",
            "license.created:example-mockups",
            "payout.paid:diagramly",
        ],
    }
    # Each receiver verified with its own secret only.
    for item in receiver.accepted:
        expected = {"/hooks/mockups": mockups, "/hooks/diagramly": diagramly, "/hooks/operator": operator}[
            item.path
        ]
        assert item.verified_with == (expected.secret,)
    payout = next(item.payload for item in receiver.accepted if item.payload["type"] == "payout.paid")
    EVENT_MODELS[WebhookEventType.PAYOUT_PAID].model_validate(payout)


def test_cancelling_a_license_is_a_license_cancelled_webhook(
    session_factory: sessionmaker[Session],
    receiver: WebhookReceiver,
    register: RegisterEndpoint,
    issue: IssueLicense,
    worker: OutboxWorker,
    clock: FixedClock,
) -> None:
    endpoint = register(receiver.url, events=["license.cancelled"])
    receiver.secrets = [endpoint.secret]
    issued = issue()
    with session_factory() as session, session.begin():
        LicenseService(session, Services(secret_key="test-secret-key", clock=clock)).revoke_license(
            issued.license.entitlement_number, "chargeback"
        )
    worker.drain()
    [received] = receiver.accepted  # license.created was not chosen
    assert received.payload["type"] == "license.cancelled"
    assert received.payload["data"]["status"] == "cancelled"
    EVENT_MODELS[WebhookEventType.LICENSE_CANCELLED].model_validate(received.payload)


def test_a_name_resolving_to_a_private_address_is_refused_at_delivery(
    session_factory: sessionmaker[Session],
    register: RegisterEndpoint,
    issue: IssueLicense,
    worker: OutboxWorker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint = register("https://hooks.example.com/mercato")
    monkeypatch.setattr(
        "mercato.webhooks.targets.socket.getaddrinfo",
        lambda host, port, **_: [(2, 1, 6, "", ("10.0.0.7", port))],
    )
    issue()
    assert worker.drain().retrying == 1
    [delivery] = deliveries(session_factory, endpoint)
    [attempt] = attempts(session_factory, delivery)
    assert attempt.status_code is None
    assert attempt.error == "hooks.example.com resolves to 10.0.0.7, which is not a public address"


def test_queue_webhook_with_an_event_id_queues_each_endpoint_once_and_a_rollback_sends_nothing(
    session_factory: sessionmaker[Session],
    receiver: WebhookReceiver,
    register: RegisterEndpoint,
    worker: OutboxWorker,
    clock: FixedClock,
) -> None:
    endpoint = register(receiver.url, events=["transaction.created"])
    receiver.secrets = [endpoint.secret]
    data = {
        "transaction_id": "42",
        "vendor": "example-mockups",
        "entitlement_number": "E-1",
        "app_key": "com.example.mockups.wiki",
        "sale_type": "new",
        "currency": "USD",
        "amount": Decimal("1100.00"),
        "vendor_amount": Decimal("880.00"),
        "occurred_at": clock.now(),
    }
    with session_factory() as session:
        session.begin()
        queue_webhook(
            session, "transaction.created", vendor_id(session, "example-mockups"), data, event_id="txn_41"
        )
        session.rollback()  # the ledger entry was not written after all
    for _ in range(2):  # a retried caller
        with session_factory() as session, session.begin():
            queue_webhook(
                session, "transaction.created", vendor_id(session, "example-mockups"), data, event_id="txn_42"
            )
    worker.drain()
    [received] = receiver.accepted
    assert received.payload["data"]["amount"] == "1100.00"  # decimals as strings, as everywhere in the API
    EVENT_MODELS[WebhookEventType.TRANSACTION_CREATED].model_validate(received.payload)
    assert len(deliveries(session_factory, endpoint)) == 1


def test_secrets_are_sealed_at_rest_and_move_with_keys_reseal(
    session_factory: sessionmaker[Session], register: RegisterEndpoint, clock: FixedClock
) -> None:
    endpoint = register("https://hooks.mockups.example/in")
    with session_factory() as session, session.begin():
        WebhookService(session, clock, SECRET_KEY).rotate_secret_for(
            member_of(session, "example-mockups"), endpoint.id
        )
    stored = endpoint_now(session_factory, endpoint)
    assert endpoint.secret not in (stored.secret, stored.previous_secret)  # a dump alone signs nothing
    assert open_secret(stored.previous_secret or "", SECRET_KEY, endpoint.id) == endpoint.secret
    with pytest.raises(Exception, match="cannot be opened"):
        open_secret(stored.secret, "another-deployment-secret", endpoint.id)
    with session_factory() as session, session.begin():
        assert reseal_webhook_secrets(session, SECRET_KEY, "the-new-secret-key") >= 1
    resealed = endpoint_now(session_factory, endpoint)
    assert open_secret(resealed.previous_secret or "", "the-new-secret-key", endpoint.id) == endpoint.secret
    assert open_secret(resealed.secret, "the-new-secret-key", endpoint.id).startswith("whsec_")
