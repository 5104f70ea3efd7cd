"""``mercato backup`` / ``restore`` on SQLite, what they say on PostgreSQL, and ``mercato export`` / ``import``
moving a deployment with demo data and a purchase from SQLite to PostgreSQL without losing a row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from commerce.conftest import clock, shop, world
from commerce.test_seed_scenarios import MOCKUPS, buy
from mercato.cli import app
from mercato.database import make_engine, make_session_factory
from mercato.licenses.models import LicenseTransaction
from mercato.operations.transfer import tables
from mercato.settings import Settings, get_settings
from support.secrets import COMMAND_SECRET
from support.tables import every_row, row_counts
from support.world import World

__all__ = ["clock", "shop", "world"]  # the commerce fixtures, on this module's own database

runner = CliRunner()


def mercato(url: str, *args: str, input: str | None = None) -> Result:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MERCATO_DATABASE_URL", url)
        get_settings.cache_clear()
        try:
            return runner.invoke(app, list(args), input=input)
        finally:
            get_settings.cache_clear()


def said(result: Result) -> str:
    return " ".join(result.stderr.split())


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'mercato.db'}"
    loaded = mercato(url, "demo")
    assert loaded.exit_code == 0, loaded.output
    return url


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    """The demo SQLite file, instead of the shared test database: the commands see what the test commits."""
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return Settings(database_url=sqlite_url, secret_key=COMMAND_SECRET, validation_cache_seconds=0)


@pytest.fixture
def postgres_url(fresh_database_url) -> str:  # type: ignore[no-untyped-def]
    return str(fresh_database_url("postgresql"))


# -- backup and restore ------------------------------------------------------------------------------------


def test_a_backup_restores_the_database_as_it_was(sqlite_url: str, engine: Engine, tmp_path: Path) -> None:
    before = every_row(engine)
    backup_file = tmp_path / "backups" / "monday.db"
    backup_file.parent.mkdir()
    made = mercato(sqlite_url, "backup", str(backup_file))
    assert made.exit_code == 0, made.output
    assert "Backed up the SQLite file" in said(made) and "migration" in said(made)
    assert mercato(sqlite_url, "backup", str(backup_file)).exit_code == 1  # never overwritten
    assert [path.name for path in backup_file.parent.iterdir()] == ["monday.db"]  # one file, no WAL beside it

    created = mercato(
        sqlite_url,
        "customers",
        "create",
        "--slug",
        "initech",
        "--name",
        "Initech",
        "--billing-email",
        "ap@initech.example",
    )
    assert created.exit_code == 0, created.output
    assert every_row(engine) != before

    refused = mercato(sqlite_url, "restore", str(backup_file), input="n\n")
    assert refused.exit_code == 1 and "Nothing restored." in said(refused)
    restored = mercato(sqlite_url, "restore", str(backup_file), "--yes")
    assert restored.exit_code == 0, restored.output
    assert "Restored the SQLite file" in said(restored)
    assert every_row(engine) == before
    assert [path.name for path in backup_file.parent.iterdir()] == ["monday.db"]


def test_restore_refuses_a_file_that_is_not_a_mercato_backup(
    sqlite_url: str, engine: Engine, tmp_path: Path
) -> None:
    before = every_row(engine)
    stranger = tmp_path / "notes.txt"
    stranger.write_text("not a database")
    result = mercato(sqlite_url, "restore", str(stranger), "--yes")
    assert result.exit_code == 1
    assert "Nothing restored:" in said(result) and "not a SQLite database" in said(result)
    assert mercato(sqlite_url, "restore", str(tmp_path / "missing.db"), "--yes").exit_code == 1
    assert every_row(engine) == before


def test_on_postgresql_backup_and_restore_say_which_commands_to_run(tmp_path: Path) -> None:
    url = "postgresql+psycopg://mercato:s3cret@db.example:5432/mercato"
    backup = mercato(url, "backup", "mercato.dump")
    assert backup.exit_code == 1
    text = said(backup)
    assert "works on SQLite only" in text and "Nothing was done." in text
    assert "pg_dump --format=custom --no-owner --no-privileges" in text
    assert "--dbname='postgresql://mercato@db.example:5432/mercato'" in text and "s3cret" not in text
    restore = mercato(url, "restore", "mercato.dump")
    assert restore.exit_code == 1
    assert "pg_restore --no-owner --no-privileges --single-transaction --exit-on-error" in said(restore)


# -- moving from SQLite to PostgreSQL ----------------------------------------------------------------------


def test_a_deployment_moves_from_sqlite_to_postgresql_losing_nothing(
    sqlite_url: str, engine: Engine, postgres_url: str, shop: TestClient, world: World, tmp_path: Path
) -> None:
    buy(
        shop,
        world,
        [
            {"action": "new", "product_key": "wiki", "tier": "100"},
            {"action": "new", "product_key": MOCKUPS, "tier": "100"},
        ],
    )
    buy(shop, world, [{"action": "new", "product_key": MOCKUPS}], instance="wiki_cloud")
    source = every_row(engine)
    assert all(
        source[name] for name in ("licenses", "license_keys", "invoices", "payments", "outbox_messages")
    )

    exported = tmp_path / "mercato.jsonl"
    result = mercato(sqlite_url, "export", str(exported))
    assert result.exit_code == 0, result.output
    header = json.loads(exported.read_text().splitlines()[0])
    assert header["tables"] == [table.name for table in tables()]  # every table of the schema, parents first
    assert mercato(sqlite_url, "export", str(exported)).exit_code == 1  # never overwritten

    moved = mercato(postgres_url, "import", str(exported))
    assert moved.exit_code == 0, moved.output
    total = sum(len(rows) for rows in source.values())
    assert f"Imported {total:,} rows" in said(moved)
    target = make_engine(postgres_url)
    try:
        copied = every_row(target)
        for name in source:
            assert copied[name] == source[name], f"{name} differs after the move"
        # Ids made after the move do not collide with the copied ones (the sequences moved on).
        listed = mercato(postgres_url, "license", "list", "--json")
        assert listed.exit_code == 0 and json.loads(listed.stdout)["total"] == len(source["licenses"])
        with target.connect() as connection:
            highest = max(connection.scalars(select(LicenseTransaction.id)))
            assert (
                connection.exec_driver_sql(
                    "SELECT nextval(pg_get_serial_sequence('license_transactions', 'id'))"
                ).scalar_one()
                > highest
            )

        again = mercato(postgres_url, "import", str(exported))
        assert again.exit_code == 1 and "is not empty" in said(again)
        assert row_counts(target) == {name: len(rows) for name, rows in source.items()}
    finally:
        target.dispose()


def test_an_import_that_fails_half_way_leaves_the_target_empty(
    sqlite_url: str, postgres_url: str, tmp_path: Path
) -> None:
    exported = tmp_path / "mercato.jsonl"
    assert mercato(sqlite_url, "export", str(exported)).exit_code == 0
    lines = exported.read_text().splitlines()
    # A membership of a user the file does not have: refused by the foreign key, after many rows went in.
    broken = [json.loads(line) for line in lines]
    membership = next(line for line in broken if line.get("table") == "memberships")
    membership["row"]["user_id"] = "00000000-0000-4000-8000-000000000000"
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("\n".join(json.dumps(line) for line in broken) + "\n")

    result = mercato(postgres_url, "import", str(damaged))
    assert result.exit_code == 1
    assert "Nothing imported:" in said(result) and "nothing was imported" in said(result)
    target = make_engine(postgres_url)
    try:
        assert set(row_counts(target).values()) == {0}
    finally:
        target.dispose()

    not_an_export = tmp_path / "other.jsonl"
    not_an_export.write_text('{"hello": "world"}\n')
    refused = mercato(postgres_url, "import", str(not_an_export))
    assert refused.exit_code == 1 and "is not a Mercato export" in said(refused)
