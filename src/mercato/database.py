"""The SQLAlchemy base, portable column types and engine/session set-up for SQLite and PostgreSQL."""

from __future__ import annotations

import math
import sqlite3
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

import psycopg
from sqlalchemy import DateTime, MetaData, String, TypeDecorator, create_engine, event, make_url
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import DeclarativeBase, Mapper, Session, SessionTransaction, sessionmaker

from mercato.settings import Settings

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


_TRANSACTION_CACHES = "mercato.transaction_caches"


def transaction_cache(session: Session, name: str) -> dict[Any, Any]:
    """A dict the session keeps for its current transaction only: rows read together with others (a seller's
    name, a signing key, the enabled webhook endpoints) that later steps of the same transaction reuse instead
    of reading them again. Emptied when the transaction, or a savepoint, ends; what the next transaction needs,
    it reads afresh (a key may have been rotated meanwhile)."""
    caches: dict[str, dict[Any, Any]] = session.info.setdefault(_TRANSACTION_CACHES, {})
    return caches.setdefault(name, {})


@event.listens_for(Session, "after_transaction_end")
def _forget_transaction_caches(session: Session, transaction: SessionTransaction) -> None:
    # A flush's own inner transaction ends nothing the caller sees: only a savepoint or the outermost one counts.
    if transaction.nested or transaction.parent is None:
        session.info.pop(_TRANSACTION_CACHES, None)


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


