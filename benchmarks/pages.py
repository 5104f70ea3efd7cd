"""How long the main pages take the server to render, with the demo data, against a no-op floor.

Starts ``mercato serve --demo`` (one worker, SQLite, as ``make run`` does) in a temporary directory, signs in
the demo buyer, vendor and operator through ``POST /api/v1/session``, buys one app through the API (so the
licenses, invoices and vendor pages have something to show), then requests each page again and again over one
keep-alive connection. Each page's time is the server's: the median of its requests minus the median of
``GET /healthz`` (the floor: the same server, client and connection doing no work) measured in the same run.
The target is 100 ms; the printout says which pages are over it.

Not a test: run it by hand.

    .venv/bin/python benchmarks/pages.py
    .venv/bin/python benchmarks/pages.py --requests 50
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TARGET_MS = 100.0
ACME, VENDOR, OPERATOR = "admin@acme.example", "dev@mockups.example", "ops@northwind.example"
PAGES = [
    (None, "/"),
    (None, "/?q=mockup"),
    (None, "/apps/{app}"),
    (None, "/apps/{app}/price?hosting=server&host_tier=100&channel=marketplace&tier=100&years=1"),
    (None, "/license-check"),
    (None, "/sign-in"),
    (ACME, "/licenses"),
    (ACME, "/hosts"),
    (ACME, "/cart"),
    (ACME, "/invoices/{invoice}"),
    (ACME, "/account/tokens"),
    (VENDOR, "/vendor/example-mockups"),
    (VENDOR, "/vendor/example-mockups/transactions"),
    (VENDOR, "/vendor/example-mockups/apps"),
    (OPERATOR, "/admin"),
    (OPERATOR, "/admin/review"),
    (OPERATOR, "/admin/invoices"),
    (OPERATOR, "/admin/outbox"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def timed(client: httpx.Client, path: str, requests: int) -> list[float]:
    client.get(path)  # warm: templates compiled, caches filled
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        answer = client.get(path, headers={"Accept": "text/html"})
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{path} answered {answer.status_code}: {answer.text[:300]}")
    return times


def signed_in(base: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    answer = client.post("/api/v1/session", json={"email": email, "password": "mercato-demo-password"})
    answer.raise_for_status()
    return client


def buy_something(base: str) -> tuple[str, str]:
    """The mockup app bought on Acme's wiki through the API and paid by the operator; (app key, invoice id)."""
    api = httpx.Client(base_url=f"{base}/api/v1", timeout=30)
    acme = {"Authorization": "Bearer mct_demo_acme_admin"}
    wiki = api.get(
        "/organisations/acme/host-instances",
        params={"host_product": "wiki", "hosting": "server"},
        headers=acme,
    ).json()["items"][0]["id"]
    quote = api.post(
        "/quotes",
        headers=acme,
        json={
            "host_instance_id": wiki,
            "channel": "marketplace",
            "items": [{"action": "new", "product_key": "com.example.mockups.wiki", "tier": "100"}],
        },
    )
    quote.raise_for_status()
    order = api.post(
        f"/quotes/{quote.json()['id']}/accept", headers={**acme, "Idempotency-Key": secrets.token_hex(8)}
    )
    order.raise_for_status()
    invoice = order.json()["invoice"]
    api.post(
        f"/invoices/{invoice['id']}/payments",
        headers={"Authorization": "Bearer mct_demo_operator"},
        json={"amount": invoice["total"], "provider": "bank_transfer", "reference": "BENCH-1"},
    ).raise_for_status()
    return "com.example.mockups.wiki", invoice["id"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=30, help="requests per page (default 30)")
    arguments = parser.parse_args()
    mercato = Path(sys.executable).with_name("mercato")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as directory:
        environment = {**os.environ, "MERCATO_SECRET_KEY": secrets.token_urlsafe(32)}
        server = subprocess.Popen(
            [str(mercato), "serve", "--demo", "--port", str(port)],
            cwd=directory,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.2)
            app, invoice = buy_something(base)
            clients = {None: httpx.Client(base_url=base, timeout=30)}
            for email in (ACME, VENDOR, OPERATOR):
                clients[email] = signed_in(base, email)
            floor = statistics.median(timed(clients[None], "/healthz", arguments.requests * 2))
            print(f"floor: GET /healthz median {floor:.2f} ms ({arguments.requests * 2} requests)\n")
            print(f"{'page':60} {'as':22} {'median':>8} {'p95':>8} {'server':>8}")
            over = []
            for who, template in PAGES:
                path = template.format(app=app, invoice=invoice)
                times = timed(clients[who], path, arguments.requests)
                median = statistics.median(times)
                p95 = statistics.quantiles(times, n=20)[-1]
                server_ms = median - floor
                if server_ms > TARGET_MS:
                    over.append(path)
                print(f"{path[:60]:60} {(who or 'anyone'):22} {median:8.2f} {p95:8.2f} {server_ms:8.2f}")
            print(f"\nserver = median - floor, in ms; target {TARGET_MS:.0f} ms.")
            print("Over the target: " + (", ".join(over) if over else "none"))
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
