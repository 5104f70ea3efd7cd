"""A worker process killed with ``kill -9`` right after each of its claims spends no attempt: every message is
still delivered, exactly once, on its first attempt, by the next worker that lives. (Before, each claim counted
an attempt for its whole batch, and eight such crashes gave up every message with the mail server up.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from mail.smtp_server import SmtpTestServer
from mercato.database import make_engine, make_session_factory, transaction
from mercato.migrations import upgrade_to_head
from mercato.outbox.models import OutboxMessage
from mercato.outbox.service import enqueue_email
from support.secrets import COMMAND_SECRET

MERCATO = Path(sys.executable).with_name("mercato")
CRASH_AFTER_CLAIM = Path(__file__).with_name("crash_after_claim.py")
MESSAGES = 20
CRASHES = 8
LEASE_SECONDS = 0.2


def messages(url: str) -> list[OutboxMessage]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return list(session.scalars(select(OutboxMessage)))
    finally:
        engine.dispose()


def test_a_worker_killed_after_each_claim_spends_no_attempt_and_every_message_is_delivered_once(
    backend: str, fresh_database_url: Callable[[str], str], smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    url = fresh_database_url(backend)
    engine = make_engine(url)
    upgrade_to_head(engine)
    with transaction(make_session_factory(engine)) as session:
        for n in range(MESSAGES):
            enqueue_email(session, [f"customer{n}@example.com"], f"Invoice {n}", "Your invoice.")
    engine.dispose()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")} | {
        "MERCATO_DATABASE_URL": url,
        "MERCATO_SECRET_KEY": COMMAND_SECRET,
        "MERCATO_SMTP_HOST": "127.0.0.1",
        "MERCATO_SMTP_PORT": str(smtp_server.port),
    }

    for crash in range(CRASHES):
        run = subprocess.run(
            [sys.executable, str(CRASH_AFTER_CLAIM), "--batch", str(MESSAGES)],
            cwd=tmp_path,
            env=environment | {"MERCATO_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS)},
            capture_output=True,
            timeout=60,
        )
        assert run.returncode == -signal.SIGKILL, f"crash {crash}: {run.stderr.decode()}"
        assert {(m.attempts, m.delivered_at, m.dead_at) for m in messages(url)} == {(0, None, None)}
        time.sleep(LEASE_SECONDS)  # the dead worker's lease runs out

    survivor = subprocess.run(
        [str(MERCATO), "worker", "--once", "--batch", str(MESSAGES)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert survivor.returncode == 0, survivor.stderr
    assert f"Outbox: {MESSAGES} delivered." in survivor.stderr
    times_received = Counter(received.message["Subject"] for received in smtp_server.received)
    assert times_received == Counter({f"Invoice {n}": 1 for n in range(MESSAGES)})
    stored = messages(url)
    assert all(m.delivered_at is not None and m.dead_at is None for m in stored)
    assert {m.attempts for m in stored} == {1}
