"""A run's life in the database: created or reopened under a lease, kept alive by heartbeats, finished.

One process at a time runs a given run: the lease (`lease_owner`, `heartbeat_at`) is taken in the
same statement that reopens the run, so of two processes started on one run name one gets it and
the other stops at once with one line. A process that dies without finishing (SIGKILL, power
loss) stops sending heartbeats; after `LEASE_SECONDS` its run counts as stale, and the next
process may take it over and resume.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from oversight.db.clean import as_utc
from oversight.db.schema import Run, Transcript
from oversight.errors import InputError, OversightError, redact

RUNS, TRANSCRIPTS = Run.__table__, Transcript.__table__
LEASE_SECONDS = float(os.environ.get("OVERSIGHT_LEASE_SECONDS", "30"))
HEARTBEAT_SECONDS = LEASE_SECONDS / 3


class RunBusyError(OversightError):
    """Another live process holds the run."""


def lease_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def is_stale(heartbeat_at: datetime | None, now: datetime | None = None) -> bool:
    beat = as_utc(heartbeat_at)
    return beat is None or (now or datetime.now(UTC)) - beat > timedelta(seconds=LEASE_SECONDS)


def start_run(engine: Engine, *, name: str, config_hash: str, owner: str | None = None, **fields: Any) -> tuple[int, set[str]]:
    """Create the run, or reopen one of the same name and config, holding its lease; returns its id and the finished item keys."""
    owner = owner or lease_owner()
    for attempt in range(2):
        now = datetime.now(UTC)
        try:
            with engine.begin() as conn:
                row = conn.execute(
                    select(RUNS.c.id, RUNS.c.config_hash, RUNS.c.lease_owner, RUNS.c.heartbeat_at).where(RUNS.c.name == name)
                ).first()
                if row is None:
                    run_id = conn.execute(
                        insert(RUNS)
                        .values(
                            name=name,
                            config_hash=config_hash,
                            status="running",
                            started_at=now,
                            lease_owner=owner,
                            heartbeat_at=now,
                            **fields,
                        )
                        .returning(RUNS.c.id)
                    ).scalar_one()
                    return run_id, set()
                if row.config_hash != config_hash:
                    raise InputError(
                        f"--run-name {name!r}: a run of that name exists with a different configuration; "
                        "choose another name to start a new run (a rerun with the same settings resumes it)"
                    )
                taken = conn.execute(
                    update(RUNS)
                    .where(
                        RUNS.c.id == row.id,
                        or_(RUNS.c.lease_owner.is_(None), RUNS.c.lease_owner == owner, RUNS.c.heartbeat_at.is_(None),
                            RUNS.c.heartbeat_at < now - timedelta(seconds=LEASE_SECONDS)),
                    )
                    .values(status="running", started_at=now, error=None, n_items=fields.get("n_items", 0), lease_owner=owner, heartbeat_at=now)
                ).rowcount  # fmt: skip
                if not taken:
                    raise RunBusyError(_busy(name, row.lease_owner, row.heartbeat_at, now))
                done = set(conn.execute(select(TRANSCRIPTS.c.item_key).where(TRANSCRIPTS.c.run_id == row.id)).scalars())
                return row.id, done
        except IntegrityError:
            if attempt:
                raise
            # another process created a run of this name at the same moment: look again (its lease will show)
    raise AssertionError("unreachable")  # pragma: no cover


def _busy(name: str, owner: str | None, heartbeat_at: datetime | None, now: datetime) -> str:
    host, pid = (owner or "?:?").split(":")[:2]
    beat = as_utc(heartbeat_at)
    ago = f"{(now - beat).total_seconds():.0f} s ago" if beat else "never"
    return (
        f"run {name!r} is being run by another process (pid {pid} on {host}, last heartbeat {ago}); "
        f"wait for it to finish, stop it, or use another --run-name (a process that died is taken over after {LEASE_SECONDS:.0f} s)"
    )


def heartbeat(engine: Engine, run_id: int, owner: str) -> bool:
    """Renew the lease; False when another process has taken the run over (this one must stop)."""
    with engine.begin() as conn:
        return bool(
            conn.execute(
                update(RUNS).where(RUNS.c.id == run_id, RUNS.c.lease_owner == owner).values(heartbeat_at=datetime.now(UTC))
            ).rowcount
        )


def finish_run(engine: Engine, run_id: int, status: str, elapsed: float, error: str | None = None, owner: str | None = None) -> None:
    """Record how the attempt ended and give the lease back (only if this process still holds it)."""
    condition = [RUNS.c.id == run_id] + ([RUNS.c.lease_owner == owner] if owner else [])
    with engine.begin() as conn:
        conn.execute(
            update(RUNS)
            .where(*condition)
            .values(
                status=status,
                finished_at=datetime.now(UTC),
                elapsed_s=RUNS.c.elapsed_s + elapsed,
                error=None if error is None else redact(error),
                lease_owner=None,
            )
        )
