"""All SQL about signing keys."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mercato.keys.models import KeyState, SigningKey

# The first key of PostgreSQL's two-key advisory locks that guard key rings ("KEYS"); the second is the
# issuer's hash. Other features lock under keys of their own.
RING_LOCK_CLASS = 0x4B455953


class KeyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_ring(self, issuer: str) -> None:
        """Make changes to the issuer's ring one at a time, until the transaction ends.

        PostgreSQL: a transaction-scoped advisory lock on the issuer; a waiter's next read sees what the
        holder committed. SQLite: nothing to do, every unit of work already holds the database's write lock
        (``BEGIN IMMEDIATE``). The unique index on (issuer) where state = 'signing' stands behind both.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(select(func.pg_advisory_xact_lock(RING_LOCK_CLASS, func.hashtext(issuer))))

    def signing_key(self, issuer: str) -> SigningKey | None:
        return self.session.scalars(
            select(SigningKey).where(SigningKey.issuer == issuer, SigningKey.state == KeyState.SIGNING)
        ).first()

    def ring(self, issuer: str) -> Sequence[SigningKey]:
        return self.session.scalars(
            select(SigningKey).where(SigningKey.issuer == issuer).order_by(SigningKey.created_at)
        ).all()

    def by_kid(self, kid: str) -> SigningKey | None:
        return self.session.scalars(select(SigningKey).where(SigningKey.kid == kid)).first()

    def trusted(self, issuers: Iterable[str] | None = None) -> Sequence[SigningKey]:
        """Keys that still verify (signing and verifying), of the given issuers or of all."""
        query = select(SigningKey).where(SigningKey.state != KeyState.RETIRED)
        if issuers is not None:
            query = query.where(SigningKey.issuer.in_(list(issuers)))
        return self.session.scalars(query.order_by(SigningKey.created_at)).all()

    def add(self, key: SigningKey) -> None:
        self.session.add(key)
        self.session.flush()
