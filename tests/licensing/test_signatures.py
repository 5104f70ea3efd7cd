"""Both Ed25519 backends give the same verdict: on every vector, on changed keys, and on the edge cases where
libsodium (PyNaCl) and OpenSSL (cryptography) by themselves disagree; and the library runs without PyNaCl."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import nacl.bindings
import nacl.exceptions
import nacl.signing
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mercato.licensing import (
    LicenseStatus,
    TrustedKey,
    check,
    public_key_from_jwk,
    public_key_to_jwk,
    sign_license,
    signatures,
    trusted_keys_from_jwks,
)
from mercato.licensing.keys import b64url_decode, b64url_encode
from mercato.licensing.signatures import signature_is_valid, use_backend

ROOT = Path(__file__).parents[2]
VECTORS = json.loads((ROOT / "clients" / "vectors" / "license-keys.json").read_text(encoding="utf-8"))
LOAD_GENERATOR = """
import importlib.util
spec = importlib.util.spec_from_file_location("license_vectors_generate", "clients/vectors/generate.py")
generator = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generator)
"""
"""Loads clients/vectors/generate.py as ``generator`` in a new interpreter started at the repository's root."""
BACKENDS = ("cryptography", "pynacl")

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, -1, P) % P
ORDER_8_Y = 2707385501144840649318225287225658788936804267575313519463743609750303402022
SMALL_ORDER_YS = (1, P - 1, 0, ORDER_8_Y, P - ORDER_8_Y, P, P + 1)
"""The y coordinates libsodium refuses as small order: the 8 small points' and two non-canonical ones."""
IDENTITY = (1).to_bytes(32, "little")

