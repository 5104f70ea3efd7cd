"""A real `mercato licenses migrate` killed with `kill -9` half-way leaves every license whole: moved (a
marketplace license with one current marketplace key, its direct key superseded with grace, one migration in its
history, one zero invoice) or not moved (a direct license with its one current direct key), never a license with
two current keys or none. Run again, it moves the rest, and licenses that must be upgraded first stay direct."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import func, make_url, select
from sqlalchemy.orm import Session

from mercato.accounts.demo import load_demo_accounts
from mercato.accounts.models import HostInstance, Organisation
from mercato.catalog.demo import load_demo_catalog
from mercato.catalog.repository import CatalogRepository
from mercato.clock import SystemClock
from mercato.commerce.models import Invoice
from mercato.database import make_engine, make_session_factory, transaction
from mercato.keys.models import vendor_issuer
from mercato.licenses.models import License, LicenseEventKind, LicenseKey, LicenseState, LicenseTransaction
from mercato.licenses.service import LicenseService
from mercato.migrations import upgrade_to_head
from mercato.pricing import Channel, Hosting, LicenseType
from mercato.services import Services
from support.secrets import COMMAND_SECRET

MERCATO = Path(sys.executable).with_name("mercato")
MATCHING, TOO_SMALL = 40, 4  # 100-user licenses on 100-user hosts, and 10-user ones that must be upgraded
APP = "com.example.mockups.wiki"
VENDOR = "example-mockups"


def seeded(url: str) -> None:
    """The demo catalog and accounts, and one wiki server per direct license of the mockups vendor."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    services = Services(secret_key=COMMAND_SECRET, clock=SystemClock())
    with transaction(make_session_factory(engine)) as session:
        catalog = CatalogRepository(session)
        load_demo_catalog(catalog)
        load_demo_accounts(session)
        listing = catalog.listing(APP, "server")
        assert listing is not None
        acme = session.scalars(select(Organisation).where(Organisation.slug == "acme")).one()
        licenses = LicenseService(session, services)
        for n in range(MATCHING + TOO_SMALL):
            instance = HostInstance(
                organisation_id=acme.id,
                host_product_id=listing.host_product_id,
                hosting=Hosting.SERVER,
                server_id=f"CRASH-WIKI-{n:04d}",
                name=f"Wiki {n}",
                host_license_type=LicenseType.COMMERCIAL,
                user_tier=100,
                host_maintenance_end=date(2028, 3, 31),
            )
            session.add(instance)
            session.flush()
            licenses.create(
                License(
                    entitlement_number="",
                    listing_id=listing.id,
                    organisation_id=acme.id,
                    host_instance_id=instance.id,
                    product_key=APP,
                    hosting=Hosting.SERVER,
                    channel=Channel.DIRECT,
                    issuer=vendor_issuer(VENDOR),
                    license_type=LicenseType.COMMERCIAL,
                    tier_users=100 if n < MATCHING else 10,
                    host_binding=instance.server_id,
                    maintenance_start=date(2026, 6, 1),
                    maintenance_end=date(2027, 6, 1),
                    status=LicenseState.ACTIVE,
                )
            )
    engine.dispose()


def environment(url: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")} | {
        "MERCATO_DATABASE_URL": url,
        "MERCATO_SECRET_KEY": COMMAND_SECRET,
    }


def moved(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(License).where(License.channel == Channel.MARKETPLACE)
        )
        or 0
    )


class MovedCounter:
    """Counts moved licenses while the run works, without waiting for it: on SQLite a plain reader (WAL: it
    never takes the write lock an ORM transaction would wait for), on PostgreSQL an autocommit connection."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        if self.url.get_backend_name() == "sqlite":
            self.reader = sqlite3.connect(str(self.url.database), isolation_level=None)
            self.engine = None
        else:
            self.engine = make_engine(url)

    def __call__(self) -> int:
        query = "SELECT count(*) FROM licenses WHERE channel = 'marketplace'"
        if self.engine is None:
            return int(self.reader.execute(query).fetchone()[0])
        with self.engine.connect() as connection:
            return int(connection.exec_driver_sql(query).scalar() or 0)

    def close(self) -> None:
        if self.engine is None:
            self.reader.close()
        else:
            self.engine.dispose()


def assert_every_license_whole(url: str) -> int:
    """Checks each license of the run; returns how many moved."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            for license in session.scalars(select(License).where(License.product_key == APP)):
                keys = session.scalars(select(LicenseKey).where(LicenseKey.license_id == license.id)).all()
                current = [key for key in keys if key.superseded_at is None and key.revoked_at is None]
                assert len(current) == 1, f"{license.entitlement_number} has {len(current)} current keys"
                migrations = session.scalar(
                    select(func.count())
                    .select_from(LicenseTransaction)
                    .where(
                        LicenseTransaction.license_id == license.id,
                        LicenseTransaction.kind == LicenseEventKind.MIGRATION,
                    )
                )
                if license.channel == Channel.MARKETPLACE:
                    assert (license.issuer, len(keys), migrations) == ("operator", 2, 1)
                    assert current[0].kid.startswith("operator")
                    assert all(
                        key.superseded_grace_until is not None for key in keys if key is not current[0]
                    )
                else:
                    assert (license.issuer, len(keys), migrations) == (vendor_issuer(VENDOR), 1, 0)
            count = moved(session)
            assert session.scalar(select(func.count()).select_from(Invoice)) == count
            return count
    finally:
        engine.dispose()


def test_a_batch_migration_killed_half_way_leaves_each_license_moved_or_not_and_finishes_when_run_again(
    backend: str, fresh_database_url: Callable[[str], str], tmp_path: Path
) -> None:
    url = fresh_database_url(backend)
    seeded(url)
    command = [str(MERCATO), "licenses", "migrate", "--vendor", VENDOR]
    run = subprocess.Popen(
        command, cwd=tmp_path, env=environment(url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    count_moved = MovedCounter(url)
    try:
        deadline = time.monotonic() + 60
        while run.poll() is None and time.monotonic() < deadline:
            if count_moved() >= 5:
                break
            time.sleep(0.002)
        assert run.poll() is None, "the run ended before it could be killed"
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
    finally:
        count_moved.close()

    half_way = assert_every_license_whole(url)
    assert 5 <= half_way < MATCHING

    again = subprocess.run(
        [*command, "--json"], cwd=tmp_path, env=environment(url), capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stderr
    assert assert_every_license_whole(url) == MATCHING
    assert again.stdout.count('"needs_upgrade"') == TOO_SMALL


def test_two_batch_migrations_at_once_move_each_license_once(
    backend: str, fresh_database_url: Callable[[str], str], tmp_path: Path
) -> None:
    url = fresh_database_url(backend)
    seeded(url)
    command = [str(MERCATO), "licenses", "migrate", "--vendor", VENDOR, "--json"]
    runs = [
        subprocess.Popen(
            command,
            cwd=tmp_path,
            env=environment(url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    answers = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in answers]
    assert assert_every_license_whole(url) == MATCHING  # one invoice and one migration each, whoever moved it
    moved_by = [out.count('"outcome": "migrated"') for out, _ in answers]
    assert sum(moved_by) == MATCHING
