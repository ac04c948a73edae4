"""QuALITY, in two shapes: the official v1.0.1 release and the two-option debate set with human arguments."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from oversight.data.question import Question
from oversight.data.rows import make_question, read_jsonl, require, row_guard, validate


class _Argument(BaseModel):
    for_correct: bool
    argument: str
    snippets: list[str] = Field(default_factory=list)


class _DebateQuestion(BaseModel):
    question_id: str | int
    question: str = Field(min_length=1)
    correct_answer: str = Field(min_length=1)
    incorrect_answer: str = Field(min_length=1)
    arguments: list[_Argument] = Field(default_factory=list)


class _DebateArticle(BaseModel):
    passage_id: str | int
    article: str = Field(min_length=1)
    questions: list[dict[str, Any]]
    """Validated one by one, so one broken question does not cost the article's others."""
    squality_split: str | None = None


def load_debate(path: Path, **_: Any) -> list[Question]:
    """The shared two-option set: one line per article; question ids are unique only within an article."""
    out: list[Question] = []
    for line, obj in read_jsonl(path):
        with row_guard():
            art = validate(_DebateArticle, obj, path, line)
            for i, raw in enumerate(art.questions):
                with row_guard():
                    q = validate(_DebateQuestion, raw, path, line, f"questions.{i}")
                    out.append(
                        make_question(
                            {
                                "id": f"{art.passage_id}-{q.question_id}",
                                "question": q.question,
                                "options": [q.correct_answer, q.incorrect_answer],
                                "answer": 0,
                                "context": art.article,
                                "source": "quality-debate",
                                "article_id": str(art.passage_id),
                                "distractor": 1,
                                "meta": {"human_arguments": [a.model_dump() for a in q.arguments]},
                            },
                            path,
                            line,
                        )
                    )
    return out


class _Validation(BaseModel):
    model_config = ConfigDict(extra="allow")
    untimed_answer: int | None = None
    untimed_best_distractor: int | None = None
    untimed_eval2_context: int | None = None
    """How much of the story the validator needed to answer (1: a sentence or two … 4: most of it)."""


class _SpeedValidation(BaseModel):
    model_config = ConfigDict(extra="allow")
    speed_answer: int | None = None


class _OfficialQuestion(BaseModel):
    model_config = ConfigDict(extra="allow")
    question: str = Field(min_length=1)
    options: list[str] = Field(min_length=2)
    gold_label: int | None = None
    writer_label: int | None = None
    difficult: int | None = None
    question_unique_id: str | None = None
    validation: list[_Validation] = Field(default_factory=list)
    speed_validation: list[_SpeedValidation] = Field(default_factory=list)


def _share(answers: list[int | None], gold_label: int) -> float | None:
    given = [a for a in answers if a is not None]
    return round(sum(a == gold_label for a in given) / len(given), 4) if given else None


def validation_stats(q: _OfficialQuestion, gold_label: int) -> dict[str, float | None]:
    """What the papers filter on: the share of untimed validators and of speed (45-second) validators who chose the
    gold answer, and the mean context-needed rating (QuALITY's `untimed_eval2_context`)."""
    context = [v.untimed_eval2_context for v in q.validation if v.untimed_eval2_context is not None]
    return {
        "untimed_accuracy": _share([v.untimed_answer for v in q.validation], gold_label),
        "speed_accuracy": _share([v.speed_answer for v in q.speed_validation], gold_label),
        "context_required": round(sum(context) / len(context), 4) if context else None,
    }


class _OfficialArticle(BaseModel):
    model_config = ConfigDict(extra="allow")
    article_id: str | int
    set_unique_id: str | int | None = None
    title: str | None = None
    article: str = Field(min_length=1)
    questions: list[dict[str, Any]]
    """Validated one by one, so one broken question does not cost the article's others."""


def best_distractor(q: _OfficialQuestion, gold: int) -> int | None:
    """The wrong option most validators named as the best distractor (0-based); ties go to the lower index."""
    votes = Counter(
        v.untimed_best_distractor - 1
        for v in q.validation
        if v.untimed_best_distractor is not None
        and 1 <= v.untimed_best_distractor <= len(q.options)
        and v.untimed_best_distractor - 1 != gold
    )
    if not votes:
        return None
    top = max(votes.values())
    return min(i for i, n in votes.items() if n == top)


def load_official(path: Path, *, hard: bool = False, **_: Any) -> list[Question]:
    """Official QuALITY v1.0.1 JSONL. `gold_label` is 1-based; `hard` keeps `difficult == 1` only."""
    out: list[Question] = []
    for line, obj in read_jsonl(path):
        with row_guard():
            art = validate(_OfficialArticle, obj, path, line)
            set_id = str(art.set_unique_id or art.article_id)
            for i, raw in enumerate(art.questions):
                with row_guard():
                    q = validate(_OfficialQuestion, raw, path, line, f"questions.{i}")
                    field = f"questions.{i}.gold_label"
                    require(q.gold_label is not None, path, line, field, "missing (QuALITY's test split has no answers)")
                    assert q.gold_label is not None
                    require(1 <= q.gold_label <= len(q.options), path, line, field, f"{q.gold_label} is not in 1..{len(q.options)}")
                    if hard and q.difficult != 1:
                        continue
                    gold = q.gold_label - 1
                    out.append(
                        make_question(
                            {
                                "id": q.question_unique_id or f"{set_id}_{i + 1}",
                                "question": q.question,
                                "options": q.options,
                                "answer": gold,
                                "context": art.article,
                                "source": "quality",
                                "article_id": str(art.article_id),
                                "distractor": best_distractor(q, gold),
                                "meta": {
                                    "title": art.title,
                                    "difficult": q.difficult,
                                    "writer_label": q.writer_label,
                                    **validation_stats(q, q.gold_label),
                                },  # fmt: skip
                            },
                            path,
                            line,
                        )
                    )
    return out
