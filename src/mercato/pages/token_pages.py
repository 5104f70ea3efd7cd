"""API tokens of the signed-in user (``mercato.accounts.api_tokens``, as ``mercato.accounts.api`` uses it):
the list, a new token shown once with a copy button, and revoking.

The new token is shown on the page the browser is sent to after creating it (so a reload does not make another
one): it travels there in a short-lived HttpOnly cookie scoped to this page, which that page reads once and
deletes. Mercato itself never stores the token, only its hash."""

from __future__ import annotations

import hmac
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from mercato.accounts.api_tokens import MAX_TOKEN_DAYS, TokenService, token_state
from mercato.accounts.errors import TokenLifetimeInvalid
from mercato.accounts.models import ApiToken
from mercato.accounts.service import parse_id
from mercato.accounts.tokens import hash_token
from mercato.pages.account_forms import field_of
from mercato.pages.rendering import render
from mercato.pages.viewer import FormViewerDep, ViewerDep
from mercato.paging import PageRequest
from mercato.problems import Problem
from mercato.web.dependencies import SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)
PAGE = "/account/tokens"
NEW_TOKEN_COOKIE = "mercato_new_token"
TOKENS_SHOWN = 200
_FIELDS = {
    "unknown-scope": "scopes",
    "scope-beyond-credential": "scopes",
    "token-lifetime-invalid": "expires_in_days",
}


def _days(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise TokenLifetimeInvalid(
            f"Give the days as a whole number from 1 to {MAX_TOKEN_DAYS}, or leave it empty."
        )
    return int(text)


def _tokens_page(
    request: Request, viewer: ViewerDep, session: SessionDep, status_code: int = 200, **form: object
) -> Response:
    principal = viewer.require(request)
    service = TokenService(session)
    shown = service.tokens_of(principal.user_id, include_revoked=True, page=PageRequest(TOKENS_SHOWN))
    tokens, total = shown.rows, shown.total or 0
    now = request.app.state.clock.now()
    created = _new_token(request, {token.id: token for token in tokens})
    context: dict[str, Any] = {"errors": {}, "name": "", "write": False, "expires_in_days": "90"}
    context.update(form)
    response = render(
        request,
        "accounts/tokens.html",
        viewer,
        status_code=status_code,
        tokens=[(token, token_state(token, now)) for token in tokens],
        total=total,
        created=created,
        max_days=MAX_TOKEN_DAYS,
        **context,
    )
    if request.cookies.get(NEW_TOKEN_COOKIE):
        response.delete_cookie(NEW_TOKEN_COOKIE, path=PAGE)  # shown once
    return response


def _new_token(request: Request, mine: dict[uuid.UUID, ApiToken]) -> tuple[ApiToken, str] | None:
    """The token just made, from its cookie: only if it is one of the viewer's and the secret is its own."""
    value = request.cookies.get(NEW_TOKEN_COOKIE, "")
    token_id, _, secret = value.partition(":")
    parsed = parse_id(token_id) if secret else None
    token = mine.get(parsed) if parsed else None
    if token is None or not hmac.compare_digest(token.token_hash, hash_token(secret)):
        return None
    return token, secret


@router.get(PAGE)
def tokens_page(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    return _tokens_page(request, viewer, session)


@router.post(PAGE)
def create_token(
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    name: Annotated[str, Form(max_length=1000)] = "",
    write: Annotated[str, Form(max_length=10)] = "",
    expires_in_days: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    principal = viewer.require(request)
    scopes = ["read", "write"] if write else ["read"]
    try:
        created = TokenService(session).create_for(
            principal,
            scopes=scopes,
            name=name,
            expires_in_days=_days(expires_in_days),
            now=request.app.state.clock.now(),
        )
    except Problem as problem:
        session.rollback()
        field = field_of(problem, _FIELDS, "name")
        return _tokens_page(
            request,
            viewer,
            session,
            problem.status,
            errors={field: problem.detail},
            name=name,
            write=bool(write),
            expires_in_days=expires_in_days,
        )
    response = RedirectResponse(PAGE, status_code=303)
    response.set_cookie(
        NEW_TOKEN_COOKIE,
        f"{created.record.id}:{created.token}",
        max_age=300,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=PAGE,
    )
    return response


@router.post(PAGE + "/{token_id}/revoke")
def revoke_token(request: Request, viewer: FormViewerDep, session: SessionDep, token_id: str) -> Response:
    principal = viewer.require(request)
    TokenService(session).revoke_for(principal, token_id, request.app.state.clock.now())
    return RedirectResponse(PAGE, status_code=303)
