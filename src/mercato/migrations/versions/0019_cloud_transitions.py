"""cloud transitions: a vendor's direct cloud offering mapped to its marketplace cloud listing, once per vendor
and offering

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cloud_transitions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column("from_app", sa.String(length=200), nullable=False),
        sa.Column("to_app", sa.String(length=200), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("invoiced", sa.Integer(), nullable=False),
        sa.Column("moved_at_once", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendors.id"],
            name=op.f("fk_cloud_transitions_vendor_id_vendors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cloud_transitions")),
        sa.UniqueConstraint("vendor_id", "from_app", name=op.f("uq_cloud_transitions_vendor_id_from_app")),
    )
    op.create_index(op.f("ix_cloud_transitions_vendor_id"), "cloud_transitions", ["vendor_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_cloud_transitions_vendor_id"), table_name="cloud_transitions")
    op.drop_table("cloud_transitions")
