"""``mercato billing run`` killed with ``kill -9`` while it sends renewal reminders, again and again, then run to
the end: every license gets its reminder exactly once (one record, one e-mail), on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from mercato.accounts.models import Organisation
from mercato.catalog.demo import load_demo_catalog
from mercato.catalog.repository import CatalogRepository
from mercato.clock import FixedClock
from mercato.database import make_engine, make_session_factory, transaction
from mercato.licenses.service import IssueRequest, LicenseService
from mercato.migrations import upgrade_to_head
from mercato.outbox.models import OutboxMessage
from mercato.reminders.models import RenewalReminder
from mercato.services import Services
from support.secrets import COMMAND_SECRET

MERCATO = Path(sys.executable).with_name("mercato")
LICENSES = 40
CRASHES = 5
END = date(2031, 3, 31)
RUN_DAY = END - timedelta(days=30)


def test_a_billing_run_killed_while_sending_reminders_never_sends_one_twice(
    backend: str, fresh_database_url: Callable[[str], str]
) -> None:
    url = fresh_database_url(backend)
    engine = make_engine(url)
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        load_demo_catalog(CatalogRepository(session))
        session.add(Organisation(slug="crash-test", name="Crash Test", billing_email="ap@crash.example"))
    clock = FixedClock(datetime(2026, 11, 26, 12, tzinfo=UTC))
    with transaction(factory) as session:
        licenses = LicenseService(session, Services(secret_key=COMMAND_SECRET, clock=clock))
        for n in range(LICENSES):
            licenses.issue(
                IssueRequest(
                    app_key="com.example.mockups.wiki",
                    hosting="server",
                    channel="marketplace",
                    tier=100,
                    license_type="commercial",
                    host_binding=f"CRASH-{n}",
                    maintenance_end=END,
                    organisation="crash-test",
                )
            )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")} | {
        "MERCATO_DATABASE_URL": url,
        "MERCATO_SECRET_KEY": COMMAND_SECRET,
    }
    command = [str(MERCATO), "billing", "run", "--today", RUN_DAY.isoformat()]

    def sent() -> int:
        with factory() as session:
            return session.scalar(select(func.count()).select_from(RenewalReminder)) or 0

    cut = 0
    for _ in range(CRASHES):
        before = sent()
        run = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while run.poll() is None and sent() == before and time.monotonic() < deadline:
            time.sleep(0.002)
        if run.poll() is None:
            os.kill(run.pid, signal.SIGKILL)  # in the middle of the reminders: some sent, some not
            cut += 1
        run.wait(timeout=30)
        if sent() == LICENSES:
            break
    finished = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr

    with factory() as session:
        reminders = Counter(
            (row.license_id, row.reminder)
            for row in session.execute(select(RenewalReminder.license_id, RenewalReminder.reminder))
        )
        emails = Counter(
            message.payload["subject"]
            for message in session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "email"))
            if "maintenance ends in 30 days" in message.payload["subject"]
        )
    engine.dispose()
    assert cut >= 1, "no run was cut while sending"
    assert len(reminders) == LICENSES and set(reminders.values()) == {1}
    assert len(emails) == LICENSES and set(emails.values()) == {1}, "a reminder was e-mailed twice"
