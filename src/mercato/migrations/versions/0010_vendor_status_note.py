"""vendor status note: why the operator approved, suspended or reactivated a vendor, and when

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain added columns: the vendors table is referenced by others, so it is never rebuilt.
    op.add_column("vendors", sa.Column("status_note", sa.Text(), nullable=False, server_default=""))
    op.add_column("vendors", sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("vendors", "status_changed_at")
    op.drop_column("vendors", "status_note")
