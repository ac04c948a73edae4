"""batch jobs: the Batch API batches a run submitted, so a resumed run reads them back instead of paying twice

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batch_jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("endpoint", sa.String(400), nullable=False),
        sa.Column("batch_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("output_file_id", sa.String(200), nullable=True),
        sa.Column("error_file_id", sa.String(200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("run_id", "batch_id", name="uq_batch_job"),
    )
    op.create_index("ix_batch_jobs_run_id", "batch_jobs", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_batch_jobs_run_id", table_name="batch_jobs")
    op.drop_table("batch_jobs")
