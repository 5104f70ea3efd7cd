"""Backups of a SQLite deployment, taken and restored with SQLite's online backup API: a consistent copy
while the server keeps running, without copying a database file (and its write-ahead log) half-written.

PostgreSQL has its own tools, which know its storage far better: ``pg_dump`` and ``pg_restore``. For a
PostgreSQL deployment these functions say which commands to run rather than pretending to do it.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import URL

from mercato.migrations import alembic_config


class BackupError(Exception):
    """A backup or restore that cannot be done, with the sentence that says why and what to do."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size_bytes: int
    revision: str | None


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL (None for another database, or one in memory)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return None if row is None else str(row[0])


def _check(connection: sqlite3.Connection, what: str) -> str:
    """The revision of a sound Mercato database, or ``BackupError``."""
    try:
        verdict = connection.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{what} is not a SQLite database ({error}).") from None
    if verdict is None or verdict[0] != "ok":
        raise BackupError(
            f"{what} is damaged: SQLite's integrity check says {verdict[0] if verdict else '?'}."
        )
    revision = _revision(connection)
    if revision is None:
        raise BackupError(f"{what} is a SQLite database but not a Mercato one (it has no migration level).")
    return revision


def backup_sqlite(database: Path, target: Path) -> BackupReport:
    """Copy the live database into ``target`` (which must not exist yet), check the copy, and only then give it
    its name."""
    if not database.exists():
        raise BackupError(f"There is no database file at {database}.")
    if target.exists():
        raise BackupError(f"{target} exists already: choose a new file name (backups are never overwritten).")
    partial = target.with_name(target.name + ".partial")
    try:
        with closing(sqlite3.connect(database)) as source, closing(sqlite3.connect(partial)) as copy:
            source.backup(copy)  # one step: a consistent snapshot, even while the server writes
            # One self-contained file: the copy keeps no write-ahead log beside it, now or when it is read.
            copy.execute("PRAGMA journal_mode=DELETE")
            revision = _check(copy, "The copy")
        size = partial.stat().st_size
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(target, size, revision)


def restore_sqlite(backup: Path, database: Path) -> BackupReport:
    """Replace the database's content with the backup's, after checking that the backup is a sound Mercato
    database that this version can migrate. The caller migrates it to the current schema afterwards."""
    if not backup.is_file():
        raise BackupError(f"There is no backup file at {backup}.")
    with closing(sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)) as source:
        revision = _check(source, str(backup))
        try:
            known = ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(revision)
        except CommandError:
            known = None
        if known is None:
            raise BackupError(
                f"{backup} was taken by a newer Mercato (migration {revision} is unknown here): restore it with "
                "that version or a later one."
            )
        database.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(database)) as target:
            source.backup(target)
    return BackupReport(database, database.stat().st_size, revision)


def _libpq_url(url: URL) -> str:
    """The URL as pg_dump takes it: no driver name, no password (pg_dump reads PGPASSWORD or ~/.pgpass)."""
    bare = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return bare.render_as_string(hide_password=False)


def pg_dump_command(url: URL, target: str) -> str:
    return (
        f"pg_dump --format=custom --no-owner --no-privileges --dbname='{_libpq_url(url)}' --file='{target}'"
    )


def pg_restore_command(url: URL, backup: str) -> str:
    return (
        f"pg_restore --no-owner --no-privileges --single-transaction --exit-on-error "
        f"--dbname='{_libpq_url(url)}' '{backup}'"
    )
