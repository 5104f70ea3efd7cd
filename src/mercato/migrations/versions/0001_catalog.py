"""catalog

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "host_products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("user_tiers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_host_products")),
        sa.UniqueConstraint("key", name=op.f("uq_host_products_key")),
    )
    op.create_table(
        "operators",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("slug", name=op.f("uq_operators_slug")),
    )
    op.create_table(
        "revenue_share_rates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("hosting", sa.String(length=32), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("vendor_share", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.CheckConstraint(
            "vendor_share >= 0 AND vendor_share <= 1", name=op.f("ck_revenue_share_rates_share_is_fraction")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revenue_share_rates")),
        sa.UniqueConstraint(
            "hosting", "effective_from", name=op.f("uq_revenue_share_rates_hosting_effective_from")
        ),
    )
    op.create_table(
        "vendors",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("website", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendors")),
        sa.UniqueConstraint("slug", name=op.f("uq_vendors_slug")),
    )
    op.create_table(
        "apps",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column("host_product_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["host_product_id"],
            ["host_products.id"],
            name=op.f("fk_apps_host_product_id_host_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendors.id"], name=op.f("fk_apps_vendor_id_vendors"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apps")),
        sa.UniqueConstraint("key", name=op.f("uq_apps_key")),
    )
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_apps_host_product_id"), ["host_product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_apps_vendor_id"), ["vendor_id"], unique=False)

    op.create_table(
        "listings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product_key", sa.String(length=200), nullable=False),
        sa.Column("hosting", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.Uuid(), nullable=True),
        sa.Column("host_product_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("sold_on_marketplace", sa.Boolean(), nullable=False),
        sa.Column("sold_direct", sa.Boolean(), nullable=False),
        sa.Column("tier_must_match_host_marketplace", sa.Boolean(), nullable=False),
        sa.Column("tier_must_match_host_direct", sa.Boolean(), nullable=False),
        sa.Column("max_maintenance_months_marketplace", sa.Integer(), nullable=False),
        sa.Column("max_maintenance_months_direct", sa.Integer(), nullable=False),
        sa.Column("cloud_flat_monthly_minor", sa.Integer(), nullable=True),
        sa.Column("cloud_annual_tiers", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("hosting IN ('server', 'datacenter', 'cloud')", name=op.f("ck_listings_hosting")),
        sa.CheckConstraint(
            "max_maintenance_months_direct BETWEEN 12 AND 120", name=op.f("ck_listings_direct_cap")
        ),
        sa.CheckConstraint(
            "max_maintenance_months_marketplace BETWEEN 12 AND 120", name=op.f("ck_listings_marketplace_cap")
        ),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_listings_app_id_apps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["host_product_id"],
            ["host_products.id"],
            name=op.f("fk_listings_host_product_id_host_products"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listings")),
        sa.UniqueConstraint("product_key", "hosting", name=op.f("uq_listings_product_key_hosting")),
    )
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_listings_app_id"), ["app_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_listings_host_product_id"), ["host_product_id"], unique=False)

    op.create_table(
        "cloud_price_brackets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("up_to_users", sa.Integer(), nullable=True),
        sa.Column("per_user_monthly_minor", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "per_user_monthly_minor >= 0", name=op.f("ck_cloud_price_brackets_amount_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_cloud_price_brackets_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cloud_price_brackets")),
        sa.UniqueConstraint(
            "listing_id", "position", name=op.f("uq_cloud_price_brackets_listing_id_position")
        ),
    )
    with op.batch_alter_table("cloud_price_brackets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cloud_price_brackets_listing_id"), ["listing_id"], unique=False)

    op.create_table(
        "releases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("build_date", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["listings.id"], name=op.f("fk_releases_listing_id_listings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_releases")),
        sa.UniqueConstraint("listing_id", "version", name=op.f("uq_releases_listing_id_version")),
    )
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_releases_listing_id"), ["listing_id"], unique=False)

    op.create_table(
        "tier_prices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=False),
        sa.Column("price_list", sa.String(length=16), nullable=False),
        sa.Column("tier_users", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.CheckConstraint("price_list IN ('standard', 'direct')", name=op.f("ck_tier_prices_price_list")),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_tier_prices_amount_not_negative")),
        sa.CheckConstraint("tier_users > 0 OR tier_users = -1", name=op.f("ck_tier_prices_tier_users")),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_tier_prices_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tier_prices")),
        sa.UniqueConstraint(
            "listing_id",
            "price_list",
            "tier_users",
            name=op.f("uq_tier_prices_listing_id_price_list_tier_users"),
        ),
    )
    with op.batch_alter_table("tier_prices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tier_prices_listing_id"), ["listing_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tier_prices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tier_prices_listing_id"))

    op.drop_table("tier_prices")
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_releases_listing_id"))

    op.drop_table("releases")
    with op.batch_alter_table("cloud_price_brackets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cloud_price_brackets_listing_id"))

    op.drop_table("cloud_price_brackets")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listings_host_product_id"))
        batch_op.drop_index(batch_op.f("ix_listings_app_id"))

    op.drop_table("listings")
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apps_vendor_id"))
        batch_op.drop_index(batch_op.f("ix_apps_host_product_id"))

    op.drop_table("apps")
    op.drop_table("vendors")
    op.drop_table("revenue_share_rates")
    op.drop_table("operators")
    op.drop_table("host_products")
