"""Alembic environment: uses the caller's connection when given one (tests, ``mercato migrate``)."""

from __future__ import annotations

from alembic import context

import mercato.models  # noqa: F401  (registers every table on Base.metadata)
from mercato.database import Base, make_engine
from mercato.migrations import include_object

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as own_connection:
        _run(own_connection)


def _run(connection: object) -> None:
    # Batch mode lets ALTERs work on SQLite, which rebuilds tables instead of altering them.
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
