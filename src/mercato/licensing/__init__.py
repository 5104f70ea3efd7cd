"""Mercato license keys and their offline verifier.

This package depends only on the standard library and ``cryptography``, so that app vendors can embed it
(and so can every other part of Mercato); where PyNaCl is installed it verifies signatures with it, about
twice as fast, with the same verdicts (``signatures``). The format is described in docs/license-keys.md.

Sign (license server)::

    key = sign_license(payload, private_key, kid="operator-2025")

Check (inside the app)::

    trusted = trusted_keys_from_jwks(json.loads(jwks_text))   # once, at start-up: kid → (issuer, public key)
    verdict = check(pasted_key, trusted, host_context)          # host_context.app_vendor: who sells it direct
    if not verdict.valid:
        show(verdict.message, verdict.action)
"""

from mercato.licensing.claims import (
    CLAIMS,
    FORMAT_VERSION,
    OPTIONAL_CLAIMS,
    PAID_TYPES,
    UNPAID_TYPES,
    Channel,
    Hosting,
    LicensePayload,
    LicenseType,
)
from mercato.licensing.keys import (
    ALGORITHM,
    TOKEN_TYPE,
    TrustedKey,
    TrustedKeys,
    jwks,
    public_key_from_jwk,
    public_key_from_pem,
    public_key_to_jwk,
    public_key_to_pem,
    sign_license,
    trusted_keys_from_jwks,
)
from mercato.licensing.reading import MAX_KEY_LENGTH, PASTE_NOISE
from mercato.licensing.verdicts import FixAction, LicenseStatus, Verdict
from mercato.licensing.verify import (
    HostContext,
    SignedLicense,
    authenticate,
    check,
    evaluate,
    evaluate_signed,
)

__all__ = [
    "ALGORITHM",
    "CLAIMS",
    "FORMAT_VERSION",
    "MAX_KEY_LENGTH",
    "OPTIONAL_CLAIMS",
    "PAID_TYPES",
    "PASTE_NOISE",
    "TOKEN_TYPE",
    "UNPAID_TYPES",
    "Channel",
    "FixAction",
    "HostContext",
    "Hosting",
    "LicensePayload",
    "LicenseStatus",
    "LicenseType",
    "SignedLicense",
    "TrustedKey",
    "TrustedKeys",
    "Verdict",
    "authenticate",
    "check",
    "evaluate",
    "evaluate_signed",
    "jwks",
    "public_key_from_jwk",
    "public_key_from_pem",
    "public_key_to_jwk",
    "public_key_to_pem",
    "sign_license",
    "trusted_keys_from_jwks",
]
