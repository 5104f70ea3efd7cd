"""HTTP hygiene: every answer carries the security headers; authenticated API answers are never cached; JWKS is
served as a JWK set that caches may keep briefly; https requests get HSTS and Secure cookies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from mercato.cli import app as mercato_cli
from mercato.settings import get_settings


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


@pytest.mark.parametrize(("trusted", "believed"), [(None, None), ("10.0.0.5", "10.0.0.5")])
def test_forwarded_headers_are_believed_only_from_the_proxies_the_operator_named(
    trusted: str | None, believed: str | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # uvicorn applies X-Forwarded-For/-Proto; what `mercato serve` hands it decides whose are believed.
    monkeypatch.chdir(tmp_path)
    if trusted is None:
        monkeypatch.delenv("MERCATO_TRUSTED_PROXIES", raising=False)
    else:
        monkeypatch.setenv("MERCATO_TRUSTED_PROXIES", trusted)
    get_settings.cache_clear()
    handed: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **options: handed.update(options))
    assert CliRunner().invoke(mercato_cli, ["serve", "--port", "0"]).exit_code == 0
    assert (handed["proxy_headers"], handed["forwarded_allow_ips"]) == (believed is not None, believed)