SEED = hashlib.sha256(b"mercato tests: signatures").digest()
PRIVATE_KEY = Ed25519PrivateKey.from_private_bytes(SEED)
PUBLIC_KEY = PRIVATE_KEY.public_key()
RAW_PUBLIC_KEY = PUBLIC_KEY.public_bytes(Encoding.Raw, PublicFormat.Raw)
TRUSTED_KEY = TrustedKey("operator", PUBLIC_KEY)
MESSAGE = b"eyJhbGciOiJFZERTQSJ9.eyJ2IjoxfQ"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test with each backend, then go back to the one chosen before."""
    previous = signatures.backend_in_use()
    assert use_backend(request.param) == request.param
    yield request.param
    use_backend(previous)


def verdicts(key: TrustedKey, signature: bytes, message: bytes) -> dict[str, bool]:
    """``signature_is_valid`` under each backend."""
    previous = signatures.backend_in_use()
    try:
        return {
            name: use_backend(name) == name and signature_is_valid(key, signature, message)
            for name in BACKENDS
        }
    finally:
        use_backend(previous)


def cryptography_alone(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def libsodium_alone(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


def encode(y: int, sign: int = 0) -> bytes:
    return (y | sign << 255).to_bytes(32, "little")


def signature_with_r(r: bytes, message: bytes = MESSAGE) -> bytes:
    """A signature by the test key whose R is ``r`` (not r·B for a secret r): S = h·a, which satisfies the
    verification equation S·B = R + h·A exactly when R is the identity."""
    digest = hashlib.sha512(SEED).digest()
    scalar = (int.from_bytes(digest[:32], "little") & ((1 << 254) - 8)) | 1 << 254
    h = int.from_bytes(hashlib.sha512(r + RAW_PUBLIC_KEY + message).digest(), "little") % L
    return r + (h * scalar % L).to_bytes(32, "little")


def with_signature(key: str, signature: bytes) -> str:
    return key.rpartition(".")[0] + "." + b64url_encode(signature)


@functools.cache
def vector_generator() -> ModuleType:
    """clients/vectors/generate.py, whose ``host_context`` reads a vector's host."""
    spec = importlib.util.spec_from_file_location(
        "license_vectors_generate", ROOT / "clients/vectors/generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_vector_gets_its_verdict_with_either_backend(backend: str) -> None:
    trusted = trusted_keys_from_jwks(VECTORS["trusted_jwks"])
    for case in VECTORS["cases"]:
        host = vector_generator().host_context(case["host"])
        verdict = check(case["key"], trusted, host, case["revoked"]).to_dict()
        expected = case["expected"]
        assert (verdict.pop("status"), verdict.pop("action"), verdict.pop("message")) == (
            expected["status"],
            expected["action"],
            expected["message"],
        ), case["name"]
        assert (verdict or None) == expected["payload"], case["name"]


def test_a_changed_signature_bit_is_a_bad_signature_with_either_backend(
    backend: str, make_payload, sign, make_host, trusted
) -> None:
    key = sign(make_payload())
    assert check(key, trusted, make_host()).status is LicenseStatus.VALID
    signature = b64url_decode(key.rpartition(".")[2])
    for bit in range(512):
        changed = bytearray(signature)
        changed[bit // 8] ^= 1 << bit % 8
        verdict = check(with_signature(key, bytes(changed)), trusted, make_host())
        assert verdict.status is LicenseStatus.BAD_SIGNATURE, bit
        assert verdict.payload is None


def test_a_changed_message_or_signature_byte_is_refused_by_both_backends() -> None:
    signature = PRIVATE_KEY.sign(MESSAGE)
    assert verdicts(TRUSTED_KEY, signature, MESSAGE) == {"cryptography": True, "pynacl": True}
    for index in range(len(MESSAGE)):
        changed = bytearray(MESSAGE)
        changed[index] ^= 0x01
        assert verdicts(TRUSTED_KEY, signature, bytes(changed)) == {"cryptography": False, "pynacl": False}
    for index in range(64):
        changed = bytearray(signature)
        changed[index] ^= 0x80
        assert verdicts(TRUSTED_KEY, bytes(changed), MESSAGE) == {"cryptography": False, "pynacl": False}
    assert verdicts(TRUSTED_KEY, signature, MESSAGE + b"x") == {"cryptography": False, "pynacl": False}


def test_a_signature_whose_r_is_the_identity_is_refused_by_both_though_openssl_alone_accepts_it() -> None:
    """Only the private key's holder can make it, so it is no forgery, but the backends must agree."""
    signature = signature_with_r(IDENTITY)
    assert cryptography_alone(RAW_PUBLIC_KEY, signature, MESSAGE)
    assert not libsodium_alone(RAW_PUBLIC_KEY, signature, MESSAGE)
    assert verdicts(TRUSTED_KEY, signature, MESSAGE) == {"cryptography": False, "pynacl": False}


def test_a_key_whose_r_is_the_identity_is_a_bad_signature_with_either_backend(
    backend: str, make_payload, make_host
) -> None:
    key = sign_license(make_payload(), PRIVATE_KEY, "signatures-2025")
    trusted = {"signatures-2025": TRUSTED_KEY}
    assert check(key, trusted, make_host()).status is LicenseStatus.VALID
    signing_input = key.rpartition(".")[0].encode("ascii")
    forged = with_signature(key, signature_with_r(IDENTITY, signing_input))
    assert cryptography_alone(RAW_PUBLIC_KEY, b64url_decode(forged.rpartition(".")[2]), signing_input)
    assert check(forged, trusted, make_host()).status is LicenseStatus.BAD_SIGNATURE


SMALL_ORDER_ENCODINGS = [encode(y, sign) for y in SMALL_ORDER_YS for sign in (0, 1)]


@pytest.mark.parametrize("r", SMALL_ORDER_ENCODINGS, ids=lambda raw: raw.hex())
def test_a_signature_whose_r_has_small_order_is_refused_by_both(r: bytes) -> None:
    assert verdicts(TRUSTED_KEY, signature_with_r(r), MESSAGE) == {"cryptography": False, "pynacl": False}


def test_a_signature_whose_s_is_not_below_the_group_order_is_refused_by_both() -> None:
    signature = PRIVATE_KEY.sign(MESSAGE)
    s = int.from_bytes(signature[32:], "little")
    for changed_s in (s + L, L, 2**256 - 1):
        changed = signature[:32] + changed_s.to_bytes(32, "little")
        assert not cryptography_alone(RAW_PUBLIC_KEY, changed, MESSAGE)
        assert not libsodium_alone(RAW_PUBLIC_KEY, changed, MESSAGE)
        assert verdicts(TRUSTED_KEY, changed, MESSAGE) == {"cryptography": False, "pynacl": False}


@pytest.mark.parametrize("length", [0, 63, 65, 128])
def test_a_signature_that_is_not_64_bytes_is_refused_by_both(length: int) -> None:
    """libsodium alone raises ValueError for these, OpenSSL returns False: the length is checked first."""
    signature = (PRIVATE_KEY.sign(MESSAGE) * 2)[:length]
    with pytest.raises(ValueError):
        libsodium_alone(RAW_PUBLIC_KEY, signature, MESSAGE)
    assert verdicts(TRUSTED_KEY, signature, MESSAGE) == {"cryptography": False, "pynacl": False}


WEAK_PUBLIC_KEYS = SMALL_ORDER_ENCODINGS + [encode(P + k) for k in range(2, 19)]


@pytest.mark.parametrize(
    "raw", WEAK_PUBLIC_KEYS, ids=[raw.hex()[:8] + raw.hex()[-4:] for raw in WEAK_PUBLIC_KEYS]
)
def test_a_public_key_of_small_order_or_not_canonical_cannot_be_trusted(raw: bytes) -> None:
    jwk = public_key_to_jwk("weak-2025", PUBLIC_KEY, "operator") | {"x": b64url_encode(raw)}
    with pytest.raises(ValueError, match="cannot be trusted"):
        public_key_from_jwk(jwk)
    try:
        public_key = Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        return  # OpenSSL does not even load it
    with pytest.raises(ValueError, match="cannot be trusted"):
        TrustedKey("operator", public_key)


def test_under_the_identity_as_public_key_openssl_alone_accepts_a_signature_of_anything() -> None:
    """Why a trusted key must not be of small order: R = the identity, S = 0 verifies any message."""
    signature = IDENTITY + bytes(32)
    for message in (MESSAGE, b"any license at all"):
        assert cryptography_alone(IDENTITY, signature, message)
        assert not libsodium_alone(IDENTITY, signature, message)


@pytest.mark.parametrize("length", [31, 33])
def test_a_public_key_that_is_not_32_bytes_is_refused_by_both_libraries_and_by_the_trust_list(
    length: int,
) -> None:
    raw = (RAW_PUBLIC_KEY * 2)[:length]
    with pytest.raises(ValueError):
        Ed25519PublicKey.from_public_bytes(raw)
    with pytest.raises(ValueError):
        nacl.signing.VerifyKey(raw)
    assert signatures.public_key_problem(raw) == "is not 32 bytes long"
    jwk = public_key_to_jwk("short-2025", PUBLIC_KEY, "operator") | {"x": b64url_encode(raw)}
    with pytest.raises(ValueError, match="32-byte"):
        public_key_from_jwk(jwk)


def edwards_add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % P
    return (x1 * y2 + x2 * y1) * pow(1 + t, -1, P) % P, (y1 * y2 + x1 * x2) * pow(1 - t, -1, P) % P


def points_with_y(y: int) -> set[tuple[int, int]]:
    """The points of the curve −x² + y² = 1 + d·x²·y² with this y (none, one or two)."""
    x_squared = (y * y - 1) * pow(D * y * y + 1, -1, P) % P
    x = pow(x_squared, (P + 3) // 8, P)
    if x * x % P != x_squared:
        x = x * pow(2, (P - 1) // 4, P) % P
    return {(x, y), (-x % P, y)} if x * x % P == x_squared else set()


def test_the_small_order_list_holds_every_point_of_small_order_and_nothing_else() -> None:
    """The group has exactly 8 points of small order (the cofactor): the listed ys give those 8, each of
    which 8·P takes to the identity; and libsodium refuses each listed encoding as a point."""
    points = set().union(*(points_with_y(y % P) for y in SMALL_ORDER_YS))
    assert len(points) == 8
    for point in points:
        multiple = (0, 1)
        for _ in range(8):
            multiple = edwards_add(multiple, point)
        assert multiple == (0, 1), point
    for raw in signatures._SMALL_ORDER_ENCODINGS:
        assert not nacl.bindings.crypto_core_ed25519_is_valid_point(raw)
    assert len(signatures._SMALL_ORDER_ENCODINGS) == 14


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="auto, pynacl, cryptography"):
        use_backend("libsodium")


def run_python(
    code: str, backend: str | None = None, without_pynacl: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new interpreter, with the environment variable set to ``backend`` (or unset), and with
    PyNaCl impossible to import when ``without_pynacl``."""
    environment = {
        name: value for name, value in os.environ.items() if name != signatures.ENVIRONMENT_VARIABLE
    }
    if backend is not None:
        environment[signatures.ENVIRONMENT_VARIABLE] = backend
    prelude = "import sys; sys.modules['nacl'] = None\n" if without_pynacl else ""
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )


CHECK_A_VECTOR = (
    LOAD_GENERATOR
    + """
import json, sys
from mercato.licensing import check, trusted_keys_from_jwks
from mercato.licensing.signatures import backend_in_use
vectors = json.load(open("clients/vectors/license-keys.json", encoding="utf-8"))
case = next(case for case in vectors["cases"] if case["expected"]["status"] == "VALID")
verdict = check(case["key"], trusted_keys_from_jwks(vectors["trusted_jwks"]), generator.host_context(case["host"]))
print(backend_in_use(), verdict.status.value, sys.modules.get("nacl") is not None)
"""
)


@pytest.mark.parametrize(
    ("setting", "without_pynacl", "printed"),
    [
        (None, False, "pynacl VALID True"),
        ("", False, "pynacl VALID True"),
        ("auto", False, "pynacl VALID True"),
        ("pynacl", False, "pynacl VALID True"),
        ("cryptography", False, "cryptography VALID False"),
        (None, True, "cryptography VALID False"),
        ("auto", True, "cryptography VALID False"),
    ],
)
def test_the_environment_variable_chooses_the_backend_and_pynacl_is_optional(
    setting: str | None, without_pynacl: bool, printed: str
) -> None:
    result = run_python(CHECK_A_VECTOR, setting, without_pynacl)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == printed.split()


def test_pynacl_is_imported_at_the_first_check_not_with_the_library() -> None:
    result = run_python("import sys, mercato.licensing; print('nacl' in sys.modules)")
    assert result.stdout.split() == ["False"], result.stderr


@pytest.mark.parametrize(
    ("setting", "without_pynacl", "error"),
    [
        ("pynacl", True, "ImportError: MERCATO_ED25519_BACKEND=pynacl, but PyNaCl is not installed"),
        ("libsodium", False, "ValueError: MERCATO_ED25519_BACKEND is one of auto, pynacl, cryptography"),
    ],
)
def test_a_wrong_setting_fails_the_import_not_a_check(setting: str, without_pynacl: bool, error: str) -> None:
    result = run_python("import mercato.licensing", setting, without_pynacl)
    assert result.returncode == 1
    assert error in result.stderr
