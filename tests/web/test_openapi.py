"""The OpenAPI document is the contract: credentials, problem documents, examples and description as the
API really behaves (``mercato.web.openapi``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from support.world import World

METHODS = {"get", "put", "post", "delete", "patch"}
SAFE = {"get"}


@pytest.fixture
def document(api: TestClient) -> dict[str, Any]:
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of ``schema`` whose ``#/components/...`` references resolve in ``document``."""
    return Draft202012Validator({**schema, "components": document["components"]})


def test_the_document_declares_the_bearer_token_and_the_session_cookie_with_its_csrf_header(
    document: dict[str, Any],
) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerToken"] == {**schemes["bearerToken"], "type": "http", "scheme": "bearer"}
    assert (schemes["sessionCookie"]["in"], schemes["sessionCookie"]["name"]) == ("cookie", "mercato_session")
    assert (schemes["csrfToken"]["in"], schemes["csrfToken"]["name"]) == ("header", "X-CSRF-Token")
    secured = [(method, path, op) for method, path, op in operations(document) if "security" in op]
    assert len(secured) >= 20
    for method, path, operation in secured:
        session = {"sessionCookie": []} if method in SAFE else {"sessionCookie": [], "csrfToken": []}
        assert operation["security"] == [{"bearerToken": []}, session], f"{method} {path}"


def test_an_operation_declares_credentials_exactly_when_it_refuses_a_caller_without_them(
    api: TestClient, document: dict[str, Any], world: World
) -> None:
    for method, path, operation in operations(document):
        url = path.format(
            organisation=world.acme.slug,
            instance_id=world.wiki_server.id,
            token_id=world.wiki_server.id,
            quote_id=world.wiki_server.id,
            invoice_id=world.wiki_server.id,
            line_id=1,
            entitlement_number="SEN-1",
            app_key="com.example.mockups.wiki",
            hosting="server",
            key="wiki",
            issuer="operator",
            slug="tier-mismatch",
            email="dev@mockups.example",
            message="0123456789ab",
            revision_id=world.wiki_server.id,
            endpoint=world.wiki_server.id,
            delivery=world.wiki_server.id,
            payout_id=world.wiki_server.id,
            campaign_id=world.wiki_server.id,
        )
        anonymous = api.request(method, url, json={})
        if "security" in operation:
            assert anonymous.status_code == 401, f"{method} {path}: {anonymous.status_code}"
            assert anonymous.headers["www-authenticate"].startswith("Bearer")
        elif path != "/api/v1/session":  # the session endpoints read the cookie themselves
            assert anonymous.status_code != 401, f"{method} {path} refuses anonymous callers but says not"


def test_every_error_is_documented_as_a_problem_document_with_the_real_schema(
    document: dict[str, Any],
) -> None:
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert "HTTPValidationError" not in str(document)
    for method, path, operation in operations(document):
        errors = {status: answer for status, answer in operation["responses"].items() if status[0] in "45"}
        for status, answer in errors.items():
            assert answer["content"] == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, f"{method} {path} {status}"
            assert "/api/v1/problems/" in answer["description"], (
                f"{method} {path} {status} links no problem type"
            )
        inputs = operation.get("parameters") or operation.get("requestBody")
        assert not inputs or "422" in errors, f"{method} {path} takes input but documents no 422"
        assert "requestBody" not in operation or "400" in errors, (
            f"{method} {path} documents no malformed JSON"
        )


def test_the_problem_schema_accepts_the_problem_documents_mercato_answers(
    api: TestClient, document: dict[str, Any], world: World
) -> None:
    problem = validator(document, {"$ref": "#/components/schemas/Problem"})
    preview = {"host": {"product": "wiki", "hosting": "server", "user_tier": "100"}}
    answers = [
        api.get("/api/v1/me"),
        api.get("/api/v1/apps/no.such.app"),
        api.delete("/api/v1/apps"),
        api.get("/api/v1/apps", params={"offset": -1}),
        api.post(
            "/api/v1/pricing/preview", content=b"{not json", headers={"content-type": "application/json"}
        ),
        api.post(
            "/api/v1/pricing/preview",
            json=preview
            | {"items": [{"action": "new", "product_key": "com.example.mockups.wiki", "tier": "10"}]},
        ),
        api.post("/api/v1/organisations", headers=world.auth("acme_read_only"), json={}),
        api.post(
            "/api/v1/organisations",
            headers=world.auth("acme_admin"),
            json={"slug": "x", "name": "X", "billing_email": "a@x.example"},
        ),
    ]
    statuses = set()
    for answer in answers:
        assert answer.headers["content-type"] == "application/problem+json", answer.text
        errors = sorted(problem.iter_errors(answer.json()), key=str)
        assert not errors, f"{answer.json()}: {errors[0].message}"
        statuses.add(answer.status_code)
    assert statuses == {400, 401, 403, 404, 405, 422}
    assert answers[5].json()["suggested_tier"] == "100 users"  # an extension member, allowed by the schema


