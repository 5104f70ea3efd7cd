"""How fast is an offline license check, next to a bare signature check?

Measures ``mercato.licensing.check()`` on a VALID key against the floors it is compared with, in the same
process: one raw Ed25519 verification of the same signature by ``cryptography`` (``public_key.verify()``)
and, when PyNaCl is installed, by libsodium (``VerifyKey.verify()``), which check() then uses itself; and
then check() once more with cryptography, to show what installing PyNaCl gains. Each round runs all of them,
one after the other, in an order that rotates from round to round, so that CPU frequency drift and other
processes hit each alike. Each is reported as its **median** round: a round slowed down by a busy machine
moves the median little, where one lucky or unlucky round decides a best or a mean. The garbage collector
stays on: check() allocates, and an app pays for that too.

    .venv/bin/python benchmarks/verify.py [--rounds 15] [--iterations 2000] [--min-ratio 0.8]

Prints each throughput, the ratios of check() to each floor and PyNaCl's speed-up of check(); exits 1 when
check() is below ``--min-ratio`` times the raw ``cryptography`` verification (medians).
``MERCATO_ED25519_BACKEND=cryptography`` measures check() as it runs without PyNaCl.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

import cryptography
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mercato.licensing import (
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
from mercato.licensing.keys import b64url_decode
from mercato.licensing.signatures import backend_in_use, use_backend

RAW_CRYPTOGRAPHY = "raw cryptography public_key.verify()"
RAW_PYNACL = "raw PyNaCl VerifyKey.verify()"
CHECK = "mercato.licensing.check()"
CHECK_WITHOUT_PYNACL = "check() without PyNaCl"


def _per_second(operation: Callable[[], object], iterations: int) -> float:
    loop = range(iterations)
    start = time.perf_counter()
    for _ in loop:
        operation()
    return iterations / (time.perf_counter() - start)


def _pynacl_verify(raw_public_key: bytes, signature: bytes, message: bytes) -> Callable[[], object] | None:
    """The raw libsodium verification, or None when PyNaCl is not installed."""
    try:
        from nacl.signing import VerifyKey
    except ImportError:
        return None
    verify_key = VerifyKey(raw_public_key)
    return lambda: verify_key.verify(message, signature)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=15, help="rounds of each, interleaved (median counts)")
    parser.add_argument("--iterations", type=int, default=2000, help="operations per round")
    parser.add_argument(
        "--min-ratio", type=float, default=0.8, help="exit 1 below this check/raw cryptography ratio"
    )
    options = parser.parse_args()

    private_key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"mercato benchmark key").digest())
    payload = LicensePayload(
        license_id="lic_01JA6V1M8Y2K3T4Q",
        entitlement_number="SEN-L48213097",
        app_key="com.example.mockups.wiki",
        hosting=Hosting.SERVER,
        channel=Channel.MARKETPLACE,
        issuer="operator",
        license_type=LicenseType.COMMERCIAL,
        tier=100,
        host_binding="BX7D-3KQ2-9ZLM-WP4T",
        maintenance_end=date(2026, 3, 31),
        term_end=None,
        evaluation=False,
        issued_at=datetime(2025, 3, 31, 9, 30, tzinfo=UTC),
        key_serial="key_01JA6V1M8Y2K3T4QZ7",
    )
    key = sign_license(payload, private_key, "operator-2025-01")
    public_key = private_key.public_key()
    trusted = {
        "operator-2025-01": TrustedKey("operator", public_key),
        "operator-2024-01": TrustedKey("operator", Ed25519PrivateKey.generate().public_key()),
    }
    host = HostContext(
        app_key="com.example.mockups.wiki",
        hosting=Hosting.SERVER,
        server_id="BX7D-3KQ2-9ZLM-WP4T",
        host_tier=100,
        host_license_type=LicenseType.COMMERCIAL,
        app_users=None,
        build_date=date(2026, 1, 15),
        today=date(2026, 6, 1),
        host_name="the wiki",
        app_vendor="example-labs",
    )
    verdict = check(key, trusted, host)
    assert verdict.status is LicenseStatus.VALID, verdict

    signing_input, _, signature_segment = key.rpartition(".")
    signing_bytes, signature = signing_input.encode("ascii"), b64url_decode(signature_segment)

    def raw_cryptography_verify() -> None:
        public_key.verify(signature, signing_bytes)

    def license_check() -> None:
        check(key, trusted, host)

    # name → (the backend check() verifies with, None for a raw verification; the operation)
    chosen = backend_in_use()
    operations: dict[str, tuple[str | None, Callable[[], object]]] = {
        RAW_CRYPTOGRAPHY: (None, raw_cryptography_verify)
    }
    raw_public_key = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    raw_pynacl_verify = _pynacl_verify(raw_public_key, signature, signing_bytes)
    if raw_pynacl_verify is not None:
        operations[RAW_PYNACL] = (None, raw_pynacl_verify)
    operations[CHECK] = (chosen, license_check)
    if chosen == "pynacl":
        operations[CHECK_WITHOUT_PYNACL] = ("cryptography", license_check)

    names = list(operations)
    rounds: dict[str, list[float]] = {name: [] for name in names}
    for number in range(options.rounds):
        for name in names[number % len(names) :] + names[: number % len(names)]:
            backend, operation = operations[name]
            if backend is not None:
                use_backend(backend)
            rounds[name].append(_per_second(operation, options.iterations))
    use_backend(chosen)
    medians = {name: statistics.median(rates) for name, rates in rounds.items()}

    pynacl_version = "not installed"
    if raw_pynacl_verify is not None:
        import nacl

        pynacl_version = nacl.__version__
    print(
        f"python {platform.python_version()}, cryptography {cryptography.__version__}, PyNaCl {pynacl_version}, "
        f"{platform.machine()}; key of {len(key)} characters; check() verifies with {chosen}; "
        f"median of {options.rounds} rounds × {options.iterations}"
    )
    width = max(len(name) for name in names) + 1
    for name in names:
        rate = medians[name]
        spread = f"rounds {min(rounds[name]):,.0f}–{max(rounds[name]):,.0f}"
        print(f"{name + ':':{width}} {rate:10,.0f} /s  ({1e6 / rate:6.1f} µs)  {spread}")
    ratio = medians[CHECK] / medians[RAW_CRYPTOGRAPHY]
    print(f"ratio check/raw cryptography: {ratio:.3f} (target ≥ {options.min_ratio})")
    if RAW_PYNACL in medians:
        print(f"ratio check/raw PyNaCl:       {medians[CHECK] / medians[RAW_PYNACL]:.3f}")
    if CHECK_WITHOUT_PYNACL in medians:
        print(f"check() with PyNaCl / without: {medians[CHECK] / medians[CHECK_WITHOUT_PYNACL]:.2f}×")
    return 0 if ratio >= options.min_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
