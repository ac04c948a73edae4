"""What a protocol returns and what judges add: the in-memory form of one stored item."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

from oversight.data.question import Question
from oversight.quotes import QuoteCheck

Side = Literal["A", "B"]
Order = Literal["AB", "BA"]


class Turn(BaseModel):
    round: int
    role: str
    side: Side | None = None
    model: str | None = None
    text: str
    saw_context: bool = False
    quotes: list[QuoteCheck] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)


class Transcript(BaseModel):
    """One question under one protocol: canonical options A and B (indices into the question's options)."""

    question: Question
    protocol: str
    option_a: int
    option_b: int
    turns: list[Turn] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def correct(self) -> Side:
        return "A" if self.option_a == self.question.answer else "B"

    def option_text(self, side: Side) -> str:
        return self.question.options[self.option_a if side == "A" else self.option_b]


class Judgment(BaseModel):
    """A judge's verdict on one transcript in one answer order, in canonical terms (A, B)."""

    judge: str
    judge_kind: Literal["model", "human"] = "model"
    order: Order
    p_a: float | None = None
    p_b: float | None = None
    valid: bool
    method: str
    raw_output: str = ""
    prompt_version: str
    correct_side: Side

    @computed_field  # type: ignore[prop-decorator]
    @property
    def p_correct(self) -> float | None:
        if not self.valid or self.p_a is None or self.p_b is None:
            return None
        return self.p_a if self.correct_side == "A" else self.p_b

    @computed_field  # type: ignore[prop-decorator]
    @property
    def correct(self) -> bool | None:
        """Whether the judge's top choice was right; an exact tie counts as wrong (no credit for a coin flip)."""
        if self.p_correct is None:
            return None
        return self.p_correct > 0.5


class ItemResult(BaseModel):
    """Everything one finished item writes, stored in one transaction or not at all."""

    item_key: str
    question_uid: str
    transcript: Transcript
    judgments: list[Judgment]
    calls: list[Any] = Field(default_factory=list, description="oversight.models.CallRecord entries")
