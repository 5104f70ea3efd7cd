"""Exactly one signing key per issuer: enforced by the database, and kept when first sales or rotations race.

The races need real commits from several connections at once, so those tests build their own databases by
migration, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mercato.clock import utcnow
from mercato.database import make_engine, make_session_factory, transaction
from mercato.keys.models import KeyState, SigningKey
from mercato.keys.service import KeyService
from mercato.migrations import alembic_config, upgrade_to_head

SECRET = "test-secret-key"
RACERS = 10
# How long each racer keeps its transaction open after it has its key, as a payment does while it issues the
# licenses: long enough for every other racer to look for the key in the meantime.
REST_OF_THE_SALE = 0.05


def migrated(backend: str, fresh_database_url: Callable[[str], str], revision: str = "head") -> Engine:
    url = fresh_database_url(backend)
    engine = make_engine(url)
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return engine


def signing_kids(engine: Engine, issuer: str) -> list[str]:
    with make_session_factory(engine)() as session:
        return list(
            session.scalars(
                select(SigningKey.kid).where(
                    SigningKey.issuer == issuer, SigningKey.state == KeyState.SIGNING
                )
            )
        )


def race(engine: Engine, action: Callable[[Session], str]) -> list[str]:
    """Run ``action`` in ``RACERS`` threads at once, each in its own unit of work that it keeps open a little
    after acting; return what each action returned."""
    factory = make_session_factory(engine)
    start = threading.Barrier(RACERS)

    def racer() -> str:
        start.wait()
        with transaction(factory) as session:
            result = action(session)
            time.sleep(REST_OF_THE_SALE)
            return result

    with ThreadPoolExecutor(RACERS) as pool:
        futures = [pool.submit(racer) for _ in range(RACERS)]
        return [future.result(timeout=30) for future in futures]


def test_the_database_refuses_a_second_signing_key_for_an_issuer(session: Session) -> None:
    service = KeyService(session, SECRET)
    kid, _ = service.signer("operator")
    service.signer("vendor:example-mockups")  # another issuer has a signing key of its own
    service.rotate("vendor:example-mockups")  # and any number of verifying ones
    twin = SigningKey(
        issuer="operator", kid=f"{kid}-twin", state=KeyState.SIGNING, public_key="x", sealed_private_key="x"
    )

    with session.begin_nested(), pytest.raises(IntegrityError, match=r"(?i)unique"):
        session.add(twin)
        session.flush()

    assert service.signer("operator")[0] == kid


def test_ten_simultaneous_first_signers_leave_one_signing_key(
    backend: str, fresh_database_url: Callable[[str], str]
) -> None:
    engine = migrated(backend, fresh_database_url)

    kids = race(engine, lambda session: KeyService(session, SECRET).signer("operator")[0])

    assert len(set(kids)) == 1, f"the racers signed with {len(set(kids))} different keys"
    assert signing_kids(engine, "operator") == kids[:1]
    engine.dispose()


def test_ten_simultaneous_rotations_leave_one_signing_key(
    backend: str, fresh_database_url: Callable[[str], str]
) -> None:
    engine = migrated(backend, fresh_database_url)
    with transaction(make_session_factory(engine)) as session:
        first_kid, _ = KeyService(session, SECRET).signer("operator")

    new_kids = race(engine, lambda session: KeyService(session, SECRET).rotate("operator").kid)

    [signing] = signing_kids(engine, "operator")
    assert signing in new_kids and len(set(new_kids)) == RACERS
    with make_session_factory(engine)() as session:
        states = {kid: state for kid, state in session.execute(select(SigningKey.kid, SigningKey.state))}
    assert states == {
        first_kid: KeyState.VERIFYING,
        **{kid: KeyState.SIGNING if kid == signing else KeyState.VERIFYING for kid in new_kids},
    }
    engine.dispose()


def test_the_migration_keeps_the_newest_of_several_signing_keys_signing_and_the_others_verifying(
    backend: str, fresh_database_url: Callable[[str], str]
) -> None:
    engine = migrated(backend, fresh_database_url, revision="0004")
    created = utcnow() - timedelta(days=1)
    with transaction(make_session_factory(engine)) as session:
        # What six racing first sales left before the database enforced one signing key per issuer.
        for n in range(6):
            session.add(
                SigningKey(
                    issuer="operator",
                    kid=f"operator-race-{n}",
                    state=KeyState.SIGNING,
                    public_key="x",
                    sealed_private_key="x",
                    created_at=created + timedelta(seconds=n),
                )
            )
        session.add(
            SigningKey(
                issuer="vendor:timekeep",
                kid="timekeep-only",
                state=KeyState.SIGNING,
                public_key="x",
                sealed_private_key="x",
                created_at=created,
            )
        )

    upgrade_to_head(engine)

    assert signing_kids(engine, "operator") == ["operator-race-5"]
    assert signing_kids(engine, "vendor:timekeep") == ["timekeep-only"]
    with make_session_factory(engine)() as session:
        demoted = session.scalars(
            select(SigningKey).where(SigningKey.kid.in_([f"operator-race-{n}" for n in range(5)]))
        ).all()
        assert {(key.state, key.rotated_at is not None) for key in demoted} == {(KeyState.VERIFYING, True)}
    with transaction(make_session_factory(engine)) as session:
        new = KeyService(session, SECRET).rotate("operator")
    assert signing_kids(engine, "operator") == [new.kid]
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(SigningKey)) == 8
    engine.dispose()
