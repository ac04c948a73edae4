"""judge app: users, campaigns, campaign judges and items, human judgments

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("runs", sa.JSON(), nullable=False),
        sa.Column("protocols", sa.JSON(), nullable=False, comment="empty: every protocol in the runs"),
        sa.Column("judges_per_item", sa.Integer(), nullable=False),
        sa.Column("show_context", sa.Boolean(), nullable=False),
        sa.Column("interactive", sa.Boolean(), nullable=False),
        sa.Column("interactive_model", sa.String(length=200), nullable=True),
        sa.Column("turn_penalty", sa.Float(), nullable=False, comment="score charged per extra interactive turn"),
        sa.Column("feedback", sa.Boolean(), nullable=False, comment="show the correct answer and score after submitting"),
        sa.Column("allow_repeat", sa.Boolean(), nullable=False, comment="a judge may see a question judged in another campaign"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False, comment="judge | admin"),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "campaign_judges",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "user_id"),
    )
    op.create_table(
        "campaign_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("transcript_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["transcript_id"], ["transcripts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "transcript_id", name="uq_campaign_item"),
    )
    with op.batch_alter_table("campaign_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_items_campaign_id"), ["campaign_id"], unique=False)

    op.create_table(
        "human_judgments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("judgment_id", sa.Integer(), nullable=False),
        sa.Column("order", sa.String(length=2), nullable=False, comment="the answer order this judge was shown"),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("time_on_task_s", sa.Float(), nullable=False),
        sa.Column("extra_turns", sa.Integer(), nullable=False),
        sa.Column("exchanges", sa.JSON(), nullable=False, comment="interactive questions and answers"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["campaign_items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["judgment_id"], ["judgments.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "user_id", name="uq_human_judgment"),
        sa.UniqueConstraint("judgment_id"),
    )
    with op.batch_alter_table("human_judgments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_human_judgments_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_human_judgments_user_id"), ["user_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("human_judgments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_human_judgments_user_id"))
        batch_op.drop_index(batch_op.f("ix_human_judgments_item_id"))

    op.drop_table("human_judgments")
    with op.batch_alter_table("campaign_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_items_campaign_id"))

    op.drop_table("campaign_items")
    op.drop_table("campaign_judges")
    op.drop_table("users")
    op.drop_table("campaigns")
