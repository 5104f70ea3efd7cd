"""What a license key says: the license payload, its claims and their canonical JSON form.

A key's payload is a JSON object with short claim names (see ``CLAIMS`` and docs/license-keys.md). The
signer writes it in canonical form (sorted keys, no whitespace, UTF-8), so that one payload always gives the
same bytes and, Ed25519 being deterministic, the same key. Verifiers never re-serialise: the signature covers
the bytes as they are.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Final, TypeVar, cast

FORMAT_VERSION: Final = 1
"""The payload format this library writes and reads (claim ``v``)."""


class Hosting(StrEnum):
    """How the host product is deployed."""

    SERVER = "server"
    DATACENTER = "datacenter"
    CLOUD = "cloud"


class Channel(StrEnum):
    """Who sold the license: the marketplace operator, or the vendor's own direct store."""

    MARKETPLACE = "marketplace"
    DIRECT = "direct"


class LicenseType(StrEnum):
    """License types of apps and of host products (UPM's list, lower case)."""

    COMMERCIAL = "commercial"
    ACADEMIC = "academic"
    STARTER = "starter"
    COMMUNITY = "community"
    OPEN_SOURCE = "open_source"
    EVALUATION = "evaluation"
    DEVELOPER = "developer"


PAID_TYPES: Final = frozenset({LicenseType.COMMERCIAL, LicenseType.ACADEMIC, LicenseType.STARTER})
"""Types someone paid for: a host of a paid type needs an app license of a paid type (UPM's isPaidType)."""

UNPAID_TYPES: Final = frozenset({LicenseType.COMMUNITY, LicenseType.OPEN_SOURCE, LicenseType.DEVELOPER})
"""Free types other than evaluation (evaluations pass every type check)."""

MAX_TIER: Final = 1_000_000_000
"""Largest user tier a key can carry (a bound every JSON implementation represents exactly)."""

OPERATOR_ISSUER: Final = "operator"
VENDOR_ISSUER_PREFIX: Final = "vendor:"

# Identifiers are printed in admin messages and compared by value, so they hold no whitespace, control or
# format characters (checked with str.isprintable, which is much faster than a regex). They are otherwise
# free-form: other parts of Mercato choose them.
_MAX_IDENTIFIER: Final = 200
_VENDOR_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_TIMESTAMP: Final = 253402300799  # 9999-12-31T23:59:59Z, the last second `datetime` can hold


_E = TypeVar("_E", bound=StrEnum)


class ClaimsError(ValueError):
    """The payload of a key is not a valid license payload of the format this library reads."""


class UnsupportedFormat(ClaimsError):
    """The payload declares a format version this library does not read (a newer signer, or garbage)."""

    def __init__(self, version: int) -> None:
        super().__init__(f"license format version {version} is not supported (this library reads version 1)")
        self.version = version


