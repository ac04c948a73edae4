"""Reading dataset files row by row with errors that name the file, the line and the field."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from oversight.errors import InputError

T = TypeVar("T", bound=BaseModel)


def row_error(path: Path | str, line: int, field: str, problem: str) -> InputError:
    return InputError(f"{path}:{line}: {field}: {problem}")


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Objects with their 1-based line numbers; splits on "\\n" only (QuALITY's texts hold U+2028)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise row_error(path, 1, "file", f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise row_error(path, number, "json", exc.msg) from None
        if not isinstance(obj, dict):
            raise row_error(path, number, "json", f"expected an object, got {type(obj).__name__}")
        yield number, obj


def read_csv(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows as dicts with the line on which each row starts (quoted fields may span lines)."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with handle:
        reader = csv.DictReader(handle)
        try:
            header_line = reader.line_num
            if reader.fieldnames is None:
                raise row_error(path, 1, "header", "the file is empty")
            line = reader.line_num + 1
            for row in reader:
                if None in row:
                    raise row_error(path, line, "row", f"{len(row) - 1 + len(row[None])} fields, header has {len(reader.fieldnames)}")
                yield line, row
                line = reader.line_num + 1
        except csv.Error as exc:
            raise row_error(path, reader.line_num or header_line, "csv", str(exc)) from None
        except UnicodeDecodeError as exc:
            raise row_error(path, reader.line_num or 1, "file", f"not UTF-8 text ({exc.reason})") from None


def validate(model: type[T], obj: Any, path: Path, line: int) -> T:
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "row"
        raise row_error(path, line, field, _problem(err)) from None


def _problem(err: Any) -> str:
    msg = str(err.get("msg", "invalid"))
    return msg.removeprefix("Value error, ")


def require(condition: bool, path: Path, line: int, field: str, problem: str) -> None:
    if not condition:
        raise row_error(path, line, field, problem)
