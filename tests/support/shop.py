"""The fixtures of the tests that go through HTTP at a fixed date: the world, and the API at the directory's
``clock`` inside the test's rolled-back transaction. A directory's conftest imports them (``from support.shop
import shop as shop``) beside its own ``clock``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mercato.app import create_app
from mercato.clock import FixedClock
from mercato.settings import Settings
from support.world import World, build_world


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
