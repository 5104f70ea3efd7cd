"""Alembic migrations. Run them with ``mercato migrate``; the test databases are built the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).parent


DATABASE_ONLY_INDEXES = frozenset({"ix_apps_search", "ix_vendors_search"})
"""Indexes that migrations make on one database only (PostgreSQL's full-text search indexes, migration 0009)
and the models do not declare: comparing the models with a database leaves them out."""


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's filter of what autogenerate compares: everything but ``DATABASE_ONLY_INDEXES``."""
    return not (type_ == "index" and name in DATABASE_ONLY_INDEXES)


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would choke on '%' in passwords.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Apply every pending migration on the engine's database."""
    with engine.begin() as connection:
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
