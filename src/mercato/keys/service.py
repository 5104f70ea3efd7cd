"""Key rings: create, rotate, retire, and hand out the signer and the trusted public keys.

Rotation never breaks a key already pasted somewhere: the old key moves to *verifying* and keeps verifying the
license keys it signed until an operator retires it.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.orm import Session

from mercato.cache_invalidation import Topic, changed
from mercato.catalog.repository import CatalogRepository
from mercato.clock import Clock, SystemClock
from mercato.keys.models import OPERATOR_ISSUER, KeyState, SigningKey, vendor_issuer
from mercato.keys.repository import KeyRepository, app_vendor_slug
from mercato.keys.sealing import open_private_key, seal_private_key
from mercato.licensing import (
    TrustedKey,
    jwks,
    public_key_to_pem,
)
from mercato.licensing.keys import KID_PATTERN
from mercato.problems import InvalidInput, NotFound

KID_LENGTH = 64
"""Longest key id: the format's limit (``KID_PATTERN``) and the ``signing_keys.kid`` column."""
_KID_SUFFIX_LENGTH = len("-20250131-a1b2c3")


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_key_from_row(row: SigningKey) -> Ed25519PublicKey:
    raw = base64.urlsafe_b64decode(row.public_key + "=" * (-len(row.public_key) % 4))
    return Ed25519PublicKey.from_public_bytes(raw)


class KeyService:
    def __init__(self, session: Session, secret: str, clock: Clock | None = None) -> None:
        self.keys = KeyRepository(session)
        self.catalog = CatalogRepository(session)
        self.secret = secret
        self.clock = clock or SystemClock()
        # The signers this unit of work opened, by issuer: an invoice of many lines reads and unseals one key.
        self._signers: dict[str, tuple[str, Ed25519PrivateKey]] = {}

    def resolve_issuer(self, name: str) -> str:
        """'operator', a vendor slug or 'vendor:<slug>' → the canonical issuer name; unknown vendors refused."""
        if name == OPERATOR_ISSUER:
            return name
        slug = name.removeprefix("vendor:")
        if self.catalog.vendor_by_slug(slug) is None:
            raise NotFound(f"There is no vendor {slug!r}. An issuer is 'operator' or a vendor's slug.")
        return vendor_issuer(slug)

    def _new_kid(self, issuer: str, now: datetime) -> str:
        """``<issuer name>-<date>-<6 random hex digits>``, at most 64 characters: a long vendor slug is cut
        (the kid only has to be unique and recognisable; the issuer is stored beside it)."""
        prefix = issuer.removeprefix("vendor:")[: KID_LENGTH - _KID_SUFFIX_LENGTH]
        while True:
            kid = f"{prefix}-{now:%Y%m%d}-{secrets.token_hex(3)}"
            assert KID_PATTERN.fullmatch(kid), kid
            # Two vendors whose slugs share their first 48 characters could draw the same kid.
            if self.keys.by_kid(kid) is None:
                return kid

    def _create(self, issuer: str, now: datetime) -> SigningKey:
        private_key = Ed25519PrivateKey.generate()
        kid = self._new_kid(issuer, now)
        raw_public = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        row = SigningKey(
            issuer=issuer,
            kid=kid,
            state=KeyState.SIGNING,
            public_key=_b64url(raw_public),
            sealed_private_key=seal_private_key(private_key, self.secret, issuer, kid),
            created_at=now,
        )
        self.keys.add(row)
        return row

    def rotate(self, issuer: str) -> SigningKey:
        """Make a new signing key; the previous one keeps verifying what it signed. Concurrent rotations of
        one ring take turns, so the ring always has exactly one signing key."""
        self._signers.pop(issuer, None)  # what this unit of work signs next, it signs with the new key
        now = self.clock.now()
        self.keys.lock_ring(issuer)
        changed(self.keys.session, Topic.SIGNING_KEYS)
        current = self.keys.signing_key(issuer)
        if current is not None:
            current.state = KeyState.VERIFYING
            current.rotated_at = now
            self.keys.session.flush()
        return self._create(issuer, now)

    def retire(self, kid: str) -> SigningKey:
        self._signers.clear()
        row = self.keys.by_kid(kid)
        if row is None:
            raise NotFound(f"There is no signing key {kid!r}.")
        if row.state == KeyState.SIGNING:
            raise InvalidInput(
                f"Key {kid} is the signing key of {row.issuer}. Rotate first, then retire the old key."
            )
        changed(self.keys.session, Topic.SIGNING_KEYS)
        row.state = KeyState.RETIRED
        row.retired_at = self.clock.now()
        self.keys.session.flush()
        return row

    def signer(self, issuer: str) -> tuple[str, Ed25519PrivateKey]:
        """The kid and private key that sign new license keys of this issuer (a ring is made on first use).

        Ten first sales at once make one key: whoever finds no key takes the ring's lock and looks again
        before making it, so the others wait and then sign with the key the first one made."""
        if issuer in self._signers:
            return self._signers[issuer]
        row = self.keys.signing_key(issuer)
        if row is None:
            self.keys.lock_ring(issuer)
            row = self.keys.signing_key(issuer) or self._create(issuer, self.clock.now())
        signer = row.kid, open_private_key(row.sealed_private_key, self.secret, issuer, row.kid)
        self._signers[issuer] = signer
        return signer

    def reseal(self, old_secret: str) -> int:
        """Seal every private key under this service's secret instead of ``old_secret`` (after the operator
        changed ``MERCATO_SECRET_KEY``). All or nothing: one key that the old secret cannot open stops it.
        Returns how many keys were resealed."""
        rows = self.keys.every_key()
        for row in rows:
            private_key = open_private_key(row.sealed_private_key, old_secret, row.issuer, row.kid)
            row.sealed_private_key = seal_private_key(private_key, self.secret, row.issuer, row.kid)
        self.keys.session.flush()
        return len(rows)

    def trusted_keys(self, issuers: Iterable[str] | None = None) -> dict[str, TrustedKey]:
        """The keys that verify (signing and verifying ones), each bound to its issuer, by kid."""
        return {
            row.kid: TrustedKey(row.issuer, public_key_from_row(row)) for row in self.keys.trusted(issuers)
        }

    def app_vendor(self, app_key: str) -> str | None:
        """The slug of the vendor that sells the app ``app_key`` directly, whose keys alone may sign its
        direct licenses (None: the app is not listed here)."""
        return app_vendor_slug(self.keys.session.connection(), app_key)

    def ring(self, issuer: str) -> list[SigningKey]:
        return list(self.keys.ring(issuer))

    def export_jwks(self, issuer: str) -> dict[str, Any]:
        """The issuer's trusted public keys as a JWK Set; each key names its issuer (``iss``)."""
        return jwks(self.trusted_keys([issuer]))

    def export_pem(self, issuer: str) -> str:
        """Every trusted public key of the issuer as PEM, each preceded by comment lines naming its kid and
        its issuer."""
        blocks = [
            f"# kid: {kid}\n# issuer: {key.issuer}\n{public_key_to_pem(key.public_key)}"
            for kid, key in self.trusted_keys([issuer]).items()
        ]
        return "\n".join(blocks)
