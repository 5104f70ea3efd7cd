"""A changed key is never VALID, and no text makes check() raise.

Whatever happens to a key (a character or a bit changed, truncation, parts swapped between keys, another
algorithm declared), the verdict is MALFORMED or BAD_SIGNATURE, or UNKNOWN_KEY when the change gave the
header another kid, which is right: the verifier cannot check a signature without the key, and it says so;
it never says the key is genuine.
"""

from __future__ import annotations

import base64
import dataclasses
import hmac
import itertools
import json
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mercato.licensing import (
    Channel,
    HostContext,
    Hosting,
    LicensePayload,
    LicenseStatus,
    LicenseType,
    check,
    public_key_to_jwk,
    public_key_to_pem,
)
from mercato.licensing.claims import canonical_json
from mercato.licensing.keys import b64url_decode

REFUSED = {LicenseStatus.MALFORMED, LicenseStatus.BAD_SIGNATURE, LicenseStatus.UNKNOWN_KEY}
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def kid_of(key: str) -> str | None:
    """The kid a (possibly damaged) key's header declares, if it has a readable one."""
    try:
        header = json.loads(b64url_decode("".join(key.split()).split(".")[0]))
    except (ValueError, IndexError, RecursionError):
        return None
    return header.get("kid") if isinstance(header, dict) else None


def assert_refused(original: str, tampered: str, trusted: Any, host: HostContext) -> None:
    verdict = check(tampered, trusted, host)
    assert verdict.status in REFUSED, (tampered, verdict)
    assert verdict.payload is None
    if verdict.status is LicenseStatus.UNKNOWN_KEY:
        assert kid_of(tampered) != kid_of(original), (tampered, verdict)


@pytest.fixture(scope="module")
def keys(make_payload, make_evaluation, sign) -> list[tuple[str, HostContext]]:
    """Valid keys of every shape, each with a host on which it is VALID."""
    host = HostContext(
        app_key="com.example.mockups.wiki",
        hosting=Hosting.SERVER,
        server_id="BX7D-3KQ2-9ZLM-WP4T",
        host_tier=100,
        host_license_type=LicenseType.COMMERCIAL,
        app_users=None,
        build_date=None,
        today=date(2025, 6, 15),
        app_vendor="example-labs",
    )
    shapes = [
        (make_payload(), host),
        (make_payload(tier=None), host),
        (make_payload(Channel.DIRECT, tier=10), host),
        (make_payload(Channel.DIRECT, tier=1, license_type=LicenseType.ACADEMIC), host),
        (make_evaluation(), host),
        (make_evaluation(Channel.DIRECT, tier=25), host),
        (
            make_payload(hosting=Hosting.DATACENTER, tier=500, term_end=date(2026, 3, 31)),
            dataclasses.replace(host, hosting=Hosting.DATACENTER, host_tier=500),
        ),
        (
            make_payload(
                hosting=Hosting.CLOUD,
                tier=25,
                host_binding="acme.example-cloud.net",
                term_end=date(2025, 7, 14),
                maintenance_end=None,
            ),
            dataclasses.replace(
                host, hosting=Hosting.CLOUD, server_id="acme.example-cloud.net", host_tier=25
            ),
        ),
    ]
    result = [(sign(payload), context) for payload, context in shapes]
    result.append((sign(make_payload(), kid="operator-2024"), host))
    return result


def test_the_keys_under_test_are_valid(keys, trusted):
    for key, host in keys:
        assert check(key, trusted, host).valid


def test_changing_any_character_never_yields_valid(keys, trusted):
    checked = 0
    for key, host in keys:
        for index, character in enumerate(key):
            # Two other characters of the alphabet, chosen to hit every value over the positions.
            for step in (1 + index % 63, 32):
                replacement = ALPHABET[(ALPHABET.find(character) + step) % 64] if character != "." else "A"
                assert_refused(key, key[:index] + replacement + key[index + 1 :], trusted, host)
                checked += 1
    assert checked > 9000


def test_flipping_any_bit_of_any_character_never_yields_valid(keys, trusted):
    checked = 0
    for key, host in keys[:3]:
        for index, character in enumerate(key):
            for bit in range(7):
                flipped = chr(ord(character) ^ (1 << bit))
                assert_refused(key, key[:index] + flipped + key[index + 1 :], trusted, host)
                checked += 1
    assert checked > 10000


def test_flipping_any_bit_of_the_decoded_header_payload_or_signature_never_yields_valid(keys, trusted):
    for key, host in keys:
        segments = key.split(".")
        for position, segment in enumerate(segments):
            data = b64url_decode(segment)
            for index in range(len(data)):
                changed = bytearray(data)
                changed[index] ^= 1 << (index % 8)
                tampered = ".".join(
                    b64(bytes(changed)) if p == position else s for p, s in enumerate(segments)
                )
                assert_refused(key, tampered, trusted, host)


