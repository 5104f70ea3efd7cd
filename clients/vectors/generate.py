"""Generate clients/vectors/license-keys.json: license keys, host contexts and the verdict each must get.

Every verifier of Mercato license keys (Python, JavaScript, and any a vendor writes) replays these cases and
must reach the same status and action; the Python and JavaScript verifiers also match message and payload.

Most expected verdicts are what the Python verifier answers today (the cases pin it down). The forgeries of
``FORGERIES`` are different: their expected verdicts are written here by hand, so a verifier that accepts them
(the Python one included) fails its replay instead of rewriting the answer.

Deterministic: signing keys come from fixed seeds, dates are fixed, and Ed25519 signatures are
deterministic, so running this twice gives the same file byte for byte.

    .venv/bin/python clients/vectors/generate.py          # rewrite the file
    .venv/bin/python clients/vectors/generate.py --check  # exit 1 if the file is not up to date
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import hashlib
import hmac
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mercato.licensing import (
    Channel,
    HostContext,
    Hosting,
    LicensePayload,
    LicenseType,
    TrustedKey,
    check,
    jwks,
    public_key_to_jwk,
    sign_license,
)
from mercato.licensing.claims import canonical_json, payload_from_claims
from mercato.licensing.keys import b64url_decode

VECTORS_FILE = Path(__file__).with_name("license-keys.json")


def signing_key(name: str) -> Ed25519PrivateKey:
    """A test signing key from a fixed, public seed. Never use these outside tests."""
    return Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(f"mercato test vectors: {name}".encode()).digest()
    )


# The operator's keys sign marketplace keys; each vendor's keys sign that vendor's direct keys. The vectors
# trust two vendors, as the license server does: the app's own vendor (example-labs) and another one.
OLD_KID, NEW_KID, RETIRED_KID = "test-2024", "test-2025", "test-2023"
VENDOR_KID, OTHER_VENDOR_KID = "example-labs-2025", "other-labs-2025"
OLD_KEY, NEW_KEY, RETIRED_KEY = signing_key(OLD_KID), signing_key(NEW_KID), signing_key(RETIRED_KID)
VENDOR_KEY, OTHER_VENDOR_KEY = signing_key(VENDOR_KID), signing_key(OTHER_VENDOR_KID)
ATTACKER_KEY = signing_key("attacker")
VENDOR, OTHER_VENDOR = "example-labs", "other-labs"
TRUSTED = {
    OLD_KID: TrustedKey("operator", OLD_KEY.public_key()),
    NEW_KID: TrustedKey("operator", NEW_KEY.public_key()),
    VENDOR_KID: TrustedKey(f"vendor:{VENDOR}", VENDOR_KEY.public_key()),
    OTHER_VENDOR_KID: TrustedKey(f"vendor:{OTHER_VENDOR}", OTHER_VENDOR_KEY.public_key()),
}
SIGNERS = {
    "operator": (NEW_KEY, NEW_KID),
    f"vendor:{VENDOR}": (VENDOR_KEY, VENDOR_KID),
    f"vendor:{OTHER_VENDOR}": (OTHER_VENDOR_KEY, OTHER_VENDOR_KID),
}

APP = "com.example.mockups.wiki"
OTHER_APP = "com.example.diagrams.wiki"
SERVER_ID = "BX7D-3KQ2-9ZLM-WP4T"
TODAY = date(2025, 6, 15)

MARKETPLACE = LicensePayload(
    license_id="lic_01JA6V1M8Y2K3T4Q",
    entitlement_number="SEN-L48213097",
    app_key=APP,
    hosting=Hosting.SERVER,
    channel=Channel.MARKETPLACE,
    issuer="operator",
    license_type=LicenseType.COMMERCIAL,
    tier=100,
    host_binding=SERVER_ID,
    maintenance_end=date(2026, 1, 31),
    term_end=None,
    evaluation=False,
    issued_at=datetime(2025, 1, 31, 10, 0, tzinfo=UTC),
    key_serial="key_01JA6V1M8Y2K3T4QZ7",
)
DIRECT = dataclasses.replace(
    MARKETPLACE,
    license_id="lic_01JB2C9R7X5W1N3P",
    entitlement_number="SEN-D10442871",
    channel=Channel.DIRECT,
    issuer=f"vendor:{VENDOR}",
    tier=10,
    key_serial="key_01JB2C9R7X5W1N3PA2",
)
EVALUATION = dataclasses.replace(
    MARKETPLACE,
    license_id="lic_01JC0E4T2V6B8M1K",
    entitlement_number="SEN-E90016532",
    license_type=LicenseType.EVALUATION,
    evaluation=True,
    tier=None,
    maintenance_end=None,
    term_end=date(2025, 7, 1),
    issued_at=datetime(2025, 6, 1, 8, 15, tzinfo=UTC),
    key_serial="key_01JC0E4T2V6B8M1KQ9",
)
DATACENTER = dataclasses.replace(
    MARKETPLACE,
    license_id="lic_01JD7H3K9P2Q4R6S",
    entitlement_number="SEN-C55120384",
    hosting=Hosting.DATACENTER,
    tier=500,
    maintenance_end=date(2026, 3, 31),
    term_end=date(2026, 3, 31),
    key_serial="key_01JD7H3K9P2Q4R6SB4",
)
CLOUD = dataclasses.replace(
    MARKETPLACE,
    license_id="lic_01JE5F8G1H2J3K4L",
    entitlement_number="SEN-K77301945",
    hosting=Hosting.CLOUD,
    tier=25,
    host_binding="acme.example-cloud.net",
    maintenance_end=None,
    term_end=date(2025, 7, 14),
    key_serial="key_01JE5F8G1H2J3K4LC8",
)

HOST: dict[str, Any] = {
    "app_key": APP,
    "hosting": "server",
    "server_id": SERVER_ID,
    "host_tier": 100,
    "host_license_type": "commercial",
    "app_users": None,
    "build_date": "2025-02-01",
    "today": TODAY.isoformat(),
    "host_name": "the wiki",
    "app_vendor": VENDOR,
}


# Verdicts written by hand rather than taken from check(): the tier rules one user either side of the edge,
# where a verifier that is off by one (``<=`` for ``<``) reaches another verdict. Replaying the vectors then
# tests check() against a person's reading of the rules, not against itself.
HAND_WRITTEN: dict[str, dict[str, str]] = {
    "user-mismatch/marketplace-99-user-key-on-100-user-host": {
        "status": "USER_MISMATCH",
        "message": "This key is for 99 users but the wiki has 100 users. Marketplace licenses must cover every "
        "user of the host: upgrade the app to the 100-user tier.",
        "action": "UPGRADE",
    },
    "users-exceeded/direct-10-user-key-with-11-app-users": {
        "status": "USERS_EXCEEDED",
        "message": "This key is for 10 users but the app has 11 users. A direct license admits at most its tier: "
        "upgrade the app license to at least 11 users, or remove 1 user from the app.",
        "action": "UPGRADE",
    },
    "users-exceeded/marketplace-licensed-users-50-user-key-with-51-app-users": {
        "status": "USERS_EXCEEDED",
        "message": "This key is for 50 users but the app has 51 users. A licensed-users license admits at most "
        "its tier: upgrade the app license to at least 51 users, or remove 1 user from the app.",
        "action": "UPGRADE",
    },
}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def raw_token(
    header: dict[str, Any] | bytes,
    payload: dict[str, Any] | bytes,
    private_key: Ed25519PrivateKey | None = NEW_KEY,
) -> str:
    """A token built by hand (any header, any payload bytes), signed with ``private_key`` if given."""
    header_bytes = header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":")).encode()
    payload_bytes = payload if isinstance(payload, bytes) else canonical_json(payload)
    signing_input = f"{b64(header_bytes)}.{b64(payload_bytes)}"
    signature = b"" if private_key is None else private_key.sign(signing_input.encode())
    return f"{signing_input}.{b64(signature)}"


def header(**changes: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"alg": "EdDSA", "kid": NEW_KID, "typ": "mercato-license+jwt"}
    result.update(changes)
    return {name: value for name, value in result.items() if value is not None}


def claims(payload: LicensePayload = MARKETPLACE, **changes: Any) -> dict[str, Any]:
    result = payload.to_claims()
    result.update(changes)
    return result


def signed(payload: LicensePayload, **changes: Any) -> str:
    """The key of ``payload`` (with changes), signed by the current key of the issuer it names."""
    payload = dataclasses.replace(payload, **changes) if changes else payload
    private_key, kid = SIGNERS[payload.issuer]
    return sign_license(payload, private_key, kid)


def pasted_from_email(key: str) -> str:
    """The key as an e-mail client may deliver it: wrapped at 76 characters, indented, with odd spaces."""
    lines = [key[start : start + 76] for start in range(0, len(key), 76)]
    return "\ufeff  " + "\r\n\u00a0 ".join(lines) + "\u200b\n"


def pasted_with_invisible_characters(key: str) -> str:
    """The key with the invisible characters word processors and chat tools add: word joiner, zero-width
    joiner and non-joiner, soft hyphen, and typographic spaces."""
    invisible = ["\u2060", "\u200d", "\u00ad", "\u200c", "\u3000", "\u2003", "\u205f", "\u1680"]
    pieces = [key[start : start + 80] for start in range(0, len(key), 80)]
    return "".join(piece + invisible[index % len(invisible)] for index, piece in enumerate(pieces))


# The forgeries the issuer binding refuses, each with the verdict written by hand: name, key, host changes,
# revoked, expected (status, action, message). Their keys are signed by trusted keys: only who signed
# them gives them away.
FORGERIES: list[tuple[str, str, dict[str, Any], list[str], tuple[str, str, str]]] = [
    (
        "unknown-key/direct-key-of-the-app-signed-by-another-vendor",
        sign_license(
            dataclasses.replace(DIRECT, issuer=f"vendor:{OTHER_VENDOR}", tier=None),
            OTHER_VENDOR_KEY,
            OTHER_VENDOR_KID,
        ),
        {},
        [],
        (
            "UNKNOWN_KEY",
            "CONTACT_SELLER",
            "This key says it is a direct license of com.example.mockups.wiki from the vendor (other-labs), but "
            "only the vendor (example-labs) sells com.example.mockups.wiki directly, so this key is not genuine. "
            "Contact the vendor (example-labs) for a genuine key of your license.",
        ),
    ),
    (
        "unknown-key/marketplace-key-signed-by-the-apps-own-vendor",
        sign_license(dataclasses.replace(MARKETPLACE, tier=None), VENDOR_KEY, VENDOR_KID),
        {"host_tier": None},
        [],
        (
            "UNKNOWN_KEY",
            "CONTACT_SELLER",
            "This key says it was sold by the marketplace, but it was signed with the signing key "
            "example-labs-2025 of the vendor (example-labs): only the marketplace signs the licenses it sells, "
            "so this key is not genuine. Contact the marketplace for a genuine key of your license.",
        ),
    ),
    (
        "unknown-key/direct-key-of-the-vendor-signed-by-the-operator",
        sign_license(DIRECT, NEW_KEY, NEW_KID),
        {},
        [],
        (
            "UNKNOWN_KEY",
            "CONTACT_SELLER",
            "This key says it was sold by the vendor (example-labs), but it was signed with the signing key "
            "test-2025 of the marketplace: only the vendor (example-labs) signs the licenses it sells, so this "
            "key is not genuine. Contact the vendor (example-labs) for a genuine key of your license.",
        ),
    ),
    (
        "unknown-key/key-of-another-app-naming-another-seller-than-its-signer",
        sign_license(dataclasses.replace(DIRECT, app_key=OTHER_APP), OTHER_VENDOR_KEY, OTHER_VENDOR_KID),
        {},
        [],
        (
            "UNKNOWN_KEY",
            "CONTACT_SELLER",
            "This key says it was sold by the vendor (example-labs), but it was signed with the signing key "
            "other-labs-2025 of the vendor (other-labs): only the vendor (example-labs) signs the licenses it "
            "sells, so this key is not genuine. Contact the vendor (example-labs) for a genuine key of your "
            "license.",
        ),
    ),
    (
        "unknown-key/direct-key-of-an-app-no-vendor-sells-directly",
        sign_license(DIRECT, VENDOR_KEY, VENDOR_KID),
        {"app_vendor": None},
        [],
        (
            "UNKNOWN_KEY",
            "CONTACT_SELLER",
            "This key says it is a direct license of com.example.mockups.wiki from the vendor (example-labs), "
            "but no vendor sells com.example.mockups.wiki directly, so this key is not genuine. Contact the "
            "marketplace for a genuine key of your license.",
        ),
    ),
]


def cases() -> list[dict[str, Any]]:
    good = signed(MARKETPLACE)
    other = signed(DIRECT)
    header_segment, payload_segment, signature_segment = good.split(".")
    public_raw = NEW_KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    hs256_input = f"{b64(json.dumps(header(alg='HS256')).encode())}.{payload_segment}"
    hs256 = f"{hs256_input}.{b64(hmac.new(public_raw, hs256_input.encode(), 'sha256').digest())}"
    attacker_jwk = public_key_to_jwk(NEW_KID, ATTACKER_KEY.public_key(), "operator")
    forged_payload = b64(canonical_json(claims(tier="unlimited")))
    # The last signature character carries 2 bits and 4 unused ones: "A" and "B" decode alike.
    last = signature_segment[-1]
    sibling = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(last) ^ 1
    ]

    table: list[tuple[str, str, dict[str, Any], list[str]]] = [
        # name, key, host changes, revoked
        ("valid/marketplace-perpetual", good, {}, []),
        ("valid/marketplace-unlimited-key-on-100-user-host", signed(MARKETPLACE, tier=None), {}, []),
        (
            "valid/marketplace-unlimited-key-on-unlimited-host",
            signed(MARKETPLACE, tier=None),
            {"host_tier": None},
            [],
        ),
        ("valid/marketplace-ignores-app-users", good, {"app_users": 400}, []),
        (
            "valid/marketplace-academic-key-on-commercial-host",
            signed(MARKETPLACE, license_type=LicenseType.ACADEMIC),
            {},
            [],
        ),
        (
            "valid/marketplace-community-key-on-community-host",
            signed(MARKETPLACE, license_type=LicenseType.COMMUNITY),
            {"host_license_type": "community"},
            [],
        ),
        ("valid/direct-10-user-key-on-100-user-host", other, {"app_users": 10}, []),
        ("valid/direct-10-user-key-on-unlimited-host", other, {"host_tier": None, "app_users": 7}, []),
        ("valid/direct-app-users-unknown", other, {}, []),
        ("valid/evaluation", signed(EVALUATION), {}, []),
        ("valid/evaluation-ends-today", signed(EVALUATION, term_end=TODAY), {}, []),
        ("valid/evaluation-with-small-tier-is-exempt-from-tiers", signed(EVALUATION, tier=10), {}, []),
        (
            "valid/direct-evaluation-is-exempt-from-users",
            signed(DIRECT, evaluation=True, license_type=LicenseType.EVALUATION, term_end=date(2025, 7, 1)),
            {"app_users": 250},
            [],
        ),
        (
            "valid/commercial-evaluation",
            signed(MARKETPLACE, evaluation=True, term_end=date(2025, 7, 1)),
            {},
            [],
        ),
        (
            "valid/host-evaluation-exempts-tiers-and-types",
            signed(MARKETPLACE, tier=10, license_type=LicenseType.DEVELOPER),
            {"host_license_type": "evaluation"},
            [],
        ),
        ("valid/datacenter-term", signed(DATACENTER), {"hosting": "datacenter", "host_tier": 500}, []),
        (
            "valid/cloud-site",
            signed(CLOUD),
            {"hosting": "cloud", "server_id": "ACME.example-cloud.net", "host_tier": 25},
            [],
        ),
        ("valid/pasted-from-an-email", pasted_from_email(good), {}, []),
        ("valid/pasted-with-invisible-characters", pasted_with_invisible_characters(other), {}, []),
        (
            "valid/server-id-compared-trimmed-and-case-insensitive",
            good,
            {"server_id": "  " + SERVER_ID.lower() + "\n"},
            [],
        ),
        ("valid/build-on-maintenance-end", good, {"build_date": "2026-01-31"}, []),
        (
            "valid/no-build-date-skips-maintenance",
            signed(MARKETPLACE, maintenance_end=date(2024, 1, 31)),
            {"build_date": None},
            [],
        ),
        ("valid/rotation-old-signing-key-still-trusted", sign_license(MARKETPLACE, OLD_KEY, OLD_KID), {}, []),
        ("valid/revocation-list-of-other-licenses", good, {}, ["lic_other", "key_other"]),
        ("malformed/empty", "", {}, []),
        ("malformed/only-whitespace", " \r\n\t ", {}, []),
        ("malformed/too-long", good + "." + "A" * 4096, {}, []),
        ("malformed/two-segments", f"{header_segment}.{payload_segment}", {}, []),
        ("malformed/quoted", f'"{good}"', {}, []),
        ("malformed/truncated-signature", good[:-10], {}, []),
        ("malformed/signature-with-unused-bits-set", good[:-1] + sibling, {}, []),
        ("malformed/alg-none-without-signature", raw_token(header(alg="none"), claims(), None), {}, []),
        ("malformed/alg-none-with-signature", raw_token(header(alg="none"), claims()), {}, []),
        ("malformed/alg-hs256-with-public-key-as-secret", hs256, {}, []),
        ("malformed/alg-ed25519-fully-specified", raw_token(header(alg="Ed25519"), claims()), {}, []),
        ("malformed/typ-missing", raw_token(header(typ=None), claims()), {}, []),
        ("malformed/kid-missing", raw_token(header(kid=None), claims()), {}, []),
        ("malformed/kid-not-a-string", raw_token(header(kid=2025), claims()), {}, []),
        ("malformed/crit-header", raw_token(header(crit=["exp"]), claims()), {}, []),
        ("malformed/header-not-json", raw_token(b"alg=EdDSA", claims()), {}, []),
        ("malformed/payload-not-json", raw_token(header(), b"tier=unlimited"), {}, []),
        ("malformed/payload-not-utf-8", raw_token(header(), b'{"v":1,"lic":"\xff"}'), {}, []),
        ("malformed/payload-unknown-claim", raw_token(header(), claims(exp=1767225600)), {}, []),
        (
            "malformed/payload-missing-claim",
            raw_token(header(), {k: v for k, v in claims().items() if k != "bind"}),
            {},
            [],
        ),
        (
            "malformed/payload-tier-as-float",
            raw_token(header(), canonical_json(claims()).replace(b'"tier":100', b'"tier":100.0')),
            {},
            [],
        ),
        ("malformed/payload-tier-as-string", raw_token(header(), claims(tier="100")), {}, []),
        ("malformed/payload-licensed-users-as-number", raw_token(header(), claims(lu=1)), {}, []),
        ("malformed/payload-licensed-users-as-string", raw_token(header(), claims(lu="true")), {}, []),
        ("malformed/payload-date-not-iso", raw_token(header(), claims(maint="20260131")), {}, []),
        ("malformed/payload-impossible-date", raw_token(header(), claims(maint="2026-02-30")), {}, []),
        ("malformed/payload-evaluation-without-end", raw_token(header(), claims(eval=True)), {}, []),
        (
            "malformed/payload-marketplace-issued-by-vendor",
            raw_token(header(), claims(iss="vendor:example-labs")),
            {},
            [],
        ),
        ("malformed/payload-format-version-2", raw_token(header(), claims(v=2, extra="future")), {}, []),
        (
            "malformed/untrusted-garbage-payload-beats-unknown-kid",
            raw_token(header(kid=RETIRED_KID), b"[]", RETIRED_KEY),
            {},
            [],
        ),
        (
            "bad-signature/payload-changed",
            f"{header_segment}.{forged_payload}.{signature_segment}",
            {"host_tier": None},
            [],
        ),
        (
            "bad-signature/signature-of-another-key",
            f"{header_segment}.{payload_segment}.{other.split('.')[2]}",
            {},
            [],
        ),
        (
            "bad-signature/signed-by-attacker-with-trusted-kid",
            raw_token(header(), claims(), ATTACKER_KEY),
            {},
            [],
        ),
        (
            "bad-signature/embedded-jwk-is-ignored",
            raw_token(header(jwk=attacker_jwk), claims(), ATTACKER_KEY),
            {},
            [],
        ),
        (
            "bad-signature/old-signature-under-new-kid",
            raw_token(header(kid=NEW_KID), claims(), OLD_KEY),
            {},
            [],
        ),
        ("unknown-key/retired-signing-key", sign_license(MARKETPLACE, RETIRED_KEY, RETIRED_KID), {}, []),
        (
            "unknown-key/never-trusted-signing-key",
            sign_license(MARKETPLACE, ATTACKER_KEY, "operator-2099"),
            {},
            [],
        ),
        ("app-mismatch/marketplace", good, {"app_key": OTHER_APP}, []),
        (
            "app-mismatch/direct-beats-host-mismatch",
            other,
            {"app_key": OTHER_APP, "server_id": "OTHER-SERVER"},
            [],
        ),
        (
            "app-mismatch/genuine-direct-key-of-another-vendors-app",
            signed(DIRECT, app_key=OTHER_APP, issuer=f"vendor:{OTHER_VENDOR}"),
            {},
            [],
        ),
        ("host-mismatch/marketplace-server", good, {"server_id": "A1B2-C3D4-E5F6-G7H8"}, []),
        (
            "host-mismatch/direct-server-beats-revoked",
            other,
            {"server_id": "A1B2-C3D4-E5F6-G7H8"},
            [DIRECT.license_id],
        ),
        (
            "host-mismatch/cloud-site",
            signed(CLOUD),
            {"hosting": "cloud", "server_id": "other.example-cloud.net"},
            [],
        ),
        ("revoked/marketplace-license", good, {}, [MARKETPLACE.license_id]),
        ("revoked/direct-license-beats-tiers", other, {"app_users": 50}, [DIRECT.license_id]),
        ("revoked/superseded-key-serial", other, {}, [DIRECT.key_serial]),
        ("revoked/license-and-serial", good, {}, [MARKETPLACE.key_serial, MARKETPLACE.license_id]),
        ("users-exceeded/direct-10-user-key-with-25-app-users", other, {"app_users": 25}, []),
        ("users-exceeded/direct-10-user-key-with-11-app-users", other, {"app_users": 11}, []),
        ("users-exceeded/direct-1-user-key", signed(DIRECT, tier=1), {"app_users": 2}, []),
        ("user-mismatch/marketplace-50-user-key-on-100-user-host", signed(MARKETPLACE, tier=50), {}, []),
        ("user-mismatch/marketplace-99-user-key-on-100-user-host", signed(MARKETPLACE, tier=99), {}, []),
        ("user-mismatch/marketplace-key-on-unlimited-host", good, {"host_tier": None}, []),
        (
            "user-mismatch/beats-type-mismatch",
            signed(MARKETPLACE, tier=10, license_type=LicenseType.COMMUNITY),
            {},
            [],
        ),
        (
            "user-mismatch/cloud",
            signed(CLOUD),
            {"hosting": "cloud", "server_id": CLOUD.host_binding, "host_tier": 50},
            [],
        ),
        (
            "valid/marketplace-licensed-users-50-user-key-on-100-user-host",
            signed(MARKETPLACE, tier=50, licensed_users=True),
            {"app_users": 50},
            [],
        ),
        (
            "valid/marketplace-licensed-users-app-users-unknown",
            signed(MARKETPLACE, tier=50, licensed_users=True),
            {},
            [],
        ),
        (
            "valid/marketplace-licensed-users-key-on-unlimited-host",
            signed(MARKETPLACE, tier=50, licensed_users=True),
            {"host_tier": None, "app_users": 10},
            [],
        ),
        (
            "users-exceeded/marketplace-licensed-users-50-user-key-with-51-app-users",
            signed(MARKETPLACE, tier=50, licensed_users=True),
            {"app_users": 51},
            [],
        ),
        (
            "type-mismatch/community-key-on-commercial-host",
            signed(MARKETPLACE, license_type=LicenseType.COMMUNITY),
            {},
            [],
        ),
        (
            "type-mismatch/open-source-key-on-academic-host",
            signed(DIRECT, license_type=LicenseType.OPEN_SOURCE),
            {"host_license_type": "academic"},
            [],
        ),
        (
            "type-mismatch/developer-key-on-starter-host",
            signed(MARKETPLACE, license_type=LicenseType.DEVELOPER),
            {"host_license_type": "starter"},
            [],
        ),
        (
            "type-mismatch/server-key-on-datacenter-host-skips-tiers",
            other,
            {"hosting": "datacenter", "host_tier": 500, "app_users": 300},
            [],
        ),
        ("type-mismatch/datacenter-key-on-server-host", signed(DATACENTER), {}, []),
        ("type-mismatch/server-evaluation-on-cloud-site", signed(EVALUATION), {"hosting": "cloud"}, []),
        ("expired/evaluation", signed(EVALUATION, term_end=date(2025, 6, 14)), {}, []),
        (
            "expired/datacenter-term",
            signed(DATACENTER, term_end=date(2025, 3, 31)),
            {"hosting": "datacenter", "host_tier": 500},
            [],
        ),
        (
            "expired/direct-term-beats-version",
            signed(DIRECT, term_end=date(2025, 5, 31), maintenance_end=date(2025, 5, 31)),
            {"build_date": "2025-06-01"},
            [],
        ),
        ("version-mismatch/marketplace-build-after-maintenance", good, {"build_date": "2026-02-01"}, []),
        ("version-mismatch/direct-build-after-maintenance", other, {"build_date": "2026-02-01"}, []),
    ]
    result = []
    for name, key, host_changes, revoked in table:
        host = {**HOST, **host_changes}
        if name in HAND_WRITTEN:
            expected = {**HAND_WRITTEN[name], "payload": genuine_payload(key)}
        else:
            verdict = check(key, TRUSTED, host_context(host), revoked).to_dict()
            payload = {
                field: verdict.pop(field)
                for field in list(verdict)
                if field not in ("status", "message", "action")
            }
            expected = {**verdict, "payload": payload or None}
        result.append({"name": name, "key": key, "host": host, "revoked": revoked, "expected": expected})
    for name, key, host_changes, revoked, (status, action, message) in FORGERIES:
        # Written by hand, never computed: not genuine, so no payload.
        expected = {"status": status, "message": message, "action": action, "payload": None}
        result.append(
            {"name": name, "key": key, "host": {**HOST, **host_changes}, "revoked": revoked, "expected": expected}
        )
    assert set(HAND_WRITTEN) <= {case["name"] for case in result}, "a hand-written verdict names no case"
    return result


def genuine_payload(key: str) -> dict[str, Any]:
    """The payload of a key this generator signed, read without check()."""
    return payload_from_claims(json.loads(b64url_decode(key.split(".")[1]))).to_dict()


def host_context(host: dict[str, Any]) -> HostContext:
    """A ``HostContext`` from the JSON form of the vectors."""
    return HostContext(
        app_key=host["app_key"],
        hosting=Hosting(host["hosting"]),
        server_id=host["server_id"],
        host_tier=host["host_tier"],
        host_license_type=LicenseType(host["host_license_type"]),
        app_users=host["app_users"],
        build_date=None if host["build_date"] is None else date.fromisoformat(host["build_date"]),
        today=date.fromisoformat(host["today"]),
        host_name=host["host_name"],
        app_vendor=host["app_vendor"],
    )


def render() -> str:
    """The vectors file's exact text."""
    document = {
        "description": (
            "Mercato license key test vectors (format 1). Generated by clients/vectors/generate.py; do not "
            "edit. Every verifier must reach expected.status and expected.action; the reference verifiers "
            "also match expected.message and expected.payload."
        ),
        "trusted_jwks": jwks(TRUSTED),
        "cases": cases(),
    }
    return json.dumps(document, indent=2, ensure_ascii=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is not up to date")
    options = parser.parse_args()
    text = render()
    if options.check:
        current = VECTORS_FILE.read_text(encoding="utf-8") if VECTORS_FILE.exists() else ""
        if current != text:
            print(f"{VECTORS_FILE} is out of date: run {Path(__file__).as_posix()}", file=sys.stderr)
            return 1
        return 0
    VECTORS_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {len(json.loads(text)['cases'])} cases to {VECTORS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
