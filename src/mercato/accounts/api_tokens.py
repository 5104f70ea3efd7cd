"""API tokens: made for a user with scopes and an optional expiry, shown once, kept hashed, revocable."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from mercato.accounts.access import Principal
from mercato.accounts.errors import (
    InactiveUser,
    ScopeBeyondCredential,
    TokenLifetimeInvalid,
    TokenNotFound,
    UnknownScope,
)
from mercato.accounts.models import ApiToken, User
from mercato.accounts.service import AccountService, parse_id, required_text
from mercato.accounts.tokens import SCOPES, hash_token, new_token
from mercato.clock import Clock, SystemClock, utcnow
from mercato.paging import Page, PageRequest

MAX_TOKEN_DAYS = 3650


@dataclass(frozen=True)
class NewToken:
    """A token just made. ``token`` exists only here: the database keeps its hash."""

    token: str
    record: ApiToken


TokenState = Literal["active", "expired", "revoked"]


def token_state(token: ApiToken, now: datetime | None = None) -> TokenState:
    """active, expired or revoked."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def normalise_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes in a stable order. ``write`` brings ``read`` with it: every write answers with what it
    wrote, and a token that may change an object but not see it would be of no use."""
    given = {s.strip().lower() for s in scopes}
    unknown = given - set(SCOPES)
    if unknown:
        raise UnknownScope(f"Unknown scope {sorted(unknown)[0]!r}; a token's scopes are read and write.")
    if not given:
        raise UnknownScope("A token needs at least one scope: read, or read and write.")
    if "write" in given:
        given.add("read")
    return [s for s in SCOPES if s in given]


class TokenService:
    """API tokens: made for a user, shown once, stored as a hash, listed by prefix, revoked for good."""

    def __init__(self, session: Session, clock: Clock | None = None) -> None:
        self.accounts = AccountService(session)
        self.repository = self.accounts.repository
        self.clock: Clock = clock or SystemClock()
        """Stamps a new token's creation and expiry and a revocation: the server's clock (a test clock in tests)."""

    def create(
        self,
        user: User,
        *,
        scopes: Iterable[str] = ("read",),
        name: str | None = None,
        expires_in_days: int | None = None,
        now: datetime | None = None,
    ) -> NewToken:
        """A new token for ``user`` (read-only unless ``write`` is asked for), valid for ``expires_in_days``
        days or until revoked."""
        now = now or self.clock.now()
        if not user.active:
            raise InactiveUser(f"{user.email} is deactivated; an inactive user gets no tokens.")
        if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
            raise TokenLifetimeInvalid(f"A token expires after 1 to {MAX_TOKEN_DAYS} days, or never.")
        label = required_text(name, "token's name") if name is not None else f"Token of {now:%Y-%m-%d}"
        token, prefix, token_hash = new_token()
        record = ApiToken(
            user_id=user.id,
            name=label,
            prefix=prefix,
            token_hash=token_hash,
            scopes=normalise_scopes(scopes),
            created_at=now,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days is not None else None,
        )
        self.repository.add(record)
        return NewToken(token, record)

    def create_for(
        self,
        principal: Principal,
        *,
        scopes: Iterable[str] = ("read",),
        name: str | None = None,
        expires_in_days: int | None = None,
        now: datetime | None = None,
    ) -> NewToken:
        """A token for the principal's own user. It may not carry a scope the current credential lacks."""
        wanted = normalise_scopes(scopes)
        missing = [s for s in wanted if s not in principal.scopes]
        if missing:
            raise ScopeBeyondCredential(
                f"A token cannot grant more than the token that creates it; it lacks {missing[0]!r}."
            )
        return self.create(
            self.accounts.user(principal.user_id),
            scopes=wanted,
            name=name,
            expires_in_days=expires_in_days,
            now=now,
        )

    def tokens_of(
        self, user_id: uuid.UUID, *, include_revoked: bool = False, page: PageRequest = PageRequest()
    ) -> Page[ApiToken]:
        return self.repository.tokens_of(user_id, include_revoked=include_revoked, page=page)

    def revoke_for(
        self, principal: Principal, token_id: str | uuid.UUID, now: datetime | None = None
    ) -> ApiToken:
        """Revoke one of the principal's own tokens; anyone else's is ``NotFound``. Revoking twice is harmless."""
        parsed = token_id if isinstance(token_id, uuid.UUID) else parse_id(token_id)
        token = self.repository.token(parsed) if parsed is not None else None
        if token is None or token.user_id != principal.user_id:
            raise TokenNotFound(f"You have no API token {str(token_id)!r}. GET /api/v1/tokens lists yours.")
        return self._revoke(token, now)

    def revoke(self, prefix_or_token: str, now: datetime | None = None) -> ApiToken:
        """Revoke a token by the prefix shown in lists, or by the whole token."""
        text = prefix_or_token.strip()
        token = self.repository.token_by_prefix(text) or self.repository.token_by_hash(hash_token(text))
        if token is None:
            raise TokenNotFound(
                f"No API token has the prefix {text!r}. 'mercato tokens list --email ...' shows the prefixes."
            )
        return self._revoke(token, now)

    def _revoke(self, token: ApiToken, now: datetime | None) -> ApiToken:
        if token.revoked_at is None:
            token.revoked_at = now or self.clock.now()
            self.repository.add(token)
        return token
