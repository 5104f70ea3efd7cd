"""The OpenAPI document as a client relies on it.

FastAPI writes the document from the routes; this module completes it where the framework cannot know
Mercato's contract:

- every error status is ``application/problem+json`` with the real problem schema (``Problem`` below), not
  FastAPI's ``HTTPValidationError``; the problems the HTTP layer answers for any route (invalid fields, malformed
  JSON, a path that names nothing) are listed on every operation that can meet them;
- the security schemes: an API token (bearer), or the browser session cookie, which on a change also needs its
  CSRF token in the ``X-CSRF-Token`` header. Each operation that needs a caller says so;
- request bodies carry their schema's examples, so the interactive docs fill them in.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from mercato.accounts.access import Forbidden, NotAuthenticated
from mercato.accounts.sessions import CSRF_HEADER, SESSION_COOKIE
from mercato.problems import InvalidInput, NotFound
from mercato.web.problem_types import link

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
BEARER, SESSION, CSRF = "bearerToken", "sessionCookie", "csrfToken"
_SAFE_METHODS = {"get", "head", "options"}
_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


class FieldError(BaseModel):
    field: str = Field(description="Where the invalid value is: `body.items.0.tier`, `query.offset`, ...")
    message: str = Field(description="What is wrong with it, for people.")
    code: str = Field(
        description="A machine code for the kind of error, such as `missing` or `string_too_long`."
    )


class LineError(BaseModel):
    line: int = Field(description="The line of the uploaded file (its header is line 1).")
    column: str | None = Field(description="The column, by its name in the header; null for the whole line.")
    detail: str = Field(description="What is wrong there, for people.")


class ProblemDocument(BaseModel):
    """An RFC 9457 problem document: every error Mercato answers. Besides the standard members, a problem may
    carry the facts a client can act on (`suggested_tier`, `amount_due`, `most_years_now`, ...); the page at
    its `type` lists what each kind of problem means."""

    model_config = ConfigDict(title="Problem", extra="allow")

    type: str = Field(
        description="The kind of problem, stable for clients to test: a URI reference whose page explains it.",
        examples=["/api/v1/problems/tier-mismatch"],
    )
    title: str = Field(description="A short summary of the kind of problem; the same for every occurrence.")
    status: int = Field(ge=400, le=599, description="The HTTP status code of the answer.")
    detail: str = Field(description="What went wrong this time and how to fix it, in a sentence for people.")
    instance: str | None = Field(default=None, description="The path of the request that failed.")
    errors: list[FieldError] | list[LineError] | None = Field(
        default=None,
        description="`invalid-input` about fields: each invalid field, where it is and why; `import-refused`: "
        "each problem of the uploaded file, by line and column.",
    )
    item: int | None = Field(
        default=None, description="Which item of the request the problem is about, counted from 1."
    )
    pointer: str | None = Field(
        default=None, description="A JSON Pointer to that item in the request body, like `/items/0`."
    )


SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token, sent as `Authorization: Bearer mct_…`. Make one with `POST /api/v1/tokens` "
        "or `mercato tokens create`; it reads, and writes only with the `write` scope.",
    },
    SESSION: {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "The browser session cookie set by `POST /api/v1/session`. A change made with it (any "
        "method but GET) also needs the session's CSRF token in the `X-CSRF-Token` header.",
    },
    CSRF: {
        "type": "apiKey",
        "in": "header",
        "name": CSRF_HEADER,
        "description": "The CSRF token that `POST /api/v1/session` and `GET /api/v1/session` answer; needed with "
        "the session cookie on every change.",
    },
}


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}


def _add_problem(responses: dict[str, Any], status: int, description: str) -> None:
    """Document ``status`` with the problem ``description``; a route's own description for it comes first."""
    answer = responses.get(str(status))
    if answer is None or answer.get("description") == "Validation Error":  # FastAPI's generic 422
        responses[str(status)] = {"description": description}
    elif description not in answer.get("description", ""):
        answer["description"] = f"{answer['description']}; {description}"


def _hoist_definitions(node: Any, schemas: dict[str, Any]) -> None:
    """Move the ``$defs`` of schemas written inline (a body an endpoint parses itself) into the components:
    in an OpenAPI document ``#/$defs/...`` would be looked up from the document's root, where it is not."""
    if isinstance(node, list):
        for value in node:
            _hoist_definitions(value, schemas)
    elif isinstance(node, dict):
        for name, definition in node.pop("$defs", {}).items():
            _hoist_definitions(definition, schemas)
            schemas.setdefault(name, definition)
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            node["$ref"] = "#/components/schemas/" + ref.removeprefix("#/$defs/")
        for value in node.values():
            _hoist_definitions(value, schemas)


def _complete_operation(method: str, operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    _hoist_definitions(operation, schemas)
    responses: dict[str, Any] = operation.setdefault("responses", {})
    parameters = operation.get("parameters", [])
    body = operation.get("requestBody")
    if parameters or body:
        _add_problem(responses, 422, link(InvalidInput.type, InvalidInput.title))
    if body:
        _add_problem(responses, 400, link("malformed-json", "Malformed JSON"))
        _add_examples(body, schemas)
    if any(parameter.get("in") == "path" for parameter in parameters):
        _add_problem(responses, 404, link(NotFound.type, NotFound.title))
    if "security" in operation:
        # Any credential Mercato accepts; with the session cookie a change also needs the CSRF header.
        session: dict[str, list[str]] = {SESSION: []} if method in _SAFE_METHODS else {SESSION: [], CSRF: []}
        operation["security"] = [{BEARER: []}, session]
        _add_problem(responses, 401, link(NotAuthenticated.type, NotAuthenticated.title))
        if method not in _SAFE_METHODS:  # a read-only token, or a session change without its CSRF token
            _add_problem(responses, 403, link(Forbidden.type, Forbidden.title))
    for status, answer in responses.items():
        if status[0] in "45":
            answer["content"] = _problem_content()


def _add_examples(body: dict[str, Any], schemas: dict[str, Any]) -> None:
    """The request schema's examples on the media type too, where the interactive docs look for them."""
    for media in body.get("content", {}).values():
        schema = media.get("schema", {})
        ref = schema.get("$ref", "")
        examples = schemas.get(ref.rsplit("/", 1)[-1], {}).get("examples") if ref else schema.get("examples")
        if examples and "examples" not in media:
            media["examples"] = {f"example {n}": {"value": value} for n, value in enumerate(examples, 1)}


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (as FastAPI wrote it) with Mercato's contract filled in; see the module docstring."""
    components = document.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    problem = ProblemDocument.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    components["securitySchemes"] = SECURITY_SCHEMES
    for path in document.get("paths", {}).values():
        for method, operation in path.items():
            if method in _METHODS:
                _complete_operation(method, operation, schemas)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve ``complete``'s document at the app's ``openapi_url`` (computed once, on first use)."""
    written_by_fastapi = app.openapi
    completed: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not completed:
            completed.update(complete(written_by_fastapi()))
        return completed

    app.openapi = openapi  # type: ignore[method-assign]
