"""judgments after round k: a judge's verdict on a transcript cut after round k (accuracy and calibration by round)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("judgments") as batch:
        batch.add_column(
            sa.Column(
                "after_round",
                sa.Integer(),
                nullable=True,
                comment="judged on the transcript cut after this round (accuracy by round); NULL: the whole transcript",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("judgments") as batch:
        batch.drop_column("after_round")
