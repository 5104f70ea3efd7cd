"""quote lines may migrate a direct license to the marketplace (action ``migration``)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BEFORE = "('new', 'renewal', 'upgrade', 'co_term', 'evaluation', 'cloud_subscription', 'cloud_user_change')"
AFTER = BEFORE.removesuffix(")") + ", 'migration')"


def _action_check(actions: str) -> None:
    with op.batch_alter_table("quote_lines", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_quote_lines_action"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_quote_lines_action"), f"action IN {actions}")


def upgrade() -> None:
    _action_check(AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM quote_lines WHERE action = 'migration'")
    _action_check(BEFORE)
