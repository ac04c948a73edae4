"""human studies: campaign designs (conditions, rounds, windows, qualification, catch trials), judge stages and
exclusion, judge-paced sessions and per-round beliefs

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("judgments") as batch:
        batch.add_column(
            sa.Column(
                "excluded", sa.Boolean(), server_default=sa.false(), nullable=False,
                comment="kept out of the leaderboard (a human judge an admin excluded)",
            )
        )  # fmt: skip
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(
            sa.Column(
                "design", sa.JSON(), nullable=True,
                comment="conditions, rounds, windows, time limit, qualification and catch trials (oversight.human.design)",
            )
        )  # fmt: skip
    with op.batch_alter_table("campaign_judges") as batch:
        batch.add_column(
            sa.Column("stage", sa.String(length=16), server_default="main", nullable=False, comment="qualification | main | failed")
        )
        batch.add_column(
            sa.Column("sequence", sa.Integer(), nullable=True, comment="the judge's row of the campaign's Latin square of conditions")
        )
        batch.add_column(
            sa.Column("excluded", sa.Boolean(), server_default=sa.false(), nullable=False, comment="kept out of the leaderboard")
        )
    with op.batch_alter_table("campaign_items") as batch:
        batch.add_column(sa.Column("condition", sa.String(length=64), server_default="", nullable=False))
        batch.add_column(
            sa.Column("stage", sa.String(length=16), server_default="main", nullable=False, comment="main | qualification | catch")
        )
    with op.batch_alter_table("human_judgments") as batch:
        batch.alter_column(
            "judgment_id", existing_type=sa.Integer(), nullable=True,
            comment="NULL for qualification and catch items, kept out of results",
        )  # fmt: skip
        batch.add_column(
            sa.Column("p_correct", sa.Float(), nullable=True, comment="probability on the correct answer; NULL when timed out")
        )
        batch.add_column(sa.Column("correct", sa.Boolean(), nullable=True))
        batch.add_column(
            sa.Column(
                "stopped_after_round", sa.Integer(), nullable=True, comment="judge-paced campaigns: the round the judge stopped after"
            )
        )
        batch.add_column(
            sa.Column("round_cost", sa.Float(), server_default="0", nullable=False, comment="charged for rounds read beyond the minimum")
        )
        batch.add_column(sa.Column("timed_out", sa.Boolean(), server_default=sa.false(), nullable=False))
    # verdicts stored before this revision: their probability and correctness, copied from their judgment
    op.execute(
        "UPDATE human_judgments SET p_correct = (SELECT j.p_correct FROM judgments j WHERE j.id = human_judgments.judgment_id), "
        "correct = (SELECT j.correct FROM judgments j WHERE j.id = human_judgments.judgment_id)"
    )
    op.create_table(
        "item_sessions",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revealed_round", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["campaign_items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_id", "user_id"),
    )
    op.create_table(
        "round_beliefs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("p_first", sa.Float(), nullable=False, comment="on the first answer as this judge saw them"),
        sa.Column("p_correct", sa.Float(), nullable=False),
        sa.Column("judgment_id", sa.Integer(), nullable=True, comment="the same belief as a judgment after this round"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["campaign_items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["judgment_id"], ["judgments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "user_id", "round", name="uq_round_belief"),
    )
    op.create_index("ix_round_beliefs_item_id", "round_beliefs", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_round_beliefs_item_id", table_name="round_beliefs")
    op.drop_table("round_beliefs")
    op.drop_table("item_sessions")
    op.execute("DELETE FROM human_judgments WHERE judgment_id IS NULL")
    with op.batch_alter_table("human_judgments") as batch:
        for column in ("timed_out", "round_cost", "stopped_after_round", "correct", "p_correct"):
            batch.drop_column(column)
        batch.alter_column("judgment_id", existing_type=sa.Integer(), nullable=False, comment=None)
    with op.batch_alter_table("campaign_items") as batch:
        batch.drop_column("stage")
        batch.drop_column("condition")
    with op.batch_alter_table("campaign_judges") as batch:
        for column in ("excluded", "sequence", "stage"):
            batch.drop_column(column)
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("design")
    with op.batch_alter_table("judgments") as batch:
        batch.drop_column("excluded")
