"""Browser sessions: a signed-in cookie reads and, with the CSRF token, changes; signing out ends it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from mercato.accounts.service import AccountService
from mercato.clock import FixedClock
from support.world import World

from .test_seed_scenarios import MOCKUPS

PASSWORD = "correct horse battery staple"


def sign_in(shop: TestClient, world: World, session_factory: sessionmaker[Session]) -> str:
    with session_factory() as session, session.begin():
        accounts = AccountService(session)
        accounts.set_password(accounts.user_by_email("acme_admin@test.example"), PASSWORD)
    response = shop.post("/api/v1/session", json={"email": "ACME_admin@test.example", "password": PASSWORD})
    assert response.status_code == 201, response.text
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    return str(response.json()["csrf_token"])


def test_a_signed_in_browser_reads_and_changes_only_with_the_csrf_token(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    csrf = sign_in(shop, world, session_factory)
    assert shop.get("/api/v1/me").status_code == 200
    body = {
        "host_instance_id": str(world.wiki_server.id),
        "items": [{"action": "new", "product_key": MOCKUPS, "tier": "100"}],
    }
    without = shop.post("/api/v1/quotes", json=body)
    assert without.status_code == 403 and "CSRF" in without.json()["detail"]
    forged = shop.post("/api/v1/quotes", json=body, headers={"X-CSRF-Token": "guess"})
    assert forged.status_code == 403
    assert shop.post("/api/v1/quotes", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    assert shop.get("/api/v1/session").json()["csrf_token"] == csrf
    assert shop.delete("/api/v1/session").status_code == 204
    assert shop.get("/api/v1/me").status_code == 401


def test_a_stolen_cookie_stops_working_after_sign_out(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    sign_in(shop, world, session_factory)
    stolen = dict(shop.cookies)
    shop.delete("/api/v1/session")
    shop.cookies.update(stolen)
    assert shop.get("/api/v1/me").status_code == 401


def test_wrong_password_and_unknown_email_get_the_same_answer(
    shop: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    sign_in(shop, world, session_factory)
    shop.cookies.clear()
    wrong = shop.post(
        "/api/v1/session", json={"email": "acme_admin@test.example", "password": "nope nope nope"}
    )
    unknown = shop.post(
        "/api/v1/session", json={"email": "nobody@test.example", "password": "nope nope nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert "set-cookie" not in wrong.headers


def test_sessions_expire_after_14_days(
    shop: TestClient, world: World, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    sign_in(shop, world, session_factory)
    clock.advance(days=13)
    assert shop.get("/api/v1/me").status_code == 200
    clock.advance(days=1, seconds=1)
    response = shop.get("/api/v1/me")
    assert response.status_code == 401 and "expired" in response.json()["detail"]