@event.listens_for(Mapper, "mapper_configured")
def _enum_attributes_hold_enums(mapper: Mapper[Any], cls: type) -> None:
    """An enum column's attribute holds its enum from the moment it is set, not only once read back: a row made
    in this session with ``hosting="server"`` then reads ``Hosting.SERVER``, and a value outside the enum is
    refused when assigned."""
    for prop in mapper.column_attrs:
        column_type = prop.columns[0].type
        if isinstance(column_type, StrEnumColumn):
            enum = column_type.enum

            def coerce(target: Any, value: Any, old: Any, initiator: Any, enum: type[StrEnum] = enum) -> Any:
                return value if value is None or isinstance(value, enum) else enum(value)

            event.listen(getattr(cls, prop.key), "set", coerce, retval=True)


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long Mercato waits for its database before it gives up and says so (503), in seconds.

    ``connect``, ``statement`` and ``pool`` apply to PostgreSQL; ``busy`` and ``pool`` to SQLite.
    """

    connect: float = 5.0
    """Opening a connection (libpq's ``connect_timeout``; it counts whole seconds, at least 2)."""
    statement: float = 30.0
    """The server cancels a statement after this long (``statement_timeout``, lock waits included); the client
    gives up on a round trip unanswered a second after that (``ROUND_TRIP_GRACE_SECONDS``), which is what
    ends a wait on a server behind a network partition: no TCP error ever arrives there."""
    busy: float = 10.0
    """SQLite: how long a change waits for the write lock (``busy_timeout``)."""
    pool: float = 10.0
    """How long a caller waits for a free connection of the pool."""

    @classmethod
    def from_settings(cls, settings: Settings) -> DatabaseTimeouts:
        return cls(
            connect=settings.database_connect_timeout_seconds,
            statement=settings.database_statement_timeout_seconds,
            busy=settings.database_busy_timeout_seconds,
            pool=settings.database_pool_timeout_seconds,
        )

    @property
    def round_trip(self) -> float:
        return self.statement + ROUND_TRIP_GRACE_SECONDS


ROUND_TRIP_GRACE_SECONDS = 1.0
"""How much longer than the statement timeout the client waits: the server's own cancellation answers first
whenever the server can still be heard."""

# The timeouts each engine was made with, so that engines derived from it (autocommit readers) keep them.
_engine_timeouts: weakref.WeakKeyDictionary[Engine, DatabaseTimeouts] = weakref.WeakKeyDictionary()


def engine_timeouts(engine: Engine) -> DatabaseTimeouts:
    """The timeouts ``engine`` was made with (the defaults for an engine made elsewhere)."""
    return _engine_timeouts.get(engine) or DatabaseTimeouts()


class _DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection that stops waiting for a server that does not answer.

    Every exchange with the server goes through ``wait``. Behind a network partition, or a proxy that stopped
    forwarding, a query's bytes are accepted and no answer (and no error) ever comes back: libpq would wait
    as long as the partition lasts. After ``round_trip_timeout`` the connection is closed, in an unknown state
    as it is, and the caller gets an ``OperationalError``; SQLAlchemy sees a closed connection, discards it,
    and the next checkout connects afresh, so the application recovers by itself once the database is back.
    """

    round_trip_timeout: float | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        deadline = timeout if timeout is not None else self.round_trip_timeout
        try:
            return super().wait(gen, interval=interval, timeout=deadline)
        except psycopg.errors._WaitTimeout as error:  # psycopg's own signal that the wait's timeout expired
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"the database server did not answer within {deadline:g} s "
                "(unreachable, or a network partition); the connection was closed"
            ) from error


def _connect_postgresql(timeouts: DatabaseTimeouts) -> Callable[..., Any]:
    statement_ms = round(timeouts.statement * 1000)

    def connect(_dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> Any:
        # libpq counts whole seconds and treats anything below 2 as 2.
        cparams.setdefault("connect_timeout", max(2, math.ceil(timeouts.connect)))
        options = str(cparams.get("options", ""))
        if "statement_timeout" not in options:
            options = f"{options} -c statement_timeout={statement_ms}".strip()
        if "idle_in_transaction_session_timeout" not in options:
            # A client that vanished mid-transaction (its machine lost power, a partition) must not hold its
            # row locks (an invoice series, a quote) until TCP gives up hours later: the server ends it.
            options = f"{options} -c idle_in_transaction_session_timeout={statement_ms * 2}"
        cparams["options"] = options
        # TCP keepalives notice a dead peer in about a minute instead of the system's two hours.
        cparams.setdefault("keepalives", 1)
        cparams.setdefault("keepalives_idle", 30)
        cparams.setdefault("keepalives_interval", 10)
        cparams.setdefault("keepalives_count", 3)
        connection = _DeadlineConnection.connect(*cargs, **cparams)
        connection.round_trip_timeout = timeouts.round_trip
        return connection

    return connect


def _configure_sqlite(busy_timeout: float) -> Callable[[Any, Any], None]:
    def configure(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs; SQLAlchemy emits BEGIN
        # itself (see _begin_sqlite), so nested transactions and rollbacks behave as they do on PostgreSQL.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return configure


def _begin_sqlite(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front. A deferred transaction that reads and then writes cannot wait
    # for a concurrent writer (SQLite answers SQLITE_BUSY at once), so concurrent units of work would fail
    # instead of queueing behind each other. Hot read-only paths use autocommit connections and skip this.
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, timeouts: DatabaseTimeouts | None = None, **kwargs: Any) -> Engine:
    """An engine for SQLite or PostgreSQL with Mercato's connection settings and ``timeouts`` (by default the
    ``MERCATO_DATABASE_*_TIMEOUT_SECONDS`` settings, read from the environment now)."""
    if timeouts is None:
        # Read afresh rather than through get_settings(): an engine made before the settings are final (a
        # test, a command that changes the environment) must not pin the cached settings.
        timeouts = DatabaseTimeouts.from_settings(Settings())
    if make_url(url).database not in (None, "", ":memory:"):  # an in-memory SQLite database has no pool
        kwargs.setdefault("pool_timeout", timeouts.pool)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": timeouts.busy}, **kwargs
        )
        event.listen(engine, "connect", _configure_sqlite(timeouts.busy))
        if kwargs.get("isolation_level") != "AUTOCOMMIT":
            event.listen(engine, "begin", _begin_sqlite)
    else:
        if url.startswith("postgresql://"):
            # psycopg 3 is the driver we ship; accept the plain libpq-style URL operators copy around.
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
        if engine.dialect.driver == "psycopg":
            event.listen(engine, "do_connect", _connect_postgresql(timeouts))
    _engine_timeouts[engine] = timeouts
    return engine


class DatabaseTrouble(StrEnum):
    """Why a database operation failed, when trying again shortly can succeed (the caller answers 503)."""

    LOCKED = "locked"
    """SQLite: another change held the write lock for longer than the busy timeout."""
    CONFLICT = "conflict"
    """PostgreSQL: a deadlock, a serialization failure or a lock that was not available; rolled back."""
    TIMED_OUT = "timed out"
    """PostgreSQL: the server cancelled a statement at the statement timeout; rolled back."""
    POOL_EXHAUSTED = "pool exhausted"
    """Every connection of the pool stayed in use for longer than the pool timeout."""
    UNREACHABLE = "unreachable"
    """No connection could be made, or the server stopped answering (down, restarting, partitioned)."""


_CONFLICT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
_TIMED_OUT_SQLSTATES = frozenset({"57014"})


def database_trouble(error: BaseException) -> DatabaseTrouble | None:
    """The transient trouble behind ``error``, or None for an error that trying again will not cure."""
    if isinstance(error, PoolTimeoutError):
        return DatabaseTrouble.POOL_EXHAUSTED
    if not isinstance(error, DBAPIError):
        return None
    cause = error.orig
    if isinstance(cause, sqlite3.OperationalError):
        message = str(cause)
        if "locked" in message:  # "database is locked", "database table is locked"
            return DatabaseTrouble.LOCKED
        if "unable to open" in message or "disk I/O error" in message:
            return DatabaseTrouble.UNREACHABLE
        return None  # e.g. "no such table": a missing migration, not a passing trouble
    if isinstance(cause, psycopg.OperationalError):
        sqlstate = cause.sqlstate or ""
        if sqlstate in _CONFLICT_SQLSTATES:
            return DatabaseTrouble.CONFLICT
        if sqlstate in _TIMED_OUT_SQLSTATES:
            return DatabaseTrouble.TIMED_OUT
        if sqlstate.startswith("54"):  # program limits exceeded: the same request fails the same way again
            return None
        return DatabaseTrouble.UNREACHABLE
    if error.connection_invalidated:
        return DatabaseTrouble.UNREACHABLE
    return None


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


ReadConnections = Callable[[], AbstractContextManager[Connection]]
"""Where hot read-only paths get a connection: one statement, no unit of work around it."""


def autocommit_connections(engine: Engine) -> ReadConnections:
    """Connections for single reads on hot paths: no BEGIN and ROLLBACK round trips.

    A pool of its own whose connections are born in autocommit mode: switching a shared pool's connection to
    autocommit and back on every checkout would cost a statement each way.
    """
    reader = make_engine(
        engine.url.render_as_string(hide_password=False),
        engine_timeouts(engine),
        isolation_level="AUTOCOMMIT",
    )
    return reader.connect


def session_connections(factory: sessionmaker[Session]) -> ReadConnections:
    """Read connections taken from a session factory's binding, so reads see what its sessions see.

    A factory bound to one connection (an outer unit of work, as in tests) hands out that connection itself:
    reads then run as they do on an autocommit connection, without a savepoint around each."""
    bind = factory.kw.get("bind")

    @contextmanager
    def connect() -> Iterator[Connection]:
        if isinstance(bind, Connection):
            yield bind
            return
        with factory() as session:
            yield session.connection()

    return connect


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits once at the end, rolls back on any error."""
    with factory() as session, session.begin():
        yield session
