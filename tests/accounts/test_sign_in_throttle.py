"""Signing in: failures are throttled per account and per client address, and an unknown e-mail costs the same
time as a wrong password, so neither speed nor timing tells an attacker anything."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mercato.accounts.service import AccountService
from mercato.app import create_app
from mercato.settings import Settings

PASSWORD = "correct horse battery staple"
SESSION = "/api/v1/session"


@pytest.fixture
def shop(settings: Settings, engine: Engine, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    with session_factory() as session, session.begin():
        accounts = AccountService(session)
        for email in ("ada@throttle.example", "bob@throttle.example"):
            accounts.set_password(accounts.create_user(email, email.split("@")[0]), PASSWORD)
    limited = settings.model_copy(
        update={"sign_in_limit_per_account": "3/minute", "sign_in_limit_per_address": "5/minute"}
    )
    with TestClient(create_app(limited, engine, session_factory), raise_server_exceptions=False) as client:
        yield client


def sign_in(shop: TestClient, email: str, password: str) -> int:
    return shop.post(SESSION, json={"email": email, "password": password}).status_code


def test_an_account_is_locked_for_a_while_after_three_failures_even_with_the_right_password(
    shop: TestClient,
) -> None:
    assert [sign_in(shop, "ada@throttle.example", "wrong password!") for _ in range(3)] == [401, 401, 401]
    refused = shop.post(SESSION, json={"email": "ADA@throttle.example", "password": PASSWORD})
    assert refused.status_code == 429
    problem = refused.json()
    assert problem["type"] == "/api/v1/problems/too-many-sign-ins" and "try again in" in problem["detail"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60 and problem["retry_after"] >= 1
    # Another account from the same address is not locked by Ada's failures (the address limit is 5).
    assert sign_in(shop, "bob@throttle.example", PASSWORD) == 201


def test_one_address_cannot_spray_many_accounts(shop: TestClient) -> None:
    for index in range(5):  # five different (unknown) accounts, one failure each
        assert sign_in(shop, f"nobody{index}@throttle.example", "guess guess guess") == 401
    assert sign_in(shop, "bob@throttle.example", PASSWORD) == 429


def test_successful_sign_ins_are_never_throttled(shop: TestClient) -> None:
    assert {sign_in(shop, "bob@throttle.example", PASSWORD) for _ in range(8)} == {201}


def test_an_unknown_email_takes_as_long_as_a_wrong_password(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        accounts = AccountService(session)
        accounts.set_password(accounts.create_user("ada@timing.example", "ada"), PASSWORD)
    # Limits high enough that no timed request is refused before its hash is computed.
    unlimited = settings.model_copy(
        update={"sign_in_limit_per_account": "100/minute", "sign_in_limit_per_address": "100/minute"}
    )
    with TestClient(create_app(unlimited, engine, session_factory), raise_server_exceptions=False) as shop:

        def timed(email: str) -> float:
            started = time.perf_counter()
            assert (
                shop.post(SESSION, json={"email": email, "password": "not the password"}).status_code == 401
            )
            return time.perf_counter() - started

        timed("ada@timing.example")  # the first request warms up the application (imports, pools)
        # Alternated, so a busy machine slows both alike; the fastest of each is the cost of the work itself.
        wrong, unknown = [], []
        for _ in range(5):
            wrong.append(timed("ada@timing.example"))
            unknown.append(timed("nobody@timing.example"))
    ratio = min(unknown) / min(wrong)
    # Without the stand-in hash an unknown e-mail answers about 50 times faster (no argon2 at all).
    assert ratio > 0.5, (wrong, unknown)
