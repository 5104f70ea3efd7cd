"""catalog search: full-text indexes for the app search on PostgreSQL

``GET /api/v1/apps?q=`` reads an app's name and summary, and its vendor's name, as ``simple`` text-search
documents (``mercato.catalog.repository.AppSearch``); these expression indexes hold the same expressions, so
PostgreSQL answers from them. SQLite searches with ``LIKE`` and has nothing to index: a no-op there.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_apps_search": "apps USING gin (to_tsvector('simple', name || ' ' || summary))",
    "ix_vendors_search": "vendors USING gin (to_tsvector('simple', name))",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
