"""Migrations are code: they build every database, upgrade and downgrade cleanly, and match the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import mercato.models  # noqa: F401
from mercato.database import Base, make_engine
from mercato.migrations import alembic_config, upgrade_to_head


def test_migrations_match_the_models(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_migrations_downgrade_to_nothing_and_back(backend: str, fresh_database_url) -> None:  # type: ignore[no-untyped-def]
    url = fresh_database_url(backend)
    engine = make_engine(url)
    upgrade_to_head(engine)
    assert "licenses" in inspect(engine).get_table_names()
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade_to_head(engine)
    upgrade_to_head(engine)  # a second run applies nothing and fails on nothing
    assert "listings" in inspect(engine).get_table_names()
    engine.dispose()
