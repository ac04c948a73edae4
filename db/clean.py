"""Values made storable on every backend."""

from __future__ import annotations

from typing import Any


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
