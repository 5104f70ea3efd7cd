"""license imports: the files a vendor imported (unique per vendor and SHA-256) and the license each of its
references became (unique per vendor and reference)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "license_imports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_by_id", sa.Uuid(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("licenses_created", sa.Integer(), nullable=False),
        sa.Column("rows_skipped", sa.Integer(), nullable=False),
        sa.Column("organisations_created", sa.Integer(), nullable=False),
        sa.Column("host_instances_created", sa.Integer(), nullable=False),
        sa.Column("invitations_sent", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendors.id"],
            name=op.f("fk_license_imports_vendor_id_vendors"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["imported_by_id"],
            ["users.id"],
            name=op.f("fk_license_imports_imported_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_license_imports")),
        sa.UniqueConstraint("vendor_id", "sha256", name=op.f("uq_license_imports_vendor_id_sha256")),
    )
    op.create_index(op.f("ix_license_imports_vendor_id"), "license_imports", ["vendor_id"])
    op.create_table(
        "imported_licenses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("license_id", sa.Uuid(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("terms", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendors.id"],
            name=op.f("fk_imported_licenses_vendor_id_vendors"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["license_imports.id"],
            name=op.f("fk_imported_licenses_import_id_license_imports"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["license_id"],
            ["licenses.id"],
            name=op.f("fk_imported_licenses_license_id_licenses"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_licenses")),
        sa.UniqueConstraint("vendor_id", "reference", name=op.f("uq_imported_licenses_vendor_id_reference")),
        sa.UniqueConstraint("license_id", name=op.f("uq_imported_licenses_license_id")),
    )
    op.create_index(op.f("ix_imported_licenses_import_id"), "imported_licenses", ["import_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_imported_licenses_import_id"), table_name="imported_licenses")
    op.drop_table("imported_licenses")
    op.drop_index(op.f("ix_license_imports_vendor_id"), table_name="license_imports")
    op.drop_table("license_imports")
