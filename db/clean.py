"""Values made storable on every backend, and read back alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, overload


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    """A stored moment as an aware datetime: SQLite hands back naive ones, written in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def storable(value: Any) -> Any:
    """`value` with NUL characters (which model output and broken files can contain, and PostgreSQL's text
    columns refuse) replaced by U+FFFD, in strings at any depth of rows, lists and dicts. Every row of every
    write passes through here, so a value without NUL is returned as it is, not copied."""
    return _replace_nul(value) if _has_nul(value) else value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, list):
        return False
    for item in value:
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict | list) and _has_nul(item):
            return True
    return False


def _replace_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {k: _replace_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_nul(v) for v in value]
    return value
