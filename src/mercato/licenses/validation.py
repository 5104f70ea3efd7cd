"""Online validation: the offline verdict of ``mercato.licensing``, plus what only the server knows.

The server knows which keys it issued, which were revoked, which were superseded by a newer key (a superseded
key keeps working for a grace period so the admin has time to paste its replacement) and which licenses are
suspended or cancelled. Those turn into ``REVOKED`` at the verdict's place in the precedence order: a key that
already fails an earlier check (malformed, forged, another app or host) keeps that earlier, more useful verdict.

It also knows who may sell each app: the issuer binding uses the vendor of the app in the catalog (never a
vendor named by the caller), so a vendor's key cannot sign another vendor's direct licenses. And a key whose
serial it never issued is not genuine, whoever's signature it carries: ``UNKNOWN_KEY`` with ``CONTACT_SELLER``,
before any license rule (such a key was made with a stolen signing key, or comes from another installation).

This is the hottest path of the server, and apps re-check the same key again and again, so two caches sit in
front of the expensive parts (docs/performance.md has the figures). The signature check itself is the offline
verifier's (``authenticate``), so it runs on PyNaCl where that is installed, as in apps:

- ``TrustedKeyCache.verified``: the exact text of a key whose signature verified, with its signer and payload.
  Whether given bytes carry a valid signature under a given public key never changes, so this cache is exact;
  it is emptied when the trusted key set loses a key (a retirement), so a retired key stops verifying with the
  next key reload. The issuer binding and the rules are applied to every request, cached or not.
- ``StandingCache``: what the database says about a key serial, reused for ``validation_cache_seconds``
  (default a few seconds; 0 reads the database on every request). A revocation made in another process is
  seen within that time.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from mercato.cache_invalidation import Topic, register
from mercato.database import ReadConnections
from mercato.keys.repository import app_vendor_slug
from mercato.keys.service import KeyService
from mercato.licenses.models import LicenseState
from mercato.licenses.repository import KeyStanding, key_standing
from mercato.licensing import (
    FixAction,
    HostContext,
    LicenseStatus,
    SignedLicense,
    TrustedKeys,
    Verdict,
    authenticate,
    evaluate_signed,
)

_AFTER_REVOKED = frozenset(list(LicenseStatus)[list(LicenseStatus).index(LicenseStatus.REVOKED) + 1 :])
_MISSING = object()
K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A small thread-safe LRU map; the oldest entries go first once ``capacity`` is reached."""

    def __init__(self, capacity: int) -> None:
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        if self._capacity == 0:  # a cache that remembers nothing (the CLI's one-off checks)
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            if len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class TrustedKeyCache:
    """This deployment's verifying keys, each bound to its issuer, reloaded every ``ttl`` seconds and at once
    when a kid is unknown (a key rotated by another process signs new keys straight away); the keys already
    verified; and the vendor of each app, read again after each reload."""

    def __init__(self, read_connection: ReadConnections, secret: str, ttl: float = 30.0) -> None:
        # Reads through an autocommit connection: the validate endpoint reloads on the event loop, where
        # waiting for SQLite's write lock (an ORM transaction's BEGIN IMMEDIATE) would stall every request.
        self._read_connection = read_connection
        self._secret = secret
        self._ttl = ttl
        self._lock = threading.Lock()
        self._loaded_at = float("-inf")
        self._keys: TrustedKeys = {}
        self.verified: BoundedCache[str, SignedLicense] = BoundedCache(10_000)
        # (slug,) rather than the slug: the cache's None means "not cached", and an unlisted app has no vendor.
        self._app_vendors: BoundedCache[str, tuple[str | None]] = BoundedCache(10_000)
        register(Topic.SIGNING_KEYS, self, self.forget)

    def forget(self) -> None:
        """Read the keys again at the next check, and verify every key again (a signing key was retired or
        rotated in this process: what it verified may be trusted no longer)."""
        self._loaded_at = float("-inf")
        self.verified.clear()

    def get(self) -> TrustedKeys:
        if time.monotonic() - self._loaded_at > self._ttl:
            self.reload()
        return self._keys

    def reload(self) -> TrustedKeys:
        with self._lock, self._read_connection() as connection, Session(bind=connection) as session:
            keys = KeyService(session, self._secret).trusted_keys()
            if not set(self._keys) <= set(keys):
                self.verified.clear()  # a key was retired: what it verified is no longer trusted
            self._keys = keys
            self._app_vendors.clear()
            self._loaded_at = time.monotonic()
        return keys

    def app_vendor(self, app_key: str) -> str | None:
        """The slug of the vendor that sells ``app_key`` directly, from the catalog (None: not listed)."""
        cached = self._app_vendors.get(app_key)
        if cached is None:
            with self._read_connection() as connection:
                cached = (app_vendor_slug(connection, app_key),)
            self._app_vendors.put(app_key, cached)
        return cached[0]


class StaticTrustedKeys:
    """A fixed set of trusted keys, read once (the CLI); it remembers nothing between checks."""

    def __init__(self, keys: TrustedKeys, app_vendor: Callable[[str], str | None]) -> None:
        self.keys = keys
        self._app_vendor = app_vendor
        self.verified: BoundedCache[str, SignedLicense] = BoundedCache(0)

    def get(self) -> TrustedKeys:
        return self.keys

    def reload(self) -> TrustedKeys:
        return self.keys

    def app_vendor(self, app_key: str) -> str | None:
        return self._app_vendor(app_key)


