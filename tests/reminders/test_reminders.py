"""Renewal reminders on both databases: the schedule, each reminder sent once across repeated and interrupted
runs (a property test), what the e-mail says, and the opt-out link."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mercato.clock import FixedClock
from mercato.licenses.service import IssueRequest, LicenseService
from mercato.outbox.models import OutboxMessage
from mercato.reminders.models import RenewalReminder
from mercato.reminders.service import (
    REMINDERS,
    opt_out_token,
    read_opt_out_token,
    reminder_due,
    reminder_windows,
    send_due_reminders,
)
from mercato.services import Services
from support.world import World, build_world

SECRET = "test-secret-key"
END = date(2027, 3, 31)


def test_the_schedule_90_30_and_7_days_before_and_7_after() -> None:
    def due(day: date) -> str | None:
        found = reminder_due(END, day)
        return found.name if found else None

    assert due(END - timedelta(days=91)) is None
    assert due(END - timedelta(days=90)) == "90_days_before"
    assert due(END - timedelta(days=31)) == "90_days_before"  # a run that missed day 90 still sends it
    assert due(END - timedelta(days=30)) == "30_days_before"  # ...but not once the 30-day one is due
    assert due(END - timedelta(days=7)) == "7_days_before"
    assert due(END) is None
    assert due(END + timedelta(days=6)) is None
    assert due(END + timedelta(days=7)) == "7_days_after"
    assert due(END + timedelta(days=36)) == "7_days_after"
    assert due(END + timedelta(days=37)) is None


@given(end=st.dates(date(2020, 1, 1), date(2035, 12, 31)), days=st.integers(min_value=-120, max_value=60))
def test_the_runs_date_windows_pick_the_reminder_the_schedule_says(end: date, days: int) -> None:
    """The billing run finds licenses by date ranges of their ends, one range per reminder: reading the
    schedule backwards must give exactly its answer on every day."""
    today = end + timedelta(days=days)
    in_window = [r for r, (first, last) in reminder_windows(today).items() if first <= end <= last]
    assert in_window == ([found] if (found := reminder_due(end, today)) is not None else [])


def test_an_opt_out_token_names_one_address_and_cannot_be_forged() -> None:
    organisation = uuid.uuid4()
    token = opt_out_token(SECRET, organisation, "Billing@Acme.example")
    assert read_opt_out_token(SECRET, token) == (organisation, "billing@acme.example")
    for forged in (
        token[:-2],
        token.replace(".", ".x"),
        opt_out_token("another-secret", organisation, "a@b.c"),
    ):
        with pytest.raises(Exception, match="not valid"):
            read_opt_out_token(SECRET, forged)


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    with session_factory() as session, session.begin():
        return build_world(session)


def sell(session_factory: sessionmaker[Session], maintenance_end: date, today: date) -> str:
    """A server license of Acme's, with this maintenance end; its entitlement number."""
    clock = FixedClock(datetime(today.year, today.month, today.day, 12, tzinfo=UTC))
    with session_factory() as session, session.begin():
        issued = LicenseService(session, Services(secret_key=SECRET, clock=clock)).issue(
            IssueRequest(
                app_key="com.example.mockups.wiki",
                hosting="server",
                channel="marketplace",
                tier=100,
                license_type="commercial",
                host_binding=f"SRV-{uuid.uuid4().hex[:8]}",
                maintenance_end=maintenance_end,
                organisation="acme-test",
            )
        )
        return issued.license.entitlement_number


def clock_on(day: date) -> FixedClock:
    return FixedClock(datetime(day.year, day.month, day.day, 12, tzinfo=UTC))


def reminder_emails(session_factory: sessionmaker[Session], entitlement_number: str) -> list[OutboxMessage]:
    with session_factory() as session:
        return [
            message
            for message in session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "email"))
            if entitlement_number in message.payload["subject"]
        ]


def sent_reminders(session_factory: sessionmaker[Session], entitlement_number: str) -> list[str]:
    from mercato.licenses.models import License

    with session_factory() as session:
        return sorted(
            session.scalars(
                select(RenewalReminder.reminder)
                .join(License, License.id == RenewalReminder.license_id)
                .where(License.entitlement_number == entitlement_number)
            )
        )


class Killed(Exception):
    pass


@contextmanager
def killed_after(
    session_factory: sessionmaker[Session], transactions: int
) -> Iterator[sessionmaker[Session]]:
    """A session factory that stops the run (as a kill would) when it opens its ``transactions``+1-th session:
    what was committed before stays, nothing after it happens."""
    opened = 0

    def factory() -> Session:
        nonlocal opened
        opened += 1
        if opened > transactions:
            raise Killed
        return session_factory()

    yield factory  # type: ignore[misc]


