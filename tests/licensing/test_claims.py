"""The key format: the payload's fields, its claims and canonical JSON, the key's size and determinism."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from mercato.licensing import (
    CLAIMS,
    Channel,
    HostContext,
    Hosting,
    LicensePayload,
    LicenseStatus,
    LicenseType,
    TrustedKey,
    check,
    sign_license,
)
from mercato.licensing.claims import canonical_json, payload_from_claims
from mercato.licensing.keys import b64url_decode


def test_claim_names_are_short_and_documented(make_payload):
    claims = make_payload().to_claims()
    assert (
        set(claims)
        == CLAIMS
        == {
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
    text = (Path(__file__).parents[2] / "docs" / "license-keys.md").read_text(encoding="utf-8")
    for name in CLAIMS:
        assert f"| `{name}` |" in text, f"claim {name} is not in the claims table of docs/license-keys.md"


def test_payload_is_canonical_json(make_payload, sign):
    key = sign(make_payload())
    payload_bytes = b64url_decode(key.split(".")[1])
    claims = json.loads(payload_bytes)
    assert payload_bytes == json.dumps(claims, sort_keys=True, separators=(",", ":")).encode()
    assert list(claims) == sorted(claims)


def test_header_is_fixed_and_canonical(make_payload, sign):
    header = b64url_decode(sign(make_payload()).split(".")[0])
    assert header == b'{"alg":"EdDSA","kid":"operator-2025","typ":"mercato-license+jwt"}'


def test_claims_hold_readable_values(make_payload, make_evaluation):
    claims = make_payload(tier=None).to_claims()
    assert claims["tier"] == "unlimited"
    assert claims["maint"] == "2026-01-31" and claims["term"] is None
    assert claims["iat"] == int(datetime(2025, 1, 31, 10, 0, tzinfo=UTC).timestamp())
    assert claims["sen"].startswith("SEN-") and claims["iss"] == "operator" and claims["v"] == 1
    evaluation = make_evaluation().to_claims()
    assert (
        evaluation["eval"] is True
        and evaluation["term"] == "2025-07-01"
        and evaluation["type"] == "evaluation"
    )


def test_typical_key_is_well_under_one_kilobyte(make_payload, make_evaluation, sign):
    longest = make_payload(
        Channel.DIRECT,
        license_id="lic_01JA6V1M8Y2K3T4Q9W8E7R6T5Y",
        entitlement_number="SEN-D1044287100",
        app_key="com.example-software-labs.mockups-and-wireframes.confluence",
        issuer="vendor:example-software-labs",
        host_binding="acme-corporation-europe.example-cloud.net",
        hosting=Hosting.CLOUD,
        term_end=date(2026, 12, 31),
        key_serial="key_01JA6V1M8Y2K3T4Q9W8E7R6T5YZ7",
    )
    for payload in (make_payload(), make_evaluation(), longest):
        key = sign(payload)
        assert len(key.encode()) < 800, len(key)
    assert len(sign(make_payload())) < 620


def test_signing_is_deterministic(make_payload, sign):
    assert sign(make_payload()) == sign(make_payload())


def test_issued_at_is_kept_to_the_second_in_utc(make_payload, make_host, sign, trusted):
    paris = timezone(timedelta(hours=2))
    payload = make_payload(issued_at=datetime(2025, 6, 1, 12, 30, 15, 987654, tzinfo=paris))
    assert payload.issued_at == datetime(2025, 6, 1, 10, 30, 15, tzinfo=UTC)
    assert payload.issued_at.tzinfo is UTC
    assert check(sign(payload), trusted, make_host()).payload == payload


def test_enum_fields_accept_their_string_values(make_payload):
    payload = make_payload(
        hosting="cloud",
        channel="direct",
        issuer="vendor:acme",
        license_type="open_source",
        term_end=date(2026, 1, 1),
    )
    assert (payload.hosting, payload.channel, payload.license_type) == (
        Hosting.CLOUD,
        Channel.DIRECT,
        LicenseType.OPEN_SOURCE,
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"license_id": ""},
        {"license_id": "lic 1"},
        {"license_id": "lic\n1"},
        {"license_id": "x" * 201},
        {"app_key": "com.example\u200bmockups"},
        {"host_binding": " "},
        {"key_serial": None},
        {"entitlement_number": "L48213097"},
        {"entitlement_number": "SEN-"},
        {"entitlement_number": "sen-123"},
        {"hosting": "mainframe"},
        {"channel": "reseller"},
        {"license_type": "pirated"},
        {"issuer": "vendor:acme"},
        {"channel": Channel.DIRECT, "issuer": "operator"},
        {"channel": Channel.DIRECT, "issuer": "vendor:"},
        {"channel": Channel.DIRECT, "issuer": "vendor:a b"},
        {"tier": 0},
        {"tier": -10},
        {"tier": True},
        {"tier": 10.0},
        {"tier": 1_000_000_001},
        {"tier": "unlimited"},
        {"maintenance_end": "2026-01-31"},
        {"maintenance_end": datetime(2026, 1, 31, tzinfo=UTC)},
        {"term_end": 20260131},
        {"evaluation": 1},
        {"evaluation": True},
        {"license_type": LicenseType.EVALUATION},
        {"issued_at": datetime(2025, 1, 31, 10, 0)},
        {"issued_at": date(2025, 1, 31)},
        {"issued_at": datetime(1969, 12, 31, tzinfo=UTC)},
        {"format_version": 2},
    ],
)
def test_invalid_payloads_cannot_be_built(changes, make_payload):
    with pytest.raises(ValueError):
        make_payload(**changes)


def test_claims_round_trip(make_payload, make_evaluation):
    for payload in (make_payload(), make_payload(Channel.DIRECT, tier=None), make_evaluation()):
        assert payload_from_claims(json.loads(canonical_json(payload.to_claims()))) == payload


def test_payload_to_dict_uses_field_names_and_json_values(make_payload):
    result = make_payload(tier=None).to_dict()
    assert result == {
        "license_id": "lic_01JA6V1M8Y2K3T4Q",
        "entitlement_number": "SEN-L48213097",
        "app_key": "com.example.mockups.wiki",
        "hosting": "server",
        "channel": "marketplace",
        "issuer": "operator",
        "license_type": "commercial",
        "tier": "unlimited",
        "host_binding": "BX7D-3KQ2-9ZLM-WP4T",
        "maintenance_end": "2026-01-31",
        "term_end": None,
        "evaluation": False,
        "issued_at": "2025-01-31T10:00:00Z",
        "key_serial": "key_01JA6V1M8Y2K3T4QZ7",
        "format_version": 1,
    }


_identifiers = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("C", "Z")), min_size=1, max_size=40
)
_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@st.composite
def payloads(draw: st.DrawFn) -> LicensePayload:
    channel = draw(st.sampled_from(list(Channel)))
    evaluation = draw(st.booleans())
    return LicensePayload(
        license_id=draw(_identifiers),
        entitlement_number="SEN-" + draw(_identifiers),
        app_key=draw(_identifiers),
        hosting=draw(st.sampled_from(list(Hosting))),
        channel=channel,
        issuer="operator"
        if channel is Channel.MARKETPLACE
        else "vendor:" + draw(st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)),
        license_type=draw(st.sampled_from(list(LicenseType)))
        if evaluation
        else draw(st.sampled_from([t for t in LicenseType if t is not LicenseType.EVALUATION])),
        tier=draw(st.none() | st.integers(min_value=1, max_value=1_000_000_000)),
        host_binding=draw(_identifiers),
        maintenance_end=draw(st.none() | _dates),
        term_end=draw(_dates) if evaluation else draw(st.none() | _dates),
        evaluation=evaluation,
        licensed_users=draw(st.booleans()),
        issued_at=draw(
            st.datetimes(
                min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
            )
        ),
        key_serial=draw(_identifiers),
    )


@settings(max_examples=300, deadline=None)
@given(payload=payloads())
def test_any_payload_signs_and_verifies_to_itself(payload):
    signing_key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    trusted = {"any-2025": TrustedKey(payload.issuer, signing_key.public_key())}
    host = HostContext(
        app_key=payload.app_key,
        hosting=payload.hosting,
        server_id=payload.host_binding,
        host_tier=None,
        host_license_type=LicenseType.EVALUATION,
        app_users=None,
        build_date=None,
        today=date(2000, 1, 1),
        app_vendor=None if payload.channel is Channel.MARKETPLACE else payload.issuer.removeprefix("vendor:"),
    )
    verdict = check(sign_license(payload, signing_key, "any-2025"), trusted, host)
    assert verdict.status is LicenseStatus.VALID
    assert verdict.payload == payload
