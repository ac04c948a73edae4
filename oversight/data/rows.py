"""Reading dataset files row by row with errors that name the file, the line and the field."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from oversight.errors import InputError

T = TypeVar("T", bound=BaseModel)


class LoadReport(BaseModel):
    """What loading a file repaired and what it skipped (only with `skip_bad_rows`)."""

    skip_bad_rows: bool = False
    repaired: list[str] = Field(default_factory=list)
    """One `path:line: what was repaired` per repaired question."""
    skipped: list[str] = Field(default_factory=list)
    """One `path:line: field: problem` per row left out."""
    filtered: dict[str, int] = Field(default_factory=dict)
    """Questions each dataset filter removed (not errors: the run asked for them to go)."""

    def summary(self) -> str | None:
        parts = []
        if self.repaired:
            parts.append(f"{len(self.repaired)} question(s) repaired (e.g. {self.repaired[0]})")
        if self.skipped:
            parts.append(f"{len(self.skipped)} bad row(s) skipped (e.g. {self.skipped[0]})")
        if self.filtered:
            parts.append("filters removed " + ", ".join(f"{n} ({name})" for name, n in self.filtered.items()))
        return "; ".join(parts) or None


_report: ContextVar[LoadReport | None] = ContextVar("oversight_load_report", default=None)


@contextmanager
def reporting(report: LoadReport) -> Iterator[LoadReport]:
    token = _report.set(report)
    try:
        yield report
    finally:
        _report.reset(token)


def _skipping(error: InputError) -> bool:
    """With `skip_bad_rows`, note the bad row and carry on; otherwise the error stands."""
    report = _report.get()
    if report is None or not report.skip_bad_rows:
        return False
    report.skipped.append(str(error))
    return True


@contextmanager
def row_guard() -> Iterator[None]:
    """Around one row's conversion: its error stops the load, or with `skip_bad_rows` skips just that row."""
    try:
        yield
    except InputError as exc:
        if not _skipping(exc):
            raise


def note_repair(path: Path, line: int, what: str) -> None:
    report = _report.get()
    if report is not None:
        report.repaired.append(f"{path}:{line}: {what}")


def row_error(path: Path | str, line: int, field: str, problem: str) -> InputError:
    return InputError(f"{path}:{line}: {field}: {problem}")


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Objects with their 1-based line numbers; splits on "\\n" only (QuALITY's texts hold U+2028)."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark some editors write is not part of the data
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
            error = row_error(path, number, "json", exc.msg)
            if _skipping(error):
                continue
            raise error from None
        if not isinstance(obj, dict):
            error = row_error(path, number, "json", f"expected an object, got {type(obj).__name__}")
            if _skipping(error):
                continue
            raise error
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
                if None in row or None in row.values():
                    found = len(row) - 1 + len(row[None]) if None in row else sum(v is not None for v in row.values())
                    error = row_error(path, line, "row", f"{found} fields, header has {len(reader.fieldnames)}")
                    if not _skipping(error):
                        raise error
                else:
                    yield line, row
                line = reader.line_num + 1
        except csv.Error as exc:
            raise row_error(path, reader.line_num or header_line, "csv", str(exc)) from None
        except UnicodeDecodeError as exc:
            raise row_error(path, reader.line_num or 1, "file", f"not UTF-8 text ({exc.reason})") from None


def validate(model: type[T], obj: Any, path: Path, line: int, prefix: str = "") -> T:
    """`model` from `obj`, or an error naming the file, line and field (`prefix` places a nested part, e.g. `questions.3`)."""
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join([prefix] * bool(prefix) + [str(p) for p in err["loc"]]) or "row"
        raise row_error(path, line, field, _problem(err)) from None


def _problem(err: Any) -> str:
    msg = str(err.get("msg", "invalid"))
    return msg.removeprefix("Value error, ")


def require(condition: bool, path: Path, line: int, field: str, problem: str) -> None:
    if not condition:
        raise row_error(path, line, field, problem)


def repair_options(fields: dict[str, Any], path: Path, line: int) -> dict[str, Any]:
    """Options repaired where the question stays well defined: empty options and repeated texts (compared without
    surrounding whitespace) dropped, as published files contain both, with the answer and distractor indices moved
    along. Each repair is noted in the load report and the question's `meta["repaired"]`. A question left with
    fewer than two distinct options, or whose answer is the empty option, is left as it is (and fails validation)."""
    options = fields.get("options")
    answer = fields.get("answer")
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options) or type(answer) is not int:
        return fields
    if not 0 <= answer < len(options):
        return fields
    kept: list[str] = []
    first_seen: dict[str, int] = {}
    new_index: list[int | None] = []
    notes = []
    for i, text in enumerate(options):
        clean = text.strip()
        if not clean:
            new_index.append(None)
            notes.append(f"dropped empty option {i}")
        elif clean in first_seen:
            new_index.append(new_index[first_seen[clean]])
            notes.append(f"dropped option {i}, a repeat of option {first_seen[clean]} ({_short(clean)})")
        else:
            first_seen[clean] = i
            new_index.append(len(kept))
            kept.append(text)
    if not notes or len(kept) < 2 or new_index[answer] is None:
        return fields
    repaired = dict(fields, options=kept, answer=new_index[answer], meta=dict(fields.get("meta") or {}, repaired=notes))
    distractor = fields.get("distractor")
    if type(distractor) is int and 0 <= distractor < len(options):
        moved = new_index[distractor]
        repaired["distractor"] = None if moved is None or moved == repaired["answer"] else moved
    note_repair(path, line, "; ".join(notes))
    return repaired


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def make_question(fields: dict[str, Any], path: Path, line: int) -> Any:
    """The one way every loader builds a `Question`: safe repairs first, then validation with a `path:line` error."""
    from oversight.data.question import Question

    return validate(Question, repair_options(fields, path, line), path, line)
