"""revenue ledger and payouts: append-only ledger entries, payouts and the entries each one pays

The ledger, the payouts and the payout items are append-only: a trigger refuses UPDATE and DELETE on them, on
SQLite and PostgreSQL, so that a correction can only be a new entry and a payout can never be undone quietly.
``payout_items.entry_id`` is the primary key (an entry is paid once, ever) and ``payouts`` is unique per vendor,
currency and month (a month's run pays each vendor once per currency).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

APPEND_ONLY = ("ledger_entries", "payouts", "payout_items")
REFUSAL = "is append-only: record a correcting entry instead"


def upgrade() -> None:
    op.create_table(
        "payouts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payouts_positive")),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendors.id"], name=op.f("fk_payouts_vendor_id_vendors"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
        sa.UniqueConstraint("vendor_id", "currency", "month", name="uq_payouts_vendor_currency_month"),
    )
    op.create_index(op.f("ix_payouts_vendor_id"), "payouts", ["vendor_id"])
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column("app_id", sa.Uuid(), nullable=True),
        sa.Column("license_id", sa.Uuid(), nullable=True),
        sa.Column("invoice_line_id", sa.Integer(), nullable=True),
        sa.Column("hosting", sa.String(length=32), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("gross_minor", sa.Integer(), nullable=False),
        sa.Column("discount_minor", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("vendor_share_rate", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("vendor_amount_minor", sa.Integer(), nullable=False),
        sa.Column("operator_amount_minor", sa.Integer(), nullable=False),
        sa.Column("corrects_entry_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("channel IN ('marketplace', 'direct')", name=op.f("ck_ledger_entries_channel")),
        sa.CheckConstraint(
            "kind IN ('new', 'cloud_subscription', 'renewal', 'upgrade', 'co_term', 'migration', 'refund', "
            "'adjustment')",
            name=op.f("ck_ledger_entries_kind"),
        ),
        sa.CheckConstraint(
            "gross_minor - discount_minor = amount_minor", name=op.f("ck_ledger_entries_gross_less_discount")
        ),
        sa.CheckConstraint(
            "vendor_amount_minor + operator_amount_minor = amount_minor",
            name=op.f("ck_ledger_entries_split_sums"),
        ),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_ledger_entries_app_id_apps"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["corrects_entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_ledger_entries_corrects_entry_id_ledger_entries"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_line_id"],
            ["invoice_lines.id"],
            name=op.f("fk_ledger_entries_invoice_line_id_invoice_lines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["license_id"],
            ["licenses.id"],
            name=op.f("fk_ledger_entries_license_id_licenses"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendors.id"],
            name=op.f("fk_ledger_entries_vendor_id_vendors"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("source", name=op.f("uq_ledger_entries_source")),
    )
    op.create_index(op.f("ix_ledger_entries_invoice_line_id"), "ledger_entries", ["invoice_line_id"])
    op.create_index(
        "ix_ledger_entries_vendor_currency_occurred",
        "ledger_entries",
        ["vendor_id", "currency", "occurred_at"],
    )
    op.create_table(
        "payout_items",
        sa.Column("entry_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("payout_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_payout_items_entry_id_ledger_entries"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["payout_id"], ["payouts.id"], name=op.f("fk_payout_items_payout_id_payouts"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_payout_items")),
    )
    op.create_index(op.f("ix_payout_items_payout_id"), "payout_items", ["payout_id"])
    _refuse_changes()


def _refuse_changes() -> None:
    """The database itself refuses UPDATE and DELETE on the append-only tables."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION mercato_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION '% {REFUSAL}', TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION mercato_append_only()"
            )
        return
    for table in APPEND_ONLY:
        for change in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{change.lower()} BEFORE {change} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} {REFUSAL}'); END"
            )


def downgrade() -> None:
    # Dropping a table drops its triggers; PostgreSQL's trigger function goes after them.
    op.drop_index(op.f("ix_payout_items_payout_id"), table_name="payout_items")
    op.drop_table("payout_items")
    op.drop_index("ix_ledger_entries_vendor_currency_occurred", table_name="ledger_entries")
    op.drop_index(op.f("ix_ledger_entries_invoice_line_id"), table_name="ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_index(op.f("ix_payouts_vendor_id"), table_name="payouts")
    op.drop_table("payouts")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS mercato_append_only()")
