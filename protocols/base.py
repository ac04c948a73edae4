"""The protocol contract: a protocol owns the turn structure and decides what each participant and the judge see.

Protocols get `Model`s and return a `Transcript`; they never touch SQL or HTTP themselves. The
engine stores what they return and asks them for the judge's view of it in each answer order.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from oversight.data.question import Question
from oversight.models import Message, Model
from oversight.transcript import Order, Transcript


class ProtocolSettings(BaseModel):
    """The shape of a run, shared by every protocol (each reads the fields it needs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rounds: int = Field(default=3, ge=1, le=20)
    word_limit: int = Field(default=120, ge=10, le=2000)
    max_tokens: int = Field(default=256, ge=8, le=8192, description="tokens per debater turn")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0, description="debater sampling temperature")
    min_quote_words: int = Field(default=5, ge=1, le=100)


@dataclass(frozen=True)
class Participants:
    debater_a: Model | None = None
    debater_b: Model | None = None


class Protocol(ABC):
    name: ClassVar[str]
    needs_debaters: ClassVar[bool] = False
    judge_sees_context: ClassVar[bool] = False

    def __init__(self, settings: ProtocolSettings) -> None:
        self.settings = settings

    @abstractmethod
    async def run(self, question: Question, pair: tuple[int, int], participants: Participants) -> Transcript:
        """Produce the transcript for one question with options `pair` as (A, B)."""

    @abstractmethod
    def judge_view(self, transcript: Transcript, order: Order) -> list[Message]:
        """Exactly what a judge is shown when the answers appear in `order`."""

    def longest_first_prompt(self, question: Question, pair: tuple[int, int]) -> list[Message]:
        """The longest prompt of the first call, used to check the context window before a run."""
        transcript = Transcript(question=question, protocol=self.name, option_a=pair[0], option_b=pair[1])
        return self.judge_view(transcript, "AB")

    def reserved_tokens(self) -> int:
        """Tokens later turns add on top of `longest_first_prompt` (0 for single-call protocols)."""
        return 0


def options_in_order(transcript: Transcript, order: Order) -> tuple[str, str]:
    """The answer texts in the order a judge sees them."""
    a, b = transcript.option_text("A"), transcript.option_text("B")
    return (a, b) if order == "AB" else (b, a)
