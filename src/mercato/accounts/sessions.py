"""Browser sessions: sign in with e-mail and password, get an HttpOnly cookie and a CSRF token.

Only a SHA-256 of the cookie's token is stored, as for API tokens. Requests that change something must carry
the session's CSRF token in a header: a page of another site can make the browser send the cookie, but it
cannot read the token to send with it.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from mercato.accounts.access import Forbidden, NotAuthenticated, Principal, principal_of_user
from mercato.accounts.models import User, WebSession
from mercato.accounts.service import AccountService
from mercato.accounts.tokens import hash_token

SESSION_COOKIE = "mercato_session"
CSRF_HEADER = "X-CSRF-Token"
SESSION_LIFETIME = timedelta(days=14)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class StartedSession:
    cookie_token: str
    record: WebSession
    user: User


def start_session(session: Session, email: str, password: str, now: datetime) -> StartedSession:
    user = AccountService(session).authenticate(email, password)
    if user is None:
        # One answer for an unknown e-mail and a wrong password: the form must not reveal who has an account.
        raise NotAuthenticated("The e-mail address or the password is not right.")
    return open_session(session, user, now)


def open_session(session: Session, user: User, now: datetime) -> StartedSession:
    """A new browser session for a user who proved who they are: with their password, or with a link that
    only their mailbox received (an invitation, a password reset, a sign-up confirmation)."""
    token = secrets.token_urlsafe(32)
    record = WebSession(
        user_id=user.id,
        token_hash=hash_token(token),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(record)
    session.flush()
    return StartedSession(token, record, user)


def end_session(session: Session, cookie_token: str, now: datetime) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.token_hash == hash_token(cookie_token), WebSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def principal_for_session(
    connection: Connection, cookie_token: str, method: str, csrf_token: str | None, now: datetime
) -> Principal:
    """The signed-in user; ``Forbidden`` for an unsafe request without the session's CSRF token."""
    sessions, users = WebSession.__table__.c, User.__table__.c
    row = connection.execute(
        select(
            sessions.csrf_token, sessions.expires_at, sessions.ended_at, users.id, users.email, users.active
        )
        .select_from(WebSession.__table__.join(User.__table__, users.id == sessions.user_id))
        .where(sessions.token_hash == hash_token(cookie_token))
    ).first()
    if row is None or row.ended_at is not None or not row.active:
        raise NotAuthenticated("You are not signed in (or you signed out). Sign in again.")
    if row.expires_at <= now:
        raise NotAuthenticated("Your session has expired. Sign in again.")
    if method.upper() not in SAFE_METHODS and not hmac.compare_digest(csrf_token or "", row.csrf_token):
        raise Forbidden(f"This change needs the session's CSRF token in the {CSRF_HEADER} header.")
    return principal_of_user(connection, row.id, row.email, ("read", "write"))


@dataclass(frozen=True)
class PageSession:
    """A signed-in browser on a page: who it is, and the CSRF token its forms and htmx requests carry."""

    principal: Principal
    name: str
    csrf_token: str


def page_session(connection: Connection, cookie_token: str, now: datetime) -> PageSession | None:
    """The live session behind a page request's cookie, or None (not signed in, ended, expired, deactivated).
    Pages check the CSRF token themselves, from a form field or the htmx header."""
    sessions, users = WebSession.__table__.c, User.__table__.c
    row = connection.execute(
        select(sessions.csrf_token, sessions.expires_at, sessions.ended_at, users.id, users.email, users.name)
        .select_from(WebSession.__table__.join(User.__table__, users.id == sessions.user_id))
        .where(sessions.token_hash == hash_token(cookie_token), users.active.is_(True))
    ).first()
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    principal = principal_of_user(connection, row.id, row.email, ("read", "write"))
    return PageSession(principal, row.name, row.csrf_token)


def current_session(session: Session, cookie_token: str) -> WebSession | None:
    return session.scalars(
        select(WebSession).where(WebSession.token_hash == hash_token(cookie_token))
    ).first()


def signed_in(session: Session, cookie_token: str | None, now: datetime) -> tuple[WebSession, User]:
    """The live session a cookie stands for, and its user; ``NotAuthenticated`` when there is none."""
    record = current_session(session, cookie_token) if cookie_token else None
    if record is None or record.ended_at is not None or record.expires_at <= now:
        raise NotAuthenticated("You are not signed in.")
    user = session.get(User, record.user_id)
    assert user is not None
    return record, user
