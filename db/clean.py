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
    columns refuse) replaced by U+FFFD, in strings at any depth of rows, lists and dicts."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {k: storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value
