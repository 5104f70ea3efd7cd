"""Two billing runs of the same day at once (two hosts' cron, a manual rerun) bill once: real `mercato billing
run` processes against one PostgreSQL database do exactly what one run does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from mercato.app import create_app
from mercato.billing import service as billing_service
from mercato.billing.models import CloudRenewal
from mercato.billing.service import renew_next_batch
from mercato.catalog.demo import load_demo_catalog
from mercato.catalog.repository import CatalogRepository
from mercato.clock import FixedClock, noon_of
from mercato.commerce.models import Invoice
from mercato.database import make_engine, make_session_factory, transaction
from mercato.licenses.models import LicenseTransaction
from mercato.migrations import upgrade_to_head
from mercato.services import Services
from mercato.settings import Settings
from support.secrets import COMMAND_SECRET as SECRET  # billing runs refuse a weak secret
from support.world import World, build_world

CLOUD_SITES = 6
RUN_DAY = date(2026, 12, 27)  # the sites renewed on 2026-12-10 and went unpaid; evaluations ended 2026-12-26
MOCKUPS = "com.example.mockups.wiki"


def seeded_database(url: str) -> tuple[Engine, World]:
    """A database with due work: cloud sites whose subscriptions renew and then go unpaid past their grace,
    and evaluations that ended."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    with transaction(make_session_factory(engine)) as session:
        load_demo_catalog(CatalogRepository(session))
        world = build_world(session)
    settings = Settings(database_url=url, secret_key=SECRET, validation_cache_seconds=0)
    clock = FixedClock(datetime(2026, 11, 26, 12, tzinfo=UTC))
    with TestClient(create_app(settings, engine, clock=clock)) as shop:
        admin = world.auth("acme_admin")
        for index in range(CLOUD_SITES):
            site = shop.post(
                f"/api/v1/organisations/{world.acme.id}/host-instances",
                headers=admin,
                json={
                    "host_product": "wiki",
                    "hosting": "cloud",
                    "server_id": f"site{index}.acme-test.wiki.example",
                    "cloud_users": 40,
                    "billing_cycle": "monthly",
                    "next_billing_date": "2026-12-10",
                },
            )
            assert site.status_code == 201, site.text
            buy(shop, world, site.json()["id"], {"action": "new", "product_key": MOCKUPS})
        buy(shop, world, str(world.wiki_server.id), {"action": "evaluation", "product_key": MOCKUPS})
    return engine, world


def buy(shop: TestClient, world: World, instance_id: str, item: dict[str, Any]) -> None:
    quote = shop.post(
        "/api/v1/quotes",
        headers=world.auth("acme_admin"),
        json={"host_instance_id": instance_id, "items": [item]},
    )
    assert quote.status_code == 201, quote.text
    invoice = shop.post(
        f"/api/v1/quotes/{quote.json()['id']}/accept", headers=world.auth("acme_admin")
    ).json()["invoice"]
    if invoice["status"] != "paid":
        paid = shop.post(
            f"/api/v1/invoices/{invoice['id']}/payments",
            headers=world.auth("operator"),
            json={"amount": invoice["amount_due"], "reference": f"TRF-{invoice['number']}"},
        )
        assert paid.status_code == 200, paid.text


def billing_run(url: str, *options: str) -> subprocess.Popen[str]:
    environment = os.environ | {"MERCATO_DATABASE_URL": url, "MERCATO_SECRET_KEY": SECRET}
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "mercato"),
            *("billing", "run", "--today", RUN_DAY.isoformat(), *options),
        ],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def outcome(engine: Engine) -> tuple[int, int, Counter[str]]:
    with engine.connect() as connection:
        invoices = connection.scalar(select(func.count()).select_from(Invoice)) or 0
        renewals = connection.scalar(select(func.count()).select_from(CloudRenewal)) or 0
        kinds = Counter(str(kind) for kind in connection.scalars(select(LicenseTransaction.kind)))
    return invoices, renewals, kinds


@dataclass
class Twins:
    """Two databases seeded alike: the first billed by one plain run, which the other's runs must equal."""

    billed_once: Engine
    other_url: str
    other: Engine
    seeded: tuple[int, int, Counter[str]]
    """The other's outcome before any run: the first's before its run."""

    def run(self, *options: str) -> subprocess.Popen[str]:
        return billing_run(self.other_url, *options)


@pytest.fixture
def twins(fresh_database_url) -> Iterator[Twins]:  # type: ignore[no-untyped-def]
    once_url, other_url = fresh_database_url("postgresql"), fresh_database_url("postgresql")
    billed_once, _ = seeded_database(once_url)
    other, _ = seeded_database(other_url)
    seeded = outcome(other)
    assert outcome(billed_once) == seeded
    alone = billing_run(once_url)
    assert alone.wait(timeout=120) == 0, alone.stdout.read() if alone.stdout else ""
    yield Twins(billed_once, other_url, other, seeded)
    billed_once.dispose()
    other.dispose()


