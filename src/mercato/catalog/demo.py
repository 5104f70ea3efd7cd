"""Demo catalog: the Northwind marketplace selling its wiki and tracker and apps from four vendors.

The catalog itself is a catalog file, ``demo_catalog.yaml`` next to this module, applied like any other
(``mercato catalog apply``). Prices are in USD from 2025-01-01, when every listing was published. The mockup
vendor sells the same app for both hosts and all their hostings, like the seed FAQ's vendor; its app keys are
stable (``com.example.mockups.wiki``, ``com.example.mockups.tracker``) so that the docs and scripted checks can
name them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from importlib.resources import files

from mercato.catalog.repository import CatalogRepository

DEMO_PRICES_FROM = date(2025, 1, 1)
"""The day the demo's prices take effect and its listings were published."""


def demo_catalog_text() -> str:
    return files("mercato.catalog").joinpath("demo_catalog.yaml").read_text(encoding="utf-8")


def load_demo_catalog(repository: CatalogRepository) -> None:
    """Fill an empty catalog. Safe to call on every start: it does nothing when listings exist."""
    if not repository.is_empty():
        return
    # Imported here: `mercato serve --demo` calls this on every start, and only the first one reads the file.
    from mercato.catalog.file import apply_catalog, read_catalog
    from mercato.catalog.file_repository import CatalogFileRepository

    apply_catalog(
        CatalogFileRepository(repository.session),
        read_catalog(demo_catalog_text()),
        now=datetime.combine(DEMO_PRICES_FROM, datetime.min.time(), tzinfo=UTC),
    )
