"""Reading a key as people paste it: paste noise removed, then split and decoded, or refused with the first
reason it is not a license key of format 1 (``MALFORMED``). No signature is checked here."""

from __future__ import annotations

import json
import re
from typing import Final

from mercato.licensing.claims import (
    ClaimsError,
    LicensePayload,
    UnsupportedFormat,
    payload_from_claims,
)
from mercato.licensing.keys import KID_PATTERN, TOKEN_TYPE, b64url_decode
from mercato.licensing.verdicts import FixAction

MAX_KEY_LENGTH: Final = 4096
"""Longest key accepted, after paste noise is removed (a key is about 600 characters)."""

PASTE_NOISE: Final = (
    # Every Unicode white space character (line breaks, tabs, no-break and typographic spaces) ...
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
    # ... and the invisible characters that e-mail clients, word processors and chat tools insert: soft
    # hyphen, Mongolian vowel separator, zero-width space, non-joiner and joiner, word joiner, byte-order mark.
    "\xad\u180e\u200b\u200c\u200d\u2060\ufeff"
)
"""Characters removed anywhere in a pasted key before it is read: a key is plain ASCII, so none of these can
be part of it. The JavaScript verifier and the Java snippet of docs/license-keys.md remove the same set."""

_REPASTE: Final = "Copy the whole key again, from the e-mail or from your licenses page."


class _Malformed(Exception):
    def __init__(self, message: str, action: FixAction = FixAction.GET_NEW_KEY) -> None:
        super().__init__(message)
        self.message = message
        self.action = action


_NOT_A_KEY: Final = (
    "This is not a complete license key: a key is three blocks of letters, digits, '-' and '_' joined by "
    "dots. " + _REPASTE
)
_BAD_HEADER: Final = (
    "This is not a Mercato license key: its header must declare the algorithm EdDSA, the type "
    f"{TOKEN_TYPE} and a signing key id. " + _REPASTE
)
_EMPTY: Final = "The license key is empty. Paste the whole key, from the e-mail or from your licenses page."
_BAD_PAYLOAD: Final = "This key's content is not a valid license. " + _REPASTE


def _refuse_number(literal: str) -> object:
    raise ValueError(f"the number {literal} is not an integer")


# A payload holds integers only. Refusing fractions and exponents (10.0, 1e3) and NaN/Infinity while
# parsing keeps Python and JavaScript (whose JSON.parse makes 10.0 an integer) in agreement.
_PAYLOAD_JSON: Final = json.JSONDecoder(parse_float=_refuse_number, parse_constant=_refuse_number)
_PASTE_NOISE_RUN: Final = re.compile(f"[{PASTE_NOISE}]+")
_TOKEN: Final = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)")
_MAX_PASTE_LENGTH: Final = 4 * MAX_KEY_LENGTH

# Encoded header → kid. Every key signed with one signing key has the same header, so an app that checks
# its key at each entry point parses it once. Bounded: an attacker can only make us parse again.
_header_kids: dict[str, str] = {}
_HEADER_CACHE_SIZE: Final = 64


def _read(key: object) -> tuple[str, bytes, bytes, LicensePayload]:
    """Split and decode a key, or raise ``_Malformed`` with the first reason it is not one."""
    if not isinstance(key, str):
        raise _Malformed(_EMPTY)
    compact = key
    match = _TOKEN.fullmatch(key) if len(key) <= MAX_KEY_LENGTH else None
    if match is None:
        # Not a clean key: remove paste noise and try again.
        if len(key) > _MAX_PASTE_LENGTH:
            raise _Malformed(_too_long())
        compact = _PASTE_NOISE_RUN.sub("", key)
        if not compact:
            raise _Malformed(_EMPTY)
        if len(compact) > MAX_KEY_LENGTH:
            raise _Malformed(_too_long())
        match = _TOKEN.fullmatch(compact)
        if match is None:
            raise _Malformed(_NOT_A_KEY)
    header_segment, payload_segment, signature_segment = match.groups()
    kid = _header_kids.get(header_segment)
    if kid is None:
        kid = _read_header(header_segment)
    try:
        signature = b64url_decode(signature_segment)
    except ValueError:
        raise _Malformed(_NOT_A_KEY) from None
    if len(signature) != 64:
        raise _Malformed(_NOT_A_KEY)
    try:
        payload = payload_from_claims(_PAYLOAD_JSON.decode(b64url_decode(payload_segment).decode("utf-8")))
    except UnsupportedFormat as unsupported:
        raise _Malformed(
            f"This key uses license format {unsupported.version}, which this version of the app cannot read. "
            "Update the app; if it is already the latest version, contact the seller of the license.",
            FixAction.CONTACT_SELLER,
        ) from None
    except (ClaimsError, ValueError, RecursionError):
        # ValueError covers base64, UTF-8 and JSON errors; RecursionError deeply nested JSON.
        raise _Malformed(_BAD_PAYLOAD) from None
    signing_input = compact[: len(header_segment) + 1 + len(payload_segment)].encode("ascii")
    return kid, signing_input, signature, payload


def _read_header(segment: str) -> str:
    try:
        header = json.loads(b64url_decode(segment).decode("utf-8"))
    except (ValueError, RecursionError):
        raise _Malformed(_BAD_HEADER) from None
    # The algorithm is fixed: a header naming any other (none, HS256, RS256, ...) is not a license key, and
    # `crit` would ask us to understand extensions we do not know (RFC 7515 §4.1.11). Other members, such as
    # an embedded `jwk`, are ignored: the key is looked up by kid among the trusted keys, never taken from
    # the token.
    if (
        type(header) is not dict
        or header.get("alg") != "EdDSA"
        or header.get("typ") != TOKEN_TYPE
        or "crit" in header
    ):
        raise _Malformed(_BAD_HEADER)
    kid = header.get("kid")
    if type(kid) is not str or not KID_PATTERN.fullmatch(kid):
        raise _Malformed(_BAD_HEADER)
    if len(_header_kids) >= _HEADER_CACHE_SIZE:
        _header_kids.clear()
    _header_kids[segment] = kid
    return kid


def _too_long() -> str:
    return (
        f"This text is too long to be a license key (a key has at most {MAX_KEY_LENGTH} characters). "
        "Paste only the key, from the e-mail or from your licenses page."
    )
