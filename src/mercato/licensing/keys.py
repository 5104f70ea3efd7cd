"""License keys as JWS compact tokens (EdDSA over Ed25519, RFC 8037), and the public keys that verify them.

A key is ``BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature)`` where the header is exactly
``{"alg":"EdDSA","kid":<signing key id>,"typ":"mercato-license+jwt"}`` and the payload is the canonical JSON
of the license claims (see ``claims.py``). Trusted public keys are exchanged as a JWKS (RFC 7517) or as PEM.

A trusted public key is always held with its issuer (``operator`` or ``vendor:<slug>``): a key is genuine only
when its signer is the seller of record it names, and that seller may sell the app in the key's channel
(``verify.py`` checks both). In a JWK the issuer is the member ``iss``, named after the claim it must match.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, TypeAlias

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)

from mercato.licensing.claims import LicensePayload, canonical_json, is_issuer
from mercato.licensing.signatures import public_key_problem

ALGORITHM: Final = "EdDSA"
"""The only JWS ``alg`` a license key may declare; the verifier never takes the algorithm from the key."""

TOKEN_TYPE: Final = "mercato-license+jwt"
"""The JWS ``typ`` of a license key (explicit typing, RFC 8725 §3.11): no other EdDSA JWT passes as a key."""

KID_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
"""Signing key ids: short, printable, safe to show an admin."""

_B64URL_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_B64URL_VALUES: Final = {character: value for value, character in enumerate(_B64URL_ALPHABET)}
_TO_STANDARD_BASE64: Final = bytes.maketrans(b"-_+/=", b"+/!!!")
_PADDING: Final = (b"", b"", b"==", b"=")


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """A public key an app trusts, and the one issuer whose license keys it may sign."""

    issuer: str
    """``operator`` (marketplace licenses) or ``vendor:<slug>`` (that vendor's direct licenses)."""
    public_key: Ed25519PublicKey
    raw_public_key: bytes = field(init=False, repr=False, compare=False)
    """The 32 bytes of ``public_key``, read once: PyNaCl verifies with them."""

    def __post_init__(self) -> None:
        if not is_issuer(self.issuer):
            raise ValueError(f"an issuer is 'operator' or 'vendor:<slug>', not {self.issuer!r}")
        if not isinstance(self.public_key, Ed25519PublicKey):
            raise TypeError("license keys are verified with Ed25519 public keys")
        raw = self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        problem = public_key_problem(raw)
        if problem is not None:
            raise ValueError(f"this Ed25519 public key {problem}: it cannot be trusted")
        object.__setattr__(self, "raw_public_key", raw)


TrustedKeys: TypeAlias = Mapping[str, TrustedKey]
"""The public keys an app trusts, by key id, each bound to its issuer. Build it once (parsing keys is the slow
part) and reuse it."""


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url without padding; raise ``ValueError`` unless ``text`` is the one canonical encoding.

    Canonical means: only the URL-safe alphabet, no padding, and zero unused bits in the last character.
    Without the last rule, changing the final character of the signature (its unused bits) would give a
    different key text with the same meaning.
    """
    remainder = len(text) % 4
    if remainder:
        if remainder == 1:
            raise ValueError("base64url text cannot have a length of 4n+1")
        last = _B64URL_VALUES.get(text[-1])
        if last is None or last & (0b1111 if remainder == 2 else 0b11):
            raise ValueError("not the canonical base64url encoding (unused bits set)")
    try:
        # The translation maps the URL-safe alphabet to the standard one and "+", "/", "=" to an invalid
        # byte, which strict mode refuses along with anything else outside the alphabet.
        standard = text.encode("ascii").translate(_TO_STANDARD_BASE64) + _PADDING[remainder]
        return binascii.a2b_base64(standard, strict_mode=True)
    except (binascii.Error, UnicodeEncodeError) as error:
        raise ValueError("not base64url") from error


def encode_header(kid: str) -> str:
    """The encoded JWS header of a key signed by ``kid``."""
    if not isinstance(kid, str) or not KID_PATTERN.fullmatch(kid):
        raise ValueError(f"a signing key id is 1–64 letters, digits and . _ : -, not {kid!r}")
    header = {"alg": ALGORITHM, "kid": kid, "typ": TOKEN_TYPE}
    return b64url_encode(json.dumps(header, sort_keys=True, separators=(",", ":")).encode("ascii"))


def sign_license(payload: LicensePayload, private_key: Ed25519PrivateKey, kid: str) -> str:
    """Sign ``payload`` into a license key with ``private_key``, whose public key is known as ``kid``.

    Deterministic: the same payload, private key and kid always give the same key.
    """
    if not isinstance(payload, LicensePayload):
        raise TypeError("payload must be a LicensePayload")
    if not isinstance(private_key, Ed25519PrivateKey):
        raise TypeError("license keys are signed with an Ed25519 private key")
    signing_input = f"{encode_header(kid)}.{b64url_encode(canonical_json(payload.to_claims()))}"
    signature = private_key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def public_key_to_jwk(kid: str, public_key: Ed25519PublicKey, issuer: str) -> dict[str, str]:
    """The OKP/Ed25519 JWK (RFC 8037) of a public key, with its kid, ``alg: EdDSA``, ``use: sig`` and the
    issuer whose license keys it signs as ``iss``."""
    if not isinstance(kid, str) or not KID_PATTERN.fullmatch(kid):
        raise ValueError(f"invalid signing key id {kid!r}")
    trusted = TrustedKey(issuer, public_key)
    x = b64url_encode(trusted.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": ALGORITHM, "use": "sig", "iss": issuer}


def public_key_from_jwk(jwk: Mapping[str, object]) -> tuple[str, TrustedKey]:
    """Read one JWK as (kid, trusted key); raise ``ValueError`` unless it is a public Ed25519 signing key that
    names its issuer."""
    if not isinstance(jwk, Mapping):
        raise ValueError("a JWK is a JSON object")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not KID_PATTERN.fullmatch(kid):
        raise ValueError(f"the JWK has no valid kid: {kid!r}")
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError(f"the JWK {kid!r} is not an OKP/Ed25519 key")
    if jwk.get("alg", ALGORITHM) != ALGORITHM or jwk.get("use", "sig") != "sig":
        raise ValueError(f"the JWK {kid!r} is not for EdDSA signatures")
    if "d" in jwk:
        # A private key in a trust list means somebody is about to publish it.
        raise ValueError(f"the JWK {kid!r} holds a private key; trust lists hold public keys only")
    issuer = jwk.get("iss")
    if not isinstance(issuer, str) or not is_issuer(issuer):
        # Without its issuer a key could sign for anyone: a vendor's key would pass for the marketplace's.
        raise ValueError(
            f'the JWK {kid!r} does not name its issuer: add "iss": "operator" or "vendor:<slug>" '
            "(Mercato's JWK Sets carry it)"
        )
    x = jwk.get("x")
    if not isinstance(x, str):
        raise ValueError(f"the JWK {kid!r} has no public key (x)")
    raw = b64url_decode(x)
    if len(raw) != 32:
        raise ValueError(f"the JWK {kid!r} does not hold a 32-byte Ed25519 public key")
    problem = public_key_problem(raw)
    if problem is not None:
        raise ValueError(f"the public key of the JWK {kid!r} {problem}: it cannot be trusted")
    return kid, TrustedKey(issuer, Ed25519PublicKey.from_public_bytes(raw))


def jwks(keys: TrustedKeys) -> dict[str, list[dict[str, str]]]:
    """A JWK Set of trusted keys by kid, in kid order (stable output for files and HTTP caches)."""
    return {"keys": [public_key_to_jwk(kid, keys[kid].public_key, keys[kid].issuer) for kid in sorted(keys)]}


def trusted_keys_from_jwks(document: Mapping[str, object]) -> TrustedKeys:
    """The trusted keys of a JWK Set; raise ``ValueError`` on any key it cannot trust (configuration errors
    must be loud), on a key without its issuer, or on a kid that appears twice."""
    entries = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise ValueError("a JWK Set is an object with a 'keys' list")
    trusted: dict[str, TrustedKey] = {}
    for entry in entries:
        kid, trusted_key = public_key_from_jwk(entry)
        if kid in trusted:
            raise ValueError(f"the kid {kid!r} appears twice in the JWK Set")
        trusted[kid] = trusted_key
    return trusted


def public_key_to_pem(public_key: Ed25519PublicKey) -> str:
    """The PEM (SubjectPublicKeyInfo) text of a public key."""
    if not isinstance(public_key, Ed25519PublicKey):
        raise TypeError("license keys are verified with Ed25519 public keys")
    return public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def public_key_from_pem(pem: str | bytes) -> Ed25519PublicKey:
    """Load an Ed25519 public key from PEM; raise ``ValueError`` for anything else (RSA, a private key)."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    public_key = load_pem_public_key(data)
    if not isinstance(public_key, Ed25519PublicKey):
        raise ValueError("the PEM does not hold an Ed25519 public key")
    return public_key
