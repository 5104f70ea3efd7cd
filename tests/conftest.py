"""Shared fixtures: real databases built by the migrations, on SQLite and on PostgreSQL.

Every test that asks for ``session_factory`` (or ``client``) runs once per backend. PostgreSQL comes from
``MERCATO_TEST_POSTGRES_URL`` (default: the local server, user postgres); each run creates its own database and
drops it afterwards. Locally an unreachable PostgreSQL skips those tests; with ``MERCATO_REQUIRE_POSTGRES=1`` (as
in CI) it fails them instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mercato.app import create_app
from mercato.catalog.demo import load_demo_catalog
from mercato.catalog.repository import CatalogRepository
from mercato.clock import FixedClock
from mercato.database import make_engine, make_session_factory, transaction
from mercato.migrations import upgrade_to_head
from mercato.settings import Settings, get_settings
from support.secrets import COMMAND_SECRET

POSTGRES_ADMIN_URL = os.environ.get(
    "MERCATO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("MERCATO_REQUIRE_POSTGRES") == "1"


def _postgres_unavailable(reason: str) -> None:
    if REQUIRE_POSTGRES:
        pytest.fail(f"PostgreSQL is required (MERCATO_REQUIRE_POSTGRES=1) but unavailable: {reason}")
    pytest.skip(f"PostgreSQL unavailable: {reason}")


def _create_postgres_database() -> tuple[str, Engine]:
    admin = make_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"mercato_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        _postgres_unavailable(str(error).splitlines()[0])
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    return url, admin


def pytest_configure(config: pytest.Config) -> None:
    # Commands' consoles read the width when they are made (at import, during collection): wide enough that no
    # sentence is wrapped inside a long temporary path (each test process of `make test` has a longer one).
    os.environ.setdefault("COLUMNS", "250")


@pytest.fixture(autouse=True)
def command_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run in-process (CliRunner) find a strong secret, as a real deployment must have one."""
    monkeypatch.setenv("MERCATO_SECRET_KEY", COMMAND_SECRET)
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def fresh_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A factory of empty databases of a given backend; each is dropped at the end of the session."""
    created: list[tuple[str, Engine | None]] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("db") / "mercato.db"
            url = f"sqlite:///{path}"
            created.append((url, None))
            return url
        url, admin = _create_postgres_database()
        created.append((url, admin))
        return url

    yield make
    for url, admin in created:
        if admin is not None:
            name = url.rsplit("/", 1)[-1]
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def engine(backend: str, fresh_database_url) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """A migrated database with the demo catalog, shared by the tests of one backend."""
    url = fresh_database_url(backend)
    engine = make_engine(url)
    upgrade_to_head(engine)
    with transaction(make_session_factory(engine)) as session:
        load_demo_catalog(CatalogRepository(session))
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions inside one outer transaction that is rolled back after the test: commits become savepoints."""
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield factory
    outer.rollback()
    connection.close()


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def settings(engine: Engine) -> Settings:
    # No reuse of key standings: tests change a license and validate at once (caching has its own tests).
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        secret_key="test-secret-key",
        validation_cache_seconds=0,
    )


@pytest.fixture
def server_clock() -> FixedClock:
    """The clock of the ``client``'s server: the tests' day, noon UTC, until a test moves it."""
    return FixedClock(datetime(2026, 11, 26, 12, tzinfo=UTC))


@pytest.fixture
def client(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], server_clock: FixedClock
) -> Iterator[TestClient]:
    # The server's clock decides what validation, quotes and refunds see.
    app = create_app(settings, engine, session_factory, server_clock)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]
