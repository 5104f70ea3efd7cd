"""Rendering pages: one Jinja2 environment (autoescaped, strict), the filters pages share, and ``render``,
which every page handler ends with."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from mercato.pages.viewer import CSRF_FIELD, FORM_COOKIE, Viewer

HTMX_REQUEST = "HX-Request"


def money(amount: Decimal | str | int | None, currency: str = "USD") -> str:
    """``$1,100.00``: amounts as a buyer reads them (the API keeps them as decimal strings)."""
    if amount is None:
        return "—"
    return str(format_currency(Decimal(str(amount)), currency, locale="en_US"))


def day(value: date | datetime | str | None) -> str:
    """``4 Dec 2026``: unambiguous in every locale, unlike 12/04/2026."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value.day} {value:%b %Y}"


def tier(value: int | str | None) -> str:
    if value is None:
        return "—"
    text = str(value)
    return "Unlimited users" if text == "unlimited" else f"{int(text):,} users"


environment = Environment(
    loader=PackageLoader("mercato", "pages/templates"),
    autoescape=select_autoescape(enabled_extensions=("html",)),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters.update(money=money, day=day, tier=tier)
environment.globals["csrf_field_name"] = CSRF_FIELD


def is_htmx(request: Request) -> bool:
    return request.headers.get(HTMX_REQUEST) == "true"


def render(
    request: Request,
    template: str,
    viewer: Viewer,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page (or, for an htmx request, the fragment template) as an HTML answer. Every template sees the
    viewer, its CSRF token and the request's path."""
    html = environment.get_template(template).render(
        request=request, viewer=viewer, csrf_token=viewer.csrf_token, path=request.url.path, **context
    )
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    if viewer.new_form_cookie:
        response.set_cookie(
            FORM_COOKIE,
            viewer.csrf_token,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )
    if viewer.signed_in:
        # A signed-in page shows keys, invoices and people: never kept by a shared cache or the history.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
