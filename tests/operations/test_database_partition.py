"""A network partition between Mercato and PostgreSQL: requests answer 503 with Retry-After within the timeouts
instead of hanging, /readyz fails while /healthz stays up, and the same server recovers when the network does.

``mercato serve`` runs as a real process with its timeouts set through the environment, and reaches
PostgreSQL through a TCP proxy on loopback that stops forwarding on demand (``operations.tcp_proxy``)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url

from operations.live_server import free_port
from operations.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres

MERCATO = Path(sys.executable).with_name("mercato")
CONNECT_TIMEOUT = 2  # libpq's least
STATEMENT_TIMEOUT = 1
# The longest a request may take to give up: its connection's ping is not answered (the statement timeout and
# the one-second grace), then a fresh connection is not made (the connect timeout); plus slack for a busy
# machine.
GIVES_UP_WITHIN = STATEMENT_TIMEOUT + 1 + CONNECT_TIMEOUT + 3


@dataclass
class PartitionedShop:
    base_url: str
    proxy: TcpProxy
    process: subprocess.Popen[bytes]


@pytest.fixture
def shop(fresh_database_url: Callable[[str], str], tmp_path: Path) -> Iterator[PartitionedShop]:
    database = make_url(fresh_database_url("postgresql"))
    proxy = TcpProxy(database.host or "127.0.0.1", database.port or 5432).start()
    through_proxy = database.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")} | {
        "MERCATO_DATABASE_URL": through_proxy,
        "MERCATO_DATABASE_CONNECT_TIMEOUT_SECONDS": str(CONNECT_TIMEOUT),
        "MERCATO_DATABASE_STATEMENT_TIMEOUT_SECONDS": str(STATEMENT_TIMEOUT),
        "MERCATO_DATABASE_POOL_TIMEOUT_SECONDS": "2",
    }
    process = subprocess.Popen(
        [str(MERCATO), "serve", "--demo", "--port", str(port)],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "mercato serve exited early"
            assert time.monotonic() < deadline, "mercato serve did not answer /healthz within 30 s"
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield PartitionedShop(base_url, proxy, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        proxy.stop()


def timed_get(url: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.get(url, timeout=GIVES_UP_WITHIN * 3)
    return response, time.monotonic() - started


def assert_unavailable(response: httpx.Response, seconds: float) -> None:
    assert response.status_code == 503, response.text
    assert seconds < GIVES_UP_WITHIN, f"took {seconds:.1f} s to give up"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    problem = response.json()
    assert problem["type"] == "/api/v1/problems/database-unavailable"
    assert "cannot reach its database" in problem["detail"]


def test_a_partition_answers_503_within_the_timeouts_and_the_same_server_recovers(
    shop: PartitionedShop,
) -> None:
    base = shop.base_url
    assert httpx.get(f"{base}/readyz").json() == {"status": "ready", "database": "postgresql"}
    assert httpx.get(f"{base}/api/v1/apps").status_code == 200

    shop.proxy.partition()

    # The pooled connection stops answering, and a new one never opens: both are given up on in time.
    assert_unavailable(*timed_get(f"{base}/api/v1/apps"))
    assert_unavailable(*timed_get(f"{base}/readyz"))
    alive, seconds = timed_get(f"{base}/healthz")
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
    assert seconds < 1

    shop.proxy.heal()

    deadline = time.monotonic() + GIVES_UP_WITHIN
    while (catalog := httpx.get(f"{base}/api/v1/apps", timeout=GIVES_UP_WITHIN * 3)).status_code != 200:
        assert time.monotonic() < deadline, f"not recovered: {catalog.status_code} {catalog.text}"
        time.sleep(0.2)
    assert catalog.json()["items"]
    assert httpx.get(f"{base}/readyz").status_code == 200
    assert shop.process.poll() is None  # recovered by itself, not restarted