@pytest.mark.postgres
def test_two_billing_runs_at_once_do_what_one_run_does(twins: Twins) -> None:
    runs = [twins.run(), twins.run()]
    outputs = []
    for run in runs:
        assert run.wait(timeout=120) == 0
        outputs.append(run.stdout.read() if run.stdout else "")

    expected = outcome(twins.billed_once)
    invoices, renewals, kinds = expected
    assert invoices - twins.seeded[0] == CLOUD_SITES  # one renewal invoice per site
    # Every due site's billing date is claimed once: the seeded sites and the world's own cloud site, whose
    # date moves on with nothing to invoice.
    assert renewals == CLOUD_SITES + 1 and kinds["suspended"] == CLOUD_SITES and kinds["expired"] == 1
    assert outcome(twins.other) == expected, outputs
    # Whichever run came second found the work done (and may have waited for the first).
    assert any("0 renewal invoice(s), 0 suspended" in output for output in outputs), outputs


@pytest.mark.postgres
def test_a_run_in_two_jobs_does_what_one_run_does(twins: Twins) -> None:
    two = twins.run("--jobs", "2")
    assert two.wait(timeout=120) == 0, two.stdout.read() if two.stdout else ""
    assert outcome(twins.other) == outcome(twins.billed_once)
    assert gapless_numbers(twins.other) == gapless_numbers(twins.billed_once)


def gapless_numbers(engine: Engine) -> dict[str, int]:
    """Each seller's invoice count, once its numbers are shown to run from 1 without a gap."""
    with engine.connect() as connection:
        numbers: dict[str, list[int]] = {}
        for seller, number in connection.execute(select(Invoice.seller, Invoice.number)):
            numbers.setdefault(seller, []).append(int(number.rsplit("-", 1)[1]))
    for seller, taken in numbers.items():
        assert sorted(taken) == list(range(1, len(taken) + 1)), seller
    return {seller: len(taken) for seller, taken in numbers.items()}


@pytest.mark.postgres
def test_jobs_that_pass_over_locked_sites_renew_each_site_once(  # type: ignore[no-untyped-def]
    fresh_database_url, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The jobs of one run, as threads taking one site per batch: each passes over the sites the other holds
    (SKIP LOCKED), so between them they renew every due site once, and each finds some to renew."""
    monkeypatch.setattr(billing_service, "RENEWAL_BATCH", 1)
    engine, _ = seeded_database(fresh_database_url("postgresql"))
    factory = make_session_factory(engine)
    services = Services(secret_key=SECRET, clock=FixedClock(noon_of(RUN_DAY)))
    renewed: dict[str, list[uuid.UUID]] = {"first": [], "second": []}
    start = threading.Barrier(2)

    def job(name: str) -> None:
        start.wait()
        while (batch := renew_next_batch(factory, services, frozenset(), skip_locked=True)) is not None:
            renewed[name].extend(batch.sites)

    threads = [threading.Thread(target=job, args=(name,)) for name in renewed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    every = renewed["first"] + renewed["second"]
    assert len(every) == len(set(every)) == CLOUD_SITES + 1  # the seeded sites and the world's own
    assert renewed["first"] and renewed["second"], "one job waited for the other instead of passing over"
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(CloudRenewal)) == CLOUD_SITES + 1
    assert gapless_numbers(engine)
    engine.dispose()


def job_processes(parent: int) -> list[int]:
    """The run's job processes (spawned by multiprocessing), not its resource tracker."""
    children = Path(f"/proc/{parent}/task/{parent}/children")
    found = []
    for pid in children.read_text().split() if children.exists() else ():
        with suppress(FileNotFoundError):
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
    return found


@pytest.mark.postgres
def test_a_job_killed_stops_the_run_with_a_sentence_and_the_run_again_finishes_it(twins: Twins) -> None:
    run = twins.run("--jobs", "2")
    deadline = time.monotonic() + 60
    while not (jobs := job_processes(run.pid)):
        assert run.poll() is None and time.monotonic() < deadline, "no job process was started"
        time.sleep(0.01)
    os.kill(jobs[0], signal.SIGKILL)  # as it starts: the run stops; what the other job committed is kept
    assert run.wait(timeout=120) == 1
    output = " ".join((run.stdout.read() if run.stdout else "").split())
    assert "The billing run stopped: a billing job's process ended (exit code -9)" in output, output
    assert "the same command run again does the rest" in output, output
    assert "Traceback" not in output, output

    again = twins.run()
    assert again.wait(timeout=120) == 0, again.stdout.read() if again.stdout else ""
    assert outcome(twins.other) == outcome(twins.billed_once)
    assert gapless_numbers(twins.other) == gapless_numbers(twins.billed_once)
