"""A stock JOSE library (PyJWT) verifies license keys as docs/license-keys.md says: with the algorithm fixed,
the ``iat`` check relaxed and the issuer binding added by hand. The documentation's code runs on every
vector here, so it cannot drift from the reference verifiers."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest

from mercato.licensing import check, public_key_to_jwk

ROOT = Path(__file__).parents[2]
VECTORS = json.loads((ROOT / "clients" / "vectors" / "license-keys.json").read_text(encoding="utf-8"))


def documented(name: str) -> Any:
    """A function defined by the PyJWT code block of docs/license-keys.md."""
    documentation = (ROOT / "docs" / "license-keys.md").read_text(encoding="utf-8")
    blocks = [
        block
        for block in re.findall(r"```python\n(.*?)```", documentation, re.DOTALL)
        if "import jwt" in block
    ]
    assert len(blocks) == 1, "docs/license-keys.md has one PyJWT example"
    namespace: dict[str, Any] = {}
    exec(compile(blocks[0], "docs/license-keys.md", "exec"), namespace)  # our own documentation
    return namespace[name]


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[case["name"] for case in VECTORS["cases"]])
def test_documented_pyjwt_code_accepts_exactly_the_genuine_vectors(case: dict[str, Any]) -> None:
    genuine_claims = documented("genuine_claims")
    claims = genuine_claims(
        case["key"], VECTORS["trusted_jwks"], case["host"]["app_key"], case["host"]["app_vendor"]
    )
    expected = case["expected"]
    if expected["payload"] is not None:
        assert claims is not None and claims["jti"] == expected["payload"]["key_serial"]
    elif expected["status"] in ("BAD_SIGNATURE", "UNKNOWN_KEY"):
        assert claims is None  # forged, damaged or untrusted: the issuer binding forgeries included


def test_stock_jose_library_rejects_a_key_issued_ahead_of_the_hosts_clock_unless_iat_is_relaxed(
    make_payload, sign, trusted
) -> None:
    """A genuine key signed by a server whose clock is ahead of the host's: PyJWT refuses it by default."""
    ahead = make_payload(issued_at=datetime(2100, 1, 1, tzinfo=UTC))
    key = sign(ahead)
    public_key = trusted["operator-2025"].public_key
    with pytest.raises(jwt.ImmatureSignatureError, match="iat"):
        jwt.decode(key, public_key, algorithms=["EdDSA"])
    assert (
        jwt.decode(key, public_key, algorithms=["EdDSA"], options={"verify_iat": False})["iat"] == 4102444800
    )
    jwks_document = {"keys": [public_key_to_jwk("operator-2025", public_key, "operator")]}
    assert documented("genuine_claims")(key, jwks_document, ahead.app_key, "example-labs") is not None


def test_mercatos_own_verifiers_ignore_iat(make_payload, make_host, sign, trusted) -> None:
    key = sign(make_payload(issued_at=datetime(2100, 1, 1, tzinfo=UTC)))
    assert check(key, trusted, make_host()).valid
