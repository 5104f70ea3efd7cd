"""Invoice numbers: each seller of record has one gapless series, starting at 000001.

Tax authorities ask for it: every number of a seller's series is an issued invoice, with no holes. So a request
that is refused, or that fails after it took a number, must give that number back.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from mercato.clock import FixedClock
from support.world import World, add_wiki_server

from .test_seed_scenarios import MOCKUPS, SSO, quote

EVALUATION = [{"action": "evaluation", "product_key": MOCKUPS}]


def _new(product_key: str) -> dict[str, str]:
    return {"action": "new", "product_key": product_key, "tier": "100"}


def accept(shop: TestClient, world: World, created: Any) -> Any:
    assert created.status_code == 201, created.text
    return shop.post(f"/api/v1/quotes/{created.json()['id']}/accept", headers=world.auth("acme_admin"))


def invoice_number(response: Any) -> str:
    assert response.status_code == 201, response.text
    return str(response.json()["invoice"]["number"])


def test_two_marketplace_acceptances_are_numbered_000001_and_000002(shop: TestClient, world: World) -> None:
    first = accept(
        shop, world, quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    )
    second = accept(shop, world, quote(shop, world, [{"action": "new", "product_key": SSO, "tier": "100"}]))
    assert [invoice_number(first), invoice_number(second)] == ["MKT-2026-000001", "MKT-2026-000002"]


def test_a_direct_invoice_in_between_does_not_use_a_marketplace_number(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    # An app is licensed once per host instance: the two direct sales of the mockup app need hosts of their own.
    with session_factory() as session, session.begin():
        add_wiki_server(session, world, "wiki_lab")
        add_wiki_server(session, world, "wiki_staging")
    direct_item = [{"action": "new", "product_key": MOCKUPS, "tier": "10"}]
    numbers = [
        invoice_number(accept(shop, world, quote(shop, world, [_new(MOCKUPS)]))),
        invoice_number(accept(shop, world, quote(shop, world, direct_item, "direct", "wiki_lab"))),
        invoice_number(accept(shop, world, quote(shop, world, [_new(SSO)]))),
        invoice_number(accept(shop, world, quote(shop, world, direct_item, "direct", "wiki_staging"))),
    ]
    assert numbers == [
        "MKT-2026-000001",
        "EXAMPLE-MOCKUPS-2026-000001",
        "MKT-2026-000002",
        "EXAMPLE-MOCKUPS-2026-000002",
    ]


def test_a_refused_or_rolled_back_acceptance_leaves_no_gap(
    shop: TestClient, world: World, clock: FixedClock
) -> None:
    stale = quote(shop, world, [{"action": "new", "product_key": SSO, "tier": "100"}])
    # Five evaluations (free, so settled on acceptance) use 000001 to 000005. Two more open quotes for a sixth
    # both pass the quote check; only the first can be fulfilled.
    numbers = [invoice_number(accept(shop, world, quote(shop, world, EVALUATION))) for _ in range(5)]
    sixth, seventh = quote(shop, world, EVALUATION), quote(shop, world, EVALUATION)
    numbers.append(invoice_number(accept(shop, world, sixth)))

    # Refused at fulfilment, after the invoice took its number: the whole acceptance rolls back.
    rolled_back = accept(shop, world, seventh)
    assert rolled_back.status_code == 422
    assert rolled_back.json()["type"] == "/api/v1/problems/evaluation-limit-reached"

    # Refused before an invoice exists.
    clock.advance(days=31)
    refused = accept(shop, world, stale)
    assert refused.status_code == 422
    assert refused.json()["type"] == "/api/v1/problems/quote-expired"

    numbers.append(
        invoice_number(
            accept(
                shop, world, quote(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
            )
        )
    )
    assert numbers == [f"MKT-2026-{n:06d}" for n in range(1, 8)]
