"""CSV datasets: GPQA (users bring their own copy) and TruthfulQA."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from oversight.data.question import Question
from oversight.data.rows import make_question, read_csv, require, row_guard

GPQA_COLUMNS = ("Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3")
TRUTHFULQA_COLUMNS = ("Question", "Best Answer", "Incorrect Answers")


def _check_columns(path: Path, row: dict[str, str], needed: tuple[str, ...]) -> None:
    missing = [c for c in needed if c not in row]
    require(not missing, path, 1, "header", f"missing column(s): {', '.join(missing)}")


def load_gpqa_extractive(path: Path, **options: Any) -> list[Question]:
    """GPQA as Kenton et al. (2024) made it extractive: the question writer's `Explanation` is the hidden context
    that debaters and consultants read and quote, and the judge does not see."""
    return load_gpqa(path, extractive=True, **options)


def load_gpqa(path: Path, *, extractive: bool = False, **_: Any) -> list[Question]:
    """GPQA: four options, shuffled with a seed drawn from the record id so the correct one is not always first."""
    out: list[Question] = []
    for line, row in read_csv(path):
        _check_columns(path, row, (*GPQA_COLUMNS, "Explanation") if extractive else GPQA_COLUMNS)  # a file-level problem: never skipped
        with row_guard():
            for col in (*GPQA_COLUMNS, "Explanation") if extractive else GPQA_COLUMNS:
                require(bool((row.get(col) or "").strip()), path, line, col, "empty")
            record = (row.get("Record ID") or "").strip() or f"row{line}"
            options = [row[c].strip() for c in GPQA_COLUMNS[1:]]
            order = list(range(4))
            random.Random(f"gpqa:{record}").shuffle(order)
            out.append(
                make_question(
                    {
                        "id": record,
                        "question": row["Question"].strip(),
                        "options": [options[i] for i in order],
                        "answer": order.index(0),
                        "context": row["Explanation"].strip() if extractive else "",
                        "source": "gpqa-extractive" if extractive else "gpqa",
                        "meta": {k: row.get(k) for k in ("Subdomain", "High-level domain") if row.get(k)},
                    },
                    path,
                    line,
                )
            )
    return out


def _split_answers(text: str) -> list[str]:
    return [a.strip() for a in text.split(";") if a.strip()]


def load_truthfulqa(path: Path, **_: Any) -> list[Question]:
    """TruthfulQA: `Best Answer` against the listed incorrect answers; the first incorrect one is the distractor."""
    out: list[Question] = []
    for line, row in read_csv(path):
        _check_columns(path, row, TRUTHFULQA_COLUMNS)  # a file-level problem: never skipped
        with row_guard():
            best = (row.get("Best Answer") or "").strip()
            wrong = [w for w in _split_answers(row.get("Incorrect Answers") or "") if w != best]
            require(bool(best), path, line, "Best Answer", "empty")
            require(bool(wrong), path, line, "Incorrect Answers", "no incorrect answer listed")
            out.append(
                make_question(
                    {
                        "id": f"tqa-{line}",
                        "question": (row.get("Question") or "").strip(),
                        "options": [best, *dict.fromkeys(wrong)],
                        "answer": 0,
                        "distractor": 1,
                        "source": "truthfulqa",
                        "meta": {k: row.get(k) for k in ("Type", "Category", "Source") if row.get(k)},
                    },
                    path,
                    line,
                )
            )
    return out
