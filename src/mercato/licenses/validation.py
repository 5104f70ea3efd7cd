"""Online validation: the offline verdict of ``mercato.licensing.check``, plus what only the server knows.

The server knows which keys were revoked, which were superseded by a newer key (a superseded key keeps working
for a grace period so the admin has time to paste its replacement) and which licenses are suspended or
cancelled. Those turn into ``REVOKED`` at the verdict's place in the precedence order: a key that already fails
an earlier check (malformed, forged, another app or host) keeps that earlier, more useful verdict.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session, sessionmaker

from mercato.database import utcnow
from mercato.keys.service import KeyService
from mercato.licenses.models import LicenseKey
from mercato.licenses.repository import LicenseRepository
from mercato.licensing import FixAction, HostContext, LicenseStatus, Verdict, check

_AFTER_REVOKED = frozenset(list(LicenseStatus)[list(LicenseStatus).index(LicenseStatus.REVOKED) + 1 :])


@dataclass(frozen=True)
class TrustedKeys:
    public_keys: dict[str, Ed25519PublicKey]
    issuer_of: dict[str, str]


class TrustedKeyCache:
    """This deployment's verifying keys, reloaded every ``ttl`` seconds and at once when a kid is unknown
    (a key rotated by another process signs new keys straight away)."""

    def __init__(self, session_factory: sessionmaker[Session], secret: str, ttl: float = 30.0) -> None:
        self._session_factory = session_factory
        self._secret = secret
        self._ttl = ttl
        self._lock = threading.Lock()
        self._loaded_at = float("-inf")
        self._keys = TrustedKeys({}, {})

    def get(self) -> TrustedKeys:
        if time.monotonic() - self._loaded_at > self._ttl:
            self.reload()
        return self._keys

    def reload(self) -> TrustedKeys:
        with self._lock, self._session_factory() as session:
            service = KeyService(session, self._secret)
            self._keys = TrustedKeys(service.trusted_keys(), service.issuer_of_kids())
            self._loaded_at = time.monotonic()
        return self._keys

    def knows(self, kid: str) -> bool:
        return kid in self.get().public_keys


@dataclass(frozen=True)
class ServerKnowledge:
    known: bool
    license_status: str | None = None
    key_state: str | None = None  # current, superseded, revoked
    superseded_grace_until: datetime | None = None
    revoked_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "known": self.known,
            "license_status": self.license_status,
            "key_state": self.key_state,
            "superseded_grace_until": self.superseded_grace_until,
            "revoked_reason": self.revoked_reason,
        }


@dataclass(frozen=True)
class ValidationResult:
    verdict: Verdict
    server: ServerKnowledge | None


def key_id_of(token: str) -> str | None:
    """The kid of a key's protected header (only called once the signature has been verified)."""
    try:
        header = token.strip().split(".", 1)[0]
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
        kid = decoded.get("kid")
        return kid if isinstance(kid, str) else None
    except ValueError:
        return None


def _revoked(verdict: Verdict, message: str, action: FixAction) -> Verdict:
    return Verdict(status=LicenseStatus.REVOKED, message=message, action=action, payload=verdict.payload)


class ValidationService:
    def __init__(self, session: Session, trusted: TrustedKeys) -> None:
        self.licenses = LicenseRepository(session)
        self.trusted = trusted

    def validate(self, token: str, host: HostContext, now: datetime | None = None) -> ValidationResult:
        verdict = check(token, self.trusted.public_keys, host)
        payload = verdict.payload
        if payload is None:
            return ValidationResult(verdict, None)
        kid = key_id_of(token)
        if kid is not None and self.trusted.issuer_of.get(kid) != payload.issuer:
            # A vendor's key may sign only that vendor's direct licenses; the operator's only marketplace ones.
            return ValidationResult(
                Verdict(
                    status=LicenseStatus.UNKNOWN_KEY,
                    message=(
                        f"This key claims to be issued by {payload.issuer} but was signed with a key of "
                        f"{self.trusted.issuer_of.get(kid)}. Contact the vendor for a genuine key."
                    ),
                    action=FixAction.CONTACT_SELLER,
                    payload=None,
                ),
                None,
            )
        record = self.licenses.key_by_serial(payload.key_serial)
        if record is None:
            return ValidationResult(verdict, ServerKnowledge(known=False))
        knowledge, revoked_verdict = self._server_verdict(record, verdict, now or utcnow())
        if revoked_verdict is not None and verdict.status in _AFTER_REVOKED:
            verdict = revoked_verdict
        return ValidationResult(verdict, knowledge)

    def _server_verdict(
        self, record: LicenseKey, verdict: Verdict, now: datetime
    ) -> tuple[ServerKnowledge, Verdict | None]:
        license = record.license
        entitlement = license.entitlement_number
        if record.revoked_at is not None:
            knowledge = ServerKnowledge(True, license.status, "revoked", None, record.revoked_reason)
            reason = f" ({record.revoked_reason})" if record.revoked_reason else ""
            return knowledge, _revoked(
                verdict,
                f"This key of license {entitlement} was revoked{reason}. Contact the seller about the license.",
                FixAction.CONTACT_SELLER,
            )
        if record.superseded_at is not None:
            grace_until = record.superseded_grace_until
            knowledge = ServerKnowledge(True, license.status, "superseded", grace_until)
            if grace_until is None or now >= grace_until:
                return knowledge, _revoked(
                    verdict,
                    f"This key of license {entitlement} was replaced by a newer key on "
                    f"{record.superseded_at:%Y-%m-%d}. Paste the new key from your licenses page.",
                    FixAction.GET_NEW_KEY,
                )
            return knowledge, None
        knowledge = ServerKnowledge(True, license.status, "current")
        if license.status == "suspended":
            return knowledge, _revoked(
                verdict,
                f"License {entitlement} is suspended because an invoice is unpaid. Pay it to restore the license.",
                FixAction.CONTACT_SELLER,
            )
        if license.status == "cancelled":
            return knowledge, _revoked(
                verdict, f"License {entitlement} was cancelled. Buy a new license to keep using the app.",
                FixAction.BUY,
            )
        return knowledge, None
