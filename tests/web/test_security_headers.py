"""HTTP hygiene: every answer carries the security headers; authenticated API answers are never cached; JWKS is
served as a JWK set that caches may keep briefly; https requests get HSTS and Secure cookies."""

from __future__ import annotations

from fastapi.testclient import TestClient

from mercato.app import create_app
from mercato.settings import Settings


def test_every_answer_has_nosniff_frame_and_content_policies(client: TestClient) -> None:
    for response in (
        client.get("/api/v1/apps"),
        client.get("/api/v1/nowhere"),
        client.post("/api/v1/licenses/validate", content=b"{}"),
        client.get("/healthz"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_pages_get_a_policy_of_their_own_origin(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_authenticated_api_answers_are_not_stored_but_public_ones_may_be(client: TestClient) -> None:
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer unknown"}).headers["cache-control"] == (
        "no-store"
    )
    assert (
        client.get("/api/v1/apps", headers={"Authorization": "Bearer x"}).headers["cache-control"]
        == "no-store"
    )
    assert "cache-control" not in client.get("/api/v1/apps").headers


def test_jwks_is_a_jwk_set_that_caches_keep_five_minutes(client: TestClient) -> None:
    response = client.get("/api/v1/issuers/operator/jwks")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jwk-set+json"
    assert response.headers["cache-control"] == "public, max-age=300"
    assert "keys" in response.json()


def test_https_answers_carry_hsts_and_plain_http_ones_do_not(client: TestClient) -> None:
    assert "strict-transport-security" not in client.get("/healthz").headers
    secure = TestClient(client.app, base_url="https://mercato.example")
    assert secure.get("/healthz").headers["strict-transport-security"].startswith("max-age=31536000")


def test_forwarded_headers_are_ignored_without_a_trusted_proxy(settings: Settings) -> None:
    # Mercato does not read X-Forwarded-* itself: uvicorn applies them only for the proxies in trusted_proxies,
    # so by default a client cannot claim another address (sign-in throttling) or https (Secure cookies).
    assert Settings(secret_key="x" * 40).trusted_proxies == ""
    app = create_app(settings)
    answer = TestClient(app).get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in answer.headers
