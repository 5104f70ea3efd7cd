"""All SQL about licenses and their keys."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mercato.licenses.models import License, LicenseKey


class LicenseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, *objects: object) -> None:
        self.session.add_all(objects)
        self.session.flush()

    def get(self, license_id: uuid.UUID) -> License | None:
        return self.session.scalars(
            select(License).options(selectinload(License.keys)).where(License.id == license_id)
        ).first()

    def by_entitlement(self, entitlement_number: str) -> License | None:
        return self.session.scalars(
            select(License)
            .options(selectinload(License.keys))
            .where(License.entitlement_number == entitlement_number)
        ).first()

    def entitlement_exists(self, entitlement_number: str) -> bool:
        return self.session.scalar(
            select(License.id).where(License.entitlement_number == entitlement_number)
        ) is not None

    def key_by_serial(self, serial: str) -> LicenseKey | None:
        """The issued key with its license (one query: the validate endpoint is a hot path)."""
        return self.session.scalars(
            select(LicenseKey).options(selectinload(LicenseKey.license)).where(LicenseKey.serial == serial)
        ).first()

    def current_keys(self, license_id: uuid.UUID) -> Sequence[LicenseKey]:
        """Keys of the license that are neither revoked nor superseded."""
        return self.session.scalars(
            select(LicenseKey).where(
                LicenseKey.license_id == license_id,
                LicenseKey.revoked_at.is_(None),
                LicenseKey.superseded_at.is_(None),
            )
        ).all()
