"""What every ``mercato`` command shares: flags shown as flags, and a sentence naming the database whenever a
command finds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from mercato.cli import app
from mercato.settings import get_settings

runner = CliRunner()


def command_paths() -> Iterator[list[str]]:
    """Every command of ``mercato``, as the words that name it."""

    def walk(command: Any, path: list[str]) -> Iterator[list[str]]:
        yield path
        for name, subcommand in getattr(command, "commands", {}).items():
            if not subcommand.hidden:
                yield from walk(subcommand, [*path, name])

    yield from walk(typer.main.get_command(app), [])


def test_every_flag_of_every_command_is_shown_bare() -> None:
    paths = list(command_paths())
    assert ["serve"] in paths and ["billing", "run"] in paths and ["doctor"] in paths and len(paths) > 30
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (path, result.output)
        # A flag shown as `--demo <bool>` invites `--demo true`, which fails: a flag takes no value.
        assert "<bool>" not in result.output, f"mercato {' '.join(path)} --help shows a flag taking a value"
    serve = runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "200"}).output
    assert "--demo " in serve and "Load demo data" in serve


def test_a_flag_given_a_value_is_refused_with_a_usage_error() -> None:
    result = runner.invoke(app, ["billing", "run", "--dry-run", "true"])
    assert result.exit_code == 2


def test_what_is_not_found_is_said_with_the_database_looked_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mercato.db"
    monkeypatch.setenv("MERCATO_DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    for args, sentence in (
        (["users", "list"], "No users in the SQLite file"),
        (["customers", "list"], "No customers in the SQLite file"),
        (["license", "list"], "No licenses in the SQLite file"),
        (["outbox", "list"], "No outbox messages (pending, retrying, sending, dead) in the SQLite file"),
        (["keys", "list", "--issuer", "operator"], "operator has no signing keys yet"),
        (["users", "show", "nobody@example.com"], "(looked in the SQLite file"),
        (["customers", "show", "nowhere"], "(looked in the SQLite file"),
    ):
        get_settings.cache_clear()
        result = runner.invoke(app, args)
        text = " ".join(result.stderr.split())
        assert sentence in text, (args, text)
        assert "mercato.db" in result.stderr.replace("\n", ""), (args, text)
