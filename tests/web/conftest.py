"""The HTTP edge as a client meets it: the whole application over the test's rolled-back transaction, with the
small customer world of ``support.world`` (one person per role, each with a token) at a fixed date."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mercato.app import create_app
from mercato.clock import FixedClock
from mercato.settings import Settings
from support.world import World, build_world

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    with session_factory() as session, session.begin():
        return build_world(session)


@pytest.fixture
def api(settings: Settings, engine: Engine, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(
        create_app(settings, engine, session_factory, FixedClock(NOW)), raise_server_exceptions=False
    ) as client:
        yield client
