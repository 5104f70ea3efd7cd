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
EXAMPLES_PER_OPERATION = 50
SHARDS = 4  # the operations are split into this many tests, by a hash of their method and path


def _shop(api: TestClient, world: World) -> dict[str, list[str]]:
    """A quote, an open invoice and a paid one with a license, so that their paths lead somewhere."""
    admin, operator = world.auth("acme_admin"), world.auth("operator")
    hooks = "/api/v1/webhook-endpoints"
    endpoint = api.post(
        hooks,
        headers=world.auth("mockups_vendor"),
        json={"url": "https://hooks.mockups.example/in", "events": ["license.created"]},
    ).json()["id"]

    def accepted(product_key: str) -> dict[str, Any]:
        items = [{"action": "new", "product_key": product_key, "tier": "100"}]
        quote = api.post(
            "/api/v1/quotes",
            headers=admin,
            json={"host_instance_id": str(world.wiki_server.id), "items": items},
        )
        assert quote.status_code == 201, quote.text
        accepted = api.post(f"/api/v1/quotes/{quote.json()['id']}/accept", headers=admin)
        assert accepted.status_code == 201, accepted.text
        return {"quote": quote.json(), "invoice": accepted.json()["invoice"]}

    # Two apps: an app is licensed once per host instance (an unpaid invoice for it counts).
    # The paid one is the mockup app's, so that the vendor's webhook endpoint has a delivery.
    open_sale, paid_sale = accepted("com.gatekeeper.sso.wiki"), accepted("com.example.mockups.wiki")
    paid = paid_sale["invoice"]
    payment = {"amount": paid["total"], "reference": "FUZZ-1"}
    paid = api.post(f"/api/v1/invoices/{paid['id']}/payments", headers=operator, json=payment).json()
    tokens = api.get("/api/v1/tokens", headers=admin).json()["items"]
    deliveries = api.get(f"{hooks}/{endpoint}/deliveries", headers=operator).json()["items"]
    return {
        "organisation": [world.acme.slug, str(world.globex.id)],
        "instance_id": [str(world.wiki_server.id), str(world.wiki_cloud.id), str(world.globex_wiki.id)],
        "quote_id": [open_sale["quote"]["id"], paid_sale["quote"]["id"]],
        "invoice_id": [open_sale["invoice"]["id"], paid["id"]],
        "line_id": [str(paid["lines"][0]["id"])],
        "entitlement_number": [paid["lines"][0]["license"]],
        "token_id": [tokens[0]["id"]],
        "endpoint": [endpoint],
        "delivery": [deliveries[0]["id"]],
        "app_key": ["com.example.mockups.wiki"],
        "key": ["wiki"],
        "issuer": ["operator", "example-mockups"],
        "slug": ["tier-mismatch", "invalid-input", "example-mockups"],
    }


# Values that broke Mercato before, offered to every parameter of their type (query, path, header) and to the
# body fields below, besides what schemathesis generates from the schema.
HOSTILE_TEXT = [
    "\x00",
    "a\x00b",
    "\x1b[31m",
    "line\nbreak",
    "\x85",
    "",
    " ",
    "١٠٠",
    "²",
    "1e9",
    "100.0",
    "-1",
    "0",
    "9999-12-31",
    "0001-01-01",
    "2100-01-01",
    "unlimited",
    "100 users",
    "10,000",
    "%00",
    "../..",
    "x" * 300,
]
HOSTILE_INTEGERS = [0, -1, 2**31 - 1, 2**31, 2**63, 2**64 + 1, -(2**63) - 1]
HOSTILE_BODY_FIELDS = [
    "body.name",
    "body.slug",
    "body.email",
    "body.billing_email",
    "body.server_id",
    "body.host_product",
    "body.reference",
    "body.reason",
    "body.po_number",
    "body.app_key",
    "body.host_tier",
    "body.date",
    "body.received_on",
    "body.host_maintenance_end",
    "body.next_billing_date",
    "body.items[*].tier",
    "body.items[*].product_key",
    "body.items[*].maintenance_end",
    "body.items[*].target_date",
    "body.host.user_tier",
    "body.host.maintenance_end",
]


def _other_shards(api: TestClient, shard: int) -> list[str]:
    """The operations (as schemathesis names them: method and path) that are not in this shard, by a stable hash
    of their name."""
    names = [
        f"{method.upper()} {path}"
        for path, operations in api.app.openapi()["paths"].items()
        for method in operations
        if method in ("get", "put", "post", "delete", "patch", "head", "options", "trace")
    ]
    return [name for name in names if hashlib.sha256(name.encode()).digest()[0] % SHARDS != shard]


@pytest.fixture(params=range(SHARDS), ids=lambda shard: f"shard{shard}")
def fuzzed(api: TestClient, world: World, request: pytest.FixtureRequest) -> tuple[Any, World]:
    """The schema of one shard of the operations: each shard is a test of its own, so that the suite's
    processes share the fuzzing rather than one process doing all of it while the others are done."""
    objects = _shop(api, world)
    dictionaries: dict[str, Any] = {
        "hostile-text": {"values": HOSTILE_TEXT},
        "hostile-integers": {"values": HOSTILE_INTEGERS},
        **{f"real-{name}": {"values": values} for name, values in objects.items()},
        "real-products": {
            "values": ["com.example.mockups.wiki", "com.gatekeeper.sso.wiki", "wiki", "tracker"]
        },
    }
    parameters: dict[str, Any] = {
        # Two requests in three name a real object, so that they reach the rules and the database.
        **{f"path.{name}": {"dictionary": f"real-{name}", "probability": 0.67} for name in objects},
        "body.host_instance_id": {"dictionary": "real-instance_id", "probability": 0.67},
        "body.items[*].license": {"dictionary": "real-entitlement_number", "probability": 0.5},
        "body.items[*].product_key": {"dictionary": "real-products", "probability": 0.67},
        **{field: {"dictionary": "hostile-text", "probability": 0.2} for field in HOSTILE_BODY_FIELDS},
    }
    config = schemathesis.Config.from_dict(
        {
            "dictionaries": dictionaries,
            "parameters": parameters,
            "generation": {
                "max-examples": EXAMPLES_PER_OPERATION,
                "dictionaries": {
                    "string": {"dictionary": "hostile-text", "probability": 0.2},
                    "integer": {"dictionary": "hostile-integers", "probability": 0.2},
                },
            },
            "phases": {"stateful": {"enabled": False}},
            "operations": [{"include-name": _other_shards(api, request.param), "enabled": False}],
        }
    )
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api.app, config=config)
    return schema, world


@pytest.fixture
def fuzz_schema(fuzzed: tuple[Any, World]) -> Any:
    return fuzzed[0]


def _choice(case: schemathesis.Case, count: int) -> int:
    """A stable pick for this case: the same case always gets the same caller."""
    seen = repr((case.method, case.path, case.path_parameters, case.query, case.body))
    return int.from_bytes(hashlib.sha256(seen.encode()).digest()[:4]) % count


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
def test_no_input_gets_a_server_error_and_every_answer_is_documented(
    case: schemathesis.Case, fuzzed: tuple[Any, World]
) -> None:
    _, world = fuzzed
    if not (case.path_parameters or case.query or case.body is not None):
        callers: tuple[str | None, ...] = CALLERS  # nothing varies from case to case: ask as everyone
    else:
        callers = (CALLERS[_choice(case, len(CALLERS))],)
    for caller in callers:
        case.call_and_validate(headers=world.auth(caller) if caller else {}, checks=CHECKS)
