"""Which questions a run keeps: the filters the debate papers apply to QuALITY, and a cap per article.

Khan et al. (2024) and Michael et al. (2023) keep QuALITY questions that untimed validators all
answered correctly (answerable), that speed validators mostly missed (the story is needed, not
guessable), that validators said need more than a sentence or two of context, and a few per
article (so one story does not dominate the sample). The first three read the official file's
validation fields (`quality` format); the cap works for any dataset with articles.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from oversight.data.question import Question
from oversight.errors import InputError

VALIDATION_FILTERS = {
    "min_untimed_accuracy": ("untimed_accuracy", lambda value, bound: value >= bound),
    "max_speed_accuracy": ("speed_accuracy", lambda value, bound: value <= bound),
    "min_context_required": ("context_required", lambda value, bound: value >= bound),
}


class DatasetFilters(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_untimed_accuracy: float | None = Field(default=None, ge=0.0, le=1.0)
    """Keep questions that at least this share of untimed validators answered correctly (Khan et al.: 1.0)."""
    max_speed_accuracy: float | None = Field(default=None, ge=0.0, le=1.0)
    """Keep questions that at most this share of 45-second speed validators answered correctly (hard: 0.5)."""
    min_context_required: float | None = Field(default=None, ge=1.0, le=4.0)
    """Keep questions whose mean context-needed rating (1 a sentence … 4 most of the story) is at least this."""
    max_per_article: int | None = Field(default=None, ge=1, le=10_000)
    """Keep at most this many questions per article, the first in file order."""

    def active(self) -> bool:
        return any(v is not None for v in self.model_dump().values())


def apply_filters(questions: list[Question], filters: DatasetFilters, source: str) -> tuple[list[Question], dict[str, int]]:
    """The questions the filters keep, and how many each filter removed (in the order they apply)."""
    removed: dict[str, int] = {}
    for name, (field, keep) in VALIDATION_FILTERS.items():
        bound = getattr(filters, name)
        if bound is None:
            continue
        if not any(field in q.meta for q in questions):
            raise InputError(f"{source}: filter {name} needs QuALITY's validation fields (the official file, --format quality)")
        kept = [q for q in questions if q.meta.get(field) is not None and keep(q.meta[field], bound)]
        removed[name] = len(questions) - len(kept)
        questions = kept
    if filters.max_per_article is not None:
        seen: Counter[str] = Counter()
        kept = []
        for q in questions:
            seen[q.cluster] += 1
            if seen[q.cluster] <= filters.max_per_article:
                kept.append(q)
        removed["max_per_article"] = len(questions) - len(kept)
        questions = kept
    return questions, removed


def parse_filters(value: dict[str, Any] | DatasetFilters | None) -> DatasetFilters:
    if isinstance(value, DatasetFilters):
        return value
    return DatasetFilters.model_validate(value or {})
