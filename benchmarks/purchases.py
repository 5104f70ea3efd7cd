"""Purchases per second through HTTP, with one and with two server workers, on PostgreSQL.

A purchase is what a customer's integration does: ``POST /api/v1/quotes`` for one app on one of its host
instances, ``POST /api/v1/quotes/{id}/accept``, then ``POST /api/v1/invoices/{id}/payments`` for the amount due
(operator staff record the bank transfer), each with its API token (the demo tokens). Every purchase buys an app
its host instance does not have yet: the database is prepared with the demo data and many host instances of the
demo customer, and each host instance buys each of the demo wiki apps once.

Starts ``mercato serve --workers N`` on a fresh database and drives it from this process with a lean HTTP/1.1
keep-alive client over raw sockets (as ``validate_api.py`` does), alternating rounds of the no-op
``GET /healthz`` (the floor) and of purchases, best round of each. Also counts, in this process, the SQL
statements one purchase sends (an engine event on every engine, so the autocommit connection that reads API
tokens counts too; BEGIN and COMMIT are not statements the event sees on PostgreSQL).

Prints purchases/s, statements per purchase and the ratio of purchases/s to the floor's requests/s. Not a test:
run it by hand (about a minute and a half with the defaults).

    .venv/bin/python benchmarks/purchases.py
    .venv/bin/python benchmarks/purchases.py --workers 1 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from mercato.accounts.demo import load_demo_accounts
from mercato.accounts.host_instances import HostInstanceService, HostInstanceTerms
from mercato.app import create_app
from mercato.catalog.demo import load_demo_catalog
from mercato.catalog.repository import CatalogRepository
from mercato.database import make_engine, make_session_factory, transaction
from mercato.migrations import upgrade_to_head
from mercato.settings import Settings
from raw_http import http_request, read_response  # a sibling script, not a package

POSTGRES_ADMIN_URL = os.environ.get(
    "MERCATO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SECRET = "benchmark-only-secret-5Rw8Lq2Zx7Kc4Vn9Tb1Mh6"  # serve refuses a weak one
BUYER = "mct_demo_acme_admin"
OPERATOR = "mct_demo_operator"
APPS = ("com.example.mockups.wiki", "com.gatekeeper.sso.wiki", "com.diagramly.diagrams.wiki")


@dataclass
class Round:
    done: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.done / self.seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_database(url: str, hosts: int) -> list[str]:
    """Migrate, load the demo catalog and accounts, and register ``hosts`` wiki servers of the demo customer
    Acme (100 users, like its own wiki). Returns their ids."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    with transaction(make_session_factory(engine)) as session:
        load_demo_catalog(CatalogRepository(session))
        load_demo_accounts(session)
    with transaction(make_session_factory(engine)) as session:
        service = HostInstanceService(session)
        acme = service.repository.organisation_by_slug("acme")
        assert acme is not None
        terms = HostInstanceTerms(name="", user_tier=100, host_maintenance_end=date(2027, 6, 30))
        ids = [
            str(service.register(acme, "wiki", "server", f"BNCH-{n:04d}-0000-0000", terms).instance.id)
            for n in range(hosts)
        ]
    engine.dispose()
    return ids


def purchases(host_ids: list[str]) -> Iterator[tuple[str, str]]:
    """Each (host instance, app) once: every app on the first host instance, then on the next."""
    for host in host_ids:
        for app in APPS:
            yield host, app


def post_json(path: str, token: str, body: dict[str, Any]) -> bytes:
    return http_request("POST", path, json.dumps(body).encode(), token)


async def call(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes, expect: int
) -> dict[str, Any]:
    writer.write(request)
    status, body = await read_response(reader)
    if status != expect:
        raise RuntimeError(f"unexpected answer {status}: {body[:300]!r}")
    answer: dict[str, Any] = json.loads(body) if body.startswith(b"{") else {}
    return answer


async def buy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, app: str) -> None:
    items = [{"action": "new", "product_key": app, "tier": "100"}]
    quote = await call(
        reader,
        writer,
        post_json("/api/v1/quotes", BUYER, {"host_instance_id": host, "items": items}),
        201,
    )
    accepted = await call(reader, writer, post_json(f"/api/v1/quotes/{quote['id']}/accept", BUYER, {}), 201)
    invoice = accepted["invoice"]
    payment = {"amount": invoice["amount_due"], "reference": f"TRF-{invoice['number']}"}
    paid = await call(
        reader,
        writer,
        post_json(f"/api/v1/invoices/{invoice['id']}/payments", OPERATOR, payment),
        200,
    )
    assert paid["status"] == "paid", paid


