"""Private keys at rest: AES-256-GCM under a key derived from the deployment's secret (``MERCATO_SECRET_KEY``).

Anyone holding a database dump alone cannot sign licenses. The issuer and kid are bound in as associated data,
so a sealed key copied onto another row does not open.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mercato.problems import Problem

_FORMAT = "v1"


class SealedKeyUnreadable(Problem):
    status = 500
    type = "sealed-key-unreadable"
    title = "Signing key cannot be opened"


def _wrapping_key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"mercato signing keys v1").derive(
        secret.encode()
    )


def seal_private_key(private_key: Ed25519PrivateKey, secret: str, issuer: str, kid: str) -> str:
    raw = private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    nonce = os.urandom(12)
    sealed = AESGCM(_wrapping_key(secret)).encrypt(nonce, raw, f"{issuer}|{kid}".encode())
    return f"{_FORMAT}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def open_private_key(sealed: str, secret: str, issuer: str, kid: str) -> Ed25519PrivateKey:
    version, _, payload = sealed.partition(".")
    try:
        if version != _FORMAT:
            raise ValueError(version)
        blob = base64.urlsafe_b64decode(payload)
        raw = AESGCM(_wrapping_key(secret)).decrypt(blob[:12], blob[12:], f"{issuer}|{kid}".encode())
    except (InvalidTag, ValueError) as error:
        raise SealedKeyUnreadable(
            f"The private signing key {kid} of {issuer} cannot be opened with this deployment's secret key. "
            "MERCATO_SECRET_KEY must be the value it had when the key was created."
        ) from error
    return Ed25519PrivateKey.from_private_bytes(raw)
