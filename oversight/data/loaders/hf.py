"""Hugging Face-style JSONL exports: BoolQ, MMLU, ARC."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from oversight.data.question import Question
from oversight.data.rows import make_question, read_jsonl, require, row_guard, validate

LETTERS = "ABCDEFGHIJ"


class _BoolQ(BaseModel):
    model_config = ConfigDict(extra="allow")
    question: str = Field(min_length=1)
    answer: StrictBool
    passage: str = ""
    title: str | None = None


def load_boolq(path: Path, **_: Any) -> list[Question]:
    out = []
    for line, obj in read_jsonl(path):
        with row_guard():
            row = validate(_BoolQ, obj, path, line)
            question = row.question.strip()
            question = question[0].upper() + question[1:] + ("" if question.endswith("?") else "?")
            out.append(
                make_question(
                    {
                        "id": str(obj.get("id", f"boolq-{line}")),
                        "question": question,
                        "options": ["Yes", "No"],
                        "answer": 0 if row.answer else 1,
                        "context": row.passage,
                        "source": "boolq",
                        "article_id": row.title,
                    },
                    path,
                    line,
                )
            )
    return out


class _MMLU(BaseModel):
    model_config = ConfigDict(extra="allow")
    question: str = Field(min_length=1)
    subject: str = ""
    choices: list[str] = Field(min_length=2)
    answer: int | str


def load_mmlu(path: Path, **_: Any) -> list[Question]:
    out = []
    for line, obj in read_jsonl(path):
        with row_guard():
            row = validate(_MMLU, obj, path, line)
            answer = row.answer
            if isinstance(answer, str):
                key = answer.strip().upper()
                require(
                    key in LETTERS[: len(row.choices)] or key.isdigit(),
                    path,
                    line,
                    "answer",
                    f"{answer!r} is neither an index nor a letter",
                )
                answer = LETTERS.index(key) if key in LETTERS else int(key)
            out.append(
                make_question(
                    {
                        "id": str(obj.get("id", f"mmlu-{line}")),
                        "question": row.question,
                        "options": row.choices,
                        "answer": answer,
                        "source": "mmlu",
                        "meta": {"subject": row.subject} if row.subject else {},
                    },
                    path,
                    line,
                )
            )
    return out


class _ArcChoices(BaseModel):
    text: list[str] = Field(min_length=2)
    label: list[str] = Field(min_length=2)


class _Arc(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = None
    question: str = Field(min_length=1)
    choices: _ArcChoices
    answerKey: str = Field(min_length=1)  # noqa: N815 - the dataset's field name


def load_arc(path: Path, **_: Any) -> list[Question]:
    out = []
    for line, obj in read_jsonl(path):
        with row_guard():
            row = validate(_Arc, obj, path, line)
            labels = [label.strip() for label in row.choices.label]
            require(len(labels) == len(row.choices.text), path, line, "choices", "text and label have different lengths")
            require(row.answerKey.strip() in labels, path, line, "answerKey", f"{row.answerKey!r} is not one of the labels {labels}")
            out.append(
                make_question(
                    {
                        "id": row.id or f"arc-{line}",
                        "question": row.question,
                        "options": row.choices.text,
                        "answer": labels.index(row.answerKey.strip()),
                        "source": "arc",
                    },
                    path,
                    line,
                )
            )
    return out
