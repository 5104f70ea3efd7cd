"""price change notices: which customer organisation was told of which price change

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "price_change_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("price_table_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("licenses", sa.JSON(), nullable=False),
        sa.Column("outbox_message_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_price_change_notices_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["price_table_id"],
            ["price_tables.id"],
            name=op.f("fk_price_change_notices_price_table_id_price_tables"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_change_notices")),
        sa.UniqueConstraint(
            "price_table_id",
            "organisation_id",
            name=op.f("uq_price_change_notices_price_table_id_organisation_id"),
        ),
    )
    op.create_index(
        op.f("ix_price_change_notices_organisation_id"), "price_change_notices", ["organisation_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_price_change_notices_organisation_id"), table_name="price_change_notices")
    op.drop_table("price_change_notices")
