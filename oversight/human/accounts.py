"""Judge-app accounts: salted scrypt password hashes, user management, login checks."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import re
from typing import Any, Literal

from sqlalchemy import Engine, insert, select, update

from oversight.db.schema import User
from oversight.errors import InputError

USERS = User.__table__
Role = Literal["judge", "admin"]
NAME = re.compile(r"^[A-Za-z0-9_.@-]{2,100}$")
MIN_PASSWORD = 8
# scrypt cost: ~50 ms per check on one core; slow enough for offline guessing, fast enough for a login form
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return "$".join(
        ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), base64.b64encode(salt).decode(), base64.b64encode(digest).decode()]
    )


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def add_user(engine: Engine, name: str, role: str, password: str) -> int:
    if not NAME.match(name):
        raise InputError(f"user name {name!r}: use 2-100 letters, digits or . _ @ -")
    if role not in ("judge", "admin"):
        raise InputError(f"--role {role!r}: choose judge or admin")
    if len(password) < MIN_PASSWORD:
        raise InputError(f"password: at least {MIN_PASSWORD} characters")
    with engine.begin() as conn:
        if conn.execute(select(USERS.c.id).where(USERS.c.name == name)).first() is not None:
            raise InputError(f"user {name!r} exists already")
        return conn.execute(
            insert(USERS).values(name=name, role=role, password_hash=hash_password(password)).returning(USERS.c.id)
        ).scalar_one()


def list_users(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(USERS.c.id, USERS.c.name, USERS.c.role, USERS.c.disabled, USERS.c.created_at).order_by(USERS.c.id))
        return [dict(r._mapping) for r in rows]


def set_disabled(engine: Engine, name: str, disabled: bool = True) -> None:
    with engine.begin() as conn:
        if conn.execute(update(USERS).where(USERS.c.name == name).values(disabled=disabled)).rowcount == 0:
            raise InputError(f"no user named {name!r}")


def authenticate(engine: Engine, name: str, password: str, client: str = "unknown") -> dict[str, Any] | None:
    """The user's id, name and role when the password matches and the account is enabled.

    Throttled (see `oversight.human.logins`): raises `LoginThrottled` without hashing anything while this
    account or this client must pause after repeated failures; each failure is recorded and logged.
    """
    from oversight.human.logins import check_throttle, clear_failures, record_failure

    check_throttle(engine, name, client)
    with engine.connect() as conn:
        row = conn.execute(select(USERS).where(USERS.c.name == name[:100])).first()
    if row is None:
        verify_password(password, _dummy_hash())  # same work whether or not the name exists
        record_failure(engine, name, client)
        return None
    if row.disabled or not verify_password(password, row.password_hash):
        record_failure(engine, name, client)
        return None
    clear_failures(engine, name)
    return {"id": row.id, "name": row.name, "role": row.role}


def is_active(engine: Engine, user_id: int) -> bool:
    with engine.connect() as conn:
        row = conn.execute(select(USERS.c.disabled).where(USERS.c.id == user_id)).first()
    return row is not None and not row.disabled
