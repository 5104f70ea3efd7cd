"""Key rings: create, rotate, retire, and hand out the signer and the trusted public keys.

Rotation never breaks a key already pasted somewhere: the old key moves to *verifying* and keeps verifying the
license keys it signed until an operator retires it.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.orm import Session

from mercato.catalog.repository import CatalogRepository
from mercato.database import utcnow
from mercato.keys.models import OPERATOR_ISSUER, KeyState, SigningKey, vendor_issuer
from mercato.keys.repository import KeyRepository
from mercato.keys.sealing import open_private_key, seal_private_key
from mercato.licensing import jwks, public_key_from_pem, public_key_to_pem, trusted_keys_from_jwks
from mercato.problems import InvalidInput, NotFound


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_key_from_row(row: SigningKey) -> Ed25519PublicKey:
    raw = base64.urlsafe_b64decode(row.public_key + "=" * (-len(row.public_key) % 4))
    return Ed25519PublicKey.from_public_bytes(raw)


_PEM_BLOCK = re.compile(r"#\s*kid:\s*(\S+)\s*\n(-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----)", re.S)


def load_trusted_keys(text: str) -> dict[str, Ed25519PublicKey]:
    """Trusted keys from a JWKS document or from a PEM bundle as ``mercato keys export --format pem`` writes
    it (each key preceded by a ``# kid: …`` line). Raises ``ValueError`` when neither yields a key."""
    if text.lstrip().startswith("{"):
        return dict(trusted_keys_from_jwks(json.loads(text)))
    keys = {kid: public_key_from_pem(block) for kid, block in _PEM_BLOCK.findall(text)}
    if not keys:
        raise ValueError("no JWKS document and no '# kid: …' PEM block found")
    return keys


class KeyService:
    def __init__(self, session: Session, secret: str) -> None:
        self.keys = KeyRepository(session)
        self.catalog = CatalogRepository(session)
        self.secret = secret

    def resolve_issuer(self, name: str) -> str:
        """'operator', a vendor slug or 'vendor:<slug>' → the canonical issuer name; unknown vendors refused."""
        if name == OPERATOR_ISSUER:
            return name
        slug = name.removeprefix("vendor:")
        if self.catalog.vendor_by_slug(slug) is None:
            raise NotFound(f"There is no vendor {slug!r}. An issuer is 'operator' or a vendor's slug.")
        return vendor_issuer(slug)

    def _create(self, issuer: str, now: datetime) -> SigningKey:
        private_key = Ed25519PrivateKey.generate()
        prefix = issuer.removeprefix("vendor:")
        kid = f"{prefix}-{now:%Y%m%d}-{secrets.token_hex(3)}"
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
        now = utcnow()
        self.keys.lock_ring(issuer)
        current = self.keys.signing_key(issuer)
        if current is not None:
            current.state = KeyState.VERIFYING
            current.rotated_at = now
            self.keys.session.flush()
        return self._create(issuer, now)

    def retire(self, kid: str) -> SigningKey:
        row = self.keys.by_kid(kid)
        if row is None:
            raise NotFound(f"There is no signing key {kid!r}.")
        if row.state == KeyState.SIGNING:
            raise InvalidInput(
                f"Key {kid} is the signing key of {row.issuer}. Rotate first, then retire the old key."
            )
        row.state = KeyState.RETIRED
        row.retired_at = utcnow()
        self.keys.session.flush()
        return row

    def signer(self, issuer: str) -> tuple[str, Ed25519PrivateKey]:
        """The kid and private key that sign new license keys of this issuer (a ring is made on first use).

        Ten first sales at once make one key: whoever finds no key takes the ring's lock and looks again
        before making it, so the others wait and then sign with the key the first one made."""
        row = self.keys.signing_key(issuer)
        if row is None:
            self.keys.lock_ring(issuer)
            row = self.keys.signing_key(issuer) or self._create(issuer, utcnow())
        return row.kid, open_private_key(row.sealed_private_key, self.secret, issuer, row.kid)

    def trusted_keys(self, issuers: Iterable[str] | None = None) -> dict[str, Ed25519PublicKey]:
        return {row.kid: public_key_from_row(row) for row in self.keys.trusted(issuers)}

    def issuer_of_kids(self) -> dict[str, str]:
        return {row.kid: row.issuer for row in self.keys.trusted()}

    def ring(self, issuer: str) -> list[SigningKey]:
        return list(self.keys.ring(issuer))

    def export_jwks(self, issuer: str) -> dict[str, Any]:
        return jwks(self.trusted_keys([issuer]))

    def export_pem(self, issuer: str) -> str:
        """Every trusted public key of the issuer as PEM, each preceded by a comment line naming its kid."""
        blocks = [
            f"# kid: {kid}\n{public_key_to_pem(key)}" for kid, key in self.trusted_keys([issuer]).items()
        ]
        return "\n".join(blocks)
