"""lists: indexes in the order the list endpoints read (newest first, then by id), for every row (operator staff)
and for one organisation's (customers), so that a page read from a cursor costs the same at any depth

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# (index, table, columns): each matches a list's filter and its order (mercato.paging).
INDEXES = (
    ("ix_licenses_created", "licenses", ["created_at", "id"]),
    ("ix_licenses_organisation_created", "licenses", ["organisation_id", "created_at", "id"]),
    ("ix_quotes_created", "quotes", ["created_at", "id"]),
    ("ix_quotes_organisation_created", "quotes", ["organisation_id", "created_at", "id"]),
    ("ix_invoices_created", "invoices", ["created_at", "id"]),
    ("ix_invoices_organisation_created", "invoices", ["organisation_id", "created_at", "id"]),
    ("ix_invoices_seller_created", "invoices", ["seller", "created_at", "id"]),
    ("ix_outbox_messages_created", "outbox_messages", ["created_at", "id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
