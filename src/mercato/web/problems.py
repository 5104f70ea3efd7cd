"""RFC 9457 problem details for every error the API returns: never an HTML page, never a bare 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from mercato.database import DatabaseTimeouts, DatabaseTrouble, database_trouble, engine_timeouts
from mercato.pricing import PricingError
from mercato.problems import Problem

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "/api/v1/problems/"
log = logging.getLogger(__name__)


def problem_response(
    status: int, slug: str, title: str, detail: str, instance: str | None = None, **extensions: Any
) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def _describe_validation_error(error: dict[str, Any]) -> str:
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    where = ".".join(location)
    message = str(error.get("msg", "is invalid"))
    return f"{where}: {message}" if where else message


def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem_response(
            400,
            "malformed-json",
            "Malformed JSON",
            "The request body is not valid JSON. Check for a missing quote, comma or brace.",
            request.url.path,
        )
    sentences = [_describe_validation_error(e) for e in errors]
    return problem_response(
        422,
        "invalid-input",
        "Invalid input",
        "The request has invalid fields: " + "; ".join(sentences) + ".",
        request.url.path,
        errors=[
            {
                "field": ".".join(str(p) for p in e.get("loc", ())),
                "message": e.get("msg"),
                "code": e.get("type"),
            }
            for e in errors
        ],
    )


def _problem_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    response = problem_response(
        exc.status, exc.type, exc.title, exc.detail, request.url.path, **exc.extensions
    )
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="mercato"'
    response.headers.update(exc.headers)
    return response


def _pricing_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PricingError)
    return problem_response(exc.status, exc.type, exc.title, exc.detail, request.url.path, **exc.details)


_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_HTTP_TITLES = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized", 403: "Forbidden"}


def _http_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = _HTTP_TITLES.get(exc.status_code, "HTTP error")
    detail = str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"There is nothing at {request.url.path}. The API lives under /api/v1; see /api/docs."
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}."
    slug = title.lower().replace(" ", "-")
    response = problem_response(exc.status_code, slug, title, detail, request.url.path)
    response.headers.update(exc.headers or {})
    if exc.status_code == 405:
        response.headers["Allow"] = _methods_allowed(request)
    return response


def _methods_allowed(request: Request) -> str:
    """Every method the path takes (RFC 9110's ``Allow``). Starlette names only those of the first route whose
    path matched, and a path such as ``/tokens`` has one route for GET and another for POST; so each method is
    tried against every route."""
    allowed = [
        method
        for method in _HTTP_METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    ]
    return ", ".join(allowed)


def _unexpected_handler(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        500,
        "internal-error",
        "Internal error",
        "Mercato hit an unexpected error and changed nothing. The operator's log has the details.",
        request.url.path,
    )


RETRY_AFTER_SECONDS = {
    DatabaseTrouble.LOCKED: 1,
    DatabaseTrouble.CONFLICT: 1,
    DatabaseTrouble.TIMED_OUT: 5,
    DatabaseTrouble.POOL_EXHAUSTED: 5,
    DatabaseTrouble.UNREACHABLE: 5,
}
"""What ``Retry-After`` says: a lock or a collision clears in a moment; a slow or unreachable database, later."""


def _database_sentence(trouble: DatabaseTrouble, timeouts: DatabaseTimeouts) -> str:
    if trouble is DatabaseTrouble.LOCKED:
        return (
            f"The database was busy with other changes for longer than {timeouts.busy:g} s (SQLite lets one "
            "change through at a time), so this request changed nothing. Try again in a moment; if this "
            "happens often, the operator should move Mercato to PostgreSQL."
        )
    if trouble is DatabaseTrouble.CONFLICT:
        return (
            "This request collided in the database with other changes made at the same moment, so it changed "
            "nothing. Try again."
        )
    if trouble is DatabaseTrouble.TIMED_OUT:
        return (
            f"The database did not finish this request within {timeouts.statement:g} s, so it was cancelled "
            "and changed nothing. Try again in a few seconds."
        )
    if trouble is DatabaseTrouble.POOL_EXHAUSTED:
        return (
            f"Every database connection stayed in use for {timeouts.pool:g} s, so this request was not "
            "started. Try again in a few seconds."
        )
    return (
        "Mercato cannot reach its database right now. Try again in a few seconds; if this goes on, the "
        "operator should check the database server and the network to it."
    )


class DatabaseUnavailable(Problem):
    """Mercato cannot reach its database (the server is down, or the network to it). Nothing was changed. The
    answer's `Retry-After` says when to ask again; if it goes on, the operator checks the database server."""

    status = 503
    type = "database-unavailable"
    title = "Database unavailable"


class DatabaseBusy(Problem):
    """The database did not answer within Mercato's timeouts (too many writers at once on SQLite, a long lock
    wait on PostgreSQL). Nothing was changed; ask again after `Retry-After` seconds."""

    status = 503
    type = "database-busy"
    title = "Database busy"


def database_problem_response(request: Request, trouble: DatabaseTrouble) -> JSONResponse:
    """503 with ``Retry-After``: the request can succeed later, and the client is told when to try."""
    unavailable = trouble is DatabaseTrouble.UNREACHABLE
    problem = DatabaseUnavailable if unavailable else DatabaseBusy
    response = problem_response(
        503,
        problem.type,
        problem.title,
        _database_sentence(trouble, engine_timeouts(request.app.state.engine)),
        request.url.path,
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS[trouble])
    return response


def _database_handler(request: Request, exc: Exception) -> JSONResponse:
    trouble = database_trouble(exc)
    if trouble is None:
        return _unexpected_handler(request, exc)
    log.warning("database %s on %s %s: %s", trouble, request.method, request.url.path, exc)
    return database_problem_response(request, trouble)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(Problem, _problem_handler)
    app.add_exception_handler(PricingError, _pricing_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(DBAPIError, _database_handler)
    app.add_exception_handler(PoolTimeoutError, _database_handler)
    app.add_exception_handler(Exception, _unexpected_handler)
