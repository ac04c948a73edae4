"""weak-to-strong: weak and ceiling predictions on the test split beside the student's

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("w2s_examples", schema=None) as batch_op:
        batch_op.add_column(sa.Column("weak_prediction", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("ceiling_prediction", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("w2s_examples", schema=None) as batch_op:
        batch_op.drop_column("ceiling_prediction")
        batch_op.drop_column("weak_prediction")
