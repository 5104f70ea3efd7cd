"""outbox leases and dead messages; one signing key per issuer

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.alter_column("failed_at", new_column_name="dead_at")
        batch_op.add_column(sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lease_token", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("attempting", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.alter_column("attempting", server_default=None)

    # Races before this revision could leave an issuer several signing keys. The newest keeps signing; the
    # others keep verifying what they signed, as after a rotation.
    op.execute(
        """
        UPDATE signing_keys SET state = 'verifying', rotated_at = CURRENT_TIMESTAMP
        WHERE state = 'signing' AND EXISTS (
            SELECT 1 FROM signing_keys AS newer
            WHERE newer.issuer = signing_keys.issuer AND newer.state = 'signing'
              AND (newer.created_at > signing_keys.created_at
                   OR (newer.created_at = signing_keys.created_at AND newer.kid > signing_keys.kid))
        )
        """
    )
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.create_index(
            "uq_signing_keys_one_signing_key_per_issuer",
            ["issuer"],
            unique=True,
            sqlite_where=sa.text("state = 'signing'"),
            postgresql_where=sa.text("state = 'signing'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.drop_index("uq_signing_keys_one_signing_key_per_issuer")

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("attempting")
        batch_op.drop_column("lease_token")
        batch_op.drop_column("last_attempt_at")
        batch_op.drop_column("first_attempt_at")
        batch_op.alter_column("dead_at", new_column_name="failed_at")
