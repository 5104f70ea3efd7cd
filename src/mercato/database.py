"""The SQLAlchemy base, portable column types and engine/session set-up for SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import DateTime, MetaData, String, TypeDecorator, create_engine, event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Named constraints: Alembic's batch mode on SQLite can only alter constraints that have names.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC, also on SQLite (which stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class StrEnumColumn(TypeDecorator[Any]):
    """A ``StrEnum`` stored as its string value: readable in SQL and free of native ENUM migrations. Reads come
    back as the enum; a value outside it is refused before it reaches the database."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int = 32) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)


def enum_column(enum: type[StrEnum], length: int = 32) -> StrEnumColumn:
    return StrEnumColumn(enum, length)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs; SQLAlchemy emits BEGIN itself
    # (see _begin_sqlite), so nested transactions and rollbacks behave as they do on PostgreSQL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_sqlite(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front. A deferred transaction that reads and then writes cannot wait
    # for a concurrent writer (SQLite answers SQLITE_BUSY at once), so concurrent units of work would fail
    # instead of queueing behind each other. Hot read-only paths use autocommit connections and skip this.
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, **kwargs)
        event.listen(engine, "connect", _configure_sqlite)
        if kwargs.get("isolation_level") != "AUTOCOMMIT":
            event.listen(engine, "begin", _begin_sqlite)
        return engine
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; accept the plain libpq-style URL operators copy around.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


ReadConnections = Callable[[], AbstractContextManager[Connection]]
"""Where hot read-only paths get a connection: one statement, no unit of work around it."""


def autocommit_connections(engine: Engine) -> ReadConnections:
    """Connections for single reads on hot paths: no BEGIN and ROLLBACK round trips.

    A pool of its own whose connections are born in autocommit mode: switching a shared pool's connection to
    autocommit and back on every checkout would cost a statement each way.
    """
    reader = make_engine(engine.url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    return reader.connect


def session_connections(factory: sessionmaker[Session]) -> ReadConnections:
    """Read connections taken from a session factory's binding, so reads see what its sessions see."""

    @contextmanager
    def connect() -> Iterator[Connection]:
        with factory() as session:
            yield session.connection()

    return connect


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits once at the end, rolls back on any error."""
    with factory() as session, session.begin():
        yield session
