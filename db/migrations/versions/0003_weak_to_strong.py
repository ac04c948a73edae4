"""weak-to-strong runs, results and examples

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "w2s_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("dataset", sa.Text(), nullable=False),
        sa.Column("weak", sa.String(length=200), nullable=False),
        sa.Column("strong", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("loss", sa.String(length=32), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("package_version", sa.String(length=64), nullable=False),
        sa.Column("git_revision", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "w2s_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False, comment="accuracy and AUROC of weak, student, ceiling"),
        sa.Column("pgr", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["w2s_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "seed", name="uq_w2s_result"),
    )
    with op.batch_alter_table("w2s_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_w2s_results_run_id"), ["run_id"], unique=False)

    op.create_table(
        "w2s_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("split", sa.String(length=16), nullable=False),
        sa.Column("question_uid", sa.String(length=64), nullable=False),
        sa.Column("option_index", sa.Integer(), nullable=False),
        sa.Column("label", sa.Float(), nullable=False),
        sa.Column("weak_label", sa.Float(), nullable=True),
        sa.Column("student_prediction", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["question_uid"],
            ["questions.uid"],
        ),
        sa.ForeignKeyConstraint(["run_id"], ["w2s_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("w2s_examples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_w2s_examples_run_id"), ["run_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("w2s_examples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_w2s_examples_run_id"))

    op.drop_table("w2s_examples")
    with op.batch_alter_table("w2s_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_w2s_results_run_id"))

    op.drop_table("w2s_results")
    op.drop_table("w2s_runs")
