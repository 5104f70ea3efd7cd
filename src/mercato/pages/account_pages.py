"""Account pages: sign in and sign out (the session of ``mercato.accounts.sessions``, as a form), the profile
with its roles and the password change. Signing up, invitations, password reset and API tokens have modules of
their own, mounted here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from mercato.accounts.access import NotAuthenticated, Principal
from mercato.accounts.errors import PasswordNotRight
from mercato.accounts.passwords import check_password_rules
from mercato.accounts.service import AccountService
from mercato.accounts.session_api import set_session_cookie
from mercato.accounts.sessions import SESSION_COOKIE, current_session, end_session, start_session
from mercato.accounts.throttle import SignInThrottle, TooManySignIns
from mercato.pages import invitation_pages, password_reset_pages, sign_up_pages, token_pages
from mercato.pages.account_forms import ROLE_NAMES
from mercato.pages.rendering import render
from mercato.pages.viewer import FormViewerDep, Viewer, ViewerDep
from mercato.problems import Problem
from mercato.web.dependencies import SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)
for _pages in (sign_up_pages, password_reset_pages, invitation_pages, token_pages):
    router.include_router(_pages.router)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (``//evil.example`` is another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/sign-in")
def sign_in_page(request: Request, viewer: ViewerDep, next: str = "/") -> Response:
    if viewer.signed_in:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "accounts/sign_in.html", viewer, next=safe_next(next), email="", error=None)


@router.post("/sign-in")
def sign_in(
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    address = request.client.host if request.client else "unknown"
    try:
        throttle.check(email, address)
        started = start_session(session, email.strip(), password, request.app.state.clock.now())
    except (NotAuthenticated, TooManySignIns) as refused:
        if isinstance(refused, NotAuthenticated):
            throttle.failed(email, address)
        status = 429 if isinstance(refused, TooManySignIns) else 401
        return render(
            request,
            "accounts/sign_in.html",
            viewer,
            status_code=status,
            next=safe_next(next),
            email=email,
            error=refused.detail,
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, response, started)
    return response


@router.post("/sign-out")
def sign_out(request: Request, viewer: FormViewerDep, session: SessionDep) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        end_session(session, cookie, request.app.state.clock.now())
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _account_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    principal: Principal,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
) -> Response:
    service = AccountService(session)
    user = service.user(principal.user_id)
    return render(
        request,
        "accounts/account.html",
        viewer,
        status_code=status_code,
        user=user,
        memberships=service.memberships_of(user.id),
        role_labels=ROLE_NAMES,
        errors=errors or {},
        password_changed=request.query_params.get("password") == "changed",
    )


@router.get("/account")
def account_page(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    principal = viewer.require(request)
    return _account_page(request, viewer, session, principal)


@router.post("/account/password")
def change_password(
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    current_password: Annotated[str, Form(max_length=1000)] = "",
    new_password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """A new password for the signed-in user, given the current one (throttled as sign-in is: the form must
    not become a way to guess it). The user's other browser sessions end; this one stays."""
    principal = viewer.require(request)
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    address = request.client.host if request.client else "unknown"
    now = request.app.state.clock.now()
    service = AccountService(session)
    try:
        throttle.check(principal.email, address)
        if service.authenticate(principal.email, current_password) is None:
            throttle.failed(principal.email, address)
            raise PasswordNotRight("That is not your current password. Forgot it? Sign out and reset it.")
        check_password_rules(new_password)
    except Problem as problem:
        session.rollback()
        about_current = isinstance(problem, (PasswordNotRight, TooManySignIns))
        field = "current_password" if about_current else "new_password"
        return _account_page(request, viewer, session, principal, problem.status, {field: problem.detail})
    user = service.user(principal.user_id)
    service.set_password(user, new_password)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    this_session = current_session(session, cookie)
    service.repository.end_web_sessions(user.id, now, keep=this_session.id if this_session else None)
    return RedirectResponse("/account?password=changed", status_code=303)
