"""Authentication at the HTTP edge: ``Authorization: Bearer <token>``. Browser sessions join here later."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mercato.accounts.access import NotAuthenticated, Principal, principal_for_token


def get_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated(
            "This endpoint needs an API token: send 'Authorization: Bearer <token>'. "
            "Create one with: mercato tokens create."
        )
    with request.app.state.read_connection() as connection:
        return principal_for_token(connection, token.strip())


def reading(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    principal.require_scope("read")
    return principal


def writing(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    principal.require_scope("write")
    return principal


Reader = Annotated[Principal, Depends(reading)]
Writer = Annotated[Principal, Depends(writing)]
