"""Alembic environment: the engine comes from `oversight.db.connect` (no alembic.ini needed).

On SQLite, a revision that changes a column recreates its table (batch mode) and drops the old
one; with foreign keys on, that drop would cascade into every row that references the table
(verdicts referencing items, turns referencing transcripts). Foreign keys are therefore off while
revisions run, checked once they are done, and on again afterwards.
"""

from alembic import context
from sqlalchemy import text

from oversight.db.schema import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.execute(text("PRAGMA foreign_keys=OFF"))  # outside a transaction, where SQLite honours it
        connection.commit()
    try:
        with connection.begin():
            context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
            context.run_migrations()
            if sqlite:
                broken = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows pointing at missing rows: {broken[:5]}")
    finally:
        if sqlite:
            connection.execute(text("PRAGMA foreign_keys=ON"))
            connection.commit()
