"""API tokens: ``mct_`` + a random secret. Only the SHA-256 of the whole token is stored, so a database dump
does not hand out access; the token is shown once, when it is made."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "mct_"
SCOPES = ("read", "write")


def new_token() -> tuple[str, str, str]:
    """A fresh token, its display prefix and its hash: (token, prefix, token_hash)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token[: len(TOKEN_PREFIX) + 8], hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
