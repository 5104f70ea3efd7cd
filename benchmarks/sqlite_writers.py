"""How many concurrent writers the default SQLite deployment sustains: one ``mercato serve`` process on a SQLite
file with the default settings (WAL, a 10 s busy timeout), driven by N clients at once.

Each client asks for quotes one after the other (``POST /api/v1/quotes``: priced, written, committed: the
commonest write a buyer makes), ``--requests`` each. For each N it prints throughput, latency percentiles, the
slowest request, and how many requests were refused (503 with Retry-After when a write waited out the busy
timeout; any 500 would be a bug). Not a test: run it by hand on an otherwise idle machine.

    .venv/bin/python benchmarks/sqlite_writers.py
    .venv/bin/python benchmarks/sqlite_writers.py --writers 1 10 50 --requests 20
    .venv/bin/python benchmarks/sqlite_writers.py --read    # GET /api/v1/quotes instead: reads queue too
    .venv/bin/python benchmarks/sqlite_writers.py --postgresql   # the same load on PostgreSQL, to compare
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import text

from mercato.database import make_engine

MERCATO = Path(sys.executable).with_name("mercato")
POSTGRES_ADMIN_URL = os.environ.get(
    "MERCATO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ACME = {"Authorization": "Bearer mct_demo_acme_admin"}
DROPPED = 0


@dataclass
class Level:
    writers: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))]

    def line(self) -> str:
        done = sum(self.statuses.values())
        refused = ", ".join(
            f"{count}×{status}" for status, count in sorted(self.statuses.items()) if status >= 300
        )
        return (
            f"{self.writers:4d} writers  {done / self.seconds:7.1f} req/s  p50 {self.percentile(0.5) * 1000:7.0f} ms"
            f"  p99 {self.percentile(0.99) * 1000:7.0f} ms  slowest {max(self.latencies):6.2f} s"
            f"  refused: {refused or 'none'}"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(directory: Path, database_url: str | None) -> tuple[subprocess.Popen[bytes], str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")}
    environment["MERCATO_DEMO"] = "true"  # demo data, sealed with the public demo secret
    if database_url:
        environment["MERCATO_DATABASE_URL"] = database_url
    subprocess.run([str(MERCATO), "demo"], cwd=directory, env=environment, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [str(MERCATO), "serve", "--port", str(port)],
        cwd=directory,
        env=environment | {"MERCATO_SERVE_DRAINS_OUTBOX": "false"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return server, base
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("mercato serve did not start")


@contextmanager
def fresh_postgresql(wanted: bool) -> Iterator[str | None]:
    if not wanted:
        yield None
        return
    admin = make_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"mercato_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def wiki_server(base: str) -> str:
    hosts = httpx.get(
        f"{base}/api/v1/organisations/acme/host-instances?host_product=wiki&hosting=server", headers=ACME
    ).json()
    return str(hosts["items"][0]["id"])


async def run_level(base: str, writers: int, requests: int, read: bool, host: str) -> Level:
    level = Level(writers)
    body = {
        "host_instance_id": host,
        "items": [{"action": "new", "product_key": "com.gatekeeper.sso.wiki", "tier": "100"}],
    }
    limits = httpx.Limits(max_connections=writers, max_keepalive_connections=writers)
    async with httpx.AsyncClient(base_url=base, headers=ACME, timeout=120, limits=limits) as client:

        async def writer() -> None:
            for _ in range(requests):
                started = time.perf_counter()
                try:
                    if read:
                        response = await client.get("/api/v1/quotes?limit=5")
                    else:
                        response = await client.post("/api/v1/quotes", json=body)
                except httpx.TransportError:
                    level.statuses[DROPPED] += 1  # e.g. a keep-alive connection the server closed meanwhile
                    continue
                level.latencies.append(time.perf_counter() - started)
                level.statuses[response.status_code] += 1

        started = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(writers)))
        level.seconds = time.perf_counter() - started
    return level


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 5, 10, 20, 50, 100, 200])
    parser.add_argument("--requests", type=int, default=10, help="requests per writer at each level")
    parser.add_argument("--read", action="store_true", help="GET /api/v1/quotes instead of POST")
    parser.add_argument("--postgresql", action="store_true", help="a fresh PostgreSQL database instead")
    arguments = parser.parse_args()
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} cores, one `mercato serve` process, "
        f"{'PostgreSQL' if arguments.postgresql else 'SQLite'} with the default settings; "
        f"{'reads: GET /api/v1/quotes' if arguments.read else 'writes: POST /api/v1/quotes'}, "
        f"{arguments.requests} per writer"
    )
    with tempfile.TemporaryDirectory() as directory, fresh_postgresql(arguments.postgresql) as database_url:
        server, base = start_server(Path(directory), database_url)
        try:
            host = wiki_server(base)
            for writers in arguments.writers:
                level = asyncio.run(run_level(base, writers, arguments.requests, arguments.read, host))
                print(level.line(), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
