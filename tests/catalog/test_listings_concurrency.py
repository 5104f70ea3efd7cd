"""Status changes race safely through a real server: approvals of one revision publish it once, drafts put at
once leave one open draft, the same app created at once is one app."""

# ruff: noqa: F811  (the fixture comes from the concurrent accepts test)
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import func, select

from catalog.listings_world import APP, KEY, VENDOR, add_vendor, server_listing
from commerce.test_concurrent_accepts import LiveShop, live_shop  # noqa: F401  (fixture)
from mercato.catalog.models import App, Listing, ListingRevision, PriceTable, RevisionStatus
from mercato.database import make_session_factory, transaction

RACERS = 8


def test_racing_creates_drafts_and_approvals_each_take_effect_once(live_shop: LiveShop) -> None:
    with transaction(make_session_factory(live_shop.engine)) as session:
        _, board = add_vendor(session, VENDOR)
    tokens = {"board": board, "operator": live_shop.world.tokens["operator"]}

    def call(method: str, path: str, role: str, json: Any = None) -> httpx.Response:
        with httpx.Client(base_url=live_shop.base_url, timeout=60) as client:
            headers = {"Authorization": f"Bearer {tokens[role]}"}
            return client.request(method, f"/api/v1{path}", headers=headers, json=json)

    def race(method: str, path: str, role: str, json: Any = None) -> list[httpx.Response]:
        with ThreadPoolExecutor(RACERS) as pool:
            return list(pool.map(lambda _: call(method, path, role, json), range(RACERS)))

    created = race("POST", f"/vendors/{VENDOR}/apps", "board", APP)
    assert sorted({r.status_code for r in created}) in ([200, 201], [201]), [r.text for r in created]
    assert [r.status_code for r in created].count(201) == 1

    drafts = race("PUT", f"/apps/{KEY}/listings/server/draft", "board", {"listing": server_listing()})
    assert {r.status_code for r in drafts} == {200}, [r.text for r in drafts if r.status_code != 200]
    assert len({r.json()["id"] for r in drafts}) == 1

    revision = call("POST", f"/apps/{KEY}/listings/server/draft/submit", "board").json()["id"]
    approvals = race("POST", f"/revisions/{revision}/approve", "operator", {"note": "fine"})
    assert {r.status_code for r in approvals} <= {200, 409}, [r.text for r in approvals]
    answers = [r.json() for r in approvals if r.status_code == 200]
    assert answers and all(a == answers[0] for a in answers)

    with make_session_factory(live_shop.engine)() as session:
        assert session.scalar(select(func.count()).select_from(App).where(App.key == KEY)) == 1
        listings = session.scalars(select(Listing).where(Listing.product_key == KEY)).all()
        assert len(listings) == 1
        tables = select(func.count()).select_from(PriceTable).where(PriceTable.listing_id == listings[0].id)
        assert session.scalar(tables) == 1
        statuses = session.scalars(select(ListingRevision.status)).all()
        assert list(statuses) == [RevisionStatus.APPROVED]
