"""nothing twice: a payment reference once per invoice, one cloud renewal per site and billing date, once-per-date
license history entries

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Payments recorded twice under one reference before this rule (retries whose answer was lost) keep their
    # money but get references of their own, so the rule can hold from now on.
    op.execute(
        "UPDATE payments SET reference = reference || ' #' || CAST(id AS VARCHAR(20)) "
        "WHERE id NOT IN (SELECT MIN(id) FROM payments GROUP BY invoice_id, reference)"
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_payments_invoice_id_reference"), ["invoice_id", "reference"]
        )

    op.create_table(
        "cloud_renewals",
        sa.Column("host_instance_id", sa.Uuid(), nullable=False),
        sa.Column("billing_date", sa.Date(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["host_instance_id"],
            ["host_instances.id"],
            name=op.f("fk_cloud_renewals_host_instance_id_host_instances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_cloud_renewals_invoice_id_invoices"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("host_instance_id", "billing_date", name=op.f("pk_cloud_renewals")),
    )

    with op.batch_alter_table("license_transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("once_key", sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_license_transactions_license_id_once_key"), ["license_id", "once_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("license_transactions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_license_transactions_license_id_once_key"), type_="unique")
        batch_op.drop_column("once_key")
    op.drop_table("cloud_renewals")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_payments_invoice_id_reference"), type_="unique")