def test_a_reminder_is_mailed_to_the_billing_contact_with_an_opt_out_link_that_works(
    session_factory: sessionmaker[Session], world: World, client: TestClient
) -> None:
    number = sell(session_factory, END, date(2026, 11, 26))
    sent = send_due_reminders(
        session_factory, clock_on(END - timedelta(days=30)), SECRET, "https://mercato.example"
    )
    assert f"{number}:30_days_before" in sent
    [email] = reminder_emails(session_factory, number)
    assert email.payload["to"] == ["acme_billing@test.example"]
    assert (
        email.payload["subject"] == f"Mockups for Wiki: maintenance ends in 30 days, on 2027-03-31 ({number})"
    )
    text = email.payload["text"]
    assert "ends on 2027-03-31, in 30 days" in text
    link = next(line for line in text.splitlines() if line.startswith("https://mercato.example/api/v1/"))

    answer = client.get(link.removeprefix("https://mercato.example"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "organisation": "Acme Corp",
        "email": "acme_billing@test.example",
        "opted_out": True,
        "already": False,
    }
    assert client.post(link.removeprefix("https://mercato.example")).json()["already"] is True
    assert client.get("/api/v1/renewal-reminders/opt-out?token=forged.token").status_code == 422

    # The next reminder is recorded as due, and goes to nobody: the only billing contact opted out.
    again = send_due_reminders(session_factory, clock_on(END - timedelta(days=7)), SECRET)
    assert f"{number}:7_days_before" in again
    assert len(reminder_emails(session_factory, number)) == 1


def test_renewing_starts_the_series_again_and_a_run_twice_a_day_sends_nothing_more(
    session_factory: sessionmaker[Session], world: World
) -> None:
    number = sell(session_factory, END, date(2026, 11, 26))
    day = END - timedelta(days=90)
    assert send_due_reminders(session_factory, clock_on(day), SECRET) != []
    assert f"{number}:90_days_before" not in send_due_reminders(session_factory, clock_on(day), SECRET)
    with session_factory() as session, session.begin():
        from mercato.licenses.models import License

        license = session.scalars(select(License).where(License.entitlement_number == number)).one()
        license.maintenance_end = END + timedelta(days=365)  # as a renewal does
    assert f"{number}:90_days_before" not in send_due_reminders(session_factory, clock_on(day), SECRET)
    later = END + timedelta(days=365 - 90)
    assert f"{number}:90_days_before" in send_due_reminders(session_factory, clock_on(later), SECRET)
    assert len(reminder_emails(session_factory, number)) == 2


OFFSETS = [reminder.offset_days for reminder in REMINDERS]
days_around_the_end = st.integers(min_value=-100, max_value=45)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    runs=st.lists(
        st.tuples(days_around_the_end, st.one_of(st.none(), st.integers(min_value=0, max_value=3))),
        min_size=1,
        max_size=8,
    ),
    ends=st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=3),
)
def test_no_reminder_is_ever_sent_twice_across_repeated_and_interrupted_runs(
    session_factory: sessionmaker[Session], world: World, runs: list[tuple[int, int | None]], ends: list[int]
) -> None:
    """Runs on any days (in order, repeated) around the licenses' ends, some killed after a few transactions:
    every reminder is sent at most once (one row, one e-mail), and a reminder due on a day with a complete run
    was sent."""
    base = END + timedelta(days=uuid.uuid4().int % 3000)  # each example its own dates, away from the others'
    licenses = {
        sell(session_factory, base + timedelta(days=shift), date(2026, 11, 26)): base + timedelta(days=shift)
        for shift in ends
    }
    completed: list[date] = []
    attempted: list[date] = []
    for offset, kill_after in sorted(runs, key=lambda run: run[0]):
        day = base + timedelta(days=offset)
        attempted.append(day)
        if kill_after is None:
            send_due_reminders(session_factory, clock_on(day), SECRET)
            completed.append(day)
        else:
            try:
                with killed_after(session_factory, kill_after) as factory:
                    send_due_reminders(factory, clock_on(day), SECRET)
                completed.append(day)  # it had less to do than the kill would have cut
            except Killed:
                pass
    for number, end in licenses.items():
        sent = sent_reminders(session_factory, number)
        assert len(sent) == len(set(sent)), f"{number}: a reminder was recorded twice: {sent}"
        assert len(reminder_emails(session_factory, number)) == len(sent), (
            f"{number}: an e-mail was sent twice"
        )
        assert due_on(end, completed) <= set(sent) <= due_on(end, attempted), number


def due_on(end: date, days: list[date]) -> set[str]:
    return {reminder.name for day in days if (reminder := reminder_due(end, day)) is not None}
