"""Where a license stands: apart from the ORM models, so that ``mercato license list --status`` can offer the
states without importing the database."""

from __future__ import annotations

from enum import StrEnum


class LicenseState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"  # an evaluation or a term ended, or a cloud subscription went unpaid too long
    SUSPENDED = "suspended"  # a cloud subscription unpaid past its grace period
    CANCELLED = "cancelled"  # refunded or revoked
    SUPERSEDED = "superseded"

    @property
    def is_closed(self) -> bool:
        """Closed licenses get no new keys and are not renewed, upgraded or co-termed."""
        return self in (LicenseState.CANCELLED, LicenseState.SUPERSEDED)
