"""All SQL about licenses and their keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, bindparam, case, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, selectinload

from mercato.accounts.models import Organisation
from mercato.licenses.models import License, LicenseKey, LicenseState, LicenseTransaction
from mercato.pricing import Channel, Hosting


@dataclass(frozen=True, slots=True)
class KeyStanding:
    """What the server knows about one issued key: the few columns the validate hot path needs."""

    entitlement_number: str
    license_status: str
    revoked_at: datetime | None
    revoked_reason: str | None
    superseded_at: datetime | None
    superseded_grace_until: datetime | None


_licenses = License.__table__.c
_keys = LicenseKey.__table__.c
# Plain Core over the tables (not ORM attributes): skips the ORM's per-statement work on the hot path.
_STANDING = (
    select(
        _licenses.entitlement_number,
        _licenses.status,
        _keys.revoked_at,
        _keys.revoked_reason,
        _keys.superseded_at,
        _keys.superseded_grace_until,
    )
    .select_from(LicenseKey.__table__.join(License.__table__, _licenses.id == _keys.license_id))
    .where(_keys.serial == bindparam("serial"))
)


def key_standing(connection: Connection, serial: str) -> KeyStanding | None:
    """One indexed query, no ORM objects and no session: the validate endpoint runs it on every request."""
    row = connection.execute(_STANDING, {"serial": serial}).first()
    return None if row is None else KeyStanding(*row)


@dataclass(frozen=True)
class LicenseQuery:
    """What an operator looks for among all licenses (every filter optional)."""

    organisation_id: uuid.UUID | None = None
    product_key: str | None = None
    channel: Channel | None = None
    status: LicenseState | None = None
    expiring_before: date | None = None
    """Only licenses paid up to a day before this (maintenance for server licenses, the term for others)."""

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.organisation_id is not None:
            found.append(License.organisation_id == self.organisation_id)
        if self.product_key is not None:
            found.append(License.product_key == self.product_key)
        if self.channel is not None:
            found.append(License.channel == self.channel)
        if self.status is not None:
            found.append(License.status == self.status)
        if self.expiring_before is not None:
            found.append(paid_until() < self.expiring_before)
        return found


def paid_until() -> ColumnElement[date | None]:
    """``License.paid_until`` in SQL."""
    return case(
        (License.hosting == Hosting.SERVER, func.coalesce(License.maintenance_end, License.term_end)),
        else_=func.coalesce(License.term_end, License.maintenance_end),
    )


@dataclass(frozen=True)
class OwnedLicense:
    """A license with the slug of the customer it belongs to (None: a support key that belongs to nobody)."""

    license: License
    organisation_slug: str | None


class LicenseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, *objects: object) -> None:
        self.session.add_all(objects)
        self.session.flush()

    def by_entitlement(self, entitlement_number: str) -> License | None:
        return self.session.scalars(
            select(License)
            .options(selectinload(License.keys))
            .where(License.entitlement_number == entitlement_number)
        ).first()

    def entitlement_exists(self, entitlement_number: str) -> bool:
        return (
            self.session.scalar(select(License.id).where(License.entitlement_number == entitlement_number))
            is not None
        )

    def entitlements_taken(self, entitlement_numbers: Iterable[str]) -> set[str]:
        """Which of these entitlement numbers licenses already have (one query)."""
        numbers = set(entitlement_numbers)
        if not numbers:
            return set()
        return set(
            self.session.scalars(
                select(License.entitlement_number).where(License.entitlement_number.in_(numbers))
            )
        )

    def key_by_serial(self, serial: str) -> LicenseKey | None:
        """The issued key with its license (one query: the validate endpoint is a hot path)."""
        return self.session.scalars(
            select(LicenseKey).options(selectinload(LicenseKey.license)).where(LicenseKey.serial == serial)
        ).first()

    def keys_of(self, license_id: uuid.UUID) -> Sequence[LicenseKey]:
        return self.session.scalars(select(LicenseKey).where(LicenseKey.license_id == license_id)).all()

    def current_keys(self, license_id: uuid.UUID) -> Sequence[LicenseKey]:
        """Keys of the license that are neither revoked nor superseded."""
        return self.session.scalars(
            select(LicenseKey).where(
                LicenseKey.license_id == license_id,
                LicenseKey.revoked_at.is_(None),
                LicenseKey.superseded_at.is_(None),
            )
        ).all()

    def search(self, query: LicenseQuery, limit: int, offset: int) -> tuple[list[OwnedLicense], int]:
        """A page of every license matching ``query``, newest first, and how many match (operator's view)."""
        conditions = query.conditions()
        total = self.session.scalar(select(func.count()).select_from(License).where(*conditions)) or 0
        rows = self.session.execute(
            select(License, Organisation.slug)
            .outerjoin(Organisation, Organisation.id == License.organisation_id)
            .where(*conditions)
            .order_by(License.created_at.desc(), License.entitlement_number)
            .limit(limit)
            .offset(offset)
        ).all()
        return [OwnedLicense(license, slug) for license, slug in rows], total

    def owned(self, entitlement_number: str) -> OwnedLicense | None:
        row = self.session.execute(
            select(License, Organisation.slug)
            .outerjoin(Organisation, Organisation.id == License.organisation_id)
            .where(License.entitlement_number == entitlement_number)
        ).first()
        return None if row is None else OwnedLicense(row[0], row[1])

    def history(self, license_id: uuid.UUID) -> Sequence[LicenseTransaction]:
        return self.session.scalars(
            select(LicenseTransaction)
            .where(LicenseTransaction.license_id == license_id)
            .order_by(LicenseTransaction.occurred_at, LicenseTransaction.id)
        ).all()
