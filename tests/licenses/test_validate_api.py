"""``POST /api/v1/licenses/validate``: the offline verdict plus revocation, supersession and suspension."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from mercato.clock import FixedClock
from mercato.keys.service import KeyService
from mercato.licenses.repository import LicenseRepository
from mercato.licenses.service import IssuedKey, LicenseService
from mercato.licensing import (
    HostContext,
    LicensePayload,
    check,
    sign_license,
    trusted_keys_from_jwks,
)
from mercato.licensing.claims import payload_from_claims
from mercato.licensing.keys import b64url_decode
from support.licenses import SECRET, SERVER_ID, TODAY, host, license_services

VALIDATE = "/api/v1/licenses/validate"
OFFLINE_HOST = HostContext(
    app_key="com.example.mockups.wiki",
    hosting="server",  # type: ignore[arg-type]
    server_id=SERVER_ID,
    host_tier=100,
    host_license_type="commercial",  # type: ignore[arg-type]
    app_users=None,
    build_date=None,
    today=TODAY,
)


def test_a_fresh_marketplace_key_is_valid(client: TestClient, issue: Callable[..., IssuedKey]) -> None:
    issued = issue()
    response = client.post(VALIDATE, json=host(key=issued.token))
    assert response.status_code == 200, response.text
    verdict = response.json()
    assert verdict["status"] == "VALID"
    assert verdict["license"]["entitlement_number"] == issued.license.entitlement_number
    assert verdict["server"] == {
        "known": True,
        "license_status": "active",
        "key_state": "current",
        "superseded_grace_until": None,
        "revoked_reason": None,
    }


def test_pasted_key_with_line_breaks_is_still_valid(
    client: TestClient, issue: Callable[..., IssuedKey]
) -> None:
    token = issue().token
    wrapped = "\n".join(token[i : i + 64] for i in range(0, len(token), 64))
    assert client.post(VALIDATE, json=host(key=f"  {wrapped}\n")).json()["status"] == "VALID"


def test_marketplace_key_for_fewer_users_than_the_host_is_a_user_mismatch(
    client: TestClient, issue: Callable[..., IssuedKey]
) -> None:
    verdict = client.post(VALIDATE, json=host(key=issue().token, host_tier="250")).json()
    assert verdict["status"] == "USER_MISMATCH"
    assert verdict["action"] == "UPGRADE"


def test_direct_key_admits_at_most_its_tier(client: TestClient, issue: Callable[..., IssuedKey]) -> None:
    token = issue(channel="direct", tier=10).token
    assert client.post(VALIDATE, json=host(key=token, app_users=10)).json()["status"] == "VALID"
    assert client.post(VALIDATE, json=host(key=token, app_users=11)).json()["status"] == "USERS_EXCEEDED"


def test_revoked_key_is_revoked_but_earlier_failures_win(
    client: TestClient, issue: Callable[..., IssuedKey], session_factory: sessionmaker[Session]
) -> None:
    issued = issue()
    with session_factory() as session, session.begin():
        LicenseService(session, license_services()).revoke_key(issued.key.serial, "chargeback")
    verdict = client.post(VALIDATE, json=host(key=issued.token)).json()
    assert verdict["status"] == "REVOKED"
    assert "chargeback" in verdict["message"]
    assert verdict["server"]["key_state"] == "revoked"
    other_host = client.post(VALIDATE, json=host(key=issued.token, server_id="OTHER-SERVER")).json()
    assert other_host["status"] == "HOST_MISMATCH"


def test_superseded_key_keeps_working_during_its_grace_period_only(
    client: TestClient,
    issue: Callable[..., IssuedKey],
    session_factory: sessionmaker[Session],
    server_clock: FixedClock,
) -> None:
    first = issue()
    with session_factory() as session, session.begin():
        second = LicenseService(session, license_services()).reissue(first.license.entitlement_number)
    old = client.post(VALIDATE, json=host(key=first.token)).json()
    assert (old["status"], old["action"]) == ("VALID", "GET_NEW_KEY")  # still works; paste the new one now
    assert "stops working on" in old["message"]
    assert old["server"]["key_state"] == "superseded"
    assert client.post(VALIDATE, json=host(key=second.token)).json()["server"]["key_state"] == "current"
    # The grace is 30 days from the reissue (at the tests' noon), judged by the server's clock.
    server_clock.advance(days=30, seconds=-1)
    assert client.post(VALIDATE, json=host(key=first.token)).json()["status"] == "VALID"
    server_clock.advance(seconds=1)
    expired_grace = client.post(VALIDATE, json=host(key=first.token)).json()
    assert expired_grace["status"] == "REVOKED"
    assert expired_grace["action"] == "GET_NEW_KEY"


def test_suspended_license_is_refused_online(
    client: TestClient, issue: Callable[..., IssuedKey], session_factory: sessionmaker[Session]
) -> None:
    issued = issue()
    with session_factory() as session, session.begin():
        license = LicenseRepository(session).by_entitlement(issued.license.entitlement_number)
        assert license is not None
        license.status = "suspended"
    verdict = client.post(VALIDATE, json=host(key=issued.token)).json()
    assert verdict["status"] == "REVOKED"
    assert "suspended" in verdict["message"]


def test_old_key_still_verifies_after_rotation_and_fails_once_retired(
    client: TestClient, issue: Callable[..., IssuedKey], session_factory: sessionmaker[Session]
) -> None:
    before = issue()
    with session_factory() as session, session.begin():
        KeyService(session, SECRET).rotate("operator")
    after = issue()
    assert after.key.kid != before.key.kid
    assert client.post(VALIDATE, json=host(key=before.token)).json()["status"] == "VALID"
    assert client.post(VALIDATE, json=host(key=after.token)).json()["status"] == "VALID"
    with session_factory() as session, session.begin():
        KeyService(session, SECRET).retire(before.key.kid)
    client.app.state.trusted_keys.reload()  # type: ignore[attr-defined]
    assert client.post(VALIDATE, json=host(key=before.token)).json()["status"] == "UNKNOWN_KEY"


def test_a_vendor_key_cannot_sign_marketplace_licenses(
    client: TestClient, issue: Callable[..., IssuedKey], session_factory: sessionmaker[Session]
) -> None:
    issue(channel="direct", tier=10)  # gives the vendor a key ring
    with session_factory() as session:
        kid, vendor_private_key = KeyService(session, SECRET).signer("vendor:example-mockups")
    forged = sign_license(
        LicensePayload(
            license_id="forged",
            entitlement_number="SEN-1",
            app_key="com.example.mockups.wiki",
            hosting="server",
            channel="marketplace",
            issuer="operator",
            license_type="commercial",  # type: ignore[arg-type]
            tier=None,
            host_binding=SERVER_ID,
            maintenance_end=date(2030, 1, 1),
            term_end=None,
            evaluation=False,
            issued_at=datetime.now(UTC),
            key_serial="forged-serial",
        ),
        vendor_private_key,
        kid,
    )
    client.app.state.trusted_keys.reload()  # type: ignore[attr-defined]
    verdict = client.post(VALIDATE, json=host(key=forged)).json()
    assert verdict["status"] == "UNKNOWN_KEY"
    assert verdict["license"] is None


def test_garbage_key_is_a_verdict_not_an_error(client: TestClient) -> None:
    response = client.post(VALIDATE, json=host(key="this is not a key"))
    assert response.status_code == 200
    assert response.json()["status"] == "MALFORMED"


def test_bad_host_context_is_a_422_problem(client: TestClient) -> None:
    for body in (
        host(key="x", host_tier="lots"),
        host(key="x", hosting="mainframe"),
        {"key": "x"},
        host(key="x", app_users=-1),
    ):
        response = client.post(VALIDATE, json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"


def test_issuer_public_keys_are_published_as_jwks(
    client: TestClient, issue: Callable[..., IssuedKey]
) -> None:
    issued = issue()
    document = client.get("/api/v1/issuers/operator/jwks").json()
    assert [k["kid"] for k in document["keys"]] == [issued.key.kid]
    assert document["keys"][0]["crv"] == "Ed25519"
    assert client.get("/api/v1/issuers/nobody/jwks").status_code == 404


def test_blank_server_id_or_app_key_is_a_422_problem_not_a_500(client: TestClient) -> None:
    for body in (host(key="x", server_id="   "), host(key="x", server_id=""), host(key="x", app_key=" ")):
        response = client.post(VALIDATE, json=body)
        assert response.status_code == 422, body


# Issuer binding and keys the server never issued ----------------------------------------------------------


def payload_of(token: str) -> LicensePayload:
    """What a key says (read without checking it, as a forger reads a genuine key to copy it)."""
    return payload_from_claims(json.loads(b64url_decode(token.split(".")[1])))


def test_a_direct_key_of_one_vendors_app_signed_by_another_vendor_is_not_valid(
    client: TestClient, issue: Callable[..., IssuedKey], session_factory: sessionmaker[Session]
) -> None:
    genuine = issue(channel="direct", tier=10)
    with session_factory() as session, session.begin():
        kid, other_vendors_key = KeyService(session, SECRET).signer("vendor:diagramly")
    # Vendor B copies vendor A's key, serial included, names itself the seller and signs it.
    forged = sign_license(
        dataclasses.replace(payload_of(genuine.token), issuer="vendor:diagramly", tier=None),
        other_vendors_key,
        kid,
    )
    verdict = client.post(VALIDATE, json=host(key=forged, app_users=500)).json()
    assert (verdict["status"], verdict["action"]) == ("UNKNOWN_KEY", "CONTACT_SELLER")
    assert verdict["license"] is None
    assert verdict["message"] == (
        "This key says it is a direct license of com.example.mockups.wiki from the vendor (diagramly), but "
        "only the vendor (example-mockups) sells com.example.mockups.wiki directly, so this key is not "
        "genuine. Contact the vendor (example-mockups) for a genuine key of your license."
    )
    assert client.post(VALIDATE, json=host(key=genuine.token, app_users=10)).json()["status"] == "VALID"


def test_a_key_this_server_never_issued_is_not_valid_even_with_its_own_signature(
    client: TestClient, issue: Callable[..., IssuedKey], session_factory: sessionmaker[Session]
) -> None:
    genuine = issue()
    with session_factory() as session:
        kid, operator_key = KeyService(session, SECRET).signer("operator")
    # Whoever holds a copy of the signing key (a thief, another installation) makes a key of their own.
    made_up = sign_license(
        dataclasses.replace(payload_of(genuine.token), key_serial="never-issued-0001", tier=None),
        operator_key,
        kid,
    )
    verdict = client.post(VALIDATE, json=host(key=made_up)).json()
    assert (verdict["status"], verdict["action"]) == ("UNKNOWN_KEY", "CONTACT_SELLER")
    assert verdict["license"] is None
    assert verdict["server"]["known"] is False
    assert verdict["message"] == (
        "This key (serial never-issued-0001) carries the signature of the marketplace, but the license server "
        "never issued it, so it is not genuine: it was made with a stolen signing key or comes from another "
        "installation. Contact the marketplace for a genuine key of your license."
    )
    # Even where the offline rules would have failed it for another reason: genuineness comes first.
    elsewhere = client.post(VALIDATE, json=host(key=made_up, server_id="OTHER-SERVER")).json()
    assert elsewhere["status"] == "UNKNOWN_KEY"


def test_a_genuine_key_pasted_from_an_email_with_a_byte_order_mark_is_valid(
    client: TestClient, issue: Callable[..., IssuedKey]
) -> None:
    token = issue().token
    lines = [token[i : i + 76] for i in range(0, len(token), 76)]
    pasted = "\ufeff" + "\r\n".join(lines[:3]) + "\u200b\u2060\n\u00a0" + "\n".join(lines[3:]) + "\u200d\n"
    verdict = client.post(VALIDATE, json=host(key=pasted)).json()
    assert verdict["status"] == "VALID", verdict["message"]
    assert verdict["server"]["known"] is True


def test_published_jwks_binds_each_key_to_its_issuer_for_offline_verifiers(
    client: TestClient, issue: Callable[..., IssuedKey], session_factory: sessionmaker[Session]
) -> None:
    marketplace, direct = issue(), issue(channel="direct", tier=10)
    operator = client.get("/api/v1/issuers/operator/jwks").json()
    vendor = client.get("/api/v1/issuers/example-mockups/jwks").json()
    assert {jwk["iss"] for jwk in operator["keys"]} == {"operator"}
    assert {jwk["iss"] for jwk in vendor["keys"]} == {"vendor:example-mockups"}
    # An app ships both sets: its vendor's keys then verify its direct keys, and nothing else.
    trusted = trusted_keys_from_jwks({"keys": operator["keys"] + vendor["keys"]})
    app = dataclasses.replace(OFFLINE_HOST, app_vendor="example-mockups")
    assert check(marketplace.token, trusted, app).valid
    assert check(direct.token, trusted, dataclasses.replace(app, app_users=10)).valid
    with session_factory() as session:
        kid, vendor_key = KeyService(session, SECRET).signer("vendor:example-mockups")
    own_marketplace_key = sign_license(
        dataclasses.replace(payload_of(marketplace.token), tier=None), vendor_key, kid
    )
    verdict = check(own_marketplace_key, trusted, app)
    assert (verdict.status.value, verdict.action.value) == ("UNKNOWN_KEY", "CONTACT_SELLER")