async def drive_purchases(
    port: int, todo: Iterator[tuple[str, str]], seconds: float, connections: int
) -> Round:
    done = 0
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                pair = next(todo, None)
                if pair is None:
                    break
                await buy(reader, writer, *pair)
                done += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    return Round(done, time.perf_counter() - started)


async def drive_floor(port: int, seconds: float, connections: int) -> Round:
    done = 0
    deadline = time.perf_counter() + seconds
    request = http_request("GET", "/healthz")

    async def connection() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                writer.write(request)
                status, _ = await read_response(reader)
                assert status == 200
                done += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    return Round(done, time.perf_counter() - started)


def statements_per_purchase(url: str, todo: Iterator[tuple[str, str]]) -> int:
    """The SQL statements of one purchase, counted in this process on an application built as ``serve``
    builds it (its own engine, autocommit token reads), after a first purchase has warmed it up."""
    settings = Settings(database_url=url, secret_key=SECRET)
    counted: list[str] = []

    def count(*args: Any) -> None:
        counted.append(args[2])

    with TestClient(create_app(settings)) as client:

        def one() -> None:
            host, app = next(todo)
            body = {"host_instance_id": host, "items": [{"action": "new", "product_key": app, "tier": "100"}]}
            buyer, operator = {"Authorization": f"Bearer {BUYER}"}, {"Authorization": f"Bearer {OPERATOR}"}
            quote = client.post("/api/v1/quotes", json=body, headers=buyer).json()
            invoice = client.post(f"/api/v1/quotes/{quote['id']}/accept", headers=buyer).json()["invoice"]
            payment = {"amount": invoice["amount_due"], "reference": f"TRF-{invoice['number']}"}
            paid = client.post(f"/api/v1/invoices/{invoice['id']}/payments", json=payment, headers=operator)
            assert paid.status_code == 200, paid.text

        one()
        event.listen(Engine, "before_cursor_execute", count)
        try:
            one()
        finally:
            event.remove(Engine, "before_cursor_execute", count)
    return len(counted)


def measure(url: str, workers: int, rounds: int, seconds: float, connections: int, hosts: int) -> None:
    host_ids = prepare_database(url, hosts)
    todo = purchases(host_ids)
    statements = statements_per_purchase(url, todo)
    port = free_port()
    env = dict(os.environ, MERCATO_DATABASE_URL=url, MERCATO_SECRET_KEY=SECRET)
    mercato = Path(sys.executable).with_name("mercato")
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [str(mercato), "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(1800):  # a busy machine may take minutes to start the workers
                try:
                    asyncio.run(drive_floor(port, 0.05, 1))
                    break
                except OSError:
                    if server.poll() is not None:
                        log.seek(0)
                        raise RuntimeError(f"mercato serve stopped:\n{log.read().decode()[-2000:]}") from None
                    time.sleep(0.1)
            asyncio.run(
                drive_purchases(port, todo, 1.0, connections)
            )  # warm-up: every worker's first requests
            floor: list[Round] = []
            bought: list[Round] = []
            for _ in range(rounds):
                floor.append(asyncio.run(drive_floor(port, seconds, connections)))
                bought.append(asyncio.run(drive_purchases(port, todo, seconds, connections)))
            best_floor = max(floor, key=lambda r: r.per_second)
            best = max(bought, key=lambda r: r.per_second)
            label = f"{workers} worker{'s' if workers > 1 else ''}"
            print(f"[postgresql, {label}] no-op GET /healthz (floor)   {best_floor.per_second:7.0f} req/s")
            print(
                f"[postgresql, {label}] purchases (quote, accept, pay) {best.per_second:7.1f} /s  "
                f"({3 * best.per_second:.0f} req/s)  ratio to the floor {best.per_second / best_floor.per_second:.3f}  "
                f"{statements} statements per purchase"
            )
            if best.done == 0:
                raise RuntimeError("no purchase finished: give more --hosts")
        except Exception:
            log.seek(0)
            print(f"mercato serve said:\n{log.read().decode()[-3000:]}", file=sys.stderr)
            raise
        finally:
            server.terminate()
            server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--hosts", type=int, default=400, help="host instances, each buying every app once")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.connections} connections")
    admin = make_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    for workers in args.workers:
        name = f"mercato_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = admin.url.set(database=name).render_as_string(hide_password=False)
            measure(url, workers, args.rounds, args.seconds, args.connections, args.hosts)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    main()
