"""The optional ``lu`` claim: a marketplace key of a listing that sells licensed users counts the app's users.

Such a key may be below the host's tier (no ``USER_MISMATCH``), but admits at most its tier of app users
(``USERS_EXCEEDED``), as a direct key does. The claim is written only when true, so other keys keep their bytes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mercato.licensing import Channel, LicenseStatus, check
from mercato.licensing.claims import canonical_json, payload_from_claims
from mercato.licensing.keys import b64url_decode, b64url_encode, encode_header

from .conftest import CURRENT_KID, SIGNING_KEYS


def claims_of(key: str) -> dict[str, Any]:
    return json.loads(b64url_decode(key.split(".")[1]))


def test_the_claim_round_trips_and_is_written_only_when_true(make_payload, sign):
    licensed = make_payload(licensed_users=True)
    assert licensed.to_claims()["lu"] is True
    assert payload_from_claims(claims_of(sign(licensed))) == licensed
    assert licensed.to_dict()["licensed_users"] is True

    plain = make_payload()
    assert "lu" not in plain.to_claims()
    assert "licensed_users" not in plain.to_dict()
    # Keys without the claim keep the exact bytes (and signature) they had before the claim existed.
    assert canonical_json(plain.to_claims()) == b64url_decode(sign(plain).split(".")[1])


def test_an_absent_claim_reads_as_false_and_an_explicit_false_is_accepted(make_payload):
    claims = make_payload().to_claims()
    assert payload_from_claims(claims).licensed_users is False
    assert payload_from_claims({**claims, "lu": False}).licensed_users is False


@pytest.mark.parametrize("value", [1, 0, "true", None, [], {}, 1.0])
def test_a_claim_that_is_not_a_json_boolean_is_malformed(value, make_payload, make_host, trusted):
    claims = {**make_payload().to_claims(), "lu": value}
    key = _token(claims)
    verdict = check(key, trusted, make_host())
    assert verdict.status is LicenseStatus.MALFORMED


def test_a_payload_with_another_unknown_claim_is_still_malformed(make_payload, make_host, trusted):
    claims = {**make_payload(licensed_users=True).to_claims(), "lx": True}
    assert check(_token(claims), trusted, make_host()).status is LicenseStatus.MALFORMED


def test_licensed_users_must_be_a_bool(make_payload):
    with pytest.raises(ValueError, match="licensed_users"):
        make_payload(licensed_users=1)


def test_a_licensed_users_key_below_the_hosts_tier_is_valid(make_payload, make_host, sign, trusted):
    key = sign(make_payload(tier=25, licensed_users=True))
    assert check(key, trusted, make_host(host_tier=100, app_users=20)).status is LicenseStatus.VALID
    assert check(key, trusted, make_host(host_tier=100, app_users=25)).status is LicenseStatus.VALID
    assert check(key, trusted, make_host(host_tier=None, app_users=None)).status is LicenseStatus.VALID
    # Without the claim, the same marketplace key must cover every user of the host.
    plain = sign(make_payload(tier=25))
    assert check(plain, trusted, make_host(host_tier=100, app_users=20)).status is LicenseStatus.USER_MISMATCH


def test_a_licensed_users_key_admits_at_most_its_tier_of_app_users(make_payload, make_host, sign, trusted):
    key = sign(make_payload(tier=25, licensed_users=True))
    verdict = check(key, trusted, make_host(host_tier=100, app_users=26))
    assert verdict.status is LicenseStatus.USERS_EXCEEDED
    assert verdict.message == (
        "This key is for 25 users but the app has 26 users. A licensed-users license admits at most its tier: "
        "upgrade the app license to at least 26 users, or remove 1 user from the app."
    )


@settings(max_examples=200, deadline=None)
@given(
    tier=st.integers(min_value=1, max_value=2000),
    host_tier=st.none() | st.integers(min_value=1, max_value=2000),
    app_users=st.none() | st.integers(min_value=0, max_value=2000),
)
def test_a_licensed_users_key_is_judged_on_app_users_like_a_direct_key(
    tier, host_tier, app_users, make_payload, make_host, sign, trusted
):
    host = make_host(host_tier=host_tier, app_users=app_users)
    licensed = check(sign(make_payload(tier=tier, licensed_users=True)), trusted, host).status
    direct = check(sign(make_payload(Channel.DIRECT, tier=tier)), trusted, host).status
    assert licensed is direct
    assert licensed is (
        LicenseStatus.USERS_EXCEEDED if app_users is not None and app_users > tier else LicenseStatus.VALID
    )


def _token(claims: dict[str, Any]) -> str:
    """A key of any claims, signed by the operator's current key (a ``LicensePayload`` refuses bad claims)."""
    signing_input = f"{encode_header(CURRENT_KID)}.{b64url_encode(canonical_json(claims))}"
    signature = SIGNING_KEYS[CURRENT_KID].sign(signing_input.encode())
    return f"{signing_input}.{b64url_encode(signature)}"
