"""RFC 9457 problem details for every error the API returns: never an HTML page, never a bare 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

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


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(Problem, _problem_handler)
    app.add_exception_handler(PricingError, _pricing_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(Exception, _unexpected_handler)
