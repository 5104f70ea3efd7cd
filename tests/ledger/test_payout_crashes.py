"""Real `mercato payouts run` processes: two at once pay each vendor once, and a run killed with `kill -9`
half-way and run again pays every vendor exactly once, each entry at most once, to the cent."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, make_url, select, text

from mercato.catalog.models import Vendor
from mercato.database import make_engine, make_session_factory, transaction
from mercato.ledger.models import EntryKind, LedgerEntry, Payout, PayoutItem
from mercato.migrations import upgrade_to_head
from mercato.pricing import Channel
from support.secrets import COMMAND_SECRET

MERCATO = Path(sys.executable).with_name("mercato")
VENDORS = 150
RUN = ["payouts", "run", "--month", "2026-11", "--today", "2026-12-02", "--reference-prefix", "T-"]


def seeded(url: str) -> int:
    """VENDORS vendors, each with entries in EUR (and every third one in USD too); returns the total owed."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    owed = 0
    with transaction(make_session_factory(engine)) as session:
        for n in range(VENDORS):
            vendor = Vendor(slug=f"crash-{n:03d}", name=f"Crash {n}", email=f"crash{n}@test.example")
            session.add(vendor)
            session.flush()
            for k, currency in enumerate(["EUR", "EUR", "USD"][: 3 if n % 3 == 0 else 2]):
                amount = 1000 + 7 * n + k
                session.add(
                    LedgerEntry(
                        source=f"seed:{n}:{k}",
                        kind=EntryKind.NEW,
                        channel=Channel.MARKETPLACE,
                        vendor_id=vendor.id,
                        currency=currency,
                        gross_minor=amount,
                        discount_minor=0,
                        amount_minor=amount,
                        vendor_share_rate=Decimal("0.75"),
                        vendor_amount_minor=amount * 3 // 4,
                        operator_amount_minor=amount - amount * 3 // 4,
                        occurred_at=datetime(2026, 11, 1 + k, 10, tzinfo=UTC),
                    )
                )
                owed += amount * 3 // 4
    engine.dispose()
    return owed


def environment(url: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")} | {
        "MERCATO_DATABASE_URL": url,
        "MERCATO_SECRET_KEY": COMMAND_SECRET,
    }


def payouts_made(url: str) -> int:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return int(session.scalar(select(func.count()).select_from(Payout)) or 0)
    finally:
        engine.dispose()


def assert_paid_exactly_once(url: str, owed: int) -> None:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            payouts = session.scalars(select(Payout)).all()
            per_vendor = Counter((p.vendor_id, p.currency) for p in payouts)
            assert set(per_vendor.values()) == {1}
            assert len(payouts) == VENDORS + VENDORS // 3
            assert sum(p.amount_minor for p in payouts) == owed
            for payout in payouts:
                claimed = session.scalar(
                    select(func.sum(LedgerEntry.vendor_amount_minor))
                    .join(PayoutItem, PayoutItem.entry_id == LedgerEntry.id)
                    .where(PayoutItem.payout_id == payout.id)
                )
                assert claimed == payout.amount_minor
            entries = session.scalar(select(func.count()).select_from(LedgerEntry))
            assert session.scalar(select(func.count()).select_from(PayoutItem)) == entries
    finally:
        engine.dispose()


def kill_after_a_few_payouts_sqlite(run: subprocess.Popen[bytes], path: str) -> None:
    """Watches with a plain reader (WAL: it never waits for the run, nor the run for it) and kills the run
    the moment it has paid a few vendors: it has many more to go."""
    watcher = sqlite3.connect(path, isolation_level=None)
    try:
        deadline = time.monotonic() + 60
        while run.poll() is None and time.monotonic() < deadline:
            if watcher.execute("SELECT count(*) FROM payouts").fetchone()[0] >= 3:
                break
            time.sleep(0.001)
        assert run.poll() is None, "the run ended before it could be killed"
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
    finally:
        watcher.close()


def kill_after_a_few_payouts_postgresql(run: subprocess.Popen[bytes], url: str) -> None:
    """Once the run has paid a few vendors, takes the lock its next payout needs (the payouts table), so that
    it is stopped mid-run, and kills it there."""
    engine = make_engine(url)
    try:
        with engine.connect() as watcher:
            deadline = time.monotonic() + 60
            while run.poll() is None and time.monotonic() < deadline:
                paid = watcher.scalar(select(func.count()).select_from(Payout)) or 0
                watcher.commit()
                if paid >= 3:
                    break
                time.sleep(0.002)
            watcher.execute(text("LOCK TABLE payouts IN EXCLUSIVE MODE"))
            assert run.poll() is None, "the run ended before it could be killed"
            run.send_signal(signal.SIGKILL)
            run.wait(timeout=10)
            watcher.rollback()
    finally:
        engine.dispose()


def test_two_payout_runs_at_once_pay_each_vendor_once(
    backend: str, fresh_database_url: Callable[[str], str], tmp_path: Path
) -> None:
    url = fresh_database_url(backend)
    owed = seeded(url)
    runs = [
        subprocess.Popen(
            [str(MERCATO), *RUN, "--json"],
            cwd=tmp_path,
            env=environment(url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in results]
    assert_paid_exactly_once(url, owed)


def test_a_payout_run_killed_mid_run_and_run_again_pays_every_vendor_exactly_once(
    backend: str, fresh_database_url: Callable[[str], str], tmp_path: Path
) -> None:
    url = fresh_database_url(backend)
    owed = seeded(url)
    run = subprocess.Popen(
        [str(MERCATO), *RUN],
        cwd=tmp_path,
        env=environment(url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if backend == "sqlite":
        kill_after_a_few_payouts_sqlite(run, make_url(url).database or "")
    else:
        kill_after_a_few_payouts_postgresql(run, url)
    assert run.returncode == -signal.SIGKILL
    half = payouts_made(url)
    assert 0 < half < VENDORS + VENDORS // 3

    again = subprocess.run(
        [str(MERCATO), *RUN, "--json"],
        cwd=tmp_path,
        env=environment(url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert f'"paid": {VENDORS + VENDORS // 3 - half}' in again.stdout  # only what the killed run had not paid
    assert_paid_exactly_once(url, owed)