def test_truncated_or_extended_keys_never_yield_valid(keys, trusted):
    for key, host in keys[:3]:
        for length in range(1, len(key)):
            assert_refused(key, key[:length], trusted, host)
            assert_refused(key, key[length:], trusted, host)
        for suffix in ("A", "AA", "=", "==", ".", ".A", "\x00"):
            assert_refused(key, key + suffix, trusted, host)


def test_deleting_or_duplicating_any_character_never_yields_valid(keys, trusted):
    key, host = keys[0]
    for index in range(len(key)):
        assert_refused(key, key[:index] + key[index + 1 :], trusted, host)
        assert_refused(key, key[:index] + key[index] + key[index:], trusted, host)


def test_swapping_parts_between_keys_never_yields_valid(keys, trusted):
    originals = {key for key, _ in keys}
    for (first, host), (second, _) in itertools.permutations(keys, 2):
        a, b = first.split("."), second.split(".")
        for header, payload, signature in itertools.product((a[0], b[0]), (a[1], b[1]), (a[2], b[2])):
            swapped = f"{header}.{payload}.{signature}"
            if swapped not in originals:
                assert_refused(first, swapped, trusted, host)
        assert_refused(first, f"{a[1]}.{a[0]}.{a[2]}", trusted, host)
        assert_refused(first, f"{a[0]}.{a[2]}.{a[1]}", trusted, host)


def test_thousands_of_generated_keys_with_random_damage_are_refused(make_payload, sign, trusted):
    generator = random.Random(20250615)
    host = HostContext(
        app_key="com.example.mockups.wiki",
        hosting=Hosting.SERVER,
        server_id="SRV",
        host_tier=None,
        host_license_type=LicenseType.EVALUATION,
        app_users=None,
        build_date=None,
        today=date(2025, 6, 15),
        app_vendor="example-labs",
    )
    for number in range(1000):
        channel = generator.choice(list(Channel))
        payload = make_payload(
            channel,
            license_id=f"lic_{number:06d}",
            key_serial=f"key_{generator.getrandbits(64):016x}",
            tier=generator.choice([None, 1, 10, 25, 100, 500, 2000, 10000]),
            host_binding="SRV",
            license_type=generator.choice(
                [LicenseType.COMMERCIAL, LicenseType.ACADEMIC, LicenseType.COMMUNITY]
            ),
            issued_at=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=generator.getrandbits(24)),
        )
        kids = ["operator-2024", "operator-2025"] if channel is Channel.MARKETPLACE else ["example-labs-2025"]
        key = sign(payload, kid=generator.choice(kids))
        verdict = check(key, trusted, host)
        assert verdict.valid and verdict.payload == payload
        for _ in range(3):
            index = generator.randrange(len(key))
            replacement = generator.choice(ALPHABET.replace(key[index], "") + ".~ é")
            tampered = key[:index] + replacement + key[index + 1 :]
            if "".join(tampered.split()) != key:
                assert_refused(key, tampered, trusted, host)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_edits_never_yield_valid(data, keys, trusted):
    key, host = data.draw(st.sampled_from(keys))
    tampered = key
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        index = data.draw(st.integers(min_value=0, max_value=len(tampered) - 1))
        insertion = data.draw(st.text(alphabet=ALPHABET + ".=+/ \n", max_size=3))
        delete = data.draw(st.integers(min_value=0, max_value=3))
        tampered = tampered[:index] + insertion + tampered[index + delete :]
    if "".join(tampered.split()) != key:
        assert_refused(key, tampered, trusted, host)


@settings(max_examples=300, deadline=None)
@given(text=st.text() | st.text(alphabet=ALPHABET + ".", min_size=1, max_size=700))
def test_any_text_gives_a_verdict_and_never_an_exception(text, trusted, make_host):
    verdict = check(text, trusted, make_host())
    assert verdict.status in REFUSED
    assert verdict.message


@pytest.mark.parametrize(
    "value", [None, b"eyJ.eyJ.AAA", 42, ["a", "b"], "\x00", "." * 5000, "A" * 5000, "\u00a0" * 20000]
)
def test_non_keys_are_malformed(value, trusted, make_host):
    verdict = check(value, trusted, make_host())  # type: ignore[arg-type]
    assert verdict.status is LicenseStatus.MALFORMED


@pytest.mark.parametrize("part", ["header", "payload"])
def test_deeply_nested_json_is_malformed_not_a_crash(part, trusted, make_host, keys):
    key = keys[0][0]
    segments = key.split(".")
    segments[0 if part == "header" else 1] = b64(b"[" * 2900)
    assert check(".".join(segments), trusted, make_host()).status is LicenseStatus.MALFORMED


# Algorithm confusion ----------------------------------------------------------------------------------------