@dataclass(frozen=True, slots=True)
class LicensePayload:
    """The terms of one app license, as signed into a key.

    Construction validates every field and normalises ``issued_at`` to whole seconds in UTC, so that a
    payload read back from a key equals the payload that was signed. String values may be given for the
    enum fields (they are converted); anything invalid raises ``ValueError``.
    """

    license_id: str
    """The license's id in Mercato; stable for the license's life (revocable as a whole)."""
    entitlement_number: str
    """``SEN-…``: what the customer quotes to support; stable across renewals, upgrades and migration."""
    app_key: str
    """The app listing's key, e.g. ``com.example.mockups.wiki``."""
    hosting: Hosting
    channel: Channel
    issuer: str
    """``operator`` for marketplace keys, ``vendor:<slug>`` for the vendor's direct keys."""
    license_type: LicenseType
    tier: int | None
    """Licensed users; None means unlimited."""
    host_binding: str
    """The host instance the key is bound to: the server id (server, datacenter) or the cloud site."""
    maintenance_end: date | None
    """Last day of maintenance: app builds released after it are not covered. None: no such limit."""
    term_end: date | None
    """Last day the license may be used (evaluations, terms and subscriptions). None: perpetual."""
    evaluation: bool
    issued_at: datetime
    """When the key was signed (aware; kept to the second, in UTC)."""
    key_serial: str
    """Unique per key (``jti``): lets one key be revoked or superseded without touching the license."""
    format_version: int = FORMAT_VERSION
    licensed_users: bool = False
    """The listing sells licensed users (claim ``lu``, written only when true): a marketplace key then
    admits at most its tier of app users, and may be below the host's tier, like a direct key."""

    def __post_init__(self) -> None:
        # Runs on every verified key, so it is written for speed: lookups instead of Enum(...) calls.
        set_field = object.__setattr__
        _require_identifier("license_id", self.license_id)
        _require_identifier("app_key", self.app_key)
        _require_identifier("host_binding", self.host_binding)
        _require_identifier("key_serial", self.key_serial)
        sen = self.entitlement_number
        if not (_is_identifier(sen) and sen.startswith("SEN-") and len(sen) > 4):
            raise ValueError(f"entitlement_number must look like 'SEN-…', not {sen!r}")
        if type(self.hosting) is not Hosting:
            set_field(self, "hosting", _member(Hosting, self.hosting))
        channel = self.channel
        if type(channel) is not Channel:
            channel = _member(Channel, channel)
            set_field(self, "channel", channel)
        license_type = self.license_type
        if type(license_type) is not LicenseType:
            license_type = _member(LicenseType, license_type)
            set_field(self, "license_type", license_type)
        _require_issuer(self.issuer, channel)
        tier = self.tier
        if tier is not None and (type(tier) is not int or not 1 <= tier <= MAX_TIER):
            raise ValueError(f"tier must be a positive number of users or None (unlimited): {tier!r}")
        if self.maintenance_end is not None and type(self.maintenance_end) is not date:
            raise ValueError(f"maintenance_end must be a datetime.date or None, not {self.maintenance_end!r}")
        if self.term_end is not None and type(self.term_end) is not date:
            raise ValueError(f"term_end must be a datetime.date or None, not {self.term_end!r}")
        if type(self.evaluation) is not bool:
            raise ValueError(f"evaluation must be a bool, not {self.evaluation!r}")
        if license_type is LicenseType.EVALUATION and not self.evaluation:
            raise ValueError("a license of type 'evaluation' must have evaluation=True")
        if self.evaluation and self.term_end is None:
            raise ValueError("an evaluation needs a term_end (the last day of the evaluation)")
        issued_at = self.issued_at
        if not (type(issued_at) is datetime and issued_at.tzinfo is UTC and not issued_at.microsecond):
            set_field(self, "issued_at", _whole_utc_second(issued_at))
        elif issued_at < _EPOCH:
            raise ValueError(f"issued_at must not be before 1970, not {issued_at!r}")
        if type(self.format_version) is not int or self.format_version != FORMAT_VERSION:
            raise ValueError(f"format_version must be {FORMAT_VERSION}, not {self.format_version!r}")
        if type(self.licensed_users) is not bool:
            raise ValueError(f"licensed_users must be a bool, not {self.licensed_users!r}")

    def to_claims(self) -> dict[str, Any]:
        """The claims object of the key (JSON-ready values). The optional ``lu`` claim is written only when
        true, so keys without it keep the exact bytes (and signatures) they always had."""
        claims: dict[str, Any] = {
            "v": self.format_version,
            "lic": self.license_id,
            "sen": self.entitlement_number,
            "app": self.app_key,
            "hosting": self.hosting.value,
            "channel": self.channel.value,
            "iss": self.issuer,
            "type": self.license_type.value,
            "tier": "unlimited" if self.tier is None else self.tier,
            "bind": self.host_binding,
            "maint": None if self.maintenance_end is None else self.maintenance_end.isoformat(),
            "term": None if self.term_end is None else self.term_end.isoformat(),
            "eval": self.evaluation,
            "iat": int(self.issued_at.timestamp()),
            "jti": self.key_serial,
        }
        if self.licensed_users:
            claims["lu"] = True
        return claims

    def to_dict(self) -> dict[str, Any]:
        """The fields by their Python names, JSON-ready (dates ISO 8601, unlimited tier as "unlimited").
        ``licensed_users`` appears only when true, as its claim does."""
        fields: dict[str, Any] = {
            "license_id": self.license_id,
            "entitlement_number": self.entitlement_number,
            "app_key": self.app_key,
            "hosting": self.hosting.value,
            "channel": self.channel.value,
            "issuer": self.issuer,
            "license_type": self.license_type.value,
            "tier": "unlimited" if self.tier is None else self.tier,
            "host_binding": self.host_binding,
            "maintenance_end": None if self.maintenance_end is None else self.maintenance_end.isoformat(),
            "term_end": None if self.term_end is None else self.term_end.isoformat(),
            "evaluation": self.evaluation,
            "issued_at": self.issued_at.isoformat().replace("+00:00", "Z"),
            "key_serial": self.key_serial,
            "format_version": self.format_version,
        }
        if self.licensed_users:
            fields["licensed_users"] = True
        return fields

    @property
    def seller(self) -> str:
        """Who sold the license, in words: "the marketplace" or "the vendor (<slug>)"."""
        return issuer_in_words(self.issuer)


CLAIMS: Final = frozenset(
    {
        "v",
        "lic",
        "sen",
        "app",
        "hosting",
        "channel",
        "iss",
        "type",
        "tier",
        "bind",
        "maint",
        "term",
        "eval",
        "iat",
        "jti",
    }
)
"""Every required claim name of format version 1; a payload has all of these, and may have ``OPTIONAL_CLAIMS``."""

OPTIONAL_CLAIMS: Final = frozenset({"lu"})
"""Claims a version-1 payload may leave out: ``lu`` (licensed users, a boolean; signers write it only as true)."""


