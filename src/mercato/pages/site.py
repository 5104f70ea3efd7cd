"""Mounting the pages on the application: the static files shipped with the package, every audience's router,
and errors answered as pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from mercato.pages import (
    account_pages,
    buying_pages,
    license_check_pages,
    license_pages,
    operator_pages,
    storefront_pages,
    vendor_pages,
)
from mercato.pages.errors import install_page_errors

STATIC_DIRECTORY = Path(__file__).parent / "static"


def install_pages(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIRECTORY), name="static")
    for module in (
        storefront_pages,
        license_check_pages,
        account_pages,
        buying_pages,
        license_pages,
        vendor_pages,
        operator_pages,
    ):
        app.include_router(module.router)
    install_page_errors(app)
