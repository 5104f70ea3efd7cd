"""Every problem ``type`` Mercato can answer with resolves to a page that explains it
(``mercato.web.problem_pages``)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import mercato
from mercato.pricing import PricingError
from mercato.problems import Problem
from support.world import World

SOURCE = Path(mercato.__file__).parent


def every_error_class() -> list[type[Problem] | type[PricingError]]:
    """Every Problem and PricingError class with a type of its own, in every module of the package."""
    for module in pkgutil.walk_packages(mercato.__path__, "mercato."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    found: list[type[Problem] | type[PricingError]] = []
    pending: list[type[Problem] | type[PricingError]] = [Problem, PricingError]
    while pending:
        error = pending.pop()
        pending.extend(error.__subclasses__())
        if "type" in error.__dict__:
            found.append(error)
    return found


def slugs_written_in_the_web_layer() -> set[str]:
    """The slug argument of every ``problem_response(status, "slug", ...)`` call written in the source."""
    slugs = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "problem_response":
                argument = node.args[1] if len(node.args) > 1 else None
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    slugs.add(argument.value)
    return slugs


def test_every_error_class_has_a_page_with_its_title_and_status(api: TestClient) -> None:
    errors = every_error_class()
    assert len(errors) >= 80
    for error in errors:
        page = api.get(f"/api/v1/problems/{error.type}")
        assert page.status_code == 200, f"{error.__name__}: {page.text}"
        described = page.json()
        assert described["type"] == f"/api/v1/problems/{error.type}"
        assert (described["status"], described["title"]) == (error.status, error.title) or any(
            other.type == error.type for other in errors if other is not error
        ), error.__name__


def test_the_problems_the_http_layer_answers_itself_have_pages(api: TestClient, world: World) -> None:
    slugs = slugs_written_in_the_web_layer()
    assert {"malformed-json", "invalid-input", "internal-error"} <= slugs
    provoked = [
        api.get("/api/v1/me"),
        api.put("/api/v1/apps"),
        api.get("/api/v1/nothing-here"),
        api.get("/api/v1/apps", params={"limit": 0}),
        api.post("/api/v1/tokens", headers=world.auth("acme_read_only"), json={}),
        api.post("/api/v1/pricing/preview", content=b"{", headers={"content-type": "application/json"}),
    ]
    types = {answer.json()["type"] for answer in provoked} | {f"/api/v1/problems/{slug}" for slug in slugs}
    assert len(types) >= 7
    for uri in types:
        assert api.get(uri).status_code == 200, uri


def test_a_pricing_rule_page_explains_the_rule_and_names_the_operations_that_answer_it(
    api: TestClient,
) -> None:
    page = api.get("/api/v1/problems/tier-mismatch").json()
    assert page["status"] == 422
    assert page["title"] == "The app tier must cover every user of the host"
    assert "smaller than the host's user tier" in page["explanation"]
    assert "suggested_tier" in page["explanation"]
    assert {"POST /api/v1/quotes", "POST /api/v1/pricing/preview"} <= set(page["answered_by"])
    assert "Nothing was changed" in page["what_to_do"]


def test_a_browser_gets_the_page_as_html(api: TestClient) -> None:
    page = api.get("/api/v1/problems/overpayment", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>More than the invoice is due</h1>" in page.text
    assert "<code>amount_due</code>" in page.text
    assert "<code>POST /api/v1/invoices/{invoice_id}/payments</code>" in page.text
    index = api.get("/api/v1/problems", headers={"accept": "text/html"})
    assert '<a href="/api/v1/problems/overpayment"><code>overpayment</code></a>' in index.text


def test_the_list_of_problem_types_names_every_page(api: TestClient) -> None:
    listed = api.get("/api/v1/problems").json()
    assert {problem["slug"] for problem in listed} >= {error.type for error in every_error_class()}
    assert all(problem["explanation"] for problem in listed)


@pytest.mark.parametrize("slug", ["no-such-problem", "tier-mismatch%00"])
def test_an_unknown_problem_type_is_a_problem_itself(api: TestClient, slug: str) -> None:
    answer = api.get(f"/api/v1/problems/{slug}")
    assert answer.status_code in (404, 422)
    assert answer.headers["content-type"] == "application/problem+json"
