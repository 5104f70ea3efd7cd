"""Moving a whole deployment between databases (SQLite to PostgreSQL, say) through one portable file.

The file is JSON lines: a header naming the format, the schema's migration revision and the tables; then, table
by table in dependency order (``Base.metadata.sorted_tables``: parents before the rows that refer to them), one
line per row. The tables come from the metadata, not from a list here, so a table added by a later migration is
exported and imported without any change to this module.

Import goes into a freshly migrated, empty database at the same migration revision, in one transaction: it
copies everything or, on any error, nothing.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import IO, Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, Table, TypeDecorator, func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, StatementError

import mercato.models  # noqa: F401  (every table module, so that the metadata knows the whole schema)
from mercato.database import Base
from mercato.migrations import alembic_config

FORMAT = "mercato-export"
VERSION = 1
BATCH = 500


class TransferError(Exception):
    """A file or a target database that cannot be used, with the sentence that says why and what to do."""


@dataclass
class TransferReport:
    revision: str | None
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def tables() -> list[Table]:
    """Every table of the schema, parents first."""
    return list(Base.metadata.sorted_tables)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


# -- values ------------------------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _decoder(table: Table, name: str) -> Callable[[Any], Any]:
    column_type = table.c[name].type
    while isinstance(column_type, TypeDecorator):  # UTCDateTime, enum columns: what they store
        column_type = column_type.impl_instance
    if isinstance(column_type, JSON):
        return lambda value: value
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        return lambda value: value
    if python_type is datetime:
        return datetime.fromisoformat
    if python_type is date:
        return date.fromisoformat
    if python_type is uuid.UUID:
        return uuid.UUID
    if python_type is Decimal:
        return Decimal
    if python_type is bytes:
        return base64.b64decode
    return lambda value: value


# -- export ------------------------------------------------------------------------------------------------


def export_to(engine: Engine, out: IO[str]) -> TransferReport:
    """Write every row of every table to ``out``, read in one transaction (a consistent snapshot)."""
    options: dict[str, Any] = {}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    with engine.connect().execution_options(**options) as connection, connection.begin():
        revision = current_revision(connection)
        if revision is None:
            raise TransferError("The database has no Mercato schema: there is nothing to export.")
        if revision != head_revision():
            raise TransferError(
                f"The database is at migration {revision}, this Mercato's schema is at {head_revision()}: "
                "run `mercato migrate` first, then export."
            )
        report = TransferReport(revision)
        names = [table.name for table in tables()]
        out.write(json.dumps({"format": FORMAT, "version": VERSION, "revision": revision, "tables": names}))
        out.write("\n")
        for table in tables():
            count = 0
            columns = [column.name for column in table.columns]
            order = list(table.primary_key.columns) or list(table.columns)
            for row in connection.execute(select(table).order_by(*order)).mappings():
                values = {name: _encode(row[name]) for name in columns}
                out.write(json.dumps({"table": table.name, "row": values}, ensure_ascii=False))
                out.write("\n")
                count += 1
            report.rows[table.name] = count
        return report


# -- import ------------------------------------------------------------------------------------------------


def _lines(source: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(source, 1):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
        except json.JSONDecodeError as error:
            raise TransferError(
                f"Line {number} of the file is not JSON ({error.msg}): is it a Mercato export?"
            ) from None
        if not isinstance(document, dict):
            raise TransferError(f"Line {number} of the file is not a Mercato export line.")
        yield number, document


def non_empty_tables(connection: Connection) -> list[str]:
    return [
        table.name for table in tables() if connection.scalar(select(func.count()).select_from(table)) != 0
    ]


def import_from(engine: Engine, source: IO[str]) -> TransferReport:
    """Copy an export into ``engine``'s database, which must be migrated to the export's revision and empty;
    in one transaction, so that a failure leaves it as empty as it was."""
    lines = _lines(source)
    first = next(lines, None)
    if first is None or first[1].get("format") != FORMAT:
        raise TransferError("The file is not a Mercato export (its first line does not say so).")
    header = first[1]
    if header.get("version") != VERSION:
        raise TransferError(
            f"The file is a version {header.get('version')} export; this Mercato reads {VERSION}."
        )
    revision = header.get("revision")
    if revision != head_revision():
        raise TransferError(
            f"The file was exported at migration {revision}, this Mercato's schema is at {head_revision()}: "
            "export with the same Mercato version that imports (upgrade the old deployment and migrate it "
            "first)."
        )
    known = {table.name: table for table in tables()}
    unknown = [name for name in header.get("tables", []) if name not in known]
    if unknown:
        raise TransferError(f"The file has tables this Mercato does not know: {', '.join(unknown)}.")
    report = TransferReport(revision)
    try:
        _insert_all(engine, lines, known, revision, report)
    except DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise TransferError(f"The database refused a row ({reason}); nothing was imported.") from None
    except StatementError as error:
        raise TransferError(
            f"A row of the file does not fit its table ({error.orig}); nothing was imported."
        ) from None
    return report


def _insert_all(
    engine: Engine,
    lines: Iterator[tuple[int, dict[str, Any]]],
    known: dict[str, Table],
    revision: object,
    report: TransferReport,
) -> None:
    with engine.begin() as connection:
        if current_revision(connection) != revision:
            raise TransferError("The target database is not migrated: run `mercato migrate` on it first.")
        filled = non_empty_tables(connection)
        if filled:
            raise TransferError(
                f"The target database is not empty ({', '.join(filled[:5])}{'…' if len(filled) > 5 else ''} "
                "have rows): import only into a freshly migrated, empty database."
            )
        batch: list[dict[str, Any]] = []
        current: Table | None = None
        decoders: dict[str, Callable[[Any], Any]] = {}

        def flush() -> None:
            if current is not None and batch:
                connection.execute(current.insert(), batch)
                report.rows[current.name] = report.rows.get(current.name, 0) + len(batch)
                batch.clear()

        for number, document in lines:
            name, row = document.get("table"), document.get("row")
            if name not in known or not isinstance(row, dict):
                raise TransferError(f"Line {number} of the file is not a row of a known table.")
            if current is None or current.name != name:
                flush()
                current = known[name]
                decoders = {column.name: _decoder(current, column.name) for column in current.columns}
            try:
                batch.append(
                    {key: None if value is None else decoders[key](value) for key, value in row.items()}
                )
            except (KeyError, ValueError, TypeError) as error:
                raise TransferError(
                    f"Line {number} of the file has a value {name} cannot take ({error})."
                ) from None
            if len(batch) >= BATCH:
                flush()
        flush()
        if engine.dialect.name == "postgresql":
            _advance_sequences(connection)


def _advance_sequences(connection: Connection) -> None:
    """Rows keep their ids; PostgreSQL's sequences of integer ids must then start after the highest."""
    for table in tables():
        column = table.autoincrement_column
        if column is None:
            continue
        connection.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, :column), "
                f'COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 0) + 1, false)'
            ),
            {"table": table.name, "column": column.name},
        )


def export_file(engine: Engine, path: Path) -> TransferReport:
    """Export into ``path`` (written beside it first, then renamed: never a half-written file)."""
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            report = export_to(engine, out)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return report


def import_file(engine: Engine, path: Path) -> TransferReport:
    with path.open(encoding="utf-8") as source:
        return import_from(engine, source)
