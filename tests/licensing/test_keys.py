"""Trusted public keys: JWK, JWK Set and PEM, and the strict base64url the format uses."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from mercato.licensing import (
    TrustedKey,
    jwks,
    public_key_from_jwk,
    public_key_from_pem,
    public_key_to_jwk,
    public_key_to_pem,
    trusted_keys_from_jwks,
)
from mercato.licensing.keys import b64url_decode, b64url_encode


def raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_jwk_is_an_okp_ed25519_signing_key_with_its_kid_and_issuer(trusted):
    public_key = trusted["example-labs-2025"].public_key
    jwk = public_key_to_jwk("example-labs-2025", public_key, "vendor:example-labs")
    assert jwk == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url_encode(raw(public_key)),
        "kid": "example-labs-2025",
        "alg": "EdDSA",
        "use": "sig",
        "iss": "vendor:example-labs",
    }
    kid, loaded = public_key_from_jwk(jwk)
    assert kid == "example-labs-2025"
    assert (loaded.issuer, raw(loaded.public_key)) == ("vendor:example-labs", raw(public_key))


def test_jwks_round_trips_through_trusted_keys_in_kid_order_with_their_issuers(trusted):
    document = jwks(trusted)
    assert [(key["kid"], key["iss"]) for key in document["keys"]] == [
        ("example-labs-2025", "vendor:example-labs"),
        ("operator-2024", "operator"),
        ("operator-2025", "operator"),
        ("other-labs-2025", "vendor:other-labs"),
    ]
    loaded = trusted_keys_from_jwks(document)
    assert {kid: (key.issuer, raw(key.public_key)) for kid, key in loaded.items()} == {
        kid: (key.issuer, raw(key.public_key)) for kid, key in trusted.items()
    }


def test_jwk_without_alg_and_use_is_accepted(trusted):
    jwk = public_key_to_jwk("operator-2025", trusted["operator-2025"].public_key, "operator")
    del jwk["alg"], jwk["use"]
    assert public_key_from_jwk(jwk)[0] == "operator-2025"


@pytest.mark.parametrize("issuer", [None, "", "Operator", "vendor:", "vendor: x", "example-labs", 7])
def test_a_jwk_that_does_not_name_its_issuer_is_refused(issuer, trusted):
    """Without its issuer a trusted key could sign for anyone: the marketplace's licenses included."""
    jwk: dict[str, object] = public_key_to_jwk(
        "operator-2025", trusted["operator-2025"].public_key, "operator"
    )
    jwk["iss"] = issuer
    with pytest.raises(ValueError, match="issuer"):
        public_key_from_jwk({k: v for k, v in jwk.items() if v is not None})
    with pytest.raises(ValueError, match="issuer"):
        trusted_keys_from_jwks({"keys": [{k: v for k, v in jwk.items() if v is not None}]})


@pytest.mark.parametrize("issuer", ["", "vendor:", "someone", "vendor:-x"])
def test_a_key_cannot_be_published_or_trusted_for_an_invalid_issuer(issuer, trusted):
    with pytest.raises(ValueError):
        public_key_to_jwk("operator-2025", trusted["operator-2025"].public_key, issuer)
    with pytest.raises(ValueError):
        TrustedKey(issuer, trusted["operator-2025"].public_key)


@pytest.mark.parametrize(
    "change",
    [
        {"kty": "RSA"},
        {"crv": "Ed448"},
        {"crv": "X25519"},
        {"alg": "ES256"},
        {"use": "enc"},
        {"kid": None},
        {"kid": "bad kid"},
        {"x": None},
        {"x": "AAAA"},
        {"x": "not base64!"},
        {"d": "c2VjcmV0"},
    ],
)
def test_jwk_that_cannot_be_trusted_is_refused(change, trusted):
    jwk: dict[str, object] = {
        **public_key_to_jwk("operator-2025", trusted["operator-2025"].public_key, "operator"),
        **change,
    }
    with pytest.raises(ValueError):
        public_key_from_jwk({k: v for k, v in jwk.items() if v is not None})


@pytest.mark.parametrize("document", [{}, {"keys": {}}, {"keys": [1]}, []])
def test_jwks_of_the_wrong_shape_is_refused(document):
    with pytest.raises(ValueError):
        trusted_keys_from_jwks(document)


def test_jwks_with_a_kid_twice_is_refused(trusted):
    jwk = public_key_to_jwk("operator-2025", trusted["operator-2025"].public_key, "operator")
    with pytest.raises(ValueError, match="twice"):
        trusted_keys_from_jwks({"keys": [jwk, jwk]})


def test_pem_round_trips(trusted):
    public_key = trusted["operator-2025"].public_key
    pem = public_key_to_pem(public_key)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert raw(public_key_from_pem(pem)) == raw(public_key)
    assert raw(public_key_from_pem(pem.encode())) == raw(public_key)


def test_pem_of_another_key_type_is_refused():
    ec_pem = (
        generate_private_key(SECP256R1())
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError):
        public_key_from_pem(ec_pem)
    private_pem = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    with pytest.raises(ValueError):
        public_key_from_pem(private_pem)


@pytest.mark.parametrize("kid", ["", "a b", "-leading-dash", "x" * 65, "kid/with/slash", "ключ"])
def test_invalid_kids_are_refused_when_signing_and_publishing(kid, make_payload, trusted):
    from mercato.licensing import sign_license

    with pytest.raises(ValueError):
        sign_license(make_payload(), Ed25519PrivateKey.generate(), kid)
    with pytest.raises(ValueError):
        public_key_to_jwk(kid, trusted["operator-2025"].public_key, "operator")


@given(data=st.binary(max_size=100))
def test_b64url_decodes_what_it_encodes(data):
    encoded = b64url_encode(data)
    assert "=" not in encoded and "+" not in encoded and "/" not in encoded
    assert b64url_decode(encoded) == data


@given(
    text=st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=. \n", max_size=12
    )
)
def test_b64url_accepts_exactly_the_canonical_encodings(text):
    try:
        reference = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        canonical = b64url_encode(reference) == text
    except ValueError:
        canonical = False
    if canonical:
        assert b64url_decode(text) == reference
    else:
        with pytest.raises(ValueError):
            b64url_decode(text)
