"""Two runs of the campaign e-mails at once (two hosts' cron, a billing run and `mercato transitions run`) send
each e-mail once, on both databases; and `mercato billing run` sends them as a step of its own."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from mercato.app import create_app
from mercato.catalog.demo import load_demo_catalog
from mercato.catalog.repository import CatalogRepository
from mercato.cli import app as mercato_cli
from mercato.clock import FixedClock
from mercato.database import make_engine, make_session_factory, transaction
from mercato.migrations import upgrade_to_head
from mercato.services import Services
from mercato.settings import Settings, get_settings
from mercato.transitions.mailing import SentEmail, TransitionMailing
from mercato.transitions.models import TransitionEmail
from support.secrets import COMMAND_SECRET
from support.world import add_second_wiki_server, build_world

from .campaigns import announce, direct_license, transition_emails

START = datetime(2026, 11, 26, 12, tzinfo=UTC)
NOTICE = "2026-12-01"


def seeded(url: str) -> sessionmaker[Session]:
    """A database of its own (real commits): three direct licenses and a campaign announced for NOTICE."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        load_demo_catalog(CatalogRepository(session))
        world = build_world(session)
        add_second_wiki_server(session, world)
    settings = Settings(database_url=url, secret_key=COMMAND_SECRET, validation_cache_seconds=0)
    with TestClient(create_app(settings, engine, clock=FixedClock(START))) as shop:
        direct_license(shop, world, "100", "wiki_server")
        direct_license(shop, world, "10", "wiki_lab")
        direct_license(shop, world, "250", "globex_wiki", buyer="globex_admin")
        made = announce(shop, world, notice_date=NOTICE, deadline="2027-03-01")
        assert made.status_code == 201, made.text
    return factory


def test_two_runs_at_once_send_each_email_once(backend: str, fresh_database_url) -> None:  # type: ignore[no-untyped-def]
    factory = seeded(fresh_database_url(backend))
    services = Services(secret_key=COMMAND_SECRET, clock=FixedClock(datetime(2026, 12, 1, 12, tzinfo=UTC)))
    start = threading.Barrier(2)
    sent: list[SentEmail] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            # As the run does it: both see every e-mail due, then each sends them one transaction at a time.
            with transaction(factory) as session:
                due = TransitionMailing(session, services).due()
            assert len(due) == 3
            start.wait(timeout=10)
            for pair in due:
                try:
                    with transaction(factory) as session:
                        outcome = TransitionMailing(session, services).send(*pair)
                except IntegrityError:  # the other run sent it a moment ago
                    continue
                if outcome is not None:
                    sent.append(outcome)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(sent) == 3 and {email.kind.value for email in sent} == {"announcement"}
    with transaction(factory) as session:
        assert len(transition_emails(session)) == 3
        assert session.scalar(select(func.count()).select_from(TransitionEmail)) == 3
    factory.kw["bind"].dispose()


def test_the_billing_run_sends_them_as_a_step_and_a_second_run_none(
    fresh_database_url, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    url = fresh_database_url("sqlite")
    factory = seeded(url)
    monkeypatch.setenv("MERCATO_DATABASE_URL", url)
    get_settings.cache_clear()

    def billing_run() -> list[str]:
        result = CliRunner().invoke(mercato_cli, ["billing", "run", "--today", NOTICE, "--json"])
        assert result.exit_code == 0, result.output
        emails: list[str] = json.loads(result.stdout)["transition_emails"]
        return emails

    first = billing_run()
    assert len(first) == 3 and all(item.endswith(":announcement") for item in first)
    assert billing_run() == []
    alone = CliRunner().invoke(mercato_cli, ["transitions", "run", "--today", NOTICE])
    assert alone.exit_code == 0, alone.output
    assert "0 e-mail(s) sent" in alone.stderr
    with transaction(factory) as session:
        assert len(transition_emails(session)) == 3
    factory.kw["bind"].dispose()
