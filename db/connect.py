"""Opening a database by URL and bringing its schema up to date."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no file locks here; SQLite's own locking remains
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import Column, Engine, MetaData, PrimaryKeyConstraint, String, Table, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from oversight.errors import ExtraMissingError, InputError, OversightError

DEFAULT_DB_URL = "sqlite:///oversight.db"


def resolve_url(url: str | None) -> str:
    url = url or os.environ.get("OVERSIGHT_DB") or DEFAULT_DB_URL
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def safe_url(url: str) -> str:
    """The URL with its password hidden: fit for logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparseable URL>"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def connect(url: str | None = None, *, migrate: bool = True) -> Engine:
    """An Engine for `url` (default: $OVERSIGHT_DB or sqlite:///oversight.db), schema upgraded unless told not to."""
    url = resolve_url(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise InputError(
            f"--db {safe_url(url)}: not a database URL (e.g. sqlite:///oversight.db or postgresql://user@host:5432/db)"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise InputError(f"--db {safe_url(url)}: {parsed.get_backend_name()} is not supported; use sqlite:///FILE or postgresql://...")
    try:
        engine = create_engine(parsed, pool_pre_ping=not parsed.drivername.startswith("sqlite"))
    except ModuleNotFoundError as exc:
        raise ExtraMissingError(exc.name or "the database driver", "postgres") from None
    except (ArgumentError, SQLAlchemyError) as exc:
        raise InputError(f"--db {safe_url(url)}: {exc}") from None
    if parsed.drivername.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        detail = " ".join(str(exc.orig).split())[:200]
        raise OversightError(f"cannot open database {safe_url(url)}: {detail}") from None
    if migrate:
        upgrade(engine)
    return engine


HEAD_REVISION = "0010"
"""The newest migration (a test checks it against Alembic's own head): opening an up-to-date database compares
against it and never imports Alembic, which would cost every command ~0.15 s of start-up."""


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("oversight.db") / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> str | None:
    """Apply any pending migrations; returns the revision the database is at. Two processes opening a new
    database at once take turns (a lock around the check and the upgrade), so neither sees a half-made schema."""
    if current_revision(engine) == HEAD_REVISION:
        return HEAD_REVISION
    with _migration_lock(engine):
        current = current_revision(engine)
        if current is None and not inspect(engine).get_table_names():
            # a new database: the schema at once, recorded as the head (Alembic's advice for fresh databases);
            # replaying every migration would cost a first run ~0.3 s and importing Alembic to stamp it ~0.3 s
            # more, and tests keep both the schemas and the stamps equal
            _create_at_head(engine)
            return HEAD_REVISION
        if current == HEAD_REVISION:
            return HEAD_REVISION
        from alembic import command

        command.upgrade(_alembic_config(engine), "head")
    return HEAD_REVISION


ALEMBIC_VERSION = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)
"""Alembic's own record of the revision, as `alembic stamp` creates it."""


def _create_at_head(engine: Engine) -> None:
    from oversight.db.schema import Base

    with engine.begin() as conn:
        Base.metadata.create_all(conn)
        ALEMBIC_VERSION.create(conn)
        conn.execute(ALEMBIC_VERSION.insert().values(version_num=HEAD_REVISION))


PG_MIGRATION_LOCK = 7_270_031  # an arbitrary advisory-lock key of this application


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PG_MIGRATION_LOCK})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PG_MIGRATION_LOCK})
                conn.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or fcntl is None:
        yield
        return
    path = Path(database).expanduser().resolve()
    with open(path.parent / f".{path.name}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_revision(engine: Engine) -> str | None:
    """The revision Alembic recorded in the database (None for a new one), read as Alembic reads it."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
