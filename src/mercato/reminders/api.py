"""The opt-out link of renewal reminders: public, as its signed token is the credential. Opening it (or
posting it) records that the billing contact wants no more reminders for that customer; again, nothing
changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from mercato.fields import Text
from mercato.reminders.service import InvalidOptOutToken, RenewalReminders
from mercato.web.dependencies import SessionDep
from mercato.web.responses import problem_responses
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/renewal-reminders", tags=["accounts"], route_class=UnitOfWorkRoute)

TokenQuery = Annotated[
    Text, Query(min_length=1, max_length=1000, description="The token of the e-mail's link.")
]


class OptOutOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"organisation": "Acme Corp", "email": "billing@acme.example", "opted_out": True}]
        }
    )

    organisation: str
    email: str
    opted_out: bool = Field(description="Always true: the address receives no more renewal reminders.")
    already: bool = Field(default=False, description="Whether it had opted out before.")


def _opt_out(request: Request, session: SessionDep, token: str) -> OptOutOut:
    reminders = RenewalReminders(session, request.app.state.clock, request.app.state.settings.secret_key)
    done = reminders.opt_out(token)
    return OptOutOut(
        organisation=done.organisation, email=done.email, opted_out=True, already=not done.created
    )


@router.get(
    "/opt-out",
    response_model=OptOutOut,
    summary="Opt out of renewal reminders (the e-mail's link)",
    responses=problem_responses(InvalidOptOutToken),
)
def opt_out_by_link(request: Request, session: SessionDep, token: TokenQuery) -> OptOutOut:
    """The link at the foot of every renewal reminder: the billing contact it was sent to receives no more
    renewal reminders for that customer. Needs no sign-in: the signed token names the customer and the
    address."""
    return _opt_out(request, session, token)


@router.post(
    "/opt-out",
    response_model=OptOutOut,
    summary="Opt out of renewal reminders",
    responses=problem_responses(InvalidOptOutToken),
)
def opt_out(request: Request, session: SessionDep, token: TokenQuery) -> OptOutOut:
    """The same as the link, for mail clients' one-click unsubscribe (a POST)."""
    return _opt_out(request, session, token)
