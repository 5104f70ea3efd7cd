"""Imports that meet the real world: a `mercato licenses import` process killed with `kill -9` half-way through a
file of thousands of rows leaves nothing or everything (never a license without its key, or with two current
keys) and completes when run again; and two imports of the same file at the same moment write one copy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mercato.catalog.models import Vendor
from mercato.clock import FixedClock
from mercato.database import make_engine, make_session_factory, transaction
from mercato.imports.models import ImportedLicense, LicenseImport
from mercato.imports.service import ImportService, ImportSummary
from mercato.licenses.models import License, LicenseKey
from mercato.services import Services
from support.imports import csv_file, many_rows, seeded_database, table_counts
from support.secrets import COMMAND_SECRET

MERCATO = Path(sys.executable).with_name("mercato")
ROWS = 1000


def environment(url: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")} | {
        "MERCATO_DATABASE_URL": url,
        "MERCATO_SECRET_KEY": COMMAND_SECRET,
        "COLUMNS": "200",
    }


def command(file: Path) -> list[str]:
    return [
        str(MERCATO),
        "licenses",
        "import",
        "--vendor",
        "example-mockups",
        str(file),
        "--today",
        "2026-11-26",
    ]


def assert_whole(url: str, expected: int) -> None:
    """Either no license of the import or every one, each with exactly one current key."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            licenses = session.scalars(select(License.id).where(License.host_binding.like("BULK-%"))).all()
            assert len(licenses) in (0, expected)
            current = Counter(
                session.scalars(
                    select(LicenseKey.license_id).where(
                        LicenseKey.superseded_at.is_(None), LicenseKey.revoked_at.is_(None)
                    )
                )
            )
            assert all(current[license_id] == 1 for license_id in licenses)
            imported = session.scalars(select(ImportedLicense)).all()
            assert len(imported) == len(licenses)
            assert len(session.scalars(select(LicenseImport)).all()) == (1 if licenses else 0)
    finally:
        engine.dispose()


def test_an_import_killed_half_way_leaves_nothing_and_completes_when_run_again(
    backend: str, fresh_database_url: Callable[[str], str], tmp_path: Path
) -> None:
    url = fresh_database_url(backend)
    seeded_database(url)
    file = tmp_path / "bulk.csv"
    file.write_bytes(csv_file(many_rows(ROWS)))
    before = table_counts(url)
    started = time.monotonic()
    run = subprocess.Popen(
        command(file), cwd=tmp_path, env=environment(url), stderr=subprocess.PIPE, text=True
    )
    assert run.stderr is not None
    for line in run.stderr:  # the command says when it begins writing, in its one transaction
        if line.startswith("Writing"):
            break
    time.sleep(0.3)  # into the rows: writing them takes seconds
    assert run.poll() is None, "the import ended before it could be killed"
    run.send_signal(signal.SIGKILL)
    assert run.wait(timeout=10) == -signal.SIGKILL
    run.stderr.close()
    assert table_counts(url) == before  # nothing of the killed import
    assert_whole(url, ROWS)

    again = subprocess.run(
        command(file), cwd=tmp_path, env=environment(url), capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0, again.stderr
    assert f"Created {ROWS:,} licenses" in again.stderr
    assert_whole(url, ROWS)
    assert table_counts(url)["licenses"] == before["licenses"] + ROWS
    assert time.monotonic() - started < 60  # the import, its kill and its second run


def test_two_imports_of_one_file_at_the_same_moment_write_one_copy(
    backend: str, fresh_database_url: Callable[[str], str]
) -> None:
    url = fresh_database_url(backend)
    seeded_database(url)
    data = csv_file(many_rows(40, customers=4))
    engine = make_engine(url, pool_size=4) if backend == "postgresql" else make_engine(url)
    factory = make_session_factory(engine)
    services = Services(secret_key=COMMAND_SECRET, clock=FixedClock(datetime(2026, 11, 26, 12, tzinfo=UTC)))
    barrier = threading.Barrier(2)
    results: list[ImportSummary] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            with transaction(factory) as session:
                vendor = session.scalars(select(Vendor).where(Vendor.slug == "example-mockups")).one()
                results.append(ImportService(session, services).run(vendor, data))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    engine.dispose()
    assert not errors, errors
    assert sorted(r.repeated for r in results) == [False, True]
    assert results[0].import_id == results[1].import_id
    counts = table_counts(url)
    assert (counts["license_imports"], counts["imported_licenses"], counts["licenses"]) == (1, 40, 40)


def test_the_database_refuses_a_second_copy_of_a_file_or_a_reference(
    backend: str, fresh_database_url: Callable[[str], str]
) -> None:
    """What makes the duplicate impossible even without the vendor's lock: the unique constraints."""
    url = fresh_database_url(backend)
    seeded_database(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    services = Services(secret_key=COMMAND_SECRET, clock=FixedClock(datetime(2026, 11, 26, 12, tzinfo=UTC)))
    data = csv_file(many_rows(2, customers=1))
    with transaction(factory) as session:
        vendor = session.scalars(select(Vendor).where(Vendor.slug == "example-mockups")).one()
        first = ImportService(session, services).run(vendor, data)
    assert first.import_id is not None

    def insert(make: Callable[[Session, Vendor], object]) -> None:
        with transaction(factory) as session:
            vendor = session.scalars(select(Vendor).where(Vendor.slug == "example-mockups")).one()
            session.add(make(session, vendor))
            session.flush()

    def same_file(session: Session, vendor: Vendor) -> LicenseImport:
        earlier = session.scalars(select(LicenseImport)).one()
        return LicenseImport(
            vendor_id=vendor.id,
            sha256=earlier.sha256,
            rows=0,
            licenses_created=0,
            rows_skipped=0,
            organisations_created=0,
            host_instances_created=0,
            invitations_sent=0,
        )

    def same_reference(session: Session, vendor: Vendor) -> ImportedLicense:
        earlier = session.scalars(select(ImportedLicense).order_by(ImportedLicense.line)).first()
        assert earlier is not None
        other = session.scalars(select(License).where(License.id != earlier.license_id)).first()
        assert other is not None
        return ImportedLicense(
            vendor_id=vendor.id,
            reference=earlier.reference,
            import_id=earlier.import_id,
            license_id=other.id,
            line=9,
            terms="x",
        )

    for make in (same_file, same_reference):
        with pytest.raises(IntegrityError):
            insert(make)
    engine.dispose()
