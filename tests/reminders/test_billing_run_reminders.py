"""``mercato billing run`` sends the renewal reminders due that day, lists them in its report, and a second run
the same day sends none (on the SQLite file ``mercato demo`` makes)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mercato.cli import app as mercato_cli
from mercato.settings import get_settings


@pytest.fixture
def database(fresh_database_url, monkeypatch: pytest.MonkeyPatch) -> str:  # type: ignore[no-untyped-def]
    url = str(fresh_database_url("sqlite"))
    monkeypatch.setenv("MERCATO_DATABASE_URL", url)
    monkeypatch.setenv("MERCATO_PUBLIC_URL", "https://mercato.example")
    get_settings.cache_clear()
    assert CliRunner().invoke(mercato_cli, ["demo"]).exit_code == 0
    return url


def run(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(mercato_cli, ["billing", "run", *args, "--json"])
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_a_billing_run_sends_the_reminders_due_and_a_second_run_none(database: str) -> None:
    issued = CliRunner().invoke(
        mercato_cli,
        [
            "license", "issue", "--app", "com.example.mockups.wiki", "--hosting", "server",
            "--channel", "marketplace", "--tier", "100", "--type", "commercial", "--server-id", "REMIND-1",
            "--maintenance-end", "2031-03-31", "--organisation", "acme",
        ],
    )  # fmt: skip
    assert issued.exit_code == 0, issued.output

    first = run("--today", "2031-03-01")
    reminders = first["renewal_reminders"]
    assert isinstance(reminders, list)
    assert reminders and all(str(item).endswith(":30_days_before") for item in reminders), reminders
    assert run("--today", "2031-03-01")["renewal_reminders"] == []
    assert run("--today", "2031-03-01", "--dry-run")["renewal_reminders"] == []
    rehearsed = run("--today", "2031-03-24", "--dry-run")["renewal_reminders"]
    assert rehearsed and all(item.endswith(":7_days_before") for item in rehearsed)  # type: ignore[union-attr]
    assert run("--today", "2031-03-24")["renewal_reminders"] == rehearsed  # the dry run said exactly this
