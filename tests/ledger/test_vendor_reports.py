"""The vendor reporting API: transactions from the ledger and licenses, filtered, paged by cursor, as CSV, with
summary metrics; a sale shows the moment it is paid; a vendor sees only its own."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from mercato.clock import FixedClock
from support.access import Endpoint, assert_access
from support.ledger import MOCKUPS, SSO, buy, refund, vendor_member
from support.world import World, add_second_wiki_server

BASE = "/api/v1/vendor/example-mockups"


def test_a_sale_is_a_transaction_the_moment_it_is_paid_and_refunds_and_filters_follow(
    shop: TestClient, world: World, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    vendor = world.auth("mockups_vendor")
    invoice = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    listed = shop.get(f"{BASE}/transactions", headers=vendor).json()
    (sale,) = listed["items"]
    assert (sale["sale_type"], sale["amount"], sale["vendor_amount"], sale["app_key"]) == (
        "new",
        "1100.00",
        "825.00",
        MOCKUPS,
    )
    assert sale["entitlement_number"] == invoice["lines"][0]["license"]
    assert sale["invoice"] == invoice["number"] and sale["customer"] == "Acme Corp"
    clock.advance(days=1)
    refund(shop, world, invoice)
    with session_factory() as session, session.begin():
        add_second_wiki_server(session, world)
    buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}], instance="wiki_lab")
    buy(shop, world, [{"action": "new", "product_key": SSO, "tier": "100"}])  # another vendor's sale
    items = shop.get(f"{BASE}/transactions", headers=vendor).json()["items"]
    assert [i["sale_type"] for i in items] == ["new", "refund", "new"]  # newest first; no SSO
    refunds = shop.get(f"{BASE}/transactions?sale_type=refund", headers=vendor).json()["items"]
    assert [(r["amount"], r["corrects_entry_id"]) for r in refunds] == [("-1100.00", sale["id"])]
    assert shop.get(f"{BASE}/transactions?channel=direct", headers=vendor).json()["items"] == []
    assert shop.get(f"{BASE}/transactions?since=2026-11-27", headers=vendor).json()["items"][-1][
        "sale_type"
    ] == ("refund")

    seen, cursor = [], None
    while True:
        page = shop.get(
            f"{BASE}/transactions",
            params={"limit": 1, **({"cursor": cursor} if cursor else {})},
            headers=vendor,
        ).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [i["id"] for i in items]

    exported = shop.get(f"{BASE}/transactions?format=csv", headers=vendor)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["id"], r["sale_type"], r["vendor_amount"]) for r in rows] == [
        (str(i["id"]), i["sale_type"], i["vendor_amount"]) for i in items
    ]


def test_licenses_include_evaluations_and_the_summary_counts_what_happened(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    vendor = world.auth("mockups_vendor")
    buy(shop, world, [{"action": "evaluation", "product_key": MOCKUPS}])
    buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    licenses = shop.get(f"{BASE}/licenses", headers=vendor).json()["items"]
    assert sorted(lic["license_type"] for lic in licenses) == ["commercial", "evaluation"]
    evaluations = shop.get(f"{BASE}/licenses?license_type=evaluation", headers=vendor).json()["items"]
    assert [e["evaluation"] for e in evaluations] == [True]
    exported = shop.get(f"{BASE}/licenses?format=csv", headers=vendor)
    assert len(list(csv.DictReader(io.StringIO(exported.text)))) == 2
    summary = shop.get(f"{BASE}/summary?from=2026-11&to=2026-12", headers=vendor).json()
    assert summary["months"] == [
        {
            "month": "2026-11",
            "currency": "USD",
            "sales": "1100.00",
            "vendor_amount": "825.00",
            "entries_by_sale_type": {"new": 1},
        }
    ]
    assert (summary["active_licenses"], summary["evaluations"], summary["evaluations_converted"]) == (1, 1, 1)


def test_the_summary_adds_up_each_utc_month_by_sale_type_in_the_database(
    shop: TestClient, world: World, clock: FixedClock, session_factory: sessionmaker[Session]
) -> None:
    """The months are grouped in the database (by UTC month on both backends): a sale in the last second of
    November is November's, the refund a second later December's."""
    vendor = world.auth("mockups_vendor")
    clock.advance(days=4, hours=11, minutes=59, seconds=59)  # 2026-11-30 23:59:59 UTC
    invoice = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    clock.advance(seconds=1)
    refund(shop, world, invoice)
    with session_factory() as session, session.begin():
        add_second_wiki_server(session, world)
    buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}], instance="wiki_lab")
    summary = shop.get(f"{BASE}/summary?from=2026-10&to=2027-01", headers=vendor).json()
    assert summary["months"] == [
        {
            "month": "2026-11",
            "currency": "USD",
            "sales": "1100.00",
            "vendor_amount": "825.00",
            "entries_by_sale_type": {"new": 1},
        },
        {
            "month": "2026-12",
            "currency": "USD",
            "sales": "0.00",
            "vendor_amount": "0.00",
            "entries_by_sale_type": {"new": 1, "refund": 1},
        },
    ]
    only_december = shop.get(f"{BASE}/summary?from=2026-12&to=2026-12", headers=vendor).json()
    assert [m["month"] for m in only_december["months"]] == ["2026-12"]


def test_transactions_carry_the_tier_sold_the_previous_tier_and_the_period_and_licenses_their_last_sale(
    shop: TestClient, world: World, clock: FixedClock
) -> None:
    vendor = world.auth("mockups_vendor")
    bought = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    entitlement = bought["lines"][0]["license"]
    clock.advance(days=30)
    buy(shop, world, [{"action": "upgrade", "license": entitlement, "tier": "250"}])
    upgrade, sale = shop.get(f"{BASE}/transactions", headers=vendor).json()["items"]
    assert (upgrade["sale_type"], upgrade["tier"], upgrade["previous_tier"]) == ("upgrade", 250, 100)
    assert (sale["sale_type"], sale["tier"], sale["previous_tier"]) == ("new", 100, None)
    assert (sale["maintenance_start"], sale["maintenance_end"]) == ("2026-11-26", "2027-11-26")
    assert upgrade["maintenance_start"] is not None and upgrade["maintenance_end"] is not None
    exported = shop.get(f"{BASE}/transactions?format=csv", headers=vendor)
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["tier"], r["previous_tier"], r["maintenance_start"]) for r in rows] == [
        ("250", "100", upgrade["maintenance_start"]),
        ("100", "", "2026-11-26"),
    ]
    buy(shop, world, [{"action": "evaluation", "product_key": SSO}])  # another vendor's: not listed
    (license,) = shop.get(f"{BASE}/licenses", headers=vendor).json()["items"]
    assert license["last_sale_type"] == "upgrade"
    exported = shop.get(f"{BASE}/licenses?format=csv", headers=vendor)
    assert [r["last_sale_type"] for r in csv.DictReader(io.StringIO(exported.text))] == ["upgrade"]


def test_a_vendor_sees_only_its_own_reports(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    with session_factory() as session, session.begin():
        gatekeeper = vendor_member(session, "gatekeeper")
    readers = {"operator", "mockups_vendor"}
    assert_access(
        shop,
        [
            Endpoint("GET", f"{BASE}/transactions", allowed=readers),
            Endpoint("GET", f"{BASE}/transactions?format=csv", allowed=readers),
            Endpoint("GET", f"{BASE}/licenses", allowed=readers),
            Endpoint("GET", f"{BASE}/licenses?format=csv", allowed=readers),
            Endpoint("GET", f"{BASE}/summary?from=2026-11&to=2026-11", allowed=readers),
        ],
        dict(world.tokens) | {"gatekeeper_vendor": gatekeeper},
        read_only={"acme_read_only": "acme_admin"},
    )
    own = shop.get(
        "/api/v1/vendor/gatekeeper/transactions", headers={"Authorization": f"Bearer {gatekeeper}"}
    ).json()
    assert own["items"] == []


def test_a_cursor_the_report_did_not_give_is_refused(shop: TestClient, world: World) -> None:
    answer = shop.get(f"{BASE}/transactions?cursor=not-a-cursor", headers=world.auth("mockups_vendor"))
    assert answer.status_code == 422
    assert answer.json()["type"] == "/api/v1/problems/invalid-cursor"
