"""Schemathesis over the whole OpenAPI document, on SQLite and PostgreSQL: no input gets a server error, and
every answer is one the document promises (status code, content type, schema), with 405 and ``Allow`` for a
method a path does not take.

Each operation gets its documented examples, the coverage phase's boundary and negative cases (NUL bytes,
huge numbers, wrong types, unlisted methods) and a bounded number of generated cases. Every case is sent with
one of the world's callers (each role's token, a read-only token, or none), chosen from the case itself so that
a failure replays the same way; path parameters often name the world's real objects, so that requests reach
the rules and the database rather than stopping at 404.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from support.world import ROLES, World

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
]
CALLERS = (*ROLES, None)  # None: no token at all
EXAMPLES_PER_OPERATION = 25


@dataclass
class Objects:
    """Values of path parameters that name real objects of the world, by parameter name."""

    values: dict[str, list[str]] = field(default_factory=dict)


def _shop(api: TestClient, world: World) -> dict[str, list[str]]:
    """A quote, an open invoice and a paid one with a license, so that their paths lead somewhere."""
    admin, operator = world.auth("acme_admin"), world.auth("operator")

    def accepted(tier: str) -> dict[str, Any]:
        items = [{"action": "new", "product_key": "com.example.mockups.wiki", "tier": tier}]
        quote = api.post(
            "/api/v1/quotes",
            headers=admin,
            json={"host_instance_id": str(world.wiki_server.id), "items": items},
        )
        assert quote.status_code == 201, quote.text
        accepted = api.post(f"/api/v1/quotes/{quote.json()['id']}/accept", headers=admin)
        assert accepted.status_code == 201, accepted.text
        return {"quote": quote.json(), "invoice": accepted.json()["invoice"]}

    open_sale, paid_sale = accepted("100"), accepted("250")
    paid = paid_sale["invoice"]
    payment = {"amount": paid["total"], "reference": "FUZZ-1"}
    paid = api.post(f"/api/v1/invoices/{paid['id']}/payments", headers=operator, json=payment).json()
    tokens = api.get("/api/v1/tokens", headers=admin).json()["items"]
    return {
        "organisation": [world.acme.slug, str(world.globex.id)],
        "instance_id": [str(world.wiki_server.id), str(world.wiki_cloud.id), str(world.globex_wiki.id)],
        "quote_id": [open_sale["quote"]["id"], paid_sale["quote"]["id"]],
        "invoice_id": [open_sale["invoice"]["id"], paid["id"]],
        "line_id": [str(paid["lines"][0]["id"])],
        "entitlement_number": [paid["lines"][0]["license"]],
        "token_id": [tokens[0]["id"]],
        "app_key": ["com.example.mockups.wiki"],
        "key": ["wiki"],
        "issuer": ["operator", "example-mockups"],
        "slug": ["tier-mismatch", "invalid-input"],
    }


@pytest.fixture
def fuzzed(api: TestClient, world: World) -> tuple[Any, World, dict[str, list[str]]]:
    objects = _shop(api, world)
    config = schemathesis.Config.from_dict(
        {"generation": {"max-examples": EXAMPLES_PER_OPERATION}, "phases": {"stateful": {"enabled": False}}}
    )
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api.app, config=config)
    return schema, world, objects


@pytest.fixture
def fuzz_schema(fuzzed: tuple[Any, World, dict[str, list[str]]]) -> Any:
    return fuzzed[0]


def _choice(case: schemathesis.Case, salt: str, count: int) -> int:
    """A stable pick for this case: the same case always gets the same caller and objects."""
    seen = repr((case.method, case.path, case.path_parameters, case.query, case.body, salt))
    return int.from_bytes(hashlib.sha256(seen.encode()).digest()[:4]) % count


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
def test_no_input_gets_a_server_error_and_every_answer_is_documented(
    case: schemathesis.Case, fuzzed: tuple[Any, World, dict[str, list[str]]]
) -> None:
    _, world, objects = fuzzed
    parameters = case.path_parameters or {}
    for name in list(parameters):
        real = objects.get(name)
        # Two cases in three name a real object; the rest keep what was generated (which finds 404s and 422s).
        if real and _choice(case, name, 3):
            parameters[name] = real[_choice(case, name + "!", len(real))]
    if not (case.path_parameters or case.query or case.body is not None):
        callers: tuple[str | None, ...] = CALLERS  # nothing varies from case to case: ask as everyone
    else:
        callers = (CALLERS[_choice(case, "caller", len(CALLERS))],)
    for caller in callers:
        case.call_and_validate(headers=world.auth(caller) if caller else {}, checks=CHECKS)
