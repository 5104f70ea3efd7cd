"""All SQL about signing keys."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from mercato.keys.models import KeyState, SigningKey


class KeyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

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
