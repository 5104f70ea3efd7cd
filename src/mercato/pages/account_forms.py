"""What the account pages share: where e-mail links point, a refused form shown again with its error next to the
field, and signing a person in once a link from their mailbox proved who they are."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from mercato.accounts.models import Role, User
from mercato.accounts.session_api import set_session_cookie
from mercato.accounts.sessions import open_session
from mercato.pages.rendering import render
from mercato.pages.viewer import Viewer
from mercato.problems import Problem

ROLE_NAMES = {
    Role.CUSTOMER_ADMIN: "Customer admin",
    Role.BILLING_CONTACT: "Billing contact",
    Role.VENDOR_MEMBER: "Team member",
    Role.OPERATOR_ADMIN: "Operator admin",
}
"""A role as a column or list shows it."""


def public_url(request: Request) -> str:
    """The start of the links in e-mails: the configured public address, else the request's own."""
    configured: str = request.app.state.settings.public_url
    return configured or str(request.base_url)


def refused(
    request: Request,
    session: Session,
    template: str,
    viewer: Viewer,
    problem: Problem,
    field: str,
    **context: Any,
) -> HTMLResponse:
    """The form again, with the rule's sentence next to ``field``. The request's changes are rolled back
    first: a refused form changes nothing (the unit of work would otherwise commit what came before)."""
    session.rollback()
    return render(
        request, template, viewer, status_code=problem.status, errors={field: problem.detail}, **context
    )


def link_closed(request: Request, session: Session, viewer: Viewer, problem: Problem) -> HTMLResponse:
    """A link that does not work (any more): said plainly, with the way on."""
    session.rollback()
    return render(
        request,
        "accounts/link_closed.html",
        viewer,
        status_code=problem.status,
        title=problem.title,
        detail=problem.detail,
    )


def signed_in_as(request: Request, session: Session, user: User, target: str) -> RedirectResponse:
    """Sign ``user`` in on this browser and go to ``target``."""
    started = open_session(session, user, request.app.state.clock.now())
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, started)
    return response


def field_of(problem: Problem, fields: dict[str, str], default: str) -> str:
    """The form field a rule's refusal concerns, by the problem's type (``default`` for the others)."""
    return fields.get(problem.type, default)
