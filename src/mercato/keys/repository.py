"""All SQL about signing keys."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, bindparam, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from mercato.catalog.models import App, Vendor
from mercato.database import transaction_cache
from mercato.keys.models import KeyState, SigningKey

_apps = App.__table__.c
_vendors = Vendor.__table__.c
# Plain Core, as the validate hot path reads it: which vendor sells an app (and so signs its direct keys).
_APP_VENDOR = (
    select(_vendors.slug)
    .select_from(App.__table__.join(Vendor.__table__, _vendors.id == _apps.vendor_id))
    .where(_apps.key == bindparam("app_key"))
)


def app_vendor_slug(connection: Connection, app_key: str) -> str | None:
    """The slug of the vendor whose app ``app_key`` is: the one issuer (``vendor:<slug>``) whose keys may sign
    the app's direct licenses. None for an app this deployment does not list."""
    return connection.execute(_APP_VENDOR, {"app_key": app_key}).scalar()


# The first key of PostgreSQL's two-key advisory locks that guard key rings ("KEYS"); the second is the
# issuer's hash. Other features lock under keys of their own.
RING_LOCK_CLASS = 0x4B455953


_SIGNING_READ = "signing keys"
"""The ``transaction_cache`` of the signing keys read with other rows, by issuer."""


def signing_key_of(issuer: SQLColumnExpression[str]) -> ColumnElement[bool]:
    """The join condition of an issuer's signing key, for a query that reads it with other rows (a locked
    invoice, whose payment signs its licenses' keys); ``KeyRepository.remember_signing_key`` takes it."""
    return and_(SigningKey.issuer == issuer, SigningKey.state == KeyState.SIGNING)


class KeyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def remember_signing_key(self, issuer: str, key: SigningKey | None) -> None:
        """Keep the issuer's signing key, read with other rows (``signing_key_of``), for ``signing_key`` in
        this transaction."""
        if key is not None:
            transaction_cache(self.session, _SIGNING_READ)[issuer] = key

    def lock_ring(self, issuer: str) -> None:
        """Make changes to the issuer's ring one at a time, until the transaction ends.

        PostgreSQL: a transaction-scoped advisory lock on the issuer; a waiter's next read sees what the
        holder committed. SQLite: nothing to do, every unit of work already holds the database's write lock
        (``BEGIN IMMEDIATE``). The unique index on (issuer) where state = 'signing' stands behind both.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(select(func.pg_advisory_xact_lock(RING_LOCK_CLASS, func.hashtext(issuer))))

    def signing_key(self, issuer: str) -> SigningKey | None:
        read: SigningKey | None = transaction_cache(self.session, _SIGNING_READ).get(issuer)
        if read is not None and read.state == KeyState.SIGNING:  # not rotated since, in this session
            return read
        return self.session.scalars(
            select(SigningKey).where(SigningKey.issuer == issuer, SigningKey.state == KeyState.SIGNING)
        ).first()

    def ring(self, issuer: str) -> Sequence[SigningKey]:
        return self.session.scalars(
            select(SigningKey).where(SigningKey.issuer == issuer).order_by(SigningKey.created_at)
        ).all()

    def every_key(self) -> Sequence[SigningKey]:
        """Every signing key of every issuer, retired ones included (they still hold a sealed private key)."""
        return self.session.scalars(
            select(SigningKey).order_by(SigningKey.issuer, SigningKey.created_at)
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
