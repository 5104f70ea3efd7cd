"""license keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(length=100), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("sealed_private_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('signing', 'verifying', 'retired')", name=op.f("ck_signing_keys_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_keys")),
        sa.UniqueConstraint("kid", name=op.f("uq_signing_keys_kid")),
    )
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signing_keys_issuer"), ["issuer"], unique=False)

    op.create_table(
        "licenses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("entitlement_number", sa.String(length=32), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=False),
        sa.Column("product_key", sa.String(length=200), nullable=False),
        sa.Column("hosting", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("issuer", sa.String(length=100), nullable=False),
        sa.Column("license_type", sa.String(length=32), nullable=False),
        sa.Column("tier_users", sa.Integer(), nullable=False),
        sa.Column("host_binding", sa.String(length=200), nullable=False),
        sa.Column("evaluation", sa.Boolean(), nullable=False),
        sa.Column("maintenance_start", sa.Date(), nullable=True),
        sa.Column("maintenance_end", sa.Date(), nullable=True),
        sa.Column("term_end", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("channel IN ('marketplace', 'direct')", name=op.f("ck_licenses_channel")),
        sa.CheckConstraint(
            "status IN ('active', 'expired', 'suspended', 'cancelled', 'superseded')",
            name=op.f("ck_licenses_status"),
        ),
        sa.CheckConstraint("tier_users > 0 OR tier_users = -1", name=op.f("ck_licenses_tier_users")),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["listings.id"], name=op.f("fk_licenses_listing_id_listings"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licenses")),
        sa.UniqueConstraint("entitlement_number", name=op.f("uq_licenses_entitlement_number")),
    )
    with op.batch_alter_table("licenses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_licenses_listing_id"), ["listing_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_licenses_product_key"), ["product_key"], unique=False)

    op.create_table(
        "license_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("license_id", sa.Uuid(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=500), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("superseded_grace_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["license_id"],
            ["licenses.id"],
            name=op.f("fk_license_keys_license_id_licenses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_license_keys")),
        sa.UniqueConstraint("serial", name=op.f("uq_license_keys_serial")),
    )
    with op.batch_alter_table("license_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_license_keys_license_id"), ["license_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("license_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_license_keys_license_id"))

    op.drop_table("license_keys")
    with op.batch_alter_table("licenses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_licenses_product_key"))
        batch_op.drop_index(batch_op.f("ix_licenses_listing_id"))

    op.drop_table("licenses")
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signing_keys_issuer"))

    op.drop_table("signing_keys")
