"""``mercato worker`` as an operator runs it: once from cron, or as a long-running service stopped by a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mail.smtp_server import SmtpTestServer
from mercato.cli import app
from mercato.database import make_engine, make_session_factory, transaction
from mercato.migrations import upgrade_to_head
from mercato.outbox.service import enqueue_email
from mercato.settings import get_settings
from support.secrets import COMMAND_SECRET

MERCATO = Path(sys.executable).with_name("mercato")


def migrated_sqlite_with_emails(fresh_database_url: Callable[[str], str], count: int) -> str:
    url = fresh_database_url("sqlite")
    engine = make_engine(url)
    upgrade_to_head(engine)
    with transaction(make_session_factory(engine)) as session:
        for n in range(count):
            enqueue_email(session, [f"customer{n}@example.com"], f"Renewal reminder {n}", "Renew soon.")
    engine.dispose()
    return url


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpTestServer) -> Iterator[dict[str, str]]:
    variables = {
        "MERCATO_SECRET_KEY": COMMAND_SECRET,
        "MERCATO_SMTP_HOST": "127.0.0.1",
        "MERCATO_SMTP_PORT": str(smtp_server.port),
        "MERCATO_MAIL_FROM": "Mercato <mercato@example.com>",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield variables
    get_settings.cache_clear()


def test_worker_once_delivers_what_is_due_and_exits(
    environment: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    fresh_database_url: Callable[[str], str],
    smtp_server: SmtpTestServer,
) -> None:
    monkeypatch.setenv("MERCATO_DATABASE_URL", migrated_sqlite_with_emails(fresh_database_url, 5))

    result = CliRunner().invoke(app, ["worker", "--once", "--batch", "2"])

    assert result.exit_code == 0, result.output
    assert "Outbox: 5 delivered." in result.output
    assert sorted(received.message["Subject"] for received in smtp_server.received) == [
        f"Renewal reminder {n}" for n in range(5)
    ]


def test_worker_refuses_a_database_that_was_never_migrated(
    environment: dict[str, str], monkeypatch: pytest.MonkeyPatch, fresh_database_url: Callable[[str], str]
) -> None:
    monkeypatch.setenv("MERCATO_DATABASE_URL", fresh_database_url("sqlite"))

    result = CliRunner().invoke(app, ["worker", "--once"])

    assert result.exit_code == 1
    assert "mercato migrate" in result.output


def test_worker_runs_until_interrupted_then_reports_what_it_did(
    environment: dict[str, str],
    fresh_database_url: Callable[[str], str],
    smtp_server: SmtpTestServer,
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")} | environment
    env["MERCATO_DATABASE_URL"] = migrated_sqlite_with_emails(fresh_database_url, 3)
    worker = subprocess.Popen(
        [str(MERCATO), "worker", "--poll-seconds", "0.2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while len(smtp_server.received) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(smtp_server.received) == 3
        worker.send_signal(signal.SIGINT)
        _, errors = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, errors
    assert "Stopping after the message in hand" in errors
    assert "Outbox: 3 delivered." in errors
