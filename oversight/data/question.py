"""`Question`: what every loader produces and every protocol consumes."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Question(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=180)
    """At most 180 characters: stored ids (with a variant suffix) must fit every backend's columns."""
    question: str = Field(min_length=1)
    options: list[str] = Field(min_length=2)
    answer: int = Field(ge=0, description="index of the correct option")
    context: str = ""
    source: str = Field(default="", max_length=200)
    article_id: str | None = Field(default=None, max_length=200, description="questions on one article share it; used to cluster CIs")
    distractor: int | None = Field(default=None, description="the dataset's best wrong option, when it names one")
    meta: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_indices(self) -> Question:
        if self.answer >= len(self.options):
            raise ValueError(f"answer index {self.answer} is out of range for {len(self.options)} options")
        if self.distractor is not None and (self.distractor >= len(self.options) or self.distractor == self.answer):
            raise ValueError(f"distractor index {self.distractor} must name a wrong option")
        if any(not o.strip() for o in self.options):
            raise ValueError("options must not be empty")
        correct = self.options[self.answer].strip()
        if any(o.strip() == correct for i, o in enumerate(self.options) if i != self.answer):
            raise ValueError("the correct option's text also appears as a wrong option")
        return self

    @property
    def context_hash(self) -> str | None:
        return _text_hash(self.context) if self.context else None

    @property
    def cluster(self) -> str:
        """Unit of clustering for confidence intervals: questions on one article are not independent."""
        return self.article_id or self.context_hash or f"q:{self.id}"

    def two_options(self, seed: int) -> tuple[int, int]:
        """The two options a two-sided protocol uses, in the canonical (A, B) order.

        The correct option and the best distractor (or one drawn with the seed); which one is A
        is drawn too, so that A is not always the correct side.
        """
        draw = stable_draw(f"{seed}:{self.source}:{self.id}")
        wrongs = [i for i in range(len(self.options)) if i != self.answer]
        wrong = self.distractor if self.distractor is not None else wrongs[(draw >> 1) % len(wrongs)]
        pair = (self.answer, wrong)
        return pair if draw & 1 else (pair[1], pair[0])


def stable_draw(key: str) -> int:
    """A 64-bit number fixed by `key`: the same on every machine and Python version (unlike hash())."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


@lru_cache(maxsize=256)
def _text_hash(text: str) -> str:
    """A context's hash, read several times per question a run (storage, clustering, prompts) and shared by the
    questions on one article (which lie together in a file): an article is hashed once, not at every read."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
