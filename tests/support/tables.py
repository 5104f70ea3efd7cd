"""Every row of every table, to show that something changed nothing (or copied everything)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

import mercato.models  # noqa: F401  (every table module, so the metadata knows them all)
from mercato.database import Base


def every_row(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Each table of the metadata (new tables included) with all its rows, in a stable order."""
    with engine.connect() as connection:
        return {
            table.name: sorted(
                (tuple(row) for row in connection.execute(select(table))), key=lambda row: repr(row)
            )
            for table in Base.metadata.sorted_tables
        }


def row_counts(engine: Engine) -> dict[str, int]:
    return {name: len(rows) for name, rows in every_row(engine).items()}
