"""``mercato billing run`` on the SQLite file that ``mercato demo`` leaves in the working directory, with work
due: the test buys through the HTTP API on that same file (so its fixtures replace the shared test database),
then runs the command twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from commerce.test_seed_scenarios import MOCKUPS, buy
from mercato.commerce.models import Invoice
from mercato.database import make_engine, make_session_factory
from mercato.settings import Settings
from support.secrets import COMMAND_SECRET as SECRET  # billing runs refuse a weak secret
from support.tables import every_row
from support.world import World

MERCATO = Path(sys.executable).with_name("mercato")


def mercato(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")}
    env["MERCATO_SECRET_KEY"] = SECRET
    return subprocess.run(
        [str(MERCATO), *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    loaded = mercato(tmp_path, "demo")
    assert loaded.returncode == 0, loaded.stderr
    return tmp_path


@pytest.fixture
def engine(workdir: Path) -> Iterator[Engine]:
    """The demo database in the working directory, instead of the shared test database."""
    engine = make_engine(f"sqlite:///{workdir / 'mercato.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Real commits: the command runs in another process and must see what the test bought."""
    return make_session_factory(engine)


@pytest.fixture
def settings(engine: Engine) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        secret_key=SECRET,
        validation_cache_seconds=0,
    )


def test_billing_run_reports_what_it_did_and_a_second_run_on_the_same_day_does_nothing(
    workdir: Path, shop: TestClient, world: World
) -> None:
    # Bought on 2026-11-26. A second cloud site bills yearly, on 2027-11-10.
    yearly_site = shop.post(
        f"/api/v1/organisations/{world.acme.slug}/host-instances",
        headers=world.auth("acme_admin"),
        json={
            "host_product": "wiki",
            "hosting": "cloud",
            "server_id": "acme-test-yearly.wiki.example",
            "cloud_users": 40,
            "billing_cycle": "annual",
            "next_billing_date": "2027-11-10",
        },
    )
    assert yearly_site.status_code == 201, yearly_site.text
    monthly = buy(shop, world, [{"action": "new", "product_key": MOCKUPS}], instance="wiki_cloud")
    evaluation = buy(shop, world, [{"action": "evaluation", "product_key": MOCKUPS}])
    perpetual = buy(shop, world, [{"action": "new", "product_key": MOCKUPS, "tier": "100"}])
    yearly_quote = shop.post(
        "/api/v1/quotes",
        headers=world.auth("acme_admin"),
        json={
            "host_instance_id": yearly_site.json()["id"],
            "items": [{"action": "new", "product_key": MOCKUPS}],
        },
    )
    assert yearly_quote.status_code == 201, yearly_quote.text
    yearly = shop.post(f"/api/v1/quotes/{yearly_quote.json()['id']}/accept", headers=world.auth("acme_admin"))
    invoice = yearly.json()["invoice"]
    paid = shop.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"amount": invoice["amount_due"], "reference": "TRF-YEARLY"},
        headers=world.auth("operator"),
    )
    assert paid.status_code == 200, paid.text

    def license_of(invoice: dict[str, object]) -> str:
        return str(invoice["lines"][0]["license"])  # type: ignore[index]

    # 2027-12-01: both sites' apps were invoiced on their billing dates and never paid. The monthly one is
    # past 15 days of grace and 15 days suspended; the yearly one is 21 days overdue, so suspended. The
    # evaluation ended on 2026-12-26, the perpetual license's maintenance on 2027-11-26.
    first = mercato(workdir, "billing", "run", "--today", "2027-12-01")
    assert first.returncode == 0, first.stderr
    said = " ".join(first.stderr.split())  # Rich wraps long lines to the terminal's width
    assert (
        "Billing run for 2027-12-01: 2 renewal invoice(s), 1 suspended, 1 unlicensed, 1 expired, "
        "1 with lapsed maintenance." in said
    ), said
    assert f"Suspended: {license_of(paid.json())}" in said
    assert f"Unlicensed: {license_of(monthly)}" in said
    assert f"Expired: {license_of(evaluation)}" in said
    assert f"Maintenance lapsed: {license_of(perpetual)}" in said

    again = mercato(workdir, "billing", "run", "--today", "2027-12-01")
    assert again.returncode == 0, again.stderr
    said = " ".join(again.stderr.split())
    assert (
        "Billing run for 2027-12-01: 0 renewal invoice(s), 0 suspended, 0 unlicensed, 0 expired, "
        "0 with lapsed maintenance." in said
    ), said


def test_billing_run_refuses_a_date_it_cannot_read(workdir: Path) -> None:
    refused = mercato(workdir, "billing", "run", "--today", "someday")
    assert refused.returncode == 2
    assert "'someday' is not a date: use YYYY-MM-DD" in " ".join(refused.stderr.split())


def test_billing_jobs_need_postgresql(workdir: Path, engine: Engine) -> None:
    with engine.connect() as connection:
        invoices = connection.scalar(select(func.count()).select_from(Invoice))
    refused = mercato(workdir, "billing", "run", "--jobs", "2", "--today", "2026-12-27")
    assert refused.returncode == 2
    assert "--jobs needs PostgreSQL" in " ".join(refused.stderr.split())
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Invoice)) == invoices


def test_a_dry_run_says_what_a_run_would_do_and_changes_nothing(
    workdir: Path, shop: TestClient, world: World, engine: Engine
) -> None:
    monthly = buy(shop, world, [{"action": "new", "product_key": MOCKUPS}], instance="wiki_cloud")
    evaluation = buy(shop, world, [{"action": "evaluation", "product_key": MOCKUPS}])
    before = every_row(engine)

    dry = mercato(workdir, "billing", "run", "--dry-run", "--today", "2027-12-01")
    assert dry.returncode == 0, dry.stderr
    said = " ".join(dry.stderr.split())
    assert "Dry run for 2027-12-01 (nothing was changed): " in said, said
    assert f"Unlicensed: {monthly['lines'][0]['license']}" in said
    assert f"Expired: {evaluation['lines'][0]['license']}" in said
    after = every_row(engine)
    assert {name: len(rows) for name, rows in after.items()} == {
        name: len(rows) for name, rows in before.items()
    }
    assert after == before, [name for name in before if before[name] != after[name]]

    # In jobs, a dry run is still one transaction (on SQLite too, where a run in jobs is refused).
    as_json = mercato(
        workdir, "billing", "run", "--dry-run", "--today", "2027-12-01", "--json", "--jobs", "2"
    )
    assert as_json.returncode == 0, as_json.stderr
    assert "--jobs does not apply" in " ".join(as_json.stderr.split())
    planned = json.loads(as_json.stdout)
    assert planned["dry_run"] is True and planned["date"] == "2027-12-01"
    assert every_row(engine) == before

    # The run then does what the dry run said, invoice numbers and totals included.
    real = mercato(workdir, "billing", "run", "--today", "2027-12-01", "--json")
    assert real.returncode == 0, real.stderr
    done = json.loads(real.stdout)
    assert done["dry_run"] is False
    assert {key: value for key, value in done.items() if key != "dry_run"} == {
        key: value for key, value in planned.items() if key != "dry_run"
    }
    assert len(done["renewal_invoices"]) == 1 and done["renewals"][0]["total"].startswith("USD ")
    assert every_row(engine) != before
