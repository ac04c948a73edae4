"""Alembic environment: the engine comes from `oversight.db.connect` (no alembic.ini needed)."""

from alembic import context

from oversight.db.schema import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    context.run_migrations()
