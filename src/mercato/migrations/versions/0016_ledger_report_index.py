"""reports: the vendor's ledger entries by time, covering what the monthly summary adds up (an index-only scan on
PostgreSQL; a plain two-column index on SQLite), and a license's entries by time (its last sale type)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_ledger_entries_vendor_occurred",
        "ledger_entries",
        ["vendor_id", "occurred_at"],
        postgresql_include=["currency", "kind", "amount_minor", "vendor_amount_minor"],
    )
    op.create_index("ix_ledger_entries_license_occurred", "ledger_entries", ["license_id", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_ledger_entries_license_occurred", table_name="ledger_entries")
    op.drop_index("ix_ledger_entries_vendor_occurred", table_name="ledger_entries")
