"""Requests per second of ``POST /api/v1/licenses/validate`` as a ratio of a no-op endpoint of the same server.

Starts ``mercato serve`` (one worker) on a fresh database with the demo catalog and issued keys, then drives it
from this process with a lean HTTP/1.1 keep-alive client over raw sockets, alternating rounds of the no-op
``GET /healthz`` (the floor) and of the validate call, best round of each. Two validate workloads:

- warm: one key checked again and again, as an app re-checks its own key; the server's verified-key and
  key-standing caches answer;
- cold: every request carries a key the server has never seen, so each one pays the Ed25519 verification and
  the database lookup.

Prints requests/s, p50 and p99 latency, and the ratios. Not a test: run it by hand.

    .venv/bin/python benchmarks/validate_api.py                   # SQLite and PostgreSQL
    .venv/bin/python benchmarks/validate_api.py --backend sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

from mercato.catalog.demo import load_demo_catalog
from mercato.catalog.repository import CatalogRepository
from mercato.database import make_engine, make_session_factory, transaction
from mercato.licenses.service import IssueRequest, LicenseService
from mercato.migrations import upgrade_to_head
from mercato.services import Services
from raw_http import http_request, read_response  # a sibling script, not a package

POSTGRES_ADMIN_URL = os.environ.get(
    "MERCATO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SECRET = "benchmark-only-secret-5Rw8Lq2Zx7Kc4Vn9Tb1Mh6"  # serve refuses a weak one
SERVER_ID = "BENCH-SERVER-1"


@dataclass
class Round:
    requests: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_database(url: str, keys: int) -> list[str]:
    """Migrate, load the demo catalog and issue ``keys`` marketplace keys for the same server."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    request = IssueRequest(
        app_key="com.example.mockups.wiki",
        hosting="server",
        channel="marketplace",
        tier=100,
        license_type="commercial",
        host_binding=SERVER_ID,
        maintenance_end=date.today() + timedelta(days=365),
    )
    with transaction(make_session_factory(engine)) as session:
        load_demo_catalog(CatalogRepository(session))
        service = LicenseService(session, Services(secret_key=SECRET))
        tokens = [service.issue(request).token for _ in range(keys)]
    engine.dispose()
    return tokens


async def drive(port: int, requests: list[bytes], seconds: float, connections: int, expect: bytes) -> Round:
    """Send ``requests`` in turn (each at most once when there are more than one) until time or them run out."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    cycle = len(requests) == 1
    remaining = iter(requests)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                request = requests[0] if cycle else next(remaining, None)
                if request is None:
                    break
                started = time.perf_counter()
                writer.write(request)
                status, body = await read_response(reader)
                latencies.append(time.perf_counter() - started)
                if status != 200 or expect not in body:
                    raise RuntimeError(f"unexpected answer {status}: {body[:200]!r}")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    return Round(len(latencies), time.perf_counter() - started, latencies)


def validate_request(token: str) -> bytes:
    body = json.dumps(
        {
            "key": token,
            "app_key": "com.example.mockups.wiki",
            "hosting": "server",
            "server_id": SERVER_ID,
            "host_tier": "100",
            "host_license_type": "commercial",
        }
    ).encode()
    return http_request("POST", "/api/v1/licenses/validate", body)


def report(label: str, name: str, best: Round, floor: Round | None = None) -> None:
    ratio = f"  ratio {best.per_second / floor.per_second:.2f}" if floor else ""
    print(
        f"[{label}] {name:34s} {best.per_second:7.0f} req/s  p50 {best.percentile(0.50):6.2f} ms  "
        f"p99 {best.percentile(0.99):6.2f} ms{ratio}"
    )


def measure(url: str, label: str, rounds: int, seconds: float, connections: int, cold_keys: int) -> None:
    tokens = prepare_database(url, 1 + cold_keys)
    port = free_port()
    env = dict(os.environ, MERCATO_DATABASE_URL=url, MERCATO_SECRET_KEY=SECRET)
    mercato = Path(sys.executable).with_name("mercato")
    server = subprocess.Popen(
        [str(mercato), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        noop = [http_request("GET", "/healthz")]
        warm = [validate_request(tokens[0])]
        cold = [validate_request(token) for token in tokens[1:]]
        for _ in range(100):
            try:
                asyncio.run(drive(port, noop, 0.05, 1, b"ok"))
                break
            except OSError:
                time.sleep(0.1)
        asyncio.run(drive(port, warm, 1.0, connections, b'"VALID"'))  # warm-up, and proves the key is VALID
        floor: list[Round] = []
        warm_rounds: list[Round] = []
        cold_rounds: list[Round] = []
        per_round = len(cold) // rounds
        for index in range(rounds):
            floor.append(asyncio.run(drive(port, noop, seconds, connections, b"ok")))
            warm_rounds.append(asyncio.run(drive(port, warm, seconds, connections, b'"VALID"')))
            fresh = cold[index * per_round : (index + 1) * per_round]
            cold_rounds.append(asyncio.run(drive(port, fresh, seconds, connections, b'"VALID"')))
        best_floor = max(floor, key=lambda r: r.per_second)
        report(label, "no-op GET /healthz (floor)", best_floor)
        report(
            label, "validate, warm (same key again)", max(warm_rounds, key=lambda r: r.per_second), best_floor
        )
        report(
            label,
            "validate, cold (never-seen keys)",
            max(cold_rounds, key=lambda r: r.per_second),
            best_floor,
        )
        spread = statistics.pstdev(r.per_second for r in floor) / statistics.mean(r.per_second for r in floor)
        print(
            f"[{label}] {rounds} rounds of up to {seconds:.0f} s each, {connections} connections, "
            f"{per_round} fresh keys per cold round, floor round-to-round spread {spread:.0%}"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--cold-keys", type=int, default=6000, help="keys issued for the cold rounds")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, one server worker")
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as directory:
            measure(
                f"sqlite:///{directory}/bench.db",
                "sqlite",
                args.rounds,
                args.seconds,
                args.connections,
                args.cold_keys,
            )
    if args.backend in ("postgresql", "both"):
        admin = make_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        name = f"mercato_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = admin.url.set(database=name).render_as_string(hide_password=False)
            measure(url, "postgresql", args.rounds, args.seconds, args.connections, args.cold_keys)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
