"""Authentication at the HTTP edge: an API token (``Authorization: Bearer <token>``) or a browser session
cookie (with its CSRF token on every change). Both read through their own short autocommit connection, so the
request's unit of work begins inside the endpoint (see ``mercato.web.routing``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from mercato.accounts.access import NotAuthenticated, Principal, principal_for_token
from mercato.accounts.sessions import CSRF_HEADER, SESSION_COOKIE, principal_for_session
from mercato.web.openapi import BEARER, SESSION

# Read the credentials (auto_error off: Mercato answers its own 401 problem), and declare them in the OpenAPI
# document, so that every operation needing a caller says which credentials it takes.
_bearer = HTTPBearer(scheme_name=BEARER, auto_error=False)
_session_cookie = APIKeyCookie(name=SESSION_COOKIE, scheme_name=SESSION, auto_error=False)


def get_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    cookie: Annotated[str | None, Security(_session_cookie)],
) -> Principal:
    token = bearer.credentials.strip() if bearer else ""
    with request.app.state.read_connection() as connection:
        if token:
            return principal_for_token(connection, token)
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
