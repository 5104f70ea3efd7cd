"""The catalog file's JSON Schema, published for editors and tools that write catalog files."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

router = APIRouter(tags=["catalog"])


@router.get("/catalog/schema", response_model=dict[str, Any], summary="Catalog file schema")
def catalog_file_schema() -> dict[str, Any]:
    """The JSON Schema of the catalog files that `mercato catalog apply` takes and `mercato catalog export`
    writes (the same as `mercato catalog schema` prints). Public."""
    # Imported on the first request rather than when the server starts: it builds every model of the file.
    from mercato.catalog.file import catalog_schema

    return catalog_schema()
