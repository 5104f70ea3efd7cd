"""A database that is busy (SQLite's write lock held too long, a PostgreSQL statement over its timeout, every
pooled connection in use) answers 503 with Retry-After as a problem document, never a 500; /readyz says
whether the database answers."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url
from sqlalchemy.engine import Engine

from mercato.accounts.demo import load_demo_accounts
from mercato.app import create_app
from mercato.catalog.demo import load_demo_catalog
from mercato.catalog.repository import CatalogRepository
from mercato.database import DatabaseTimeouts, make_engine, make_session_factory, transaction
from mercato.migrations import upgrade_to_head
from mercato.settings import Settings
from operations.live_server import served

OPERATOR = {"Authorization": "Bearer mct_demo_operator"}


@dataclass
class Shop:
    base_url: str
    database_url: str
    engine: Engine


@contextmanager
def shop(database_url: str, timeouts: DatabaseTimeouts) -> Iterator[Shop]:
    """A served shop with the demo data, whose database gives up after ``timeouts``."""
    engine = make_engine(database_url, timeouts)
    upgrade_to_head(engine)
    with transaction(make_session_factory(engine)) as session:
        load_demo_catalog(CatalogRepository(session))
        load_demo_accounts(session)
    app = create_app(Settings(database_url=database_url, secret_key="test-secret-key"), engine)
    try:
        with served(app) as base_url:
            yield Shop(base_url, database_url, engine)
    finally:
        engine.dispose()


def assert_busy(response: httpx.Response, retry_after: str, sentence: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == retry_after
    problem = response.json()
    assert (problem["type"], problem["title"]) == ("/api/v1/problems/database-busy", "Database busy")
    assert sentence in problem["detail"]


def new_token(base_url: str) -> httpx.Response:
    return httpx.post(f"{base_url}/api/v1/tokens", headers=OPERATOR, json={"name": "ci"}, timeout=30)


def test_sqlite_locked_for_longer_than_the_busy_timeout_answers_503_with_retry_after(
    fresh_database_url: Callable[[str], str],
) -> None:
    url = fresh_database_url("sqlite")
    with shop(url, DatabaseTimeouts(busy=0.3)) as served_shop:
        assert new_token(served_shop.base_url).status_code == 201
        holder = sqlite3.connect(make_url(url).database or "", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer keeps the lock for longer than 0.3 s
        try:
            started = time.monotonic()
            refused = new_token(served_shop.base_url)
            waited = time.monotonic() - started
        finally:
            holder.execute("ROLLBACK")
            holder.close()

        assert_busy(refused, "1", "busy with other changes for longer than 0.3 s")
        assert "changed nothing" in refused.json()["detail"]
        assert 0.3 <= waited < 3
        assert new_token(served_shop.base_url).status_code == 201  # the lock is free: the same request works


@pytest.mark.postgres
def test_a_postgresql_statement_over_the_statement_timeout_answers_503_with_retry_after(
    fresh_database_url: Callable[[str], str],
) -> None:
    with shop(fresh_database_url("postgresql"), DatabaseTimeouts(statement=1)) as served_shop:
        with served_shop.engine.connect() as holder:
            holder.exec_driver_sql("LOCK TABLE listings IN ACCESS EXCLUSIVE MODE")  # a long migration, say
            started = time.monotonic()
            refused = httpx.get(f"{served_shop.base_url}/api/v1/apps", timeout=30)
            waited = time.monotonic() - started
            holder.rollback()

        assert_busy(refused, "5", "did not finish this request within 1 s")
        assert 1 <= waited < 4
        assert httpx.get(f"{served_shop.base_url}/api/v1/apps").status_code == 200


def test_readiness_touches_the_database_and_liveness_does_not(client: TestClient, backend: str) -> None:
    assert client.get("/readyz").json() == {"status": "ready", "database": backend}
    assert client.get("/healthz").json() == {"status": "ok"}
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/healthz", "/readyz"} <= set(paths)


def test_a_request_that_finds_every_connection_in_use_answers_503_after_the_pool_timeout(
    fresh_database_url: Callable[[str], str],
) -> None:
    url = fresh_database_url("sqlite")
    engine = make_engine(url, DatabaseTimeouts(pool=0.3), pool_size=1, max_overflow=0)
    upgrade_to_head(engine)
    with transaction(make_session_factory(engine)) as session:
        load_demo_catalog(CatalogRepository(session))
    app = create_app(Settings(database_url=url, secret_key="test-secret-key"), engine)
    with served(app) as base_url, engine.connect():  # a long job holds the pool's only connection
        started = time.monotonic()
        refused = httpx.get(f"{base_url}/api/v1/apps", timeout=30)
        waited = time.monotonic() - started

    assert_busy(refused, "5", "Every database connection stayed in use for 0.3 s")
    assert 0.3 <= waited < 3
    engine.dispose()
