"""Trusted public keys read from a file that ``mercato keys export`` wrote: what an offline key check trusts.

Apart from the key service, so that reading them imports no database.
"""

from __future__ import annotations

import json
import re

from mercato.licensing import TrustedKey, public_key_from_pem, trusted_keys_from_jwks

_PEM_BLOCK = re.compile(
    r"#\s*kid:\s*(\S+)\s*\n#\s*issuer:\s*(\S+)\s*\n(-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----)",
    re.S,
)


def load_trusted_keys(text: str) -> dict[str, TrustedKey]:
    """Trusted keys, each bound to its issuer, from a JWK Set whose keys name their issuer (``iss``) or from a
    PEM bundle as ``mercato keys export --format pem`` writes it (each key preceded by ``# kid: …`` and
    ``# issuer: …`` lines). Raises ``ValueError`` when neither yields a key, or a key names no valid issuer."""
    if text.lstrip().startswith("{"):
        return dict(trusted_keys_from_jwks(json.loads(text)))
    keys = {
        kid: TrustedKey(issuer, public_key_from_pem(block)) for kid, issuer, block in _PEM_BLOCK.findall(text)
    }
    if not keys:
        raise ValueError(
            "no JWK Set and no PEM block preceded by '# kid: …' and '# issuer: …' lines found "
            "(write one with: mercato keys export)"
        )
    return keys
