"""Import tests run through HTTP and the command on SQLite and PostgreSQL, at the tests' fixed date."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mercato.app import create_app
from mercato.clock import FixedClock
from mercato.settings import Settings
from support.imports import START
from support.world import World, build_world


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    with session_factory() as session, session.begin():
        return build_world(session)


@pytest.fixture
def shop(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], clock: FixedClock
) -> Iterator[TestClient]:
    """The API at the fixed clock, inside the test's rolled-back transaction."""
    with TestClient(
        create_app(settings, engine, session_factory, clock), raise_server_exceptions=False
    ) as client:
        yield client
