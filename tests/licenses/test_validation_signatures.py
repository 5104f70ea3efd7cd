"""The validate path checks signatures the way the offline verifier does: through mercato.licensing, with the
backend it chose (PyNaCl where installed, else cryptography), and with the same verdicts on either."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import nullcontext
from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from mercato.clock import noon_of
from mercato.database import session_connections
from mercato.licenses.service import IssuedKey
from mercato.licenses.validation import StandingCache, TrustedKeyCache, ValidationService
from mercato.licensing import HostContext, LicenseStatus, signatures
from mercato.licensing.keys import b64url_decode, b64url_encode
from support.licenses import SECRET, SERVER_ID, TODAY

NOW = noon_of(TODAY)  # the server's moment, as the validate API passes its clock's
HOST = HostContext(
    app_key="com.example.mockups.wiki",
    hosting="server",  # type: ignore[arg-type]
    server_id=SERVER_ID,
    host_tier=100,
    host_license_type="commercial",  # type: ignore[arg-type]
    app_users=None,
    build_date=None,
    today=date(2026, 11, 26),
)


@pytest.fixture(params=["cryptography", "pynacl"])
def backend_calls(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Verify with each backend in turn; the list grows by the backend's name at each signature check."""
    previous = signatures.backend_in_use()
    signatures.use_backend(request.param)
    verify = signatures._verify
    calls: list[str] = []

    def counted(*arguments: object) -> bool:
        calls.append(request.param)
        return verify(*arguments)  # type: ignore[arg-type]

    monkeypatch.setattr(signatures, "_verify", counted)
    yield calls
    monkeypatch.undo()
    signatures.use_backend(previous)


def test_the_validate_path_verifies_with_the_verifiers_backend(
    session_factory: sessionmaker[Session], issue: Callable[..., IssuedKey], backend_calls: list[str]
) -> None:
    issued = issue()
    session = session_factory()
    validation = ValidationService(
        lambda: nullcontext(session.connection()),
        TrustedKeyCache(session_connections(session_factory), SECRET),
        StandingCache(0),
    )
    assert validation.validate(issued.token, HOST, NOW).verdict.status is LicenseStatus.VALID
    signing_input, _, signature = issued.token.rpartition(".")
    changed = bytearray(b64url_decode(signature))
    changed[10] ^= 0x04
    forged = f"{signing_input}.{b64url_encode(bytes(changed))}"
    assert validation.validate(forged, HOST, NOW).verdict.status is LicenseStatus.BAD_SIGNATURE
    assert len(backend_calls) == 2
