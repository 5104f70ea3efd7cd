"""Signing in and out of a browser session."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from mercato.accounts.access import NotAuthenticated
from mercato.accounts.sessions import (
    CSRF_HEADER,
    SESSION_COOKIE,
    SESSION_LIFETIME,
    StartedSession,
    end_session,
    signed_in,
    start_session,
)
from mercato.accounts.throttle import SignInThrottle, TooManySignIns
from mercato.fields import Text
from mercato.web.dependencies import SessionDep
from mercato.web.responses import problem_responses
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(tags=["accounts"], route_class=UnitOfWorkRoute)


class SignIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "admin@acme.example", "password": "correct horse battery"}]
        },
    )

    email: Text = Field(max_length=254, examples=["admin@acme.example"])
    password: str = Field(max_length=256)


class SessionOut(BaseModel):
    email: str
    csrf_token: str = Field(
        description=f"Send it in the {CSRF_HEADER} header with every change (POST, PATCH…)."
    )
    expires_at: datetime


@router.post(
    "/session",
    status_code=201,
    response_model=SessionOut,
    summary="Sign in",
    responses=problem_responses(NotAuthenticated, TooManySignIns),
)
def sign_in(body: SignIn, request: Request, response: Response, session: SessionDep) -> SessionOut:
    """Sign in with e-mail and password. The answer sets an HttpOnly session cookie and gives the CSRF token
    that every change made with the cookie must carry in the `X-CSRF-Token` header.

    Failed sign-ins are throttled per account and per client address (429 with `Retry-After`); an unknown
    e-mail and a wrong password get the same answer in the same time."""
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    address = request.client.host if request.client else "unknown"
    throttle.check(body.email, address)
    try:
        started = start_session(session, body.email, body.password, request.app.state.clock.now())
    except NotAuthenticated:
        throttle.failed(body.email, address)
        raise
    set_session_cookie(request, response, started)
    return SessionOut(
        email=started.user.email, csrf_token=started.record.csrf_token, expires_at=started.record.expires_at
    )


def set_session_cookie(request: Request, response: Response, started: StartedSession) -> None:
    """The HttpOnly session cookie, for the API's sign-in and the sign-in page alike."""
    response.set_cookie(
        SESSION_COOKIE,
        started.cookie_token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


@router.get(
    "/session",
    response_model=SessionOut,
    summary="The current session",
    responses=problem_responses(NotAuthenticated),
)
def get_session_info(request: Request, session: SessionDep) -> SessionOut:
    """Who is signed in, and the CSRF token (for a page that was reloaded)."""
    record, user = signed_in(session, request.cookies.get(SESSION_COOKIE), request.app.state.clock.now())
    return SessionOut(email=user.email, csrf_token=record.csrf_token, expires_at=record.expires_at)


@router.delete("/session", status_code=204, summary="Sign out")
def sign_out(request: Request, session: SessionDep) -> Response:
    """End the session; its cookie no longer signs anything in, also if it was copied elsewhere."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        end_session(session, cookie, request.app.state.clock.now())
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
