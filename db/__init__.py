"""Storage: SQLAlchemy 2 schema, Alembic migrations and the bulk reads and writes the engine and metrics use."""

from oversight.db.connect import DEFAULT_DB_URL, connect, upgrade

__all__ = ["DEFAULT_DB_URL", "connect", "upgrade"]
