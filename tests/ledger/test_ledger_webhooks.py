"""The revenue ledger and the payout run announce themselves to webhooks: a new ledger entry is a
``transaction.created``, a payout a ``payout.paid``, each queued once, to the vendor's endpoints and the
operator's, with the body the OpenAPI document publishes."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mercato.clock import FixedClock
from mercato.webhooks.models import WebhookDelivery
from mercato.webhooks.payloads import EVENT_MODELS, WebhookEventType
from support.ledger import MOCKUPS, buy
from support.world import World

EVENTS = ["transaction.created", "payout.paid"]


def register(shop: TestClient, world: World, role: str) -> str:
    answer = shop.post(
        "/api/v1/webhook-endpoints",
        json={"url": "https://hooks.mockups.example/mercato", "events": EVENTS, "vendor": "example-mockups"}
        if role == "mockups_vendor"
        else {"url": "https://hooks.operator.example/mercato", "events": EVENTS},
        headers=world.auth(role),
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def bodies(session_factory: sessionmaker[Session], endpoint_id: str) -> list[dict[str, Any]]:
    with session_factory() as session:
        found = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at)).all()
        return [json.loads(d.body) for d in found if str(d.endpoint_id) == endpoint_id]


def test_a_sale_and_its_payout_are_announced_once_each(
    shop: TestClient, world: World, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    vendor_endpoint = register(shop, world, "mockups_vendor")
    operator_endpoint = register(shop, world, "operator")
    buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    clock.advance(days=5)  # 2026-12-01: November is over
    for _ in range(2):  # a second run pays nothing more, and announces nothing more
        answer = shop.post("/api/v1/payouts/runs", json={"month": "2026-11"}, headers=world.auth("operator"))
        assert answer.status_code == 200, answer.text

    for endpoint in (vendor_endpoint, operator_endpoint):
        sent = bodies(session_factory, endpoint)
        assert [body["type"] for body in sent] == EVENTS
        transaction, payout = sent
        EVENT_MODELS[WebhookEventType.TRANSACTION_CREATED].model_validate(transaction)
        EVENT_MODELS[WebhookEventType.PAYOUT_PAID].model_validate(payout)
        assert transaction["data"]["app_key"] == MOCKUPS and transaction["data"]["sale_type"] == "new"
        assert transaction["data"]["vendor"] == payout["data"]["vendor"] == "example-mockups"
        assert payout["data"]["amount"] == "825.00" and payout["data"]["month"] == "2026-11"