def canonical_json(claims: dict[str, Any]) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 (RFC 8785 for the value types a payload uses)."""
    text = json.dumps(claims, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode()


def payload_from_claims(claims: object) -> LicensePayload:
    """Read a decoded payload object; raise ``ClaimsError`` unless it is a valid version-1 payload.

    JSON types are checked strictly (``true`` is not a number, ``10.0`` is not a tier) because a second
    verifier, in another language, must come to the same verdict on the same bytes.
    """
    if type(claims) is not dict:
        raise ClaimsError("the payload is not a JSON object")
    version = claims.get("v")
    if type(version) is not int:
        raise ClaimsError("the payload has no format version")
    if version != FORMAT_VERSION:
        # Small numbers are real format versions (a newer signer); anything else is garbage.
        if 2 <= version <= 999:
            raise UnsupportedFormat(version)
        raise ClaimsError("the payload has no valid format version")
    names = claims.keys()
    if names != CLAIMS and not (names >= CLAIMS and names - CLAIMS <= OPTIONAL_CLAIMS):
        raise ClaimsError("the payload does not have exactly the claims of format version 1")
    licensed_users = claims.get("lu", False)
    if type(licensed_users) is not bool:
        raise ClaimsError("the licensed-users claim is not true or false")
    tier = claims["tier"]
    if tier == "unlimited":
        tier = None
    elif type(tier) is not int:
        raise ClaimsError("the tier is neither a number of users nor 'unlimited'")
    iat = claims["iat"]
    if type(iat) is not int or not 0 <= iat <= _MAX_TIMESTAMP:
        raise ClaimsError("the issue time is not a timestamp")
    try:
        # Text claims must be JSON strings: _member and _is_identifier only accept str.
        return LicensePayload(
            license_id=claims["lic"],
            entitlement_number=claims["sen"],
            app_key=claims["app"],
            hosting=_member(Hosting, claims["hosting"]),
            channel=_member(Channel, claims["channel"]),
            issuer=claims["iss"],
            license_type=_member(LicenseType, claims["type"]),
            tier=tier,
            host_binding=claims["bind"],
            maintenance_end=_claim_date(claims["maint"]),
            term_end=_claim_date(claims["term"]),
            evaluation=claims["eval"],
            issued_at=datetime.fromtimestamp(iat, UTC),
            key_serial=claims["jti"],
            licensed_users=licensed_users,
        )
    except ClaimsError:
        raise
    except ValueError as error:
        raise ClaimsError(str(error)) from error


def _claim_date(value: object) -> date | None:
    if value is None:
        return None
    # fromisoformat alone would also accept "20250131" and week dates; the format is YYYY-MM-DD only.
    if type(value) is not str or not _ISO_DATE.fullmatch(value):
        raise ClaimsError("a date claim is not a YYYY-MM-DD date")
    return date.fromisoformat(value)


def _member(enum: type[_E], value: object) -> _E:
    """``enum(value)`` for a StrEnum, about ten times faster (``EnumType.__call__`` is slow)."""
    member = enum._value2member_map_.get(value) if isinstance(value, str) else None
    if member is None:
        choices = ", ".join(enum._value2member_map_)
        raise ValueError(f"{value!r} is not a valid {enum.__name__} (one of {choices})")
    return cast(_E, member)


def _is_identifier(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= _MAX_IDENTIFIER
        and value.isprintable()
        and " " not in value
    )


def _require_identifier(name: str, value: object) -> None:
    if not _is_identifier(value):
        raise ValueError(f"{name} must be 1–200 characters without whitespace, not {value!r}")


def is_issuer(value: object) -> bool:
    """Whether ``value`` names an issuer: ``operator``, or ``vendor:<slug>``."""
    if not isinstance(value, str):
        return False
    if value == OPERATOR_ISSUER:
        return True
    return value.startswith(VENDOR_ISSUER_PREFIX) and bool(
        _VENDOR_SLUG.fullmatch(value.removeprefix(VENDOR_ISSUER_PREFIX))
    )


def is_vendor_slug(value: object) -> bool:
    """Whether ``value`` is a vendor's slug, as it appears after ``vendor:`` in an issuer."""
    return isinstance(value, str) and bool(_VENDOR_SLUG.fullmatch(value))


def issuer_in_words(issuer: str) -> str:
    """An issuer as messages name it: "the marketplace" or "the vendor (<slug>)"."""
    if issuer == OPERATOR_ISSUER:
        return "the marketplace"
    return f"the vendor ({issuer.removeprefix(VENDOR_ISSUER_PREFIX)})"


def _require_issuer(issuer: object, channel: Channel) -> None:
    if not isinstance(issuer, str):
        raise ValueError(f"issuer must be a string, not {issuer!r}")
    # The seller of record signs: the operator on the marketplace, the vendor on its direct store.
    if channel is Channel.MARKETPLACE:
        if issuer != OPERATOR_ISSUER:
            raise ValueError(f"a marketplace license is issued by 'operator', not {issuer!r}")
    elif issuer == OPERATOR_ISSUER or not is_issuer(issuer):
        raise ValueError(f"a direct license is issued by 'vendor:<slug>', not {issuer!r}")


def _whole_utc_second(value: object) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"issued_at must be a timezone-aware datetime, not {value!r}")
    utc = value.astimezone(UTC).replace(microsecond=0)
    if utc < _EPOCH:
        raise ValueError(f"issued_at must not be before 1970, not {value!r}")
    return utc
