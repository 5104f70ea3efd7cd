"""All SQL about licenses and their keys."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, selectinload

from mercato.licenses.models import License, LicenseKey


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
