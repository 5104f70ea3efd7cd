"""cart: the items a signed-in buyer means to quote (``mercato.commerce.cart_models``)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cart_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("host_instance_id", sa.Uuid(), nullable=False),
        sa.Column("product_key", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=True),
        sa.Column("years", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("years >= 1 AND years <= 10", name=op.f("ck_cart_items_years")),
        sa.ForeignKeyConstraint(
            ["host_instance_id"],
            ["host_instances.id"],
            name=op.f("fk_cart_items_host_instance_id_host_instances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_cart_items_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cart_items")),
        sa.UniqueConstraint(
            "user_id",
            "host_instance_id",
            "product_key",
            name=op.f("uq_cart_items_user_id_host_instance_id_product_key"),
        ),
    )
    with op.batch_alter_table("cart_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cart_items_host_instance_id"), ["host_instance_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cart_items_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cart_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cart_items_user_id"))
        batch_op.drop_index(batch_op.f("ix_cart_items_host_instance_id"))
    op.drop_table("cart_items")
