"""Every kind of problem Mercato answers with, as its page explains it.

A problem document's ``type`` is ``/api/v1/problems/<slug>``, and that URI answers a page about the problem
(``mercato.web.problem_pages``). The pages are generated from the error classes themselves: every
``mercato.problems.Problem`` subclass and every pricing rule's ``PricingError``, with its title, status and
docstring, plus the few problems the HTTP layer answers on its own (malformed JSON, a wrong method, ...). A class
a feature adds gets its page without any change here.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass

from mercato.pricing import PricingError
from mercato.problems import Problem
from mercato.web.problems import PROBLEM_BASE


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str
    explanation: str

    @property
    def uri(self) -> str:
        return PROBLEM_BASE + self.slug


# What each status means to the client, and what generally helps.
STATUS_ADVICE = {
    400: "The request itself could not be read. Fix it and send it again; nothing was changed.",
    401: "Mercato does not know who is asking. Send a valid credential and try again.",
    403: "Mercato knows who is asking, and they may not do this. Nothing was changed.",
    404: "There is nothing here that you may see. Check the id or key, and the token you use.",
    405: "The path exists, but not with this method: the `Allow` header lists the methods it takes.",
    409: "The request conflicts with the object's current state. Read the object again before retrying.",
    422: "The request was understood but refused by a rule. Nothing was changed; the sentence says what to change.",
    500: "Mercato failed, not the request. Nothing was changed; the operator's log has the details.",
}

# Problems the HTTP layer answers itself, with no error class behind them (see ``mercato.web.problems``).
EDGE_PROBLEMS = (
    ProblemType(
        "malformed-json",
        400,
        "Malformed JSON",
        "The request body is not valid JSON: a missing quote, comma or brace, or a body that is not JSON at all. "
        "Send the body as JSON with `Content-Type: application/json`.",
    ),
    ProblemType(
        "method-not-allowed",
        405,
        "Method not allowed",
        "The path exists but does not take this HTTP method. The answer's `Allow` header lists the methods it "
        "takes; the API reference at `/api/docs` shows each operation.",
    ),
    ProblemType(
        "unauthorized",
        401,
        "Unauthorized",
        "The request needs a credential that was not sent or not accepted.",
    ),
    ProblemType(
        "http-error",
        400,
        "HTTP error",
        "The request could not be handled as sent (the status code says how). Check the method, the path, the "
        "headers and the size of the body.",
    ),
    ProblemType(
        "internal-error",
        500,
        "Internal error",
        "Mercato hit an unexpected error. The request changed nothing. The operator finds the details in the "
        "server's log under the time of the request; please report it with the request that caused it.",
    ),
)


def _error_classes() -> Iterator[type[Problem] | type[PricingError]]:
    pending: list[type[Problem] | type[PricingError]] = [Problem, PricingError]
    while pending:
        found = pending.pop(0)
        yield found
        pending.extend(found.__subclasses__())


def _docstring(error: type) -> str:
    """The class's own docstring (an undocumented subclass must not repeat its base's), as paragraphs of
    running text with Markdown's single-backtick code."""
    own = error.__dict__.get("__doc__")
    if not own:
        return ""
    paragraphs = inspect.cleandoc(own).replace("``", "`").split("\n\n")
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)


def problem_types() -> dict[str, ProblemType]:
    """Every problem type by slug. Classes that share a slug (the same rule raised in two features) share a
    page, with the explanations of each."""
    found: dict[str, ProblemType] = {edge.slug: edge for edge in EDGE_PROBLEMS}
    for error in _error_classes():
        # A class without its own ``type`` (a wrapper such as the preview's ItemRefused) answers with its
        # cause's type, which has a page of its own.
        if "type" not in error.__dict__:
            continue
        explanation = _docstring(error)
        known = found.get(error.type)
        if known is None:
            found[error.type] = ProblemType(error.type, error.status, error.title, explanation)
        elif explanation and explanation not in known.explanation:
            merged = f"{known.explanation}\n\n{explanation}".strip()
            found[error.type] = ProblemType(known.slug, known.status, known.title, merged)
    return dict(sorted(found.items()))


def link(slug: str, title: str) -> str:
    """A problem type as a Markdown link to its page, for descriptions in the OpenAPI document."""
    return f"[`{slug}`]({PROBLEM_BASE}{slug}): {title}"
