"""Statements and payouts through the API: a month's run pays each vendor's balance once, records the
operator's reference, and its remittance report reconciles to the cent with the ledger entries it covers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from mercato.clock import FixedClock
from support.access import Endpoint, assert_access
from support.ledger import MOCKUPS, SSO, buy, refund, vendor_member
from support.world import World

RUNS = "/api/v1/payouts/runs"


def run(shop: TestClient, world: World, month: str, **options: Any) -> Any:
    answer = shop.post(RUNS, json={"month": month, **options}, headers=world.auth("operator"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def statement(shop: TestClient, world: World, month: str, role: str = "mockups_vendor") -> Any:
    answer = shop.get(f"/api/v1/vendors/example-mockups/statements?month={month}", headers=world.auth(role))
    assert answer.status_code == 200, answer.text
    (only,) = answer.json()["statements"]
    return only


def test_a_months_run_pays_the_closing_balance_once_with_the_operators_reference(
    shop: TestClient, world: World, clock: FixedClock
) -> None:
    buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    clock.advance(days=5)  # 2026-12-01
    first = run(shop, world, "2026-11", reference_prefix="NOV-")
    assert first["paid"] == 1
    (decision,) = first["decisions"]
    payout = decision["payout"]
    assert (decision["vendor"], decision["outcome"], payout["amount"], payout["currency"]) == (
        "example-mockups",
        "paid",
        "825.00",
        "USD",
    )
    assert payout["reference"] == "NOV-2026-11-example-mockups-USD"
    again = run(shop, world, "2026-11")
    assert (again["paid"], again["decisions"]) == (0, [])

    remittance = shop.get(f"/api/v1/payouts/{payout['id']}/remittance", headers=world.auth("mockups_vendor"))
    assert remittance.status_code == 200, remittance.text
    document = remittance.json()
    assert document["reconciled"] is True
    assert document["entries_total"] == payout["amount"] == "825.00"
    (entry,) = document["entries"]
    assert entry["entitlement_number"].startswith("SEN-") and entry["invoice"]

    # The transactions report, filtered by the payout, lists exactly the remittance's entries.
    reported = shop.get(
        f"/api/v1/vendor/example-mockups/transactions?payout={payout['id']}",
        headers=world.auth("mockups_vendor"),
    ).json()["items"]
    assert [(r["id"], r["vendor_amount"]) for r in reported] == [(entry["id"], entry["vendor_amount"])]

    november = statement(shop, world, "2026-11")
    assert (
        november["opening_balance"],
        november["entries_total"],
        november["payouts_total"],
        november["closing_balance"],
    ) == ("0.00", "825.00", "825.00", "0.00")
    assert [e["id"] for e in november["entries"]] == [entry["id"]]
    assert statement(shop, world, "2026-12")["opening_balance"] == "0.00"
    listed = shop.get("/api/v1/vendors/example-mockups/payouts", headers=world.auth("mockups_vendor")).json()
    assert (listed["total"], listed["items"][0]["id"]) == (1, payout["id"])


def test_a_month_that_is_not_over_is_not_paid(shop: TestClient, world: World) -> None:
    answer = shop.post(RUNS, json={"month": "2026-11"}, headers=world.auth("operator"))
    assert answer.status_code == 409
    assert answer.json()["type"] == "/api/v1/problems/month-not-over"
    assert shop.post(RUNS, json={"month": "0000-01"}, headers=world.auth("operator")).status_code == 422
    assert shop.post(RUNS, json={"month": "2026-13"}, headers=world.auth("operator")).status_code == 422


def test_a_balance_below_the_threshold_waits_and_a_refund_carries_into_the_next_month(
    shop: TestClient, world: World, clock: FixedClock
) -> None:
    invoice = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    clock.advance(days=5)  # 2026-12-01
    waiting = run(shop, world, "2026-11", threshold="1000")
    assert [(d["outcome"], d["balance"]) for d in waiting["decisions"]] == [("below_threshold", "825.00")]
    assert statement(shop, world, "2026-11")["closing_balance"] == "825.00"
    refund(shop, world, invoice)  # 2026-12-01, within 30 days: the vendor's share comes back
    buy(shop, world, [{"action": "new", "product_key": SSO, "tier": "100"}])  # another vendor's app
    clock.advance(days=31)  # 2027-01-01
    december = statement(shop, world, "2026-12")
    assert (december["opening_balance"], december["entries_total"], december["closing_balance"]) == (
        "825.00",
        "-825.00",
        "0.00",
    )
    paid = run(shop, world, "2026-12")
    outcomes = {d["vendor"]: (d["outcome"], d["balance"]) for d in paid["decisions"]}
    assert outcomes["example-mockups"] == ("nothing_owed", "0.00")
    assert outcomes["gatekeeper"][0] == "paid"


def test_a_vendor_sees_only_its_own_statements_payouts_and_remittances(
    shop: TestClient, world: World, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    clock.advance(days=5)
    payout_id = run(shop, world, "2026-11")["decisions"][0]["payout"]["id"]
    with session_factory() as session, session.begin():
        gatekeeper = vendor_member(session, "gatekeeper")
    tokens = dict(world.tokens) | {"gatekeeper_vendor": gatekeeper}
    readers = {"operator", "mockups_vendor"}
    others = {"acme_admin", "acme_billing", "globex_admin", "gatekeeper_vendor"}
    assert_access(
        shop,
        [
            Endpoint("GET", "/api/v1/vendors/example-mockups/statements?month=2026-11", allowed=readers),
            Endpoint("GET", "/api/v1/vendors/example-mockups/payouts", allowed=readers),
            Endpoint("GET", "/api/v1/payouts/{payout}/remittance", allowed=readers),
            Endpoint(
                "POST",
                RUNS,
                allowed={"operator"},
                forbidden=others | {"mockups_vendor"},
                body={"month": "2026-11"},
            ),
        ],
        tokens,
        read_only={"acme_read_only": "acme_admin"},
        params={"payout": payout_id},
    )
    # The other vendor's own (empty) statements are its own to read.
    own = shop.get(
        "/api/v1/vendors/gatekeeper/statements?month=2026-11",
        headers={"Authorization": f"Bearer {gatekeeper}"},
    )
    assert (own.status_code, own.json()["statements"]) == (200, [])
    assert Decimal("825.00") == Decimal(statement(shop, world, "2026-11", role="operator")["payouts_total"])
