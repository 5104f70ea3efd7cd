"""E-mail links that prove a person reads a mailbox: invitations, password resets and sign-up confirmations.

The link carries a random token; Mercato keeps only its SHA-256, with an expiry and when it was used. The
expiry is read on the services' clock (the server's, or the test clock), never the browser's."""

from __future__ import annotations

import secrets
from datetime import datetime

from mercato.accounts.errors import LinkExpired, LinkUsed
from mercato.accounts.tokens import hash_token


def new_link_token() -> tuple[str, str]:
    """A fresh token for a link and its hash: (token, token_hash)."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def link(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def moment(value: datetime) -> str:
    """``11 Dec 2026, 12:00 UTC``: an expiry as a person reads it in an e-mail."""
    return f"{value.day} {value:%b %Y, %H:%M} UTC"


def check_open(used_at: datetime | None, expires_at: datetime, now: datetime, what: str, again: str) -> None:
    """``LinkUsed`` or ``LinkExpired`` for a link that no longer works; ``what`` names it, ``again`` says how
    to get a new one."""
    if used_at is not None:
        raise LinkUsed(f"This {what} link was used already, on {moment(used_at)}. {again}")
    if expires_at <= now:
        raise LinkExpired(f"This {what} link expired on {moment(expires_at)}. {again}")
