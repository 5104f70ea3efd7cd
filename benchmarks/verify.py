"""How much of an offline license check is the signature check?

Measures ``mercato.licensing.check()`` on a VALID key against the floor it cannot beat: one raw Ed25519
``public_key.verify()`` of the same signature with the same library, in the same process. Rounds of the two
alternate (so that CPU frequency drift and other processes hit both alike) and the best round of each
counts, as with ``timeit``. The garbage collector stays on: check() allocates, and an app pays for that too.

    .venv/bin/python benchmarks/verify.py [--rounds 7] [--iterations 5000] [--min-ratio 0.8]

Prints both throughputs and their ratio; exits 1 when the ratio is below ``--min-ratio``.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

import cryptography
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

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


def _per_second(operation: Callable[[], object], iterations: int) -> float:
    loop = range(iterations)
    start = time.perf_counter()
    for _ in loop:
        operation()
    return iterations / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds of each (best counts)")
    parser.add_argument("--iterations", type=int, default=5000, help="operations per round")
    parser.add_argument("--min-ratio", type=float, default=0.8, help="exit 1 below this check/verify ratio")
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

    def raw_verify() -> None:
        public_key.verify(signature, signing_bytes)

    def license_check() -> None:
        check(key, trusted, host)

    best_raw = best_check = 0.0
    for _ in range(options.rounds):
        best_raw = max(best_raw, _per_second(raw_verify, options.iterations))
        best_check = max(best_check, _per_second(license_check, options.iterations))
    ratio = best_check / best_raw

    print(
        f"python {platform.python_version()}, cryptography {cryptography.__version__}, "
        f"{platform.machine()}; key of {len(key)} characters; "
        f"best of {options.rounds} rounds × {options.iterations}"
    )
    print(f"raw Ed25519 public_key.verify(): {best_raw:10,.0f} /s  ({1e6 / best_raw:6.1f} µs)")
    print(f"mercato.licensing.check():       {best_check:10,.0f} /s  ({1e6 / best_check:6.1f} µs)")
    print(f"ratio check/verify: {ratio:.3f} (target ≥ {options.min_ratio})")
    return 0 if ratio >= options.min_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
