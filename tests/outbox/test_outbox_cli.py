"""``mercato outbox list|show|retry``: what an operator sees of the outbox, and sending dead mail again, through
to the mail server."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator

import pytest
from click.testing import Result
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from mail.smtp_server import SmtpTestServer
from mercato.cli import app
from mercato.clock import FixedClock, utcnow
from mercato.database import make_engine, make_session_factory
from mercato.migrations import upgrade_to_head
from mercato.outbox.models import OutboxMessage
from mercato.settings import get_settings
from outbox.doubles import messages_in_every_state
from support.secrets import COMMAND_SECRET


@pytest.fixture
def outbox(
    monkeypatch: pytest.MonkeyPatch, fresh_database_url: Callable[[str], str], smtp_server: SmtpTestServer
) -> Iterator[tuple[dict[str, uuid.UUID], sessionmaker[Session]]]:
    """A SQLite file with an e-mail in every state, named by the environment as an operator's shell would."""
    url = fresh_database_url("sqlite")
    engine = make_engine(url)
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    ids = messages_in_every_state(factory, FixedClock(utcnow()))
    for name, value in {
        "MERCATO_DATABASE_URL": url,
        "MERCATO_SECRET_KEY": COMMAND_SECRET,
        "MERCATO_SMTP_HOST": "127.0.0.1",
        "MERCATO_SMTP_PORT": str(smtp_server.port),
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield ids, factory
    get_settings.cache_clear()
    engine.dispose()


def mercato(*arguments: str) -> Result:
    return CliRunner().invoke(app, list(arguments))


def short(message_id: uuid.UUID) -> str:
    return message_id.hex[:8]


def test_list_shows_what_is_not_delivered_newest_first_in_a_table(
    outbox: tuple[dict[str, uuid.UUID], sessionmaker[Session]],
) -> None:
    ids, _ = outbox

    result = mercato("outbox", "list")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    rows = [
        next(line for line in lines if short(ids[name]) in line) for name in ("pending", "retrying", "dead")
    ]
    assert lines.index(rows[0]) < lines.index(rows[1]) < lines.index(rows[2])  # newest first
    assert [row.split("│")[2].strip() for row in rows] == ["pending", "retrying", "dead"]
    assert short(ids["delivered"]) not in result.output
    assert "3 message(s) (pending, retrying, sending, dead)" in result.output


def test_list_as_json_filters_by_state(outbox: tuple[dict[str, uuid.UUID], sessionmaker[Session]]) -> None:
    ids, _ = outbox

    result = mercato("outbox", "list", "--status", "dead", "--status", "delivered", "--json")

    assert result.exit_code == 0, result.output
    page = json.loads(result.stdout)
    assert (page["total"], page["limit"], page["offset"]) == (2, 50, 0)
    assert [(item["id"], item["status"]) for item in page["items"]] == [
        (str(ids["dead"]), "dead"),
        (str(ids["delivered"]), "delivered"),
    ]
    dead = page["items"][0]
    assert dead["summary"] == "dead → dead@example.com"
    assert dead["last_error"] == "Undeliverable: every recipient was refused: 550 No such mailbox"
    assert dead["attempts"] == 1 and dead["dead_at"] and dead["next_attempt_at"] is None
    assert "payload" not in dead


def test_show_tells_where_a_message_stands_and_what_it_carries(
    outbox: tuple[dict[str, uuid.UUID], sessionmaker[Session]],
) -> None:
    ids, _ = outbox

    shown = mercato("outbox", "show", short(ids["retrying"]))
    as_json = json.loads(mercato("outbox", "show", str(ids["retrying"]), "--json").stdout)

    assert shown.exit_code == 0, shown.output
    for expected in ("retrying", "retrying@example.com", "ConnectionRefusedError", "next attempt", '"text"'):
        assert expected in shown.output
    assert as_json["status"] == "retrying" and as_json["attempts"] == 1
    assert as_json["payload"]["to"] == ["retrying@example.com"]
    assert as_json["retry_until"] > as_json["first_attempt_at"]


def test_show_refuses_what_is_not_an_id_and_ids_it_does_not_know(
    outbox: tuple[dict[str, uuid.UUID], sessionmaker[Session]],
) -> None:
    not_an_id = mercato("outbox", "show", "abc")
    unknown = mercato("outbox", "show", "0" * 32)

    assert not_an_id.exit_code == 1 and "'abc' is not a message id" in not_an_id.output
    assert unknown.exit_code == 1 and "There is no outbox message" in unknown.output


def test_a_dead_message_sent_again_is_delivered_by_the_next_worker(
    outbox: tuple[dict[str, uuid.UUID], sessionmaker[Session]], smtp_server: SmtpTestServer
) -> None:
    ids, factory = outbox

    retried = mercato("outbox", "retry", short(ids["dead"]))
    delivered = mercato("worker", "--once")

    assert retried.exit_code == 0, retried.output
    assert "1 message(s) due again now" in retried.output
    assert delivered.exit_code == 0, delivered.output
    assert [received.message["Subject"] for received in smtp_server.received] == ["dead"]
    with factory() as session:
        message = session.get(OutboxMessage, ids["dead"])
        assert message is not None and message.delivered_at is not None and message.dead_at is None
        assert message.attempts == 2


def test_retry_refuses_a_delivered_message_and_changes_nothing(
    outbox: tuple[dict[str, uuid.UUID], sessionmaker[Session]],
) -> None:
    ids, factory = outbox

    result = mercato("outbox", "retry", short(ids["dead"]), short(ids["delivered"]))

    assert result.exit_code == 1
    assert "was delivered on" in result.output and "nothing to send again" in result.output
    with factory() as session:
        dead = session.get(OutboxMessage, ids["dead"])
        assert dead is not None and dead.dead_at is not None  # the whole command was refused


def test_retry_dead_sends_every_dead_message_again(
    outbox: tuple[dict[str, uuid.UUID], sessionmaker[Session]],
) -> None:
    ids, _ = outbox

    result = mercato("outbox", "retry", "--dead", "--json")

    assert result.exit_code == 0, result.output
    assert [(item["id"], item["status"]) for item in json.loads(result.stdout)] == [
        (str(ids["dead"]), "retrying")
    ]
    assert mercato("outbox", "list", "--status", "dead", "--json").stdout.count('"id"') == 0


def test_retry_without_messages_says_what_to_give(
    outbox: tuple[dict[str, uuid.UUID], sessionmaker[Session]],
) -> None:
    result = mercato("outbox", "retry")

    assert result.exit_code == 2
    assert "--dead" in result.output
