"""50 concurrent accepts of one quote — with the same and with different Idempotency-Keys — make exactly one
order, one invoice and one set of licenses, on SQLite and PostgreSQL, through a real server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from mercato.app import create_app
from mercato.catalog.demo import load_demo_catalog
from mercato.catalog.repository import CatalogRepository
from mercato.commerce.models import Invoice, Order
from mercato.database import make_engine, make_session_factory, transaction
from mercato.licenses.models import License, LicenseKey, LicenseTransaction
from mercato.migrations import upgrade_to_head
from mercato.settings import Settings
from support.world import World, build_world


@dataclass
class LiveShop:
    base_url: str
    world: World
    engine: Engine


@pytest.fixture
def live_shop(backend: str, fresh_database_url) -> Iterator[LiveShop]:  # type: ignore[no-untyped-def]
    url = fresh_database_url(backend)
    engine = make_engine(url)
    upgrade_to_head(engine)
    with transaction(make_session_factory(engine)) as session:
        load_demo_catalog(CatalogRepository(session))
        world = build_world(session)
    app = create_app(Settings(database_url=url, secret_key="test-secret-key"), engine)
    # The server gets a socket already bound to a port the system picked: no other process can take it first.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = int(listener.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the test server did not start"
    yield LiveShop(f"http://127.0.0.1:{port}", world, engine)
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()
    engine.dispose()


def test_fifty_concurrent_accepts_make_one_order_one_invoice_one_license_set(live_shop: LiveShop) -> None:
    world, base = live_shop.world, live_shop.base_url
    created = httpx.post(
        f"{base}/api/v1/quotes",
        headers=world.auth("acme_admin"),
        json={
            "host_instance_id": str(world.wiki_server.id),
            "items": [
                {"action": "evaluation", "product_key": "com.example.mockups.wiki"},
                {"action": "evaluation", "product_key": "com.gatekeeper.sso.wiki"},
            ],
        },
    )
    assert created.status_code == 201, created.text
    accept_url = f"{base}/api/v1/quotes/{created.json()['id']}/accept"

    def accept(attempt: int) -> httpx.Response:
        # Half retry with one shared key, half with a key of their own.
        key = "shared-key" if attempt % 2 == 0 else f"own-key-{attempt}"
        headers = {**world.auth("acme_admin"), "Idempotency-Key": key}
        return httpx.post(accept_url, headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(accept, range(50)))

    assert {r.status_code for r in responses} <= {200, 201}, [
        r.text for r in responses if r.status_code >= 300
    ]
    assert len({r.json()["invoice"]["id"] for r in responses}) == 1
    assert len({r.json()["order"]["id"] for r in responses}) == 1
    with live_shop.engine.connect() as connection:

        def count(model: type) -> int:
            return int(connection.scalar(select(func.count()).select_from(model)) or 0)

        assert count(Order) == 1
        assert count(Invoice) == 1
        assert count(License) == 2
        assert count(LicenseKey) == 2
        assert count(LicenseTransaction) == 2
