"""Schema and migrations agree; SQLite runs in WAL mode; contexts are stored once; secrets stay out of messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text

from conftest import QUALITY_DEBATE
from oversight.data import load_dataset
from oversight.db import connect
from oversight.db.items import store_questions
from oversight.db.schema import Base, Context, QuestionRow
from oversight.errors import OversightError


def test_migrations_match_the_schema(db_url: str):
    # a new database gets the schema from the models at once, so replay the migrations themselves here
    from alembic import command

    from oversight.db.connect import _alembic_config

    engine = connect(db_url, migrate=False)
    command.upgrade(_alembic_config(engine), "head")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_a_new_database_is_stamped_as_alembic_stamps_it(db_url: str):
    # a new database is created and stamped without Alembic; the stamp must be the very table `alembic stamp` makes
    from alembic import command
    from sqlalchemy import inspect

    from oversight.db.connect import HEAD_REVISION, _alembic_config

    engine = connect(db_url)

    def version_table() -> tuple[object, ...]:
        found = inspect(engine)
        columns = [(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns("alembic_version")]
        with engine.connect() as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
        return columns, found.get_pk_constraint("alembic_version"), revision

    ours = version_table()
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    command.stamp(_alembic_config(engine), "head")
    assert version_table() == ours
    assert ours[2] == HEAD_REVISION
    engine.dispose()


def test_a_new_database_is_made_without_alembic(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    code = f"import sys; from oversight.db import connect; connect({url!r}); print('alembic' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "False"
    engine = connect(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_sqlite_uses_wal(sqlite_url: str):
    engine = connect(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_contexts_and_questions_are_stored_once(db_url: str):
    _, qs = load_dataset(QUALITY_DEBATE)
    engine = connect(db_url)
    first = store_questions(engine, qs[:20])
    again = store_questions(engine, qs[:38])
    with engine.connect() as conn:
        n_contexts = conn.execute(select(func.count()).select_from(Context)).scalar_one()
        n_questions = conn.execute(select(func.count()).select_from(QuestionRow)).scalar_one()
    engine.dispose()
    assert n_questions == 38 and n_contexts == len({q.article_id for q in qs[:38]}) == 3
    assert all(again[k] == v for k, v in first.items())


def test_password_never_appears_in_errors():
    with pytest.raises(OversightError) as err:
        connect("postgresql://user:s3cret-pw@127.0.0.1:1/nodb")
    assert "s3cret-pw" not in str(err.value) and "***" in str(err.value)


def test_upgrade_is_idempotent(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    connect(url).dispose()
    engine = connect(url)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0010"
    engine.dispose()


def test_an_up_to_date_database_opens_without_alembic(tmp_path: Path):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from oversight.db.connect import HEAD_REVISION, _alembic_config

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    connect(url).dispose()  # created and migrated here
    assert isinstance(_alembic_config(connect(url, migrate=False)), Config)
    assert HEAD_REVISION == ScriptDirectory.from_config(_alembic_config(connect(url, migrate=False))).get_current_head()
    # a fresh interpreter opening the migrated database never loads Alembic (start-up of every command)
    code = f"import sys; from oversight.db import connect; connect({url!r}); print('alembic' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "False"
