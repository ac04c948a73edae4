"""Datasets: every supported file format becomes a list of validated `Question`s.

`load_dataset` stops at the first bad row with `path:line: field: problem` (an `InputError`,
exit code 2), before any model is called or anything is written; with `skip_bad_rows` it leaves
such rows out and counts them instead. Safe repairs (repeated or empty options) are always made,
and counted, so one warty row does not make a published file unusable.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oversight.data.filters import DatasetFilters, apply_filters, parse_filters
from oversight.data.question import Question
from oversight.data.rows import LoadReport, reporting
from oversight.errors import InputError
from oversight.plugins import DATASET_FORMATS

Loader = Callable[..., list[Question]]
BUILT_IN_LOADERS = "oversight.data.loaders."


def formats() -> list[str]:
    """Every dataset format a run can name: built-in, installed packages' and registered plugins'."""
    return DATASET_FORMATS.names()


def loader(fmt: str) -> Loader:
    """The built-in loader for `fmt`, or a user's reader wrapped so its rows are checked and repaired like ours."""
    from oversight.data.custom import load_with

    reader = DATASET_FORMATS.get(fmt)
    if getattr(reader, "__module__", "").startswith(BUILT_IN_LOADERS):
        return reader
    return lambda path, **options: load_with(reader, path, **options)


def _first_object(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{path}:{number}: json: {exc.msg}") from None
                if not isinstance(obj, dict):
                    raise InputError(f"{path}:{number}: json: expected an object")
                return obj
    raise InputError(f"{path}: the file has no rows")


def detect_format(path: Path) -> str:
    """Guess the format from the extension and the first row's fields."""
    if path.suffix.lower() in (".csv", ".tsv"):
        with path.open(encoding="utf-8-sig", errors="replace") as handle:
            header = handle.readline()
        if "Correct Answer" in header and "Incorrect Answer 1" in header:
            return "gpqa"
        if "Best Answer" in header:
            return "truthfulqa"
        raise InputError(f"{path}:1: header: unknown CSV layout; pass --format gpqa or --format truthfulqa")
    keys = set(_first_object(path))
    if {"passage_id", "questions"} <= keys:
        return "quality-debate"
    if "questions" in keys and ({"article_id", "set_unique_id"} & keys):
        return "quality"
    if {"question", "options", "answer"} <= keys:
        return "generic"
    if {"question", "passage", "answer"} <= keys:
        return "boolq"
    if {"question", "choices", "answerKey"} <= keys:
        return "arc"
    if {"question", "choices", "answer"} <= keys:
        return "mmlu"
    if {"question", "answer"} <= keys and "####" in str(_first_object(path).get("answer", "")):
        return "gsm8k"
    raise InputError(f"{path}:1: row: cannot tell the format from fields {sorted(keys)}; pass --format ({DATASET_FORMATS.help()})")


def load_dataset(
    path: str | Path,
    fmt: str | None = None,
    *,
    hard: bool = False,
    limit: int | None = None,
    skip_bad_rows: bool = False,
    report: LoadReport | None = None,
    filters: dict[str, Any] | None = None,
) -> tuple[str, list[Question]]:
    """Load and validate a whole file; returns the format used and the questions. `report`, when given,
    receives what was repaired, (with `skip_bad_rows`) what was left out, and what `filters` removed."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a dataset file")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    fmt = fmt or detect_format(path)
    read = loader(fmt)
    if hard and fmt != "quality":
        raise InputError("--hard only applies to official QuALITY files (--format quality)")
    report = report or LoadReport()
    report.skip_bad_rows = skip_bad_rows
    with reporting(report):
        questions = read(path, hard=hard)
    if not questions:
        skipped = f" ({len(report.skipped)} bad row(s) skipped, e.g. {report.skipped[0]})" if report.skipped else ""
        raise InputError(f"{path}: no questions found{skipped}")
    chosen = parse_filters(filters)
    if chosen.active():
        questions, report.filtered = apply_filters(questions, chosen, str(path))
        if not questions:
            raise InputError(f"{path}: the filters keep no question ({', '.join(f'{k} removed {v}' for k, v in report.filtered.items())})")
    return fmt, questions[:limit] if limit else questions


def summarize(path: Path, fmt: str, questions: list[Question], report: LoadReport | None = None) -> dict[str, Any]:
    """What `oversight data inspect` prints: sizes a researcher checks before spending compute, and what loading repaired or skipped."""
    contexts = [len(q.context) for q in questions if q.context]
    options = [len(q.options) for q in questions]
    return {
        "path": str(path),
        "format": fmt,
        "articles": len({q.cluster for q in questions if q.context or q.article_id}),
        "questions": len(questions),
        "options_per_question": {str(k): options.count(k) for k in sorted(set(options))},
        "with_context": len(contexts),
        "context_chars": {
            "min": min(contexts),
            "median": int(statistics.median(contexts)),
            "max": max(contexts),
        }
        if contexts
        else None,
        "with_distractor": sum(q.distractor is not None for q in questions),
        "repaired": len(report.repaired) if report else 0,
        "skipped_bad_rows": len(report.skipped) if report else 0,
        "filtered": dict(report.filtered) if report else {},
        "first_problems": ((report.repaired + report.skipped)[:5] if report else []),
    }


__all__ = ["DatasetFilters", "LoadReport", "Question", "detect_format", "formats", "load_dataset", "loader", "summarize"]
