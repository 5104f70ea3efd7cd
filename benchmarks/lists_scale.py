"""The API's list pages over N licenses on PostgreSQL, as ratios to ``GET /healthz`` of the same server.

Generates a database of N licenses with ``scale_data`` (every fifth with its quote and paid invoice), or takes
one with ``--url``, starts ``mercato serve`` on it (one worker) and asks, as the demo operator (API token
``mct_demo_operator``: operator staff see every license, quote and invoice), over one keep-alive connection:

- ``GET /healthz``: the floor;
- the first page (50) of ``/api/v1/licenses``, ``/api/v1/invoices`` and ``/api/v1/quotes``;
- a deep page of each: ``?offset=`` at the last page;
- where the list answers with a cursor (``next_after``), a deep page reached with it: ``?after=`` the cursor of
  the page two pages before the end. Lists without one are reported as such and skipped.

Each figure is the median of ``--requests`` requests, asked in alternating rounds. Targets (issue #14): the
first and deep pages at 1M licenses within 2x of their figure at 10k. Not a test: run it by hand.

    .venv/bin/python benchmarks/lists_scale.py --licenses 100000
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import scale_data  # a sibling script, not a package

OPERATOR_TOKEN = "mct_demo_operator"
LISTS = ("licenses", "invoices", "quotes")
PAGE = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Client:
    """One keep-alive HTTP/1.1 connection to the server, as the operator."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}", "Accept": "application/json"}

    def get(self, path: str) -> tuple[float, dict[str, Any]]:
        began = time.perf_counter()
        self.connection.request("GET", path, headers=self.headers)
        response = self.connection.getresponse()
        body = response.read()
        seconds = time.perf_counter() - began
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
        return seconds, json.loads(body) if body.startswith(b"{") else {}

    def close(self) -> None:
        self.connection.close()


def start_server(url: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = dict(os.environ, MERCATO_DATABASE_URL=url, MERCATO_SECRET_KEY=scale_data.SECRET)
    mercato = Path(sys.executable).with_name("mercato")
    server = subprocess.Popen(
        [str(mercato), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server, port
        except OSError:
            if server.poll() is not None:
                raise RuntimeError("mercato serve stopped before it answered") from None
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("mercato serve did not answer within 120 s")


def paths(client: Client) -> tuple[dict[str, str], list[str]]:
    """The measured requests by label; and the lists that answer without a cursor."""
    measured = {"GET /healthz (floor)": "/healthz"}
    no_cursor = []
    for name in LISTS:
        # The lists that grow with sales count only when asked (include=total); older ones always count.
        _, first = client.get(f"/api/v1/{name}?limit={PAGE}&include=total")
        total = int(first["total"])
        measured[f"{name}, first page"] = f"/api/v1/{name}?limit={PAGE}"
        last = max(0, total - PAGE)
        measured[f"{name}, deep page ?offset={last:,}"] = f"/api/v1/{name}?limit={PAGE}&offset={last}"
        if "next_after" not in first:
            no_cursor.append(name)
            continue
        before_end = max(0, total - 3 * PAGE)
        _, page = client.get(f"/api/v1/{name}?limit={PAGE}&offset={before_end}")
        cursor = page.get("next_after")
        if cursor:
            _, deep = client.get(f"/api/v1/{name}?limit={PAGE}&after={cursor}")
            assert deep["items"], f"the page after a cursor near the end of {name} is empty"
            measured[f"{name}, deep page ?after= (cursor)"] = f"/api/v1/{name}?limit={PAGE}&after={cursor}"
    return measured, no_cursor


def measure(url: str, requests: int, rounds: int) -> dict[str, float]:
    server, port = start_server(url)
    client = Client(port)
    try:
        for _ in range(50):
            try:
                client.get("/healthz")
                break
            except (OSError, http.client.HTTPException):
                client.close()
                time.sleep(0.2)
                client = Client(port)
        measured, no_cursor = paths(client)
        for path in measured.values():  # warm-up: the plans and the server's caches
            client.get(path)
        times: dict[str, list[float]] = {label: [] for label in measured}
        per_round = max(1, requests // rounds)
        for _ in range(rounds):
            for label, path in measured.items():
                for _ in range(per_round):
                    times[label].append(client.get(path)[0])
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=30)
    medians = {label: statistics.median(values) for label, values in times.items()}
    floor = medians["GET /healthz (floor)"]
    for label, seconds in medians.items():
        ratio = "" if label.startswith("GET /healthz") else f"  ratio {seconds / floor:7.1f}"
        print(f"{label:48s} {seconds * 1000:8.2f} ms{ratio}")
    for name in no_cursor:
        print(f"{name}: no cursor in the answer (next_after); ?after= not measured")
    return medians


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--licenses", type=int, default=100_000)
    parser.add_argument("--url", help="a database generated by scale_data.py --keep")
    parser.add_argument("--requests", type=int, default=30, help="requests per figure")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database and print its URL")
    args = parser.parse_args()
    name = None
    url = args.url
    if url is None:
        url, name = scale_data.create_database()
    try:
        if args.url is None:
            print(scale_data.describe(scale_data.prepare(url, args.licenses)))
        print(f"median of {args.requests} requests each, one keep-alive connection, one server worker")
        measure(url, args.requests, args.rounds)
    finally:
        if name is not None:
            if args.keep:
                print(f"kept database {url}")
            else:
                scale_data.drop_database(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
