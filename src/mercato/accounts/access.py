"""Who is asking, and what they may see and do. Every endpoint that touches an organisation's or a vendor's
data asks a ``Principal`` first; the answer depends on memberships alone."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from mercato.accounts.models import ApiToken, Membership, Role, User
from mercato.accounts.tokens import hash_token
from mercato.clock import utcnow
from mercato.problems import Problem


class NotAuthenticated(Problem):
    """The request carries no credential Mercato accepts: no token, an unknown, expired or revoked token,
    a token of a deactivated user, or no (or an ended) browser session. Send `Authorization: Bearer <token>`
    (`POST /api/v1/tokens` or `mercato tokens create` make one), or sign in with `POST /api/v1/session`."""

    status = 401
    type = "not-authenticated"
    title = "Not authenticated"


class Forbidden(Problem):
    """You are signed in and may see the object, but not do this to it: a read-only token on a change, a
    browser session change without its `X-CSRF-Token` header, or a role that does not allow the action. The
    sentence names who may."""

    status = 403
    type = "forbidden"
    title = "Forbidden"


@dataclass(frozen=True)
class Principal:
    """An authenticated user with the scopes of the credential used and the organisations and vendors they act
    for. Objects outside these answer 404 rather than 403, so their existence does not leak."""

    user_id: uuid.UUID
    email: str
    scopes: frozenset[str]
    customer_admin_of: frozenset[uuid.UUID]
    billing_contact_of: frozenset[uuid.UUID]
    vendor_member_of: frozenset[uuid.UUID]
    operator: bool

    @classmethod
    def of(cls, user: User, memberships: Iterable[Membership], scopes: Iterable[str]) -> Principal:
        return cls.from_rows(user.id, user.email, memberships, scopes)

    @classmethod
    def from_rows(
        cls, user_id: uuid.UUID, email: str, memberships: Iterable[Any], scopes: Iterable[str]
    ) -> Principal:
        """From membership rows or objects (anything with role, organisation_id and vendor_id)."""
        memberships = list(memberships)

        def ids(role: Role, attribute: str) -> frozenset[uuid.UUID]:
            return frozenset(getattr(m, attribute) for m in memberships if m.role == role)

        return cls(
            user_id=user_id,
            email=email,
            scopes=frozenset(scopes),
            customer_admin_of=ids(Role.CUSTOMER_ADMIN, "organisation_id"),
            billing_contact_of=ids(Role.BILLING_CONTACT, "organisation_id"),
            vendor_member_of=ids(Role.VENDOR_MEMBER, "vendor_id"),
            operator=any(m.role == Role.OPERATOR_ADMIN for m in memberships),
        )

    @property
    def organisations(self) -> frozenset[uuid.UUID]:
        return self.customer_admin_of | self.billing_contact_of

    def can_read_organisation(self, organisation_id: uuid.UUID) -> bool:
        return self.operator or organisation_id in self.organisations

    def can_buy_for(self, organisation_id: uuid.UUID) -> bool:
        """Quotes, orders, host instances, keys: customer admins of the organisation, and operator staff."""
        return self.operator or organisation_id in self.customer_admin_of

    def require_scope(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Forbidden(
                f"This token lacks the '{scope}' scope. Create a token with it: mercato tokens create."
            )


def principal_for_token(connection: Connection, token: str, now: datetime | None = None) -> Principal:
    """The principal a bearer token stands for; ``NotAuthenticated`` for an unknown, revoked or expired one.

    Reads through its own short autocommit connection rather than the request's unit of work: the request's
    transaction (and any lock it takes) then begins inside the endpoint and ends with it, never held across
    the thread hops between FastAPI dependencies and the endpoint. One query reads the token, its user and the
    user's memberships (a row per membership), as every authenticated request pays for it.
    """
    now = now or utcnow()
    tokens, users, memberships = ApiToken.__table__.c, User.__table__.c, Membership.__table__.c
    rows = connection.execute(
        select(
            tokens.id,
            tokens.scopes,
            tokens.expires_at,
            tokens.revoked_at,
            tokens.last_used_at,
            users.id.label("user_id"),
            users.email,
            users.active,
            memberships.role,
            memberships.organisation_id,
            memberships.vendor_id,
        )
        .select_from(
            ApiToken.__table__.join(User.__table__, users.id == tokens.user_id).outerjoin(
                Membership.__table__, memberships.user_id == users.id
            )
        )
        .where(tokens.token_hash == hash_token(token))
    ).all()
    if not rows:
        raise NotAuthenticated("This API token is not known. Check that it was copied whole.")
    row = rows[0]
    if row.revoked_at is not None or not row.active:
        raise NotAuthenticated("This API token was revoked. Create a new one.")
    if row.expires_at is not None and row.expires_at <= now:
        raise NotAuthenticated(f"This API token expired on {row.expires_at:%Y-%m-%d}. Create a new one.")
    # Recorded at most once a minute: a read must not become a write on every request.
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        connection.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    held = [membership for membership in rows if membership.role is not None]
    return Principal.from_rows(row.user_id, row.email, held, row.scopes)


def principal_of_user(
    connection: Connection, user_id: uuid.UUID, email: str, scopes: Iterable[str]
) -> Principal:
    """The principal of a user authenticated one way or another (token, session), with its memberships."""
    memberships = connection.execute(
        select(Membership.__table__).where(Membership.__table__.c.user_id == user_id)
    ).all()
    return Principal.from_rows(user_id, email, memberships, scopes)
