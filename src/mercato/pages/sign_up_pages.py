"""Signing up (``mercato.accounts.sign_ups``): the form, the same "check your e-mail" answer for every address,
and the confirmation link that makes the account and signs the person in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from mercato.accounts.sign_ups import SignUpService
from mercato.pages.account_forms import field_of, link_closed, public_url, refused, signed_in_as
from mercato.pages.rendering import render
from mercato.pages.viewer import FormViewerDep, ViewerDep
from mercato.problems import Problem
from mercato.web.dependencies import SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)
_FIELDS = {"invalid-email": "email", "invalid-input": "password", "field-too-long": "name"}
SENT = (
    "If this address can sign up, a link to finish is on its way to it. An address that has an account "
    "already gets an e-mail saying how to sign in or reset its password instead: this page says the same "
    "either way, so it tells nobody who has an account."
)


@router.get("/sign-up")
def sign_up_page(request: Request, viewer: ViewerDep) -> Response:
    if viewer.signed_in:
        return RedirectResponse("/account", status_code=303)
    return render(request, "accounts/sign_up.html", viewer, errors={}, name="", email="", organisation="")


@router.post("/sign-up")
def sign_up(
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    name: Annotated[str, Form(max_length=1000)] = "",
    email: Annotated[str, Form(max_length=1000)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    organisation: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    now = request.app.state.clock.now()
    try:
        SignUpService(session).sign_up(
            email, name, password, organisation.strip() or None, now, public_url(request)
        )
    except Problem as problem:
        field = field_of(problem, _FIELDS, "name")
        if "organisation" in problem.detail:
            field = "organisation"
        return refused(
            request,
            session,
            "accounts/sign_up.html",
            viewer,
            problem,
            field,
            name=name,
            email=email,
            organisation=organisation,
        )
    return RedirectResponse("/sign-up/sent", status_code=303)


@router.get("/sign-up/sent")
def sign_up_sent(request: Request, viewer: ViewerDep) -> Response:
    return render(request, "accounts/check_email.html", viewer, message=SENT, again="/sign-up")


@router.get("/sign-up/{token}")
def confirm_page(request: Request, viewer: ViewerDep, session: SessionDep, token: str) -> Response:
    # Opening the link changes nothing (mail scanners open links too); the button below does.
    try:
        SignUpService(session).open(token, request.app.state.clock.now())
    except Problem as problem:
        return link_closed(request, session, viewer, problem)
    return render(request, "accounts/confirm_sign_up.html", viewer, token=token)


@router.post("/sign-up/{token}")
def confirm(request: Request, viewer: FormViewerDep, session: SessionDep, token: str) -> Response:
    try:
        user, organisation = SignUpService(session).confirm(token, request.app.state.clock.now())
    except Problem as problem:
        return link_closed(request, session, viewer, problem)
    target = f"/organisations/{organisation.slug}/members" if organisation else "/account"
    return signed_in_as(request, session, user, target)
