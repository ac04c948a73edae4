"""typed transcript outcomes: the protocol's Outcome in a JSON column, and the fields results are grouped and scored by in real columns

Revision ID: 0007
Revises: 0006
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# keys earlier versions kept in transcripts.meta, and where they go now
MOVED = {
    "variant": "variant", "models": "models", "debaters": "debaters", "consultant_side": "consultant_side",
    "consultant_correct": "consultant_correct", "chosen_side": "chosen_side", "chose_correct": "chose_correct",
    "turns": "turn_order", "seed": "seed", "chooser": "chooser", "choice_p_a": "choice_p_a", "choice_valid": "choice_valid",
    "choice_raw": "choice_raw",
}  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("transcripts") as batch:
        batch.add_column(sa.Column("outcome", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("variant", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("models", sa.String(400), nullable=False, server_default=""))
        batch.add_column(sa.Column("consultant_correct", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("chose_correct", sa.Boolean(), nullable=True))
    # move what earlier versions stored in `meta` into the typed outcome and its columns
    conn = op.get_bind()
    transcripts = sa.table(
        "transcripts", sa.column("id", sa.Integer), sa.column("meta", sa.JSON), sa.column("outcome", sa.JSON),
        sa.column("variant", sa.String), sa.column("models", sa.String), sa.column("consultant_correct", sa.Boolean),
        sa.column("chose_correct", sa.Boolean),
    )  # fmt: skip
    rows = conn.execute(sa.select(transcripts.c.id, transcripts.c.meta)).all()
    updates = []
    for tid, meta in rows:
        meta = json.loads(meta) if isinstance(meta, str) else (meta or {})
        outcome = {new: meta.pop(old) for old, new in MOVED.items() if old in meta}
        updates.append(
            {
                "tid": tid, "meta": meta, "outcome": outcome, "variant": str(outcome.get("variant") or "")[:64],
                "models": str(outcome.get("models") or "")[:400], "consultant_correct": outcome.get("consultant_correct"),
                "chose_correct": outcome.get("chose_correct"),
            }
        )  # fmt: skip
    if updates:
        conn.execute(
            transcripts.update().where(transcripts.c.id == sa.bindparam("tid")),
            [{k: v for k, v in u.items()} for u in updates],
        )
    op.create_index("ix_transcripts_models", "transcripts", ["models"])


def downgrade() -> None:
    op.drop_index("ix_transcripts_models", table_name="transcripts")
    with op.batch_alter_table("transcripts") as batch:
        batch.drop_column("chose_correct")
        batch.drop_column("consultant_correct")
        batch.drop_column("models")
        batch.drop_column("variant")
        batch.drop_column("outcome")