SIGNER = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def forged(
    header: dict[str, Any] | bytes, payload: LicensePayload, sign_with: str = "attacker", secret: bytes = b""
) -> str:
    header_bytes = header if isinstance(header, bytes) else json.dumps(header).encode()
    signing_input = f"{b64(header_bytes)}.{b64(canonical_json(payload.to_claims()))}"
    if sign_with == "none":
        signature = b""
    elif sign_with == "hmac":
        signature = hmac.new(secret, signing_input.encode(), "sha256").digest()
    else:
        signature = SIGNER.sign(signing_input.encode())
    return f"{signing_input}.{b64(signature)}"


TYP = "mercato-license+jwt"


def test_alg_none_is_refused(make_payload, make_host, trusted):
    payload = make_payload(tier=None)
    for header in ({"alg": "none", "kid": "operator-2025", "typ": TYP}, {"alg": "none"}, {"alg": "NONE"}):
        assert check(forged(header, payload, "none"), trusted, make_host()).status is LicenseStatus.MALFORMED
        assert (
            check(forged(header, payload, "none") + "AAAA", trusted, make_host()).status
            is LicenseStatus.MALFORMED
        )


def test_hs256_with_the_public_key_as_secret_is_refused(make_payload, make_host, trusted):
    public_key = trusted["operator-2025"].public_key
    secrets = [
        public_key.public_bytes(Encoding.Raw, PublicFormat.Raw),
        public_key_to_pem(public_key).encode(),
        public_key_to_jwk("operator-2025", public_key, "operator")["x"].encode(),
        json.dumps(public_key_to_jwk("operator-2025", public_key, "operator")).encode(),
    ]
    for alg, secret in itertools.product(("HS256", "HS512", "hs256"), secrets):
        key = forged(
            {"alg": alg, "kid": "operator-2025", "typ": TYP}, make_payload(tier=None), "hmac", secret
        )
        assert check(key, trusted, make_host()).status is LicenseStatus.MALFORMED


@pytest.mark.parametrize(
    "alg",
    [
        "RS256",
        "ES256",
        "PS256",
        "Ed25519",
        "Ed448",
        "eddsa",
        "EdDSA ",
        "",
        None,
        ["EdDSA"],
        {"name": "EdDSA"},
        1,
    ],
)
def test_any_declared_algorithm_other_than_eddsa_is_refused(alg, make_payload, make_host, trusted):
    header = {"alg": alg, "kid": "operator-2025", "typ": TYP}
    assert check(forged(header, make_payload()), trusted, make_host()).status is LicenseStatus.MALFORMED


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "EdDSA", "kid": "operator-2025"},
        {"alg": "EdDSA", "kid": "operator-2025", "typ": "JWT"},
        {"alg": "EdDSA", "typ": TYP},
        {"alg": "EdDSA", "kid": "../../etc/passwd", "typ": TYP},
        {"alg": "EdDSA", "kid": "", "typ": TYP},
        {"alg": "EdDSA", "kid": "operator-2025", "typ": TYP, "crit": ["b64"], "b64": False},
        ["EdDSA", "operator-2025"],
        b'{"alg":"EdDSA","kid":"operator-2025","typ":"mercato-license+jwt"',
        b"\xef\xbb\xbf{}",
    ],
)
def test_headers_that_are_not_license_headers_are_malformed(header, make_payload, make_host, trusted):
    assert check(forged(header, make_payload()), trusted, make_host()).status is LicenseStatus.MALFORMED


@pytest.mark.parametrize(
    "extra",
    [
        {"jwk": public_key_to_jwk("operator-2025", SIGNER.public_key(), "operator")},
        {"jku": "https://attacker.example/jwks.json"},
        {"x5u": "https://attacker.example/cert.pem"},
        {},
    ],
)
def test_keys_named_or_embedded_in_the_header_are_never_used(extra, make_payload, make_host, trusted):
    header = {"alg": "EdDSA", "kid": "operator-2025", "typ": TYP, **extra}
    assert check(forged(header, make_payload()), trusted, make_host()).status is LicenseStatus.BAD_SIGNATURE


def test_an_untrusted_kid_is_unknown_key_even_with_a_valid_signature_of_that_key(
    make_payload, make_host, trusted
):
    header = {"alg": "EdDSA", "kid": "attacker-1", "typ": TYP}
    verdict = check(forged(header, make_payload()), trusted, make_host())
    assert verdict.status is LicenseStatus.UNKNOWN_KEY
    assert verdict.payload is None


def test_a_signature_of_the_other_trusted_key_under_this_kid_is_bad_signature(
    make_payload, make_host, sign, trusted
):
    old = sign(make_payload(), kid="operator-2024")
    new_header = sign(make_payload(), kid="operator-2025").split(".")[0]
    assert (
        check(new_header + old[old.index(".") :], trusted, make_host()).status is LicenseStatus.BAD_SIGNATURE
    )
