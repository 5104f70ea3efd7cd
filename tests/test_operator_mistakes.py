"""Operator mistakes get sentences, not tracebacks: a URL that is not one, a database that does not answer, a
command run where there is no Mercato database (nothing is created), a port already taken, and key ids that
narrow terminals do not cut."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mercato.cli import app as mercato_cli
from mercato.settings import get_settings


def run(monkeypatch: pytest.MonkeyPatch, url: str | None, *command: str) -> tuple[int, str]:
    if url is None:
        monkeypatch.delenv("MERCATO_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("MERCATO_DATABASE_URL", url)
    get_settings.cache_clear()
    result = CliRunner().invoke(mercato_cli, list(command))
    assert "Traceback" not in result.output
    return result.exit_code, " ".join(result.output.split())


def test_a_command_where_there_is_no_database_says_where_it_looked_and_creates_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    status, said = run(monkeypatch, None, "keys", "list", "--issuer", "operator")
    assert status == 1
    assert f"There is no Mercato database at the SQLite file {tmp_path / 'mercato.db'}" in said
    assert "MERCATO_DATABASE_URL is not set" in said and "mercato migrate" in said
    assert not (tmp_path / "mercato.db").exists()


def test_a_database_without_mercato_tables_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "other.db"
    empty.write_bytes(b"")
    status, said = run(monkeypatch, f"sqlite:///{empty}", "billing", "run")
    assert status == 1 and "has no Mercato tables" in said and "mercato migrate" in said


def test_a_url_that_is_not_one_is_a_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    status, said = run(monkeypatch, "mysql-ish:/nowhere", "migrate")
    assert status == 1 and "not a database URL Mercato can use" in said and "postgresql://" in said


def test_an_unreachable_database_is_a_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    status, said = run(monkeypatch, f"postgresql://postgres:hunter2@127.0.0.1:{port}/mercato", "migrate")
    assert status == 1 and "Cannot reach the database at" in said and "Check that the server runs" in said
    assert "hunter2" not in said  # the password is never printed


def test_serving_on_a_taken_port_is_a_sentence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, said = run(monkeypatch, None, "serve", "--port", str(port))
    assert status == 1 and f"Cannot serve on 127.0.0.1:{port}" in said and f"--port {port + 1}" in said


def test_key_ids_are_never_cut_on_a_narrow_terminal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "20")
    assert run(monkeypatch, None, "migrate")[0] == 0
    kid = CliRunner().invoke(mercato_cli, ["keys", "rotate", "--issuer", "operator"]).stdout.strip()
    assert len(kid) > 20
    status, said = run(monkeypatch, None, "keys", "list", "--issuer", "operator")
    assert status == 0 and kid in said.replace(" ", "")
