"""Paging the long lists with a cursor (``after``): every row there was when paging began is seen exactly once, in
a stable order, however many rows are added between pages; a cursor that this list did not give out is a 422
problem; the last page says ``has_more: false``; ``offset`` keeps working; and a page costs the same number of
SQL statements whatever its size (docs/performance.md has the figures)."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from commerce.conftest import START
from commerce.test_statement_budget import counted
from support.lists import copy_sales, sell
from support.world import World

# Each list, what identifies its items, and who reads every row.
LISTS = {
    "/api/v1/licenses": "entitlement_number",
    "/api/v1/invoices": "id",
    "/api/v1/quotes": "id",
}


def _moments(count: int, newest: datetime) -> list[datetime]:
    """``count`` creation times going back from ``newest``, three rows to each instant: ties are ordered by id."""
    return [newest - timedelta(minutes=n // 3) for n in range(count)]


def _all(shop: TestClient, world: World, path: str, key: str, **params: Any) -> list[str]:
    answer = shop.get(path, params={"limit": 200, **params}, headers=world.auth("operator")).json()
    assert answer["has_more"] is False and answer["next_after"] is None
    return [item[key] for item in answer["items"]]


@pytest.fixture
def sales(shop: TestClient, world: World, session_factory: sessionmaker[Session]) -> None:
    """One real sale and 24 copies of it over the eight minutes before it."""
    sell(shop, world)
    with session_factory() as session, session.begin():
        copy_sales(session, _moments(24, START - timedelta(minutes=1)), "OLD")


@pytest.mark.usefixtures("sales")
@pytest.mark.parametrize("path", list(LISTS))
def test_paging_with_after_sees_every_row_once_while_rows_are_added(
    path: str, shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    key = LISTS[path]
    before = _all(shop, world, path, key)
    assert len(before) == 25
    seen: list[str] = []
    after = None
    for page_number in range(20):
        params: dict[str, Any] = {"limit": 4} | ({"after": after} if after else {})
        page = shop.get(path, params=params, headers=world.auth("operator"))
        assert page.status_code == 200, page.text
        body = page.json()
        seen += [item[key] for item in body["items"]]
        if not body["has_more"]:
            assert body["next_after"] is None
            break
        after = body["next_after"]
        # Sales keep coming while the client pages: newer ones, and ones at the very instant of rows seen.
        with session_factory() as session, session.begin():
            copy_sales(session, [START + timedelta(minutes=page_number + 1), START], f"NEW{page_number}-")
    else:
        pytest.fail("the pages never ended")
    assert len(seen) == len(set(seen)), "a row was shown twice"
    assert [row for row in seen if row in before] == before  # each row there was, once, in the same order
    assert body["total"] is None  # counted only when asked


@pytest.mark.usefixtures("sales")
@pytest.mark.parametrize("path", list(LISTS))
def test_offset_still_pages_and_total_is_counted_when_asked(
    path: str, shop: TestClient, world: World
) -> None:
    key = LISTS[path]
    everything = _all(shop, world, path, key)
    second = shop.get(
        path, params={"limit": 5, "offset": 5, "include": "total"}, headers=world.auth("operator")
    )
    body = second.json()
    assert [item[key] for item in body["items"]] == everything[5:10]
    assert (body["total"], body["has_more"], body["offset"], body["limit"]) == (25, True, 5, 5)
    by_cursor = shop.get(path, params={"limit": 5}, headers=world.auth("operator")).json()
    following = shop.get(
        path, params={"limit": 5, "after": by_cursor["next_after"]}, headers=world.auth("operator")
    ).json()
    assert [item[key] for item in following["items"]] == everything[5:10]
    last = shop.get(path, params={"limit": 5, "offset": 20}, headers=world.auth("operator")).json()
    assert (len(last["items"]), last["has_more"], last["next_after"]) == (5, False, None)


ROW_ID = "0e3f5c4a-8a4e-4f0e-9a0b-5d3c2b1a0f9e"


def _cursor(*values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "after",
    [
        pytest.param(
            _cursor("quotes", "2026-11-26T12:00:00+00:00", "0e3f5c4a-8a4e-4f0e-9a0b-5d3c2b1a0f9e"),
            id="foreign",
        ),
        pytest.param(
            _cursor("licenses", "2026-11-26T12:00:00", "0e3f5c4a-8a4e-4f0e-9a0b-5d3c2b1a0f9e"), id="naive"
        ),
        pytest.param(
            _cursor("licenses", "yesterday", "0e3f5c4a-8a4e-4f0e-9a0b-5d3c2b1a0f9e"), id="not-a-time"
        ),
        pytest.param(_cursor("licenses", "2026-11-26T12:00:00+00:00", "42"), id="not-an-id"),
        pytest.param(_cursor("licenses", "2026-11-26T12:00:00+00:00"), id="short"),
        pytest.param(_cursor("licenses", "2026-11-26T12:00:00\u0000+00:00", "x"), id="nul-inside"),
        pytest.param(_cursor("licenses", "\ud800", "x"), id="lone-surrogate"),
        pytest.param(_cursor({"licenses": 1}), id="object"),
        pytest.param("bm90LWpzb24", id="not-json"),
        pytest.param("A", id="not-base64"),
        pytest.param("a" * 399, id="long-garbage"),
    ],
)
def test_a_cursor_the_list_did_not_give_out_is_a_422_problem(
    after: str, shop: TestClient, world: World
) -> None:
    answer = shop.get("/api/v1/licenses", params={"after": after}, headers=world.auth("operator"))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "/api/v1/problems/invalid-cursor"
    assert problem["errors"] == [
        {"field": "query.after", "message": "not a cursor of this list", "code": "invalid_cursor"}
    ]


@pytest.mark.parametrize("after", ["", "a" * 401, "abc\x00def", "abc def", "é"])
def test_a_cursor_that_is_not_even_cursor_text_is_refused_as_invalid_input(
    after: str, shop: TestClient, world: World
) -> None:
    answer = shop.get("/api/v1/invoices", params={"after": after}, headers=world.auth("operator"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["type"] == "/api/v1/problems/invalid-input"
    assert [error["field"] for error in answer.json()["errors"]] == ["query.after"]


def test_a_customer_pages_only_its_own_rows(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    sell(shop, world)
    with session_factory() as session, session.begin():
        copy_sales(session, _moments(6, START - timedelta(minutes=1)), "ACME")
    seen: list[str] = []
    after = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"after": after} if after else {})
        body = shop.get("/api/v1/invoices", params=params, headers=world.auth("acme_admin")).json()
        seen += [item["id"] for item in body["items"]]
        if not body["has_more"]:
            break
        after = body["next_after"]
    assert len(seen) == len(set(seen)) == 7
    assert shop.get("/api/v1/invoices", headers=world.auth("globex_admin")).json()["items"] == []


@pytest.mark.parametrize("path", list(LISTS))
def test_a_page_costs_the_same_statements_for_5_rows_as_for_50(
    path: str, shop: TestClient, world: World, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    sell(shop, world)
    with session_factory() as session, session.begin():
        copy_sales(session, _moments(60, START - timedelta(minutes=1)), "MANY")
    separator = "&" if "?" in path else "?"
    shop.get(f"{path}{separator}limit=5", headers=world.auth("operator"))  # warm: the token's first use
    costs = {}
    for size in (5, 50):
        with counted(engine) as statements:
            answer = shop.get(f"{path}{separator}limit={size}", headers=world.auth("operator"))
        assert answer.status_code == 200 and len(answer.json()["items"]) == size, answer.text
        costs[size] = len(statements)
    assert costs[5] == costs[50], costs
