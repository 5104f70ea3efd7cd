"""transition campaigns: a vendor's announcement that its direct licenses move to the marketplace, the licenses
it is about, and every e-mail it sent (once per campaign, license and kind)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transition_campaigns",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column("app_keys", sa.JSON(), nullable=False),
        sa.Column("notice_date", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_transition_campaigns_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendors.id"],
            name=op.f("fk_transition_campaigns_vendor_id_vendors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transition_campaigns")),
    )
    op.create_index(op.f("ix_transition_campaigns_vendor_id"), "transition_campaigns", ["vendor_id"])
    op.create_table(
        "transition_members",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("license_id", sa.Uuid(), nullable=False),
        sa.Column("quote_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["transition_campaigns.id"],
            name=op.f("fk_transition_members_campaign_id_transition_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["license_id"],
            ["licenses.id"],
            name=op.f("fk_transition_members_license_id_licenses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["quotes.id"],
            name=op.f("fk_transition_members_quote_id_quotes"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transition_members")),
        sa.UniqueConstraint(
            "campaign_id", "license_id", name=op.f("uq_transition_members_campaign_id_license_id")
        ),
    )
    op.create_index(op.f("ix_transition_members_campaign_id"), "transition_members", ["campaign_id"])
    op.create_index(op.f("ix_transition_members_license_id"), "transition_members", ["license_id"])
    op.create_table(
        "transition_emails",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("license_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("quote_id", sa.Uuid(), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("outbox_message_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["transition_campaigns.id"],
            name=op.f("fk_transition_emails_campaign_id_transition_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["license_id"],
            ["licenses.id"],
            name=op.f("fk_transition_emails_license_id_licenses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["quotes.id"],
            name=op.f("fk_transition_emails_quote_id_quotes"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transition_emails")),
        sa.UniqueConstraint(
            "campaign_id", "license_id", "kind", name=op.f("uq_transition_emails_campaign_id_license_id_kind")
        ),
    )
    op.create_index(op.f("ix_transition_emails_campaign_id"), "transition_emails", ["campaign_id"])


def downgrade() -> None:
    op.drop_table("transition_emails")
    op.drop_table("transition_members")
    op.drop_table("transition_campaigns")
