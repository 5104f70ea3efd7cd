"""Which campaign e-mail is due on a day: the announcement from the notice date, then the latest reminder whose day
has come (30, 7 and 1 days before the deadline), never one whose day is not after the announcement's, nothing
once the deadline has come or the campaign was cancelled."""

from __future__ import annotations

from datetime import date, timedelta

from mercato.transitions.mailing import email_due
from mercato.transitions.models import CampaignStatus, TransitionCampaign
from mercato.transitions.models import TransitionEmailKind as Kind

NOTICE = date(2027, 1, 4)
DEADLINE = date(2027, 3, 31)


def campaign(notice: date = NOTICE, deadline: date = DEADLINE, status: str = "active") -> TransitionCampaign:
    return TransitionCampaign(notice_date=notice, deadline=deadline, status=CampaignStatus(status))


def before(days: int) -> date:
    return DEADLINE - timedelta(days=days)


def test_the_announcement_then_each_reminder_on_its_day_or_the_first_run_after_it() -> None:
    made = campaign()
    assert email_due(made, {}, NOTICE - timedelta(days=1)) is None
    assert email_due(made, {}, NOTICE) is Kind.ANNOUNCEMENT
    announced = {Kind.ANNOUNCEMENT: NOTICE}
    assert email_due(made, announced, NOTICE + timedelta(days=1)) is None
    assert email_due(made, announced, before(31)) is None
    assert email_due(made, announced, before(30)) is Kind.DAYS_30
    assert email_due(made, announced, before(8)) is Kind.DAYS_30  # a run that missed the day still sends it
    assert email_due(made, announced | {Kind.DAYS_30: before(30)}, before(8)) is None
    assert email_due(made, announced, before(7)) is Kind.DAYS_7  # ...but not once the 7-day one is due
    assert email_due(made, announced, before(1)) is Kind.DAYS_1
    assert email_due(made, announced | {Kind.DAYS_1: before(1)}, before(1)) is None
    assert email_due(made, announced, DEADLINE) is None
    assert email_due(made, {}, DEADLINE) is None  # too late to announce


def test_a_reminder_whose_day_is_not_after_the_announcement_is_skipped() -> None:
    tight = campaign(notice=before(30))
    assert email_due(tight, {}, before(30)) is Kind.ANNOUNCEMENT
    announced = {Kind.ANNOUNCEMENT: before(30)}
    assert email_due(tight, announced, before(29)) is None
    assert email_due(tight, announced, before(7)) is Kind.DAYS_7
    late = {Kind.ANNOUNCEMENT: before(3)}  # first run long after the notice date
    assert email_due(tight, late, before(2)) is None
    assert email_due(tight, late, before(1)) is Kind.DAYS_1


def test_a_cancelled_campaign_sends_nothing() -> None:
    assert email_due(campaign(status="cancelled"), {}, NOTICE) is None
