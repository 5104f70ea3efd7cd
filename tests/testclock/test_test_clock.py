"""The test clock: off unless enabled; where enabled, operator staff move the whole deployment's time, and
every rule (validation's grace and expiry, quote validity) follows it. The server's clock decides: a date a
caller sends is refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from mercato.app import create_app
from mercato.cli import app as mercato_cli
from mercato.cli_support import command_services
from mercato.settings import Settings, get_settings
from support.licenses import host

OPERATOR = {"Authorization": "Bearer mct_demo_operator"}
CUSTOMER = {"Authorization": "Bearer mct_demo_acme_admin"}


@pytest.fixture
def demo_client(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    from mercato.accounts.demo import load_demo_accounts

    with session_factory() as session, session.begin():
        load_demo_accounts(session)
    enabled = settings.model_copy(update={"test_clock": True})
    with TestClient(create_app(enabled, engine, session_factory), raise_server_exceptions=False) as client:
        yield client


def test_the_test_clock_is_off_unless_enabled(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    from mercato.accounts.demo import load_demo_accounts

    with session_factory() as session, session.begin():
        load_demo_accounts(session)
    refused = client.put("/api/v1/test-clock", json={"now": "2030-01-01"}, headers=OPERATOR)
    assert refused.status_code == 409 and refused.json()["type"] == "/api/v1/problems/test-clock-disabled"
    assert "MERCATO_TEST_CLOCK" in refused.json()["detail"]


def test_operator_staff_move_the_clock_and_others_may_not(demo_client: TestClient) -> None:
    assert (
        demo_client.put("/api/v1/test-clock", json={"now": "2030-01-01"}, headers=CUSTOMER).status_code == 403
    )
    moved = demo_client.put("/api/v1/test-clock", json={"now": "2030-01-01"}, headers=OPERATOR)
    assert moved.status_code == 200 and moved.json()["now"].startswith("2030-01-01T12:00:00")
    seen = demo_client.get("/api/v1/test-clock", headers=CUSTOMER).json()
    assert seen == {"enabled": True, "frozen": True, "now": moved.json()["now"]}
    reset = demo_client.delete("/api/v1/test-clock", headers=OPERATOR).json()
    assert reset["frozen"] is False and not reset["now"].startswith("2030")


def test_a_date_the_caller_sends_is_refused(demo_client: TestClient) -> None:
    refused = demo_client.post("/api/v1/licenses/validate", json=host(key="x") | {"today": "2020-01-01"})
    assert refused.status_code == 422 and "today" in refused.text


def test_mercato_clock_sets_the_time_every_command_reads(
    fresh_database_url,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("MERCATO_DATABASE_URL", fresh_database_url("sqlite"))
    runner = CliRunner()
    assert runner.invoke(mercato_cli, ["migrate"]).exit_code == 0
    off = runner.invoke(mercato_cli, ["clock", "set", "2031-05-01"])
    assert off.exit_code == 2 and "test clock is off" in off.output
    monkeypatch.setenv("MERCATO_TEST_CLOCK", "true")
    get_settings.cache_clear()
    assert runner.invoke(mercato_cli, ["clock", "set", "2031-05-01"]).exit_code == 0
    shown = runner.invoke(mercato_cli, ["clock", "show"])
    assert shown.exit_code == 0 and "2031-05-01T12:00:00Z (the test clock, set)" in shown.output
    assert command_services(get_settings()).clock.today() == date(2031, 5, 1)  # what billing runs would read
    assert runner.invoke(mercato_cli, ["clock", "reset"]).exit_code == 0
    assert "the system clock" in runner.invoke(mercato_cli, ["clock", "show"]).output


def test_quotes_expire_by_the_moved_clock(demo_client: TestClient) -> None:
    demo_client.put("/api/v1/test-clock", json={"now": "2026-11-26"}, headers=OPERATOR)
    instances = demo_client.get("/api/v1/organisations/acme/host-instances?hosting=server", headers=CUSTOMER)
    wiki = next(i for i in instances.json()["items"] if i["host_product"] == "wiki")
    quote = demo_client.post(
        "/api/v1/quotes",
        headers=CUSTOMER,
        json={
            "host_instance_id": wiki["id"],
            "items": [{"action": "evaluation", "product_key": "com.example.mockups.wiki"}],
        },
    ).json()
    assert quote["valid_until"] == "2026-12-26"
    demo_client.put("/api/v1/test-clock", json={"now": "2026-12-27"}, headers=OPERATOR)
    late = demo_client.post(f"/api/v1/quotes/{quote['id']}/accept", headers=CUSTOMER)
    assert late.status_code == 422 and late.json()["type"] == "/api/v1/problems/quote-expired"