def test_every_request_body_has_examples_that_its_schema_and_the_api_accept(
    api: TestClient, document: dict[str, Any], world: World
) -> None:
    bodies = [
        (method, path, op["requestBody"]) for method, path, op in operations(document) if "requestBody" in op
    ]
    assert len(bodies) >= 10
    for method, path, body in bodies:
        # JSON, or a file sent as it is (an import's CSV).
        [(media_type, media)] = [
            (name, media)
            for name, media in body["content"].items()
            if name in ("application/json", "text/csv")
        ]
        assert media.get("examples"), f"{method} {path} has no request example"
        for example in media["examples"].values():
            errors = list(validator(document, media["schema"]).iter_errors(example["value"]))
            assert not errors, f"{method} {path}: the example breaks its own schema: {errors[0].message}"
            url = path.format(
                organisation=world.acme.slug,
                instance_id=world.wiki_server.id,
                invoice_id=world.wiki_server.id,
                line_id=1,
                quote_id=world.wiki_server.id,
                slug="example-mockups",
                app_key="com.example.mockups.wiki",
                hosting="server",
                revision_id=world.wiki_server.id,
                endpoint=world.wiki_server.id,
                delivery=world.wiki_server.id,
                campaign_id=world.wiki_server.id,
            )
            if media_type == "text/csv":
                answer = api.request(
                    method,
                    url,
                    content=example["value"],
                    params={"dry_run": "true"},
                    headers=world.auth("operator") | {"Content-Type": media_type},
                )
            else:
                answer = api.request(method, url, json=example["value"], headers=world.auth("operator"))
            refused_input = answer.status_code in (400, 422) and answer.json()["type"].endswith(
                ("/invalid-input", "/malformed-json", "/import-refused")
            )
            assert not refused_input, f"{method} {path}: the example is refused: {answer.text}"


def test_the_description_says_how_to_call_the_api_and_every_tag_is_described(
    document: dict[str, Any],
) -> None:
    description = document["info"]["description"]
    for needed in [
        "Authorization: Bearer",
        "X-CSRF-Token",
        "/api/v1/problems",
        "/api/redoc",
        "limit",
        "offset",
    ]:
        assert needed in description, needed
    described = {tag["name"]: tag.get("description") for tag in document["tags"]}
    used = {tag for _, _, operation in operations(document) for tag in operation.get("tags", [])}
    assert used <= set(described), used - set(described)
    assert all(described.values())
    for method, path, operation in operations(document):
        assert operation.get("summary") and operation.get("description"), f"{method} {path}"


def test_a_method_a_path_does_not_take_answers_405_naming_the_methods_it_takes(
    api: TestClient, document: dict[str, Any]
) -> None:
    for path, item in document["paths"].items():
        documented = {method.upper() for method in item if method in METHODS}
        wrong = next(
            method for method in ("PUT", "PATCH", "DELETE", "POST", "GET") if method not in documented
        )
        answer: httpx.Response = api.request(wrong, path.replace("{", "").replace("}", ""))
        assert answer.status_code == 405, f"{wrong} {path}: {answer.status_code}"
        assert answer.headers["content-type"] == "application/problem+json"
        allowed = {method.strip() for method in answer.headers["allow"].split(",")}
        # Allow may name more: GET /licenses/validate is GET /licenses/{entitlement_number} for "validate".
        assert documented <= allowed, f"{path}: Allow {allowed}, documented {documented}"
        assert wrong not in allowed
