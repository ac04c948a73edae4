"""The project's own JSONL: `{id, question, options, answer, context?, source?, article_id?, distractor?, meta?}`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from oversight.data.question import Question
from oversight.data.rows import make_question, read_jsonl, require, row_guard, validate


class GenericRow(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | int
    question: str = Field(min_length=1)
    options: list[str] = Field(min_length=2)
    answer: StrictInt | str
    """0-based index or the option's text; `true`/`false` are neither."""
    context: str = ""
    source: str | None = None
    article_id: str | int | None = None
    distractor: int | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id_not_empty(cls, v: str | int) -> str | int:
        if isinstance(v, str) and not v.strip():
            raise ValueError("must not be empty")
        return v


def load(path: Path, **_: Any) -> list[Question]:
    out: list[Question] = []
    seen: set[str] = set()
    for line, obj in read_jsonl(path):
        with row_guard():
            out.append(question_from_row(obj, path, line, seen))
    return out


def question_from_row(obj: Any, path: Path, line: int, seen: set[str]) -> Question:
    """One row of the generic layout as a `Question` (repairs counted, errors naming `path:line: field`); `seen` ids must not repeat."""
    row = validate(GenericRow, obj, path, line)
    answer = row.answer
    if isinstance(answer, str):
        require(answer in row.options, path, line, "answer", f"{answer!r} is not one of the options (give its text or 0-based index)")
        answer = row.options.index(answer)
    qid = str(row.id)
    require(qid not in seen, path, line, "id", f"duplicate id {qid!r}")
    seen.add(qid)
    return make_question(
        {
            "id": qid,
            "question": row.question,
            "options": row.options,
            "answer": answer,
            "context": row.context,
            "source": row.source or path.stem,
            "article_id": None if row.article_id is None else str(row.article_id),
            "distractor": row.distractor,
            "meta": row.meta,
        },
        path,
        line,
    )