class StandingCache:
    """What the database said about key serials, reused for ``ttl`` seconds (0: never reused)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: BoundedCache[str, tuple[float, KeyStanding | None]] = BoundedCache(50_000)
        register(Topic.KEY_STANDINGS, self, self._entries.clear)

    def get(self, serial: str) -> KeyStanding | object | None:
        """The standing, ``None`` for a serial this deployment never issued, or ``_MISSING`` to read it."""
        if self.ttl <= 0:
            return _MISSING
        entry = self._entries.get(serial)
        if entry is None or self._clock() - entry[0] > self.ttl:
            return _MISSING
        return entry[1]

    def put(self, serial: str, standing: KeyStanding | None) -> None:
        if self.ttl > 0:
            self._entries.put(serial, (self._clock(), standing))


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


def _revoked(verdict: Verdict, message: str, action: FixAction) -> Verdict:
    return Verdict(status=LicenseStatus.REVOKED, message=message, action=action, payload=verdict.payload)


class ValidationService:
    """Validates pasted keys: offline rules, issuer rules, then the server's own records."""

    def __init__(
        self,
        connect: Callable[[], AbstractContextManager[Connection]],
        trusted: TrustedKeyCache | StaticTrustedKeys,
        standings: StandingCache | None = None,
    ) -> None:
        self.connect = connect
        self.trusted = trusted
        self.standings = standings or StandingCache(0)

    def validate(self, token: str, host: HostContext, now: datetime) -> ValidationResult:
        """The verdict on ``token`` for ``host``. ``now`` is the server's clock (``services.clock``, a test clock
        in tests), as ``host.today`` is its day: a superseded key's grace ends by it, never by the wall clock."""
        signed = self.trusted.verified.get(token)
        if signed is None:
            genuine = authenticate(token, self.trusted.get())
            if isinstance(genuine, Verdict) and genuine.status is LicenseStatus.UNKNOWN_KEY:
                # The kid is unknown: it may have been rotated in by another process a moment ago.
                genuine = authenticate(token, self.trusted.reload())
            if isinstance(genuine, Verdict):
                return ValidationResult(genuine, None)
            signed = genuine
            self.trusted.verified.put(token, signed)
        # Who may sell the app directly comes from the catalog, never from the caller.
        host = dataclasses.replace(host, app_vendor=self.trusted.app_vendor(host.app_key))
        verdict = evaluate_signed(signed, host)
        payload = verdict.payload
        if payload is None:
            return ValidationResult(verdict, None)
        record = self._standing(payload.key_serial)
        if record is None:
            return ValidationResult(self._never_issued(signed), ServerKnowledge(known=False))
        knowledge, revoked_verdict = self._server_verdict(record, verdict, now)
        if revoked_verdict is not None and verdict.status in _AFTER_REVOKED:
            verdict = revoked_verdict
        elif knowledge.key_state == "superseded" and verdict.status is LicenseStatus.VALID:
            verdict = self._remind_of_replacement(verdict, knowledge)
        return ValidationResult(verdict, knowledge)

    @staticmethod
    def _never_issued(signed: SignedLicense) -> Verdict:
        """A genuine signature on a key this server has no record of: not a license it knows, so not VALID."""
        payload = signed.payload
        return Verdict(
            status=LicenseStatus.UNKNOWN_KEY,
            message=(
                f"This key (serial {payload.key_serial}) carries the signature of {payload.seller}, but the "
                "license server never issued it, so it is not genuine: it was made with a stolen signing key "
                f"or comes from another installation. Contact {payload.seller} for a genuine key of your "
                "license."
            ),
            action=FixAction.CONTACT_SELLER,
        )

    def _standing(self, serial: str) -> KeyStanding | None:
        cached = self.standings.get(serial)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        with self.connect() as connection:
            standing = key_standing(connection, serial)
        self.standings.put(serial, standing)
        return standing

    @staticmethod
    def _server_verdict(
        record: KeyStanding, verdict: Verdict, now: datetime
    ) -> tuple[ServerKnowledge, Verdict | None]:
        entitlement = record.entitlement_number
        status = record.license_status
        if record.revoked_at is not None:
            knowledge = ServerKnowledge(True, status, "revoked", None, record.revoked_reason)
            reason = f" ({record.revoked_reason})" if record.revoked_reason else ""
            return knowledge, _revoked(
                verdict,
                f"This key of license {entitlement} was revoked{reason}. Contact the seller about the license.",
                FixAction.CONTACT_SELLER,
            )
        if record.superseded_at is not None:
            grace_until = record.superseded_grace_until
            knowledge = ServerKnowledge(True, status, "superseded", grace_until)
            if grace_until is None or now >= grace_until:
                return knowledge, _revoked(
                    verdict,
                    f"This key of license {entitlement} was replaced by a newer key on "
                    f"{record.superseded_at:%Y-%m-%d}. Paste the new key from your licenses page.",
                    FixAction.GET_NEW_KEY,
                )
            return knowledge, None
        knowledge = ServerKnowledge(True, status, "current")
        if status == LicenseState.SUSPENDED:
            return knowledge, _revoked(
                verdict,
                f"License {entitlement} is suspended because an invoice is unpaid. Pay it to restore the license.",
                FixAction.CONTACT_SELLER,
            )
        if status == LicenseState.CANCELLED:
            return knowledge, _revoked(
                verdict,
                f"License {entitlement} was cancelled. Buy a new license to keep using the app.",
                FixAction.BUY,
            )
        return knowledge, None

    @staticmethod
    def _remind_of_replacement(verdict: Verdict, knowledge: ServerKnowledge) -> Verdict:
        """A replaced key still works during its grace period; the admin should paste the new one now."""
        assert knowledge.superseded_grace_until is not None
        return Verdict(
            status=verdict.status,
            message=(
                f"{verdict.message} A newer key was issued for this license; this one stops working on "
                f"{knowledge.superseded_grace_until:%Y-%m-%d}. Paste the new key from your licenses page."
            ),
            action=FixAction.GET_NEW_KEY,
            payload=verdict.payload,
        )
