"""The API reference for people: Swagger UI at ``/api/docs`` (try requests, with an Authorize button) and ReDoc
at ``/api/redoc`` (reading). Both are served from files inside the installed packages, never from a CDN, so
they work on a server with no outside network: Swagger UI from the pinned ``swagger-ui-bundle-v2`` package,
ReDoc from ``mercato/web/static/redoc`` (see its README for the version)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

SWAGGER_UI_URL = "/api/docs"
REDOC_URL = "/api/redoc"
SWAGGER_ASSETS = "/api/docs/assets"
REDOC_ASSETS = "/api/redoc/assets"
REDOC_FILES = Path(__file__).with_name("static") / "redoc"


def install_api_docs(app: FastAPI, openapi_url: str) -> None:
    app.mount(SWAGGER_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui-assets")
    app.mount(REDOC_ASSETS, StaticFiles(directory=REDOC_FILES), name="redoc-assets")
    title = f"{app.title} API"
    favicon = f"{SWAGGER_ASSETS}/favicon-32x32.png"

    @app.get(SWAGGER_UI_URL, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
            swagger_favicon_url=favicon,
            # No call to the public validator service; keep the token across reloads of the page.
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
        )

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=title,
            redoc_js_url=f"{REDOC_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=favicon,
            with_google_fonts=False,
        )
