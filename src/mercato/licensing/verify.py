"""The offline license check: one key, the trusted public keys and the host's context give one verdict.

Statuses are decided in a fixed order and the first failure wins (docs/license-keys.md has the table):

1. ``MALFORMED``: the text is not a license key of format 1. Checked in this order, on the key with paste
   noise (whitespace, line breaks) removed: length, three base64url segments, header (exactly ``alg`` EdDSA,
   ``typ`` mercato-license+jwt, a valid ``kid``, no ``crit``), a 64-byte signature, payload (UTF-8 JSON
   object with exactly the claims of format 1, each of the right type).
2. ``BAD_SIGNATURE``: well formed, the kid is trusted, but the Ed25519 signature does not verify.
3. ``UNKNOWN_KEY``: well formed, but the kid is not among the trusted keys, so the signature cannot be
   checked. (2 and 3 exclude each other, so their relative order never decides anything.) Also
   ``UNKNOWN_KEY`` (with ``CONTACT_SELLER``): the signature verified, but its signer may not sell this
   license. Each trusted key is bound to one issuer; the signer must be the issuer the key names, and for a
   key of this app that issuer must be the one that sells it in the key's channel: the operator on the
   marketplace, the app's vendor (``HostContext.app_vendor``) on the direct channel.
4. the license rules of ``evaluate``, on a payload whose signature verified.

Nothing here reads a clock, a file or the network: ``HostContext.today`` is the date.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Final

from cryptography.exceptions import InvalidSignature

from mercato.licensing.claims import (
    PAID_TYPES,
    UNPAID_TYPES,
    VENDOR_ISSUER_PREFIX,
    Channel,
    ClaimsError,
    Hosting,
    LicensePayload,
    LicenseType,
    UnsupportedFormat,
    is_vendor_slug,
    issuer_in_words,
    payload_from_claims,
)
from mercato.licensing.keys import KID_PATTERN, TOKEN_TYPE, TrustedKeys, b64url_decode

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


_HOSTING_NAMES: Final = {Hosting.SERVER: "Server", Hosting.DATACENTER: "Data Center", Hosting.CLOUD: "Cloud"}
_HOSTING_PLACES: Final = {
    Hosting.SERVER: "a Server installation",
    Hosting.DATACENTER: "a Data Center installation",
    Hosting.CLOUD: "a Cloud site",
}
_REPASTE: Final = "Copy the whole key again, from the e-mail or from your licenses page."


@dataclass(frozen=True, slots=True)
class HostContext:
    """What the app knows about the host it runs in, at the time of the check."""

    app_key: str
    """The key of the app doing the check, e.g. ``com.example.mockups.wiki``."""
    hosting: Hosting
    server_id: str
    """The host's server id (server, datacenter) or its cloud site."""
    host_tier: int | None
    """Users of the host's own license; None means unlimited."""
    host_license_type: LicenseType
    app_users: int | None
    """Users of the app (direct channel licenses admit at most their tier); None when unknown."""
    build_date: date | None
    """Build date of the running app version; None skips the maintenance check."""
    today: date
    host_name: str = "the host"
    """How messages name the host product, e.g. "the wiki"."""
    app_vendor: str | None = None
    """The slug of the vendor that sells this app on its direct store (``example-labs`` for the issuer
    ``vendor:example-labs``): only that vendor's direct keys of this app are genuine. None: nobody sells the
    app directly, so every direct key of it is refused."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "hosting", Hosting(self.hosting))
        object.__setattr__(self, "host_license_type", LicenseType(self.host_license_type))
        if not isinstance(self.app_key, str) or not self.app_key:
            raise ValueError("app_key must be a non-empty string")
        if not isinstance(self.server_id, str) or not self.server_id.strip(PASTE_NOISE):
            raise ValueError("server_id must be a non-empty string")
        if self.host_tier is not None and (type(self.host_tier) is not int or self.host_tier < 1):
            raise ValueError(f"host_tier must be a positive number of users or None, not {self.host_tier!r}")
        if self.app_users is not None and (type(self.app_users) is not int or self.app_users < 0):
            raise ValueError(f"app_users must be a number of users or None, not {self.app_users!r}")
        if self.build_date is not None and type(self.build_date) is not date:
            raise ValueError(f"build_date must be a datetime.date or None, not {self.build_date!r}")
        if type(self.today) is not date:
            raise ValueError(f"today must be a datetime.date, not {self.today!r}")
        if not isinstance(self.host_name, str) or not self.host_name:
            raise ValueError("host_name must be a non-empty string")
        if self.app_vendor is not None and not is_vendor_slug(self.app_vendor):
            raise ValueError(
                f"app_vendor must be a vendor's slug such as 'example-labs' or None, not {self.app_vendor!r}"
            )


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


@dataclass(frozen=True, slots=True)
class SignedLicense:
    """A key whose signature verified with a trusted public key: which key signed it, the issuer that key is
    bound to, and what the key says. Not yet judged: whether that signer may sell this license, and the
    license rules, depend on the host (``evaluate_signed``)."""

    kid: str
    signer: str
    """The issuer the signing key is bound to in the trusted keys: ``operator`` or ``vendor:<slug>``."""
    payload: LicensePayload


def check(key: str, trusted: TrustedKeys, host: HostContext, revoked: Collection[str] = ()) -> Verdict:
    """Check a pasted license key offline.

    ``trusted`` maps signing key ids to their public keys and issuers; ``revoked`` holds revoked license ids
    and/or key serials (a set is fastest). Never raises for any ``key``: text that is not a key is
    ``MALFORMED``.
    """
    signed = authenticate(key, trusted)
    if isinstance(signed, Verdict):
        return signed
    return evaluate_signed(signed, host, revoked)


def authenticate(key: str, trusted: TrustedKeys) -> SignedLicense | Verdict:
    """The first steps of ``check``: the key as a ``SignedLicense`` when it is well formed and its signature
    verifies with a trusted key, else the ``MALFORMED``, ``UNKNOWN_KEY`` or ``BAD_SIGNATURE`` verdict.

    Its answer depends on the key and the trusted keys only, so a license server may remember it.
    """
    try:
        kid, signing_input, signature, payload = _read(key)
    except _Malformed as malformed:
        return Verdict(LicenseStatus.MALFORMED, malformed.message, malformed.action)
    trusted_key = trusted.get(kid)
    if trusted_key is None:
        return Verdict(
            LicenseStatus.UNKNOWN_KEY,
            f"This key was signed with the signing key {kid}, which this app does not trust (it may have "
            "been retired). Get the current key of your license from your licenses page; if it gives the "
            "same message, update the app.",
            FixAction.GET_NEW_KEY,
        )
    try:
        trusted_key.public_key.verify(signature, signing_input)
    except InvalidSignature:
        return Verdict(
            LicenseStatus.BAD_SIGNATURE,
            "This key's signature does not match its content: the key was changed after it was issued, or it "
            "is not genuine. " + _REPASTE,
            FixAction.GET_NEW_KEY,
        )
    return SignedLicense(kid, trusted_key.issuer, payload)


def evaluate_signed(signed: SignedLicense, host: HostContext, revoked: Collection[str] = ()) -> Verdict:
    """The rest of ``check`` for a key whose signature verified: the issuer binding (``UNKNOWN_KEY`` when
    the signer may not sell this license), then the license rules of ``evaluate``."""
    payload = signed.payload
    # 1. The signer is the seller of record the key names. Claims already tie the channel to the issuer
    #    (marketplace: operator; direct: a vendor), so this also keeps vendors' keys off marketplace licenses.
    if signed.signer != payload.issuer:
        return Verdict(
            LicenseStatus.UNKNOWN_KEY,
            f"This key says it was sold by {payload.seller}, but it was signed with the signing key "
            f"{signed.kid} of {issuer_in_words(signed.signer)}: only {payload.seller} signs the licenses it "
            f"sells, so this key is not genuine. Contact {payload.seller} for a genuine key of your license.",
            FixAction.CONTACT_SELLER,
        )
    # 2. For a key of this app, that seller may sell it in this channel: the operator sells every app on the
    #    marketplace; only the app's own vendor sells it directly. (A key of another app fails APP_MISMATCH:
    #    the app knows its own vendor, not the vendors of other apps.)
    direct_seller = None if host.app_vendor is None else VENDOR_ISSUER_PREFIX + host.app_vendor
    if (
        payload.channel is Channel.DIRECT
        and payload.app_key == host.app_key
        and payload.issuer != direct_seller
    ):
        if direct_seller is None:
            sellers, rightful = "no vendor sells", "the marketplace"
        else:
            rightful = issuer_in_words(direct_seller)
            sellers = f"only {rightful} sells"
        return Verdict(
            LicenseStatus.UNKNOWN_KEY,
            f"This key says it is a direct license of {payload.app_key} from {payload.seller}, but {sellers} "
            f"{payload.app_key} directly, so this key is not genuine. Contact {rightful} for a genuine key of "
            "your license.",
            FixAction.CONTACT_SELLER,
        )
    return evaluate(payload, host, revoked)


def evaluate(payload: LicensePayload, host: HostContext, revoked: Collection[str] = ()) -> Verdict:
    """The license rules, from ``APP_MISMATCH`` to ``VALID``, for a payload already known to be genuine and
    sold by whom may sell it (from a key that passed ``evaluate_signed``'s issuer binding, or from the
    license server's own records)."""
    if payload.app_key != host.app_key:
        return Verdict(
            LicenseStatus.APP_MISMATCH,
            f"This key is for the app {payload.app_key}, not for {host.app_key}. "
            f"Paste the key issued for {host.app_key}, from your licenses page.",
            FixAction.GET_NEW_KEY,
            payload,
        )
    if _binding(payload.host_binding) != _binding(host.server_id):
        what = "site" if host.hosting is Hosting.CLOUD else "server ID"
        server_id = host.server_id.strip(PASTE_NOISE)
        return Verdict(
            LicenseStatus.HOST_MISMATCH,
            f"This key is bound to the {what} {payload.host_binding}, but the {what} of {host.host_name} is "
            f"{server_id}. Get a key for {server_id} from your licenses page, or ask {payload.seller} to "
            "move the license.",
            FixAction.GET_NEW_KEY,
            payload,
        )
    if revoked:
        if payload.license_id in revoked:
            return Verdict(
                LicenseStatus.REVOKED,
                f"License {payload.entitlement_number} has been revoked. Contact {payload.seller} to find "
                "out why and to get a valid license.",
                FixAction.CONTACT_SELLER,
                payload,
            )
        if payload.key_serial in revoked:
            return Verdict(
                LicenseStatus.REVOKED,
                f"This key (serial {payload.key_serial}) has been replaced by a newer key of license "
                f"{payload.entitlement_number}. Paste the newest key, from your licenses page.",
                FixAction.GET_NEW_KEY,
                payload,
            )
    # Evaluations (of the app or of the host) pass the tier and type rules, as in UPM.
    exempt = payload.evaluation or host.host_license_type is LicenseType.EVALUATION
    same_hosting = payload.hosting is host.hosting
    # Tiers of different hostings are not comparable; a key for the wrong hosting is a TYPE_MISMATCH below.
    if not exempt and same_hosting and payload.tier is not None:
        if payload.channel is Channel.DIRECT:
            app_users = host.app_users
            if app_users is not None and app_users > payload.tier:
                return Verdict(
                    LicenseStatus.USERS_EXCEEDED,
                    f"This key is for {_users(payload.tier)} but the app has {_users(app_users)}. A direct "
                    "license admits at most its tier: upgrade the app license to at least "
                    f"{_users(app_users)}, or remove {_users(app_users - payload.tier)} from the app.",
                    FixAction.UPGRADE,
                    payload,
                )
        elif host.host_tier is None or payload.tier < host.host_tier:
            return Verdict(
                LicenseStatus.USER_MISMATCH,
                f"This key is for {_users(payload.tier)} but {host.host_name} has {_users(host.host_tier)}. "
                "Marketplace licenses must cover every user of the host: upgrade the app to the "
                f"{_tier_name(host.host_tier)} tier.",
                FixAction.UPGRADE,
                payload,
            )
    if not same_hosting:
        return Verdict(
            LicenseStatus.TYPE_MISMATCH,
            f"This key is for {_HOSTING_PLACES[payload.hosting]}, but {host.host_name} is "
            f"{_HOSTING_PLACES[host.hosting]}. Buy a {_HOSTING_NAMES[host.hosting]} license of the app.",
            FixAction.BUY,
            payload,
        )
    if not exempt and host.host_license_type in PAID_TYPES and payload.license_type in UNPAID_TYPES:
        return Verdict(
            LicenseStatus.TYPE_MISMATCH,
            f"This is {_a(_type_name(payload.license_type))} license, but {host.host_name} has "
            f"{_a(_type_name(host.host_license_type))} license. A paid host needs a paid app license "
            "(commercial, academic or starter): buy one.",
            FixAction.BUY,
            payload,
        )
    if payload.term_end is not None and payload.term_end < host.today:
        if payload.evaluation:
            return Verdict(
                LicenseStatus.EXPIRED,
                f"This evaluation license was valid until {payload.term_end.isoformat()}. "
                "Buy a license to keep using the app.",
                FixAction.BUY,
                payload,
            )
        return Verdict(
            LicenseStatus.EXPIRED,
            f"This license's term ended on {payload.term_end.isoformat()}. Renew it to keep using the app.",
            FixAction.RENEW,
            payload,
        )
    if (
        payload.maintenance_end is not None
        and host.build_date is not None
        and host.build_date > payload.maintenance_end
    ):
        maintenance_end = payload.maintenance_end.isoformat()
        return Verdict(
            LicenseStatus.VERSION_MISMATCH,
            f"This version of the app was built on {host.build_date.isoformat()}, after the license's "
            f"maintenance ended on {maintenance_end}. Renew maintenance to use this version, or install a "
            f"version built on or before {maintenance_end}.",
            FixAction.RENEW,
            payload,
        )
    kind = _type_name(payload.license_type)
    if payload.evaluation and payload.license_type is not LicenseType.EVALUATION:
        kind += " evaluation"
    until = "" if payload.term_end is None else f", until {payload.term_end.isoformat()}"
    return Verdict(
        LicenseStatus.VALID,
        f"This key is valid: {kind} license {payload.entitlement_number} for {_users(payload.tier)}{until}.",
        FixAction.NONE,
        payload,
    )


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


def _binding(value: str) -> str:
    return value.strip(PASTE_NOISE).lower()


def _users(count: int | None) -> str:
    if count is None:
        return "unlimited users"
    return "1 user" if count == 1 else f"{count} users"


def _tier_name(tier: int | None) -> str:
    return "unlimited" if tier is None else f"{tier}-user"


def _type_name(license_type: LicenseType) -> str:
    return license_type.value.replace("_", " ")


def _a(noun_phrase: str) -> str:
    return ("an " if noun_phrase[0] in "aeiou" else "a ") + noun_phrase
