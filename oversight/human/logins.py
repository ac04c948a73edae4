"""Logging in to the judge app: throttled failures and sessions that survive a page reload.

Throttling. Every failed login is stored with the account name and the client address. After
`FREE_FAILURES` failures for one account (or `FREE_CLIENT_FAILURES` from one client) within
`WINDOW`, further attempts are refused *before* any password hashing (so the form is no lever
for load) for a pause that doubles with each further failure, up to `MAX_PAUSE`; the right
password is refused too while the pause lasts. A success clears the account's record.

Sessions. A successful login creates a random token; only its SHA-256 is stored. The app keeps
the token in the page address (`?session=`), so a reload finds the judge still logged in; a
session ends after `IDLE` without a page view, at logout, or when the account is disabled.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update

from oversight.db.clean import as_utc
from oversight.db.schema import LoginFailure, User, WebSession
from oversight.errors import OversightError

log = logging.getLogger(__name__)

FAILURES, SESSIONS, USERS = LoginFailure.__table__, WebSession.__table__, User.__table__
WINDOW = timedelta(minutes=15)
FREE_FAILURES = 5
FREE_CLIENT_FAILURES = 20
FIRST_PAUSE = timedelta(seconds=30)
MAX_PAUSE = timedelta(minutes=15)
IDLE = timedelta(minutes=float(os.environ.get("OVERSIGHT_SESSION_MINUTES", "240")))


class LoginThrottled(OversightError):
    """Too many failed logins for this account or from this client: try again later."""


def _now() -> datetime:
    return datetime.now(UTC)


def _pause(failures: int, free: int) -> timedelta:
    if failures < free:
        return timedelta(0)
    return min(MAX_PAUSE, FIRST_PAUSE * 2 ** (failures - free))


def check_throttle(engine: Engine, name: str, client: str) -> None:
    """Raise `LoginThrottled` (one line, with the wait) while this account or client must pause."""
    now = _now()
    with engine.connect() as conn:
        for column, key, free, what in ((FAILURES.c.name, name[:100], FREE_FAILURES, "this account"),
                                        (FAILURES.c.client, client[:64], FREE_CLIENT_FAILURES, "your address")):  # fmt: skip
            count, last = conn.execute(
                select(func.count(), func.max(FAILURES.c.at)).where(column == key, FAILURES.c.at > now - WINDOW)
            ).one()
            if count and last is not None:
                wait = as_utc(last) + _pause(count, free) - now
                if wait > timedelta(0):
                    raise LoginThrottled(f"too many failed logins for {what}; try again in {int(wait.total_seconds()) + 1} s")


def record_failure(engine: Engine, name: str, client: str) -> None:
    now = _now()
    with engine.begin() as conn:
        conn.execute(insert(FAILURES).values(name=name[:100], client=client[:64], at=now))
        conn.execute(delete(FAILURES).where(FAILURES.c.at < now - 2 * WINDOW))
        recent = conn.execute(select(func.count()).where(FAILURES.c.name == name[:100], FAILURES.c.at > now - WINDOW)).scalar_one()
    log.warning("failed login for %r from %s (%d in the last %d minutes)", name[:100], client, recent, WINDOW.seconds // 60)


def clear_failures(engine: Engine, name: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(FAILURES).where(FAILURES.c.name == name[:100]))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(engine: Engine, user_id: int, client: str) -> str:
    token = secrets.token_urlsafe(32)
    now = _now()
    with engine.begin() as conn:
        conn.execute(
            insert(SESSIONS).values(token_hash=_digest(token), user_id=user_id, client=client[:64], created_at=now, last_seen_at=now)
        )
    return token


def session_user(engine: Engine, token: str) -> dict[str, Any] | None:
    """The logged-in user of a session token, renewing it; None when unknown, idle too long, or the account is disabled."""
    if not token or len(token) > 100:
        return None
    now = _now()
    digest = _digest(token)
    with engine.begin() as conn:
        row = conn.execute(
            select(USERS.c.id, USERS.c.name, USERS.c.role, USERS.c.disabled, SESSIONS.c.last_seen_at)
            .select_from(SESSIONS.join(USERS, USERS.c.id == SESSIONS.c.user_id))
            .where(SESSIONS.c.token_hash == digest)
        ).first()
        if row is None:
            return None
        if row.disabled or now - as_utc(row.last_seen_at) > IDLE:
            conn.execute(delete(SESSIONS).where(SESSIONS.c.token_hash == digest))
            return None
        conn.execute(update(SESSIONS).where(SESSIONS.c.token_hash == digest).values(last_seen_at=now))
    return {"id": row.id, "name": row.name, "role": row.role}


def end_session(engine: Engine, token: str | None) -> None:
    if token:
        with engine.begin() as conn:
            conn.execute(delete(SESSIONS).where(SESSIONS.c.token_hash == _digest(token)))
