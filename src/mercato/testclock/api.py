"""``/api/v1/test-clock``: see and move the deployment's test clock (operator staff, where it is enabled)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from mercato.accounts.access import Forbidden, NotAuthenticated, Principal
from mercato.accounts.dependencies import Reader, Writer
from mercato.accounts.errors import OperatorOnly
from mercato.problems import Conflict
from mercato.testclock.clock import SharedTestClock, clear_frozen_moment, set_frozen_moment
from mercato.web.dependencies import SessionDep
from mercato.web.responses import problem_responses
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(tags=["operations"], route_class=UnitOfWorkRoute)


class TestClockDisabled(Conflict):
    type = "test-clock-disabled"
    title = "The test clock is off"
    __test__ = False


class TestClockOut(BaseModel):
    enabled: bool = Field(description="Whether this deployment has a test clock at all.")
    frozen: bool = Field(description="Whether the clock is set (every process takes `now` as the time).")
    now: datetime = Field(description="The time every rule of this deployment reads.")

    __test__ = False


class TestClockIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"now": "2027-01-15"}]})

    now: date | datetime = Field(
        description="The moment to freeze the clock at; a date alone means noon UTC of that day.",
        examples=["2027-01-15", "2027-01-15T09:30:00Z"],
    )

    __test__ = False


def _shared(request: Request) -> SharedTestClock:
    clock = request.app.state.clock
    if not isinstance(clock, SharedTestClock):
        raise TestClockDisabled(
            "This deployment has no test clock, so its time cannot be moved. Enable it only for demos and "
            "tests: MERCATO_TEST_CLOCK=true, or `mercato serve --demo`."
        )
    return clock


def _operator(principal: Principal) -> None:
    if not principal.operator:
        raise OperatorOnly("Only operator staff may move the test clock.")


def _out(request: Request, frozen: bool) -> TestClockOut:
    return TestClockOut(
        enabled=isinstance(request.app.state.clock, SharedTestClock),
        frozen=frozen,
        now=request.app.state.clock.now(),
    )


def moment_of(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time(12), tzinfo=UTC)


_PROBLEMS = problem_responses(NotAuthenticated, Forbidden, OperatorOnly, TestClockDisabled)


@router.get("/test-clock", response_model=TestClockOut, summary="The test clock", responses=_PROBLEMS)
def get_test_clock(request: Request, principal: Reader) -> TestClockOut:
    """Whether this deployment has a test clock, whether it is set, and the time every rule reads."""
    clock = request.app.state.clock
    frozen = isinstance(clock, SharedTestClock) and clock.is_frozen()
    return _out(request, frozen)


@router.put("/test-clock", response_model=TestClockOut, summary="Move the test clock", responses=_PROBLEMS)
def set_test_clock(
    body: TestClockIn, request: Request, principal: Writer, session: SessionDep
) -> TestClockOut:
    """Freeze the deployment's clock at a moment (operator staff; only where the test clock is enabled). Every
    process reads it: the server at once, others within a second. Quote validity, refund windows, the billing
    run, grace periods and expiry all follow it."""
    _operator(principal)
    clock = _shared(request)
    moment = moment_of(body.now)
    set_frozen_moment(session, moment)
    session.commit()
    clock.forget()
    return TestClockOut(enabled=True, frozen=True, now=moment)


@router.delete(
    "/test-clock", response_model=TestClockOut, summary="Reset the test clock", responses=_PROBLEMS
)
def reset_test_clock(request: Request, principal: Writer, session: SessionDep) -> TestClockOut:
    """Let the system clock count again."""
    _operator(principal)
    clock = _shared(request)
    clear_frozen_moment(session)
    session.commit()
    clock.forget()
    return TestClockOut(enabled=True, frozen=False, now=clock.now())
