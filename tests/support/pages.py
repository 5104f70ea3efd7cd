"""Page tests without a browser: sign a user in (a real browser session row and its cookie) and read forms."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mercato.accounts.models import User, WebSession
from mercato.accounts.sessions import SESSION_COOKIE
from mercato.accounts.tokens import hash_token

HTML = {"Accept": "text/html"}
_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(client: TestClient, session: Session, email: str, now: datetime) -> str:
    """Sign ``email`` in on ``client`` (its cookie jar gets the session cookie); the session's CSRF token."""
    user = session.scalars(select(User).where(User.email == email)).one()
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        WebSession(
            user_id=user.id,
            token_hash=hash_token(token),
            csrf_token=csrf,
            created_at=now,
            expires_at=now + timedelta(days=14),
        )
    )
    session.commit()
    client.cookies.set(SESSION_COOKIE, token)
    return csrf


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _CSRF_INPUT.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)
