"""billing run in sets: indexes for its due queries (cloud sites by billing date, licenses by status and term
end, renewal reminders by end date, server licenses whose maintenance lapse is not recorded yet), and the
maintenance end whose lapse each license's history records

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

LAPSE_NOT_RECORDED = (
    "hosting = 'server' AND (maintenance_lapse_recorded_for IS NULL "
    "OR maintenance_lapse_recorded_for <> maintenance_end)"
)


def upgrade() -> None:
    op.add_column("licenses", sa.Column("maintenance_lapse_recorded_for", sa.Date(), nullable=True))
    _record_lapses_already_in_history()
    op.create_index("ix_licenses_status_term_end", "licenses", ["status", "term_end"])
    op.create_index("ix_licenses_hosting_term_end", "licenses", ["hosting", "term_end"])
    op.create_index("ix_licenses_hosting_maintenance_end", "licenses", ["hosting", "maintenance_end"])
    op.create_index(
        "ix_licenses_lapse_pending",
        "licenses",
        ["maintenance_end"],
        postgresql_where=sa.text(LAPSE_NOT_RECORDED),
        sqlite_where=sa.text(LAPSE_NOT_RECORDED),
    )
    op.create_index("ix_host_instances_billing", "host_instances", ["hosting", "next_billing_date", "id"])


def _record_lapses_already_in_history() -> None:
    """A license whose history has the lapse of its current maintenance end keeps it recorded: by its once key,
    or, for entries written before lapses had one, by the date in the description."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT l.id, l.maintenance_end, t.once_key, t.description FROM licenses l "
            "JOIN license_transactions t ON t.license_id = l.id "
            "WHERE t.kind = 'maintenance_lapsed' AND l.maintenance_end IS NOT NULL"
        )
    ).all()
    recorded = {
        (row.id, row.maintenance_end)
        for row in rows
        if row.once_key == f"maintenance_lapsed:{_iso(row.maintenance_end)}"
        or _iso(row.maintenance_end) in row.description
    }
    for license_id, end in recorded:
        bind.execute(
            sa.text("UPDATE licenses SET maintenance_lapse_recorded_for = :end WHERE id = :id"),
            {"end": end, "id": license_id},
        )


def _iso(value: object) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def downgrade() -> None:
    op.drop_index("ix_host_instances_billing", table_name="host_instances")
    op.drop_index("ix_licenses_lapse_pending", table_name="licenses")
    op.drop_index("ix_licenses_hosting_maintenance_end", table_name="licenses")
    op.drop_index("ix_licenses_hosting_term_end", table_name="licenses")
    op.drop_index("ix_licenses_status_term_end", table_name="licenses")
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35 and later): a batch copy drops the table, and with it, through the cascades of
        # the foreign keys that name it, every license's history.
        op.execute("ALTER TABLE licenses DROP COLUMN maintenance_lapse_recorded_for")
    else:
        op.drop_column("licenses", "maintenance_lapse_recorded_for")
