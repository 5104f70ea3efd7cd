"""Key rings: sealed private keys, rotation, retirement and export."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy.orm import Session

from mercato.catalog.models import Vendor
from mercato.keys.models import KeyState
from mercato.keys.sealing import SealedKeyUnreadable, open_private_key
from mercato.keys.service import KeyService
from mercato.keys.trusted import load_trusted_keys
from mercato.licensing import LicensePayload, sign_license
from mercato.problems import InvalidInput, NotFound

SECRET = "test-secret-key"


def direct_payload(issuer: str) -> LicensePayload:
    return LicensePayload(
        license_id="lic_1",
        entitlement_number="SEN-1",
        app_key="com.example.long.wiki",
        hosting="server",  # type: ignore[arg-type]
        channel="direct",  # type: ignore[arg-type]
        issuer=issuer,
        license_type="commercial",  # type: ignore[arg-type]
        tier=10,
        host_binding="SRV-1",
        maintenance_end=None,
        term_end=None,
        evaluation=False,
        issued_at=datetime(2026, 1, 1, tzinfo=UTC),
        key_serial="serial-1",
    )


def test_first_use_creates_a_ring_and_private_keys_are_sealed_at_rest(session: Session) -> None:
    service = KeyService(session, SECRET)
    kid, private_key = service.signer("operator")
    [row] = service.ring("operator")
    assert row.kid == kid and row.state == KeyState.SIGNING
    raw = private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    sealed = row.sealed_private_key
    assert raw not in base64.urlsafe_b64decode(sealed.split(".", 1)[1])
    assert base64.urlsafe_b64encode(raw).decode().rstrip("=") not in sealed
    with pytest.raises(SealedKeyUnreadable, match="MERCATO_SECRET_KEY"):
        open_private_key(sealed, "another secret", "operator", kid)
    # Bound to its row: the same sealed blob does not open as another issuer's key.
    with pytest.raises(SealedKeyUnreadable):
        open_private_key(sealed, SECRET, "vendor:example-mockups", kid)


def test_rotation_signs_with_the_new_key_and_keeps_the_old_one_verifying(session: Session) -> None:
    service = KeyService(session, SECRET)
    old_kid, _ = service.signer("vendor:example-mockups")
    new = service.rotate("vendor:example-mockups")
    assert service.signer("vendor:example-mockups")[0] == new.kid != old_kid
    assert set(service.trusted_keys(["vendor:example-mockups"])) == {old_kid, new.kid}
    states = {row.kid: row.state for row in service.ring("vendor:example-mockups")}
    assert states == {old_kid: KeyState.VERIFYING, new.kid: KeyState.SIGNING}


def test_retired_key_is_no_longer_trusted_and_the_signing_key_cannot_be_retired(session: Session) -> None:
    service = KeyService(session, SECRET)
    old_kid, _ = service.signer("operator")
    new = service.rotate("operator")
    with pytest.raises(InvalidInput, match="Rotate first"):
        service.retire(new.kid)
    service.retire(old_kid)
    assert set(service.trusted_keys(["operator"])) == {new.kid}


def test_export_round_trips_as_jwks_and_pem_with_each_keys_issuer(session: Session) -> None:
    service = KeyService(session, SECRET)
    service.signer("operator")
    service.rotate("operator")
    service.signer("vendor:example-mockups")
    for issuer in ("operator", "vendor:example-mockups"):
        expected = service.trusted_keys([issuer])
        for text in (json.dumps(service.export_jwks(issuer)), service.export_pem(issuer)):
            loaded = load_trusted_keys(text)
            assert set(loaded) == set(expected)
            for kid, key in loaded.items():
                assert key.issuer == issuer
                assert key.public_key.public_bytes_raw() == expected[kid].public_key.public_bytes_raw()


def test_exported_jwks_names_the_issuer_of_every_key(session: Session) -> None:
    service = KeyService(session, SECRET)
    kid, _ = service.signer("vendor:example-mockups")
    assert [(jwk["kid"], jwk["iss"]) for jwk in service.export_jwks("vendor:example-mockups")["keys"]] == [
        (kid, "vendor:example-mockups")
    ]


def test_trusted_key_files_whose_keys_name_no_issuer_are_refused(session: Session) -> None:
    """A key without its issuer could sign for anyone: such files are refused, not trusted for everything."""
    service = KeyService(session, SECRET)
    service.signer("operator")
    document = service.export_jwks("operator")
    for jwk in document["keys"]:
        del jwk["iss"]
    pem = "\n".join(line for line in service.export_pem("operator").splitlines() if "issuer" not in line)
    for text in (json.dumps(document), pem):
        with pytest.raises(ValueError, match="issuer"):
            load_trusted_keys(text)


def test_key_ids_of_vendors_with_64_character_slugs_fit_their_column_and_sign(session: Session) -> None:
    slug = "a-vendor-whose-name-is-long-enough-to-fill-the-whole-slug-column"
    assert len(slug) == 64
    session.add(Vendor(slug=slug, name="A vendor with a long name", email="sales@long.example"))
    session.flush()
    service = KeyService(session, SECRET)
    issuer = service.resolve_issuer(slug)
    first = service.rotate(issuer)
    second = service.rotate(issuer)
    for row in (first, second):
        assert len(row.kid) <= 64 and row.kid.startswith(slug[:40])
    assert first.kid != second.kid
    kid, private_key = service.signer(issuer)
    assert kid == second.kid
    assert sign_license(direct_payload(issuer), private_key, kid).count(".") == 2


def test_issuers_are_the_operator_or_known_vendors(session: Session) -> None:
    service = KeyService(session, SECRET)
    assert service.resolve_issuer("operator") == "operator"
    assert service.resolve_issuer("example-mockups") == "vendor:example-mockups"
    assert service.resolve_issuer("vendor:timekeep") == "vendor:timekeep"
    with pytest.raises(NotFound, match="no vendor"):
        service.resolve_issuer("nobody")


def test_unreadable_trusted_key_files_are_refused() -> None:
    with pytest.raises(ValueError):
        load_trusted_keys("not a key file")
