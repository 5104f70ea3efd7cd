"""Authentication at the HTTP edge: an API token (``Authorization: Bearer <token>``) or a browser session
cookie (with its CSRF token on every change). Both read through their own short autocommit connection, so the
request's unit of work begins inside the endpoint (see ``mercato.web.routing``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mercato.accounts.access import NotAuthenticated, Principal, principal_for_token
from mercato.accounts.sessions import CSRF_HEADER, SESSION_COOKIE, principal_for_session


def get_principal(request: Request) -> Principal:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    cookie = request.cookies.get(SESSION_COOKIE)
    with request.app.state.read_connection() as connection:
        if scheme.lower() == "bearer" and token.strip():
            return principal_for_token(connection, token.strip())
        if cookie:
            return principal_for_session(
                connection,
                cookie,
                request.method,
                request.headers.get(CSRF_HEADER),
                request.app.state.clock.now(),
            )
    raise NotAuthenticated(
        "This endpoint needs you to sign in (POST /api/v1/session) or an API token: send "
        "'Authorization: Bearer <token>'. Create one with: mercato tokens create."
    )


def reading(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    principal.require_scope("read")
    return principal


def writing(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    principal.require_scope("write")
    return principal


Reader = Annotated[Principal, Depends(reading)]
Writer = Annotated[Principal, Depends(writing)]
