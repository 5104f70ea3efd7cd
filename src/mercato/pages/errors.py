"""Errors on pages are pages: a browser that opens a page and hits a problem (not found, forbidden, invalid
input, a broken rule) gets an HTML page with the same status and the same sentence the API would give, and a
way on. A signed-out browser on a page that needs a user is sent to sign in. API paths keep their RFC 9457
documents: this wraps the handlers that ``mercato.web.problems`` installed, and only for page requests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mercato.accounts.access import NotAuthenticated
from mercato.pages.rendering import render
from mercato.pages.viewer import SignInNeeded, get_viewer
from mercato.pricing import PricingError
from mercato.problems import Problem

Handler = Callable[[Request, Exception], Response | Awaitable[Response]]
_NOT_PAGES = ("/api/", "/static/", "/healthz", "/readyz")


def is_page_request(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(_NOT_PAGES) and "text/html" in request.headers.get("accept", "")


def _describe(exc: Exception) -> tuple[int, str, str]:
    if isinstance(exc, Problem):
        return exc.status, exc.title, exc.detail
    if isinstance(exc, PricingError):
        return exc.status, exc.title, exc.detail
    if isinstance(exc, RequestValidationError):
        fields = ", ".join(
            ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path", "form"))
            + f": {e.get('msg')}"
            for e in exc.errors()
        )
        return 422, "Some fields are not right", f"Check these and send again: {fields}."
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 404:
            return 404, "Page not found", "There is no page at this address. Try the app catalog."
        return exc.status_code, "Not allowed", str(exc.detail)
    return 500, "Something went wrong", "Mercato hit an unexpected error and changed nothing."


def error_page(request: Request, exc: Exception) -> Response:
    status, title, detail = _describe(exc)
    return render(request, "error.html", get_viewer(request), status_code=status, title=title, detail=detail)


def _page_aware(original: Handler | None) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        if is_page_request(request):
            if isinstance(exc, NotAuthenticated):
                return RedirectResponse(SignInNeeded(request.url.path).location, status_code=303)
            return error_page(request, exc)
        if original is None:
            raise exc
        result: Any = original(request, exc)
        if isinstance(result, Awaitable):
            result = await result
        return cast(Response, result)

    return handle


def _sign_in_redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInNeeded)
    return RedirectResponse(exc.location, status_code=303)


def install_page_errors(app: FastAPI) -> None:
    """After ``install_problem_handlers``: the same handlers, answering pages with pages."""
    for kind in (Problem, PricingError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(kind, _page_aware(app.exception_handlers.get(kind)))
    app.add_exception_handler(SignInNeeded, _sign_in_redirect)
