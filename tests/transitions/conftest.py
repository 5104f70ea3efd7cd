"""Transition campaigns through HTTP on SQLite and PostgreSQL, at a fixed date that tests can move. Acme has two
wiki servers (100 users each), Globex one (250 users); a member of the other vendor (gatekeeper) signs in too."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mercato.accounts.models import Membership, Role, User
from mercato.catalog.models import Vendor
from mercato.clock import FixedClock
from support.shop import shop as shop
from support.world import World, _token, add_second_wiki_server, build_world

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


def add_other_vendor_member(session: Session, world: World) -> None:
    """A member of gatekeeper, the vendor of the SSO app, as ``world.auth("gatekeeper_vendor")``."""
    gatekeeper = session.scalars(select(Vendor).where(Vendor.slug == "gatekeeper")).one()
    user = User(email="gatekeeper_vendor@test.example", name="gatekeeper_vendor")
    session.add(user)
    session.flush()
    session.add(Membership(user_id=user.id, role=Role.VENDOR_MEMBER, vendor_id=gatekeeper.id))
    world.tokens["gatekeeper_vendor"] = _token(session, user, ["read", "write"])
    session.flush()


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    with session_factory() as session, session.begin():
        built = build_world(session)
        add_second_wiki_server(session, built)
        add_other_vendor_member(session, built)
        return built
