"""``mercato doctor`` on a SQLite deployment: each thing it checks, when it is right and when it is wrong, with
the exit status a script or a monitor reads (1 for a problem; warnings alone leave 0)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mail.smtp_server import SmtpTestServer
from mercato.cli import app
from mercato.clock import utcnow
from mercato.database import make_engine, make_session_factory, transaction
from mercato.outbox.models import OutboxMessage
from mercato.settings import get_settings
from support.secrets import COMMAND_SECRET

runner = CliRunner()


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    server = SmtpTestServer().start()
    yield server
    server.stop()


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpTestServer) -> Path:
    """A demo deployment with a signing key, a strong secret and a mail server that answers."""
    for name in ("MERCATO_TEST_CLOCK", "MERCATO_DEMO"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "mercato.db"
    monkeypatch.setenv("MERCATO_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("MERCATO_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MERCATO_SMTP_PORT", str(smtp_server.port))
    get_settings.cache_clear()
    assert runner.invoke(app, ["demo"]).exit_code == 0
    rotated = runner.invoke(app, ["keys", "rotate", "--issuer", "operator"])
    assert rotated.exit_code == 0, rotated.output
    return path


def doctor(*args: str) -> Result:
    get_settings.cache_clear()
    return runner.invoke(app, ["doctor", *args])


def findings(result: Result) -> dict[str, dict[str, str]]:
    document = json.loads(result.stdout)
    return {finding["check"]: finding for finding in document["findings"]}


def said(result: Result) -> str:
    return " ".join(result.stderr.split())


def test_a_healthy_deployment_passes_every_check(deployment: Path) -> None:
    result = doctor()
    assert result.exit_code == 0, result.output
    assert "All is well." in said(result)
    as_json = doctor("--json")
    assert as_json.exit_code == 0
    found = findings(as_json)
    assert json.loads(as_json.stdout)["verdict"] == "ok"
    assert set(found) == {
        "settings",
        "secret",
        "database",
        "migrations",
        "signing keys of operator",
        "outbox",
        "smtp",
    }
    assert all(finding["verdict"] == "ok" for finding in found.values())


def test_a_weak_secret_is_a_problem_with_its_fix(deployment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MERCATO_SECRET_KEY", "short")
    result = doctor("--json")
    assert result.exit_code == 1
    secret = findings(result)["secret"]
    assert secret["verdict"] == "problem"
    assert "5 characters" in secret["sentence"] and "secrets.token_urlsafe(32)" in secret["fix"]


def test_keys_sealed_with_another_secret_are_a_problem(
    deployment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MERCATO_SECRET_KEY", COMMAND_SECRET[::-1])
    result = doctor("--json")
    assert result.exit_code == 1
    keys = findings(result)["signing keys of operator"]
    assert keys["verdict"] == "problem" and "does not open" in keys["sentence"]
    assert "mercato keys reseal" in keys["fix"]


def test_settings_that_cannot_be_read_are_a_problem(
    deployment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MERCATO_SMTP_PORT", "twenty-five")
    result = doctor()
    assert result.exit_code == 1
    assert "MERCATO_SMTP_PORT" in said(result)


def test_no_database_is_a_problem_and_the_doctor_creates_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "elsewhere" / "mercato.db"
    monkeypatch.setenv("MERCATO_DATABASE_URL", f"sqlite:///{missing}")
    result = doctor("--json")
    assert result.exit_code == 1
    database = findings(result)["database"]
    assert database["sentence"] == f"There is no Mercato database at the SQLite file {missing}."
    assert "mercato migrate" in database["fix"]
    assert not missing.exists()


def test_an_unreachable_database_is_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("MERCATO_DATABASE_URL", f"postgresql://nobody@127.0.0.1:{port}/mercato")
    result = doctor("--json")
    assert result.exit_code == 1
    assert findings(result)["database"]["sentence"].startswith("Cannot reach the database at postgresql://")


def test_a_mail_server_that_does_not_answer_is_a_problem(
    deployment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("MERCATO_SMTP_PORT", str(port))  # nothing listens there
    result = doctor("--json")
    assert result.exit_code == 1
    smtp = findings(result)["smtp"]
    assert smtp["verdict"] == "problem" and f"127.0.0.1:{port}" in smtp["sentence"]


def test_dead_and_late_outbox_messages_are_problems(deployment: Path) -> None:
    engine = make_engine(f"sqlite:///{deployment}")
    long_ago = utcnow() - timedelta(hours=2)
    with transaction(make_session_factory(engine)) as session:
        session.add(OutboxMessage(topic="email", payload={}, available_at=long_ago, dead_at=long_ago))
        session.add(OutboxMessage(topic="email", payload={}, available_at=long_ago))
    engine.dispose()
    result = doctor("--json")
    assert result.exit_code == 1
    sentences = [finding["sentence"] for finding in json.loads(result.stdout)["findings"]]
    assert any("1 outbox message(s) are dead" in sentence for sentence in sentences)
    assert any("1 outbox message(s) have waited more than 15 minutes" in sentence for sentence in sentences)


def test_the_test_clock_is_a_warning_only(deployment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MERCATO_TEST_CLOCK", "true")
    result = doctor("--json")
    assert result.exit_code == 0
    assert findings(result)["test clock"]["verdict"] == "warning"
    assert json.loads(result.stdout)["verdict"] == "warning"
