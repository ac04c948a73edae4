"""Backing up and restoring a database.

SQLite: the online backup API copies a consistent snapshot while runs or the judge app keep
writing (no need to stop them). PostgreSQL: `pg_dump -Fc` and `pg_restore`, run for you when
they are on the PATH. A restored database is migrated to the current schema, so an old backup
opens in a newer Oversight.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from oversight.errors import InputError, OversightError


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise InputError(f"--db {url}: an in-memory database has nothing to back up")
    return Path(parsed.database).expanduser()


def _pg_url(url: str) -> str:
    """A libpq URL (pg_dump does not know SQLAlchemy's `+psycopg` driver suffix); the password stays in it for libpq."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def backup(url: str, out: Path) -> dict[str, object]:
    source = _sqlite_file(url)
    if out.exists():
        raise InputError(f"{out}: exists already; choose a new file")
    out.parent.mkdir(parents=True, exist_ok=True)
    if source is not None:
        if not source.exists():
            raise InputError(f"{source}: no such database")
        with sqlite3.connect(source) as src, sqlite3.connect(out) as dst:
            src.backup(dst)  # a consistent copy, taken page by page while others write
        return {"backend": "sqlite", "file": str(out), "bytes": out.stat().st_size}
    if shutil.which("pg_dump") is None:
        raise OversightError("PostgreSQL backups use pg_dump, which is not on the PATH: pg_dump -Fc -f FILE postgresql://...")
    done = subprocess.run(["pg_dump", "-Fc", "-f", str(out), _pg_url(url)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        out.unlink(missing_ok=True)
        raise OversightError(f"pg_dump failed: {' '.join(done.stderr.split())[:300]}")
    return {"backend": "postgresql", "file": str(out), "bytes": out.stat().st_size}


def restore(backup_file: Path, url: str, *, force: bool = False) -> Engine:
    """Restore `backup_file` into the database at `url` and bring its schema up to date."""
    from oversight.db.connect import connect

    if not backup_file.is_file():
        raise InputError(f"{backup_file}: no such backup")
    target = _sqlite_file(url)
    if target is not None:
        if target.exists() and target.stat().st_size > 0 and not force:
            raise InputError(f"{target}: exists already; restore into a new file or pass --force to replace it")
        with sqlite3.connect(backup_file) as src:
            if src.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise InputError(f"{backup_file}: not a sound SQLite database")
            with sqlite3.connect(target) as dst:
                src.backup(dst)
        return connect(url)
    if shutil.which("pg_restore") is None:
        raise OversightError("PostgreSQL restores use pg_restore, which is not on the PATH: pg_restore -d postgresql://... FILE")
    args = ["pg_restore", "--no-owner", "-d", _pg_url(url), str(backup_file)] + (["--clean", "--if-exists"] if force else [])
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise OversightError(f"pg_restore failed: {' '.join(done.stderr.split())[:300]}")
    return connect(url)
