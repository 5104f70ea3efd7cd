"""What a check answers: one status (in precedence order), the sentence for the admin, and the action that
fixes it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mercato.licensing.claims import (
    LicensePayload,
)


class LicenseStatus(StrEnum):
    """The outcome of a check, in precedence order: the first failure wins."""

    MALFORMED = "MALFORMED"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    APP_MISMATCH = "APP_MISMATCH"
    HOST_MISMATCH = "HOST_MISMATCH"
    REVOKED = "REVOKED"
    USERS_EXCEEDED = "USERS_EXCEEDED"
    USER_MISMATCH = "USER_MISMATCH"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    EXPIRED = "EXPIRED"
    VERSION_MISMATCH = "VERSION_MISMATCH"
    VALID = "VALID"


class FixAction(StrEnum):
    """What the admin does about a verdict; an app shows it as a button or a link."""

    NONE = "NONE"
    """Nothing to do: the license is valid."""
    GET_NEW_KEY = "GET_NEW_KEY"
    """Paste another key of a license they hold (copy it again, or download it from the licenses page)."""
    CONTACT_SELLER = "CONTACT_SELLER"
    """Only the seller (the marketplace or the vendor) can help; nothing is for sale that fixes it."""
    BUY = "BUY"
    """Buy a license (after an evaluation, or one of the right type or hosting)."""
    UPGRADE = "UPGRADE"
    """Upgrade the license to a larger tier."""
    RENEW = "RENEW"
    """Renew: extend the term, or maintenance for newer app versions."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """One status, the sentence that explains it to an admin, and the action that fixes it.

    ``payload`` is set only when the key's signature verified with a trusted key whose issuer may sell the
    license.
    """

    status: LicenseStatus
    message: str
    action: FixAction
    payload: LicensePayload | None = None

    @property
    def valid(self) -> bool:
        return self.status is LicenseStatus.VALID

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: status, message, action, then the payload's fields (``LicensePayload.to_dict``)
        when the key was genuine."""
        result: dict[str, Any] = {
            "status": self.status.value,
            "message": self.message,
            "action": self.action.value,
        }
        if self.payload is not None:
            result.update(self.payload.to_dict())
        return result
