"""What a route declares it may answer: every problem type it can raise, grouped by status, as
``application/problem+json`` in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from mercato.pricing import PricingError
from mercato.problems import Problem
from mercato.web.problem_types import link


def pricing_rules() -> list[type[PricingError]]:
    """Every pricing rule's error type: what a quote may be refused for, item by item."""
    found: list[type[PricingError]] = []
    pending = list(PricingError.__subclasses__())
    while pending:
        rule = pending.pop(0)
        found.append(rule)
        pending.extend(rule.__subclasses__())
    return found


def problem_responses(*problems: type[Problem | PricingError]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status with the problem types it may answer, as the OpenAPI shows."""
    by_status: dict[int, list[type[Problem | PricingError]]] = {}
    for problem in problems:
        by_status.setdefault(problem.status, []).append(problem)
    return {
        status: {
            "description": "; ".join(link(p.type, p.title) for p in listed),
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status, listed in sorted(by_status.items())
    }
