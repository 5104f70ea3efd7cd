"""API tokens: shown once, stored as a hash, scoped, refused once revoked or expired."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from accounts.conftest import Demo, principal
from mercato.accounts.access import Forbidden, Principal
from mercato.accounts.api_tokens import TokenService, normalise_scopes, token_state
from mercato.accounts.models import ApiToken, User
from mercato.accounts.service import AccountService
from mercato.clock import utcnow
from mercato.problems import InvalidInput, NotFound


@pytest.fixture
def carol(session: Session) -> User:
    return AccountService(session).create_user("carol@example.com", "Carol")


def test_the_token_is_returned_once_and_only_its_hash_is_stored(session: Session, carol: User) -> None:
    created = TokenService(session).create(carol, scopes=["read"], name="reports")
    assert created.token.startswith("mct_") and created.token.startswith(created.record.prefix)
    stored = session.scalars(select(ApiToken).where(ApiToken.user_id == carol.id)).one()
    assert stored.token_hash == hashlib.sha256(created.token.encode()).hexdigest()
    assert created.token not in {stored.prefix, stored.token_hash, stored.name}
    assert not hasattr(stored, "token")


def test_a_token_stands_for_its_user_with_its_scopes(
    client: TestClient, session_factory: sessionmaker[Session], demo: Demo
) -> None:
    with session_factory() as session:
        user = AccountService(session).create_user("dora@example.com", "Dora")
        token = TokenService(session).create(user, scopes=["read"]).token
        session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/me", headers=headers).json()
    assert (me["user"]["email"], me["scopes"], me["memberships"]) == ("dora@example.com", ["read"], [])
    refused = client.post("/api/v1/tokens", headers=headers, json={})
    assert refused.status_code == 403 and "lacks the 'write' scope" in refused.json()["detail"]


def test_write_brings_read_and_unknown_scopes_are_refused() -> None:
    assert normalise_scopes(["write"]) == ["read", "write"]
    assert normalise_scopes([" READ ", "read"]) == ["read"]
    with pytest.raises(InvalidInput, match="Unknown scope 'admin'"):
        normalise_scopes(["admin"])
    with pytest.raises(InvalidInput, match="at least one scope"):
        normalise_scopes([])


def test_revoked_and_expired_tokens_say_so(session: Session, carol: User) -> None:
    service = TokenService(session)
    revoked, expiring = service.create(carol), service.create(carol, expires_in_days=30)
    service.revoke(revoked.record.prefix)
    assert token_state(revoked.record) == "revoked"
    assert token_state(expiring.record) == "active"
    assert token_state(expiring.record, utcnow() + timedelta(days=31)) == "expired"
    assert revoked.record.revoked_at is not None
    revoked_at = revoked.record.revoked_at
    service.revoke(revoked.token)
    assert revoked.record.revoked_at == revoked_at  # revoking again keeps the first date


def test_expiry_is_between_a_day_and_ten_years(session: Session, carol: User) -> None:
    for days in (0, 3651):
        with pytest.raises(InvalidInput, match="1 to 3650 days"):
            TokenService(session).create(carol, expires_in_days=days)


def test_revoke_takes_the_prefix_or_the_whole_token_and_nothing_else(session: Session, carol: User) -> None:
    service = TokenService(session)
    by_prefix, whole = service.create(carol), service.create(carol)
    assert service.revoke(by_prefix.record.prefix) is by_prefix.record
    assert service.revoke(whole.token) is whole.record
    with pytest.raises(NotFound, match="No API token has the prefix"):
        service.revoke("mct_nothing")


def test_a_token_cannot_create_a_stronger_one(session: Session, carol: User) -> None:
    reader = Principal.of(carol, [], ["read"])
    with pytest.raises(Forbidden, match="lacks 'write'"):
        TokenService(session).create_for(reader, scopes=["write"])


def test_users_revoke_only_their_own_tokens(session: Session, carol: User, demo: Demo) -> None:
    service = TokenService(session)
    created = service.create(carol)
    admin = principal(session, "admin@acme.example")
    with pytest.raises(NotFound, match="You have no API token"):
        service.revoke_for(admin, created.record.id)
    with pytest.raises(NotFound):
        service.revoke_for(admin, "not-an-id")


def test_over_http_a_revoked_or_expired_token_answers_401(
    client: TestClient, session_factory: sessionmaker[Session], demo: Demo
) -> None:
    with session_factory() as session:
        service = TokenService(session)
        user = AccountService(session).user_by_email("admin@acme.example")
        revoked, expiring = service.create(user), service.create(user, expires_in_days=1)
        service.revoke(revoked.token)
        expiring.record.expires_at = utcnow() - timedelta(minutes=1)
        session.commit()
    for token, sentence in ((revoked.token, "revoked"), (expiring.token, "expired")):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert sentence in response.json()["detail"]


def test_over_http_the_token_appears_once_then_only_its_prefix(client: TestClient, demo: Demo) -> None:
    created = client.post(
        "/api/v1/tokens",
        headers=demo.auth("acme_admin"),
        json={"name": "nightly report", "scopes": ["read"], "expires_in_days": 90},
    )
    assert created.status_code == 201
    body = created.json()
    token = body["token"]
    assert body["scopes"] == ["read"] and body["state"] == "active" and body["expires_at"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["user"]["email"] == "admin@acme.example" and me["scopes"] == ["read"]
    listed = client.get("/api/v1/tokens", headers=demo.auth("acme_admin")).json()
    assert token not in str(listed)
    assert body["prefix"] in {t["prefix"] for t in listed["items"]}
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["NewTokenOut"]
    assert "shown only in this response" in schema["properties"]["token"]["description"]


def test_over_http_a_user_revokes_a_token_and_it_stops_working(client: TestClient, demo: Demo) -> None:
    created = client.post(
        "/api/v1/tokens", headers=demo.auth("acme_admin"), json={"scopes": ["write"]}
    ).json()
    assert created["scopes"] == ["read", "write"]
    own = {"Authorization": f"Bearer {created['token']}"}
    # Revoking the token in use is allowed, and twice is harmless.
    assert client.delete(f"/api/v1/tokens/{created['id']}", headers=own).status_code == 204
    assert (
        client.delete(f"/api/v1/tokens/{created['id']}", headers=demo.auth("acme_admin")).status_code == 204
    )
    assert client.get("/api/v1/me", headers=own).status_code == 401
    active = client.get("/api/v1/tokens", headers=demo.auth("acme_admin")).json()["items"]
    assert created["id"] not in {t["id"] for t in active}
    everything = client.get(
        "/api/v1/tokens", headers=demo.auth("acme_admin"), params={"include_revoked": True}
    ).json()["items"]
    assert {t["id"]: t["state"] for t in everything}[created["id"]] == "revoked"
