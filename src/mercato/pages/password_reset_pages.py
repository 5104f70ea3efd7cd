"""Password reset (``mercato.accounts.password_resets``): ask for a link (the same answer for every address),
open it, choose a new password once; that signs the person out everywhere else and in here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from mercato.accounts.password_resets import PasswordResetService
from mercato.pages.account_forms import link_closed, public_url, refused, signed_in_as
from mercato.pages.rendering import render
from mercato.pages.viewer import FormViewerDep, ViewerDep
from mercato.problems import Problem
from mercato.web.dependencies import SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)
SENT = (
    "If this address has a Mercato account, a link to choose a new password is on its way to it. The link "
    "works once, for 30 minutes. This page says the same for every address, so it tells nobody who has an "
    "account."
)


@router.get("/password-reset")
def request_page(request: Request, viewer: ViewerDep) -> Response:
    return render(request, "accounts/password_reset.html", viewer, errors={}, email="")


@router.post("/password-reset")
def request_link(
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    email: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    PasswordResetService(session).request(email, request.app.state.clock.now(), public_url(request))
    return RedirectResponse("/password-reset/sent", status_code=303)


@router.get("/password-reset/sent")
def sent_page(request: Request, viewer: ViewerDep) -> Response:
    return render(request, "accounts/check_email.html", viewer, message=SENT, again="/password-reset")


@router.get("/password-reset/{token}")
def new_password_page(request: Request, viewer: ViewerDep, session: SessionDep, token: str) -> Response:
    try:
        _, user = PasswordResetService(session).open(token, request.app.state.clock.now())
    except Problem as problem:
        return link_closed(request, session, viewer, problem)
    return render(request, "accounts/new_password.html", viewer, errors={}, token=token, email=user.email)


@router.post("/password-reset/{token}")
def set_new_password(
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    token: str,
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    service = PasswordResetService(session)
    now = request.app.state.clock.now()
    try:
        _, user = service.open(token, now)
    except Problem as problem:
        return link_closed(request, session, viewer, problem)
    try:
        service.reset(token, password, now)
    except Problem as problem:
        if problem.status != 422:
            return link_closed(request, session, viewer, problem)
        return refused(
            request,
            session,
            "accounts/new_password.html",
            viewer,
            problem,
            "password",
            token=token,
            email=user.email,
        )
    return signed_in_as(request, session, user, "/account?password=changed")
