"""Account pages: sign in and sign out (the session of ``mercato.accounts.sessions``, as a form)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from mercato.accounts.access import NotAuthenticated
from mercato.accounts.session_api import set_session_cookie
from mercato.accounts.sessions import SESSION_COOKIE, end_session, start_session
from mercato.accounts.throttle import SignInThrottle, TooManySignIns
from mercato.pages.rendering import render
from mercato.pages.viewer import FormViewerDep, ViewerDep
from mercato.web.dependencies import SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)


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


@router.get("/account")
def account_page(request: Request, viewer: ViewerDep) -> Response:
    viewer.require(request)
    return render(request, "accounts/account.html", viewer)
