"""catalog management: vendor profiles and agreements, app pages, listing review, dated price tables

Prices move from the listing to dated price tables (``price_tables``), so a price change can be scheduled
ahead and every day is priced with the table in force on it. Existing prices become each listing's first
table; existing listings are public (they were sold before review existed).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OPTIONAL_LICENSE_TYPES = ["academic", "starter", "community", "open_source", "developer"]


def _tier_prices_table(parent: str) -> None:
    parent_table = "price_tables" if parent == "price_table_id" else "listings"
    op.create_table(
        "tier_prices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(parent, sa.Uuid(), nullable=False),
        sa.Column("price_list", sa.String(length=16), nullable=False),
        sa.Column("tier_users", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_tier_prices_amount_not_negative")),
        sa.CheckConstraint("price_list IN ('standard', 'direct')", name=op.f("ck_tier_prices_price_list")),
        sa.CheckConstraint("tier_users > 0 OR tier_users = -1", name=op.f("ck_tier_prices_tier_users")),
        sa.ForeignKeyConstraint(
            [parent],
            [f"{parent_table}.id"],
            name=op.f(f"fk_tier_prices_{parent}_{parent_table}"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tier_prices")),
        sa.UniqueConstraint(
            parent, "price_list", "tier_users", name=op.f(f"uq_tier_prices_{parent}_price_list_tier_users")
        ),
    )
    with op.batch_alter_table("tier_prices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_tier_prices_{parent}"), [parent], unique=False)


def _cloud_brackets_table(parent: str) -> None:
    parent_table = "price_tables" if parent == "price_table_id" else "listings"
    op.create_table(
        "cloud_price_brackets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(parent, sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("up_to_users", sa.Integer(), nullable=True),
        sa.Column("per_user_monthly_minor", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "per_user_monthly_minor >= 0", name=op.f("ck_cloud_price_brackets_amount_not_negative")
        ),
        sa.ForeignKeyConstraint(
            [parent],
            [f"{parent_table}.id"],
            name=op.f(f"fk_cloud_price_brackets_{parent}_{parent_table}"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cloud_price_brackets")),
        sa.UniqueConstraint(parent, "position", name=op.f(f"uq_cloud_price_brackets_{parent}_position")),
    )
    with op.batch_alter_table("cloud_price_brackets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_cloud_price_brackets_{parent}"), [parent], unique=False)


def _updated_at(name: str = "updated_at") -> sa.Column[Any]:
    # NOT NULL needs a default to add to rows that exist; the UPDATE that follows sets the real value.
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=False,
        server_default=sa.text("'2000-01-01 00:00:00+00:00'"),
    )


def _rows(sql: str) -> list[Any]:
    return list(op.get_bind().execute(sa.text(sql)).mappings())


def upgrade() -> None:
    bind = op.get_bind()
    # Plain ALTER TABLE ... ADD COLUMN, never a batch rebuild: on SQLite a rebuild drops the old table, and with
    # foreign keys on that deletes (cascades to) every listing, price and license that refers to it.
    op.add_column(
        "vendors", sa.Column("legal_name", sa.String(length=200), nullable=False, server_default="")
    )
    op.add_column(
        "vendors", sa.Column("status", sa.String(length=16), nullable=False, server_default="active")
    )
    op.add_column("vendors", sa.Column("payout_details", sa.JSON(), nullable=True))
    op.add_column(
        "vendors", sa.Column("direct_store", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("vendors", _updated_at())
    # A vendor that already sold on its own bills keeps its direct store.
    bind.execute(
        sa.text(
            "UPDATE vendors SET updated_at = created_at, direct_store = EXISTS ("
            " SELECT 1 FROM apps JOIN listings ON listings.app_id = apps.id"
            " WHERE apps.vendor_id = vendors.id AND listings.sold_direct)"
        )
    )

    op.add_column("apps", sa.Column("description", sa.Text(), nullable=False, server_default=""))
    op.add_column("apps", sa.Column("links", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    op.add_column(
        "apps", sa.Column("visibility", sa.String(length=16), nullable=False, server_default="public")
    )
    op.add_column("apps", _updated_at())
    bind.execute(sa.text("UPDATE apps SET updated_at = created_at"))

    # Dated price tables: each listing's current prices become its first table.
    op.create_table(
        "price_tables",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("cloud_flat_monthly_minor", sa.Integer(), nullable=True),
        sa.Column("cloud_annual_tiers", sa.JSON(), nullable=True),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_price_tables_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_tables")),
        sa.UniqueConstraint(
            "listing_id", "effective_from", name=op.f("uq_price_tables_listing_id_effective_from")
        ),
    )
    with op.batch_alter_table("price_tables", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_price_tables_listing_id"), ["listing_id"], unique=False)

    listings = sa.table(
        "listings",
        sa.column("id", sa.Uuid()),
        sa.column("cloud_flat_monthly_minor", sa.Integer()),
        sa.column("cloud_annual_tiers", sa.JSON()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    price_tables = sa.table(
        "price_tables",
        sa.column("id", sa.Uuid()),
        sa.column("listing_id", sa.Uuid()),
        sa.column("effective_from", sa.Date()),
        sa.column("cloud_flat_monthly_minor", sa.Integer()),
        sa.column("cloud_annual_tiers", sa.JSON()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    table_of_listing: dict[Any, uuid.UUID] = {}
    new_tables = []
    for listing in bind.execute(sa.select(listings)).mappings():
        table_id = uuid.uuid4()
        table_of_listing[listing["id"]] = table_id
        created = listing["created_at"]
        new_tables.append(
            {
                "id": table_id,
                "listing_id": listing["id"],
                "effective_from": created.date() if hasattr(created, "date") else created,
                "cloud_flat_monthly_minor": listing["cloud_flat_monthly_minor"],
                "cloud_annual_tiers": listing["cloud_annual_tiers"],
                "created_at": created,
            }
        )
    if new_tables:
        bind.execute(price_tables.insert(), new_tables)

    tier_rows = _rows("SELECT listing_id, price_list, tier_users, amount_minor FROM tier_prices ORDER BY id")
    bracket_rows = _rows(
        "SELECT listing_id, position, up_to_users, per_user_monthly_minor FROM cloud_price_brackets ORDER BY id"
    )
    op.drop_table("tier_prices")
    op.drop_table("cloud_price_brackets")
    _tier_prices_table("price_table_id")
    _cloud_brackets_table("price_table_id")
    uuid_of = {str(k).replace("-", ""): v for k, v in table_of_listing.items()}

    def parent(listing_id: Any) -> uuid.UUID:
        return uuid_of[str(listing_id).replace("-", "")]

    if tier_rows:
        bind.execute(
            sa.table(
                "tier_prices",
                sa.column("price_table_id", sa.Uuid()),
                sa.column("price_list", sa.String()),
                sa.column("tier_users", sa.Integer()),
                sa.column("amount_minor", sa.Integer()),
            ).insert(),
            [
                {
                    **{k: r[k] for k in ("price_list", "tier_users", "amount_minor")},
                    "price_table_id": parent(r["listing_id"]),
                }
                for r in tier_rows
            ],
        )
    if bracket_rows:
        bind.execute(
            sa.table(
                "cloud_price_brackets",
                sa.column("price_table_id", sa.Uuid()),
                sa.column("position", sa.Integer()),
                sa.column("up_to_users", sa.Integer()),
                sa.column("per_user_monthly_minor", sa.Integer()),
            ).insert(),
            [
                {
                    **{k: r[k] for k in ("position", "up_to_users", "per_user_monthly_minor")},
                    "price_table_id": parent(r["listing_id"]),
                }
                for r in bracket_rows
            ],
        )

    op.drop_column("listings", "cloud_flat_monthly_minor")
    op.drop_column("listings", "cloud_annual_tiers")
    op.add_column(
        "listings",
        sa.Column(
            "license_types",
            sa.JSON(),
            nullable=False,
            server_default=sa.text("'" + json.dumps(OPTIONAL_LICENSE_TYPES) + "'"),
        ),
    )
    op.add_column("listings", sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("listings", _updated_at())
    # Listings sold before review existed are public.
    bind.execute(sa.text("UPDATE listings SET published_at = created_at, updated_at = created_at"))

    op.add_column("releases", sa.Column("host_version_min", sa.String(length=32), nullable=True))
    op.add_column("releases", sa.Column("host_version_max", sa.String(length=32), nullable=True))
    op.add_column("releases", _updated_at("created_at"))
    bind.execute(
        sa.text(
            "UPDATE releases SET created_at = (SELECT listings.created_at FROM listings"
            " WHERE listings.id = releases.listing_id)"
        )
    )

    op.create_table(
        "vendor_revenue_shares",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column("hosting", sa.String(length=32), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("vendor_share", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.CheckConstraint(
            "vendor_share >= 0 AND vendor_share <= 1", name=op.f("ck_vendor_revenue_shares_share_is_fraction")
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendors.id"],
            name=op.f("fk_vendor_revenue_shares_vendor_id_vendors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_revenue_shares")),
        sa.UniqueConstraint(
            "vendor_id",
            "hosting",
            "effective_from",
            name=op.f("uq_vendor_revenue_shares_vendor_id_hosting_effective_from"),
        ),
    )
    with op.batch_alter_table("vendor_revenue_shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vendor_revenue_shares_vendor_id"), ["vendor_id"], unique=False)

    op.create_table(
        "listing_revisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("app_id", sa.Uuid(), nullable=False),
        sa.Column("hosting", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("prices_effective_from", sa.Date(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.Uuid(), nullable=True),
        sa.Column("reviewer_note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "hosting IN ('server', 'datacenter', 'cloud')", name=op.f("ck_listing_revisions_hosting")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'approved', 'rejected', 'withdrawn')",
            name=op.f("ck_listing_revisions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_listing_revisions_app_id_apps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_listing_revisions_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"],
            ["users.id"],
            name=op.f("fk_listing_revisions_reviewed_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_revisions")),
    )
    with op.batch_alter_table("listing_revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_listing_revisions_app_id"), ["app_id"], unique=False)
        batch_op.create_index(
            "uq_listing_revisions_one_open_per_listing",
            ["app_id", "hosting"],
            unique=True,
            sqlite_where=sa.text("status IN ('draft', 'submitted')"),
            postgresql_where=sa.text("status IN ('draft', 'submitted')"),
        )


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_table("listing_revisions")
    op.drop_table("vendor_revenue_shares")
    for column in ("created_at", "host_version_max", "host_version_min"):
        op.drop_column("releases", column)

    # Back to prices on the listing: the table in force last (the latest) is kept.
    tables = _rows(
        "SELECT id, listing_id, cloud_flat_monthly_minor, cloud_annual_tiers FROM price_tables"
        " ORDER BY listing_id, effective_from"
    )
    # Raw rows hold ids as strings on SQLite and as UUIDs on PostgreSQL: uuid.UUID(str(...)) reads both.
    latest = {uuid.UUID(str(row["listing_id"])): row for row in tables}
    listing_of_table = {str(row["id"]).replace("-", ""): listing_id for listing_id, row in latest.items()}
    tier_rows = [
        r
        for r in _rows(
            "SELECT price_table_id, price_list, tier_users, amount_minor FROM tier_prices ORDER BY id"
        )
        if str(r["price_table_id"]).replace("-", "") in listing_of_table
    ]
    bracket_rows = [
        r
        for r in _rows(
            "SELECT price_table_id, position, up_to_users, per_user_monthly_minor FROM cloud_price_brackets"
            " ORDER BY id"
        )
        if str(r["price_table_id"]).replace("-", "") in listing_of_table
    ]
    for column in ("updated_at", "published_at", "license_types"):
        op.drop_column("listings", column)
    op.add_column("listings", sa.Column("cloud_flat_monthly_minor", sa.Integer(), nullable=True))
    op.add_column("listings", sa.Column("cloud_annual_tiers", sa.JSON(), nullable=True))
    listings = sa.table(
        "listings",
        sa.column("id", sa.Uuid()),
        sa.column("cloud_flat_monthly_minor", sa.Integer()),
        sa.column("cloud_annual_tiers", sa.JSON()),
    )
    for listing_id, row in latest.items():
        bind.execute(
            listings.update()
            .where(listings.c.id == listing_id)
            .values(
                cloud_flat_monthly_minor=row["cloud_flat_monthly_minor"],
                cloud_annual_tiers=row["cloud_annual_tiers"],
            )
        )
    op.drop_table("tier_prices")
    op.drop_table("cloud_price_brackets")
    op.drop_table("price_tables")
    _tier_prices_table("listing_id")
    _cloud_brackets_table("listing_id")

    def listing_of(row: Any) -> Any:
        return listing_of_table[str(row["price_table_id"]).replace("-", "")]

    if tier_rows:
        bind.execute(
            sa.table(
                "tier_prices",
                sa.column("listing_id", sa.Uuid()),
                sa.column("price_list", sa.String()),
                sa.column("tier_users", sa.Integer()),
                sa.column("amount_minor", sa.Integer()),
            ).insert(),
            [
                {
                    **{k: r[k] for k in ("price_list", "tier_users", "amount_minor")},
                    "listing_id": listing_of(r),
                }
                for r in tier_rows
            ],
        )
    if bracket_rows:
        bind.execute(
            sa.table(
                "cloud_price_brackets",
                sa.column("listing_id", sa.Uuid()),
                sa.column("position", sa.Integer()),
                sa.column("up_to_users", sa.Integer()),
                sa.column("per_user_monthly_minor", sa.Integer()),
            ).insert(),
            [
                {
                    **{k: r[k] for k in ("position", "up_to_users", "per_user_monthly_minor")},
                    "listing_id": listing_of(r),
                }
                for r in bracket_rows
            ],
        )

    for column in ("updated_at", "visibility", "links", "description"):
        op.drop_column("apps", column)
    for column in ("updated_at", "direct_store", "payout_details", "status", "legal_name"):
        op.drop_column("vendors", column)
