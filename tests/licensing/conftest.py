"""Shared builders for the licensing tests: fixed signing keys, a typical license and a typical host.

The builders are session-scoped fixtures returning plain functions, so that hypothesis tests can use them.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mercato.licensing import (
    Channel,
    HostContext,
    Hosting,
    LicensePayload,
    LicenseType,
    TrustedKey,
    sign_license,
)

TODAY = date(2025, 6, 15)


def seeded_key(name: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"mercato tests: {name}".encode()).digest())


SIGNING_KEYS = {
    "operator-2024": seeded_key("operator-2024"),
    "operator-2025": seeded_key("operator-2025"),
    "example-labs-2025": seeded_key("example-labs-2025"),
    "other-labs-2025": seeded_key("other-labs-2025"),
}
ISSUERS = {
    "operator-2024": "operator",
    "operator-2025": "operator",
    "example-labs-2025": "vendor:example-labs",
    "other-labs-2025": "vendor:other-labs",
}
CURRENT_KID = "operator-2025"
"""Signs marketplace keys; direct keys of the typical app are signed by its vendor's ``example-labs-2025``."""
VENDOR_KID = "example-labs-2025"
# Trusted as the license server trusts them: the operator's keys and two vendors' keys.
TRUSTED = {
    kid: TrustedKey(ISSUERS[kid], private_key.public_key()) for kid, private_key in SIGNING_KEYS.items()
}

BASE_PAYLOADS = {
    Channel.MARKETPLACE: LicensePayload(
        license_id="lic_01JA6V1M8Y2K3T4Q",
        entitlement_number="SEN-L48213097",
        app_key="com.example.mockups.wiki",
        hosting=Hosting.SERVER,
        channel=Channel.MARKETPLACE,
        issuer="operator",
        license_type=LicenseType.COMMERCIAL,
        tier=100,
        host_binding="BX7D-3KQ2-9ZLM-WP4T",
        maintenance_end=date(2026, 1, 31),
        term_end=None,
        evaluation=False,
        issued_at=datetime(2025, 1, 31, 10, 0, tzinfo=UTC),
        key_serial="key_01JA6V1M8Y2K3T4QZ7",
    ),
}
BASE_PAYLOADS[Channel.DIRECT] = dataclasses.replace(
    BASE_PAYLOADS[Channel.MARKETPLACE],
    license_id="lic_01JB2C9R7X5W1N3P",
    entitlement_number="SEN-D10442871",
    channel=Channel.DIRECT,
    issuer="vendor:example-labs",
    key_serial="key_01JB2C9R7X5W1N3PA2",
)

BASE_HOST = HostContext(
    app_key="com.example.mockups.wiki",
    hosting=Hosting.SERVER,
    server_id="BX7D-3KQ2-9ZLM-WP4T",
    host_tier=100,
    host_license_type=LicenseType.COMMERCIAL,
    app_users=None,
    build_date=date(2025, 2, 1),
    today=TODAY,
    host_name="the wiki",
    app_vendor="example-labs",
)

MakePayload = Callable[..., LicensePayload]
MakeHost = Callable[..., HostContext]
Sign = Callable[..., str]


@pytest.fixture(scope="session")
def make_payload() -> MakePayload:
    """A typical perpetual 100-user server license of the given channel, with changes."""

    def build(channel: Channel = Channel.MARKETPLACE, /, **changes: Any) -> LicensePayload:
        return dataclasses.replace(BASE_PAYLOADS[channel], **changes)

    return build


@pytest.fixture(scope="session")
def make_evaluation() -> MakePayload:
    """A 30-day evaluation of the given channel (unlimited tier, no maintenance end), with changes."""

    def build(channel: Channel = Channel.MARKETPLACE, /, **changes: Any) -> LicensePayload:
        evaluation = dataclasses.replace(
            BASE_PAYLOADS[channel],
            license_type=LicenseType.EVALUATION,
            evaluation=True,
            tier=None,
            maintenance_end=None,
            term_end=date(2025, 7, 1),
            issued_at=datetime(2025, 6, 1, tzinfo=UTC),
        )
        return dataclasses.replace(evaluation, **changes)

    return build


@pytest.fixture(scope="session")
def make_host() -> MakeHost:
    """The 100-user commercial server wiki the typical license is bound to, with changes."""

    def build(**changes: Any) -> HostContext:
        return dataclasses.replace(BASE_HOST, **changes)

    return build


@pytest.fixture(scope="session")
def sign() -> Sign:
    """Sign a payload with the current key of its issuer (or with the named trusted signing key)."""

    def build(payload: LicensePayload, kid: str | None = None) -> str:
        if kid is None:
            kid = CURRENT_KID if payload.issuer == "operator" else VENDOR_KID
        return sign_license(payload, SIGNING_KEYS[kid], kid)

    return build


@pytest.fixture(scope="session")
def trusted() -> dict[str, Any]:
    return dict(TRUSTED)
