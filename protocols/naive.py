"""Naive baseline: the judge sees the question and the two answers, nothing else."""

from __future__ import annotations

from oversight.data.question import Question
from oversight.models import Message
from oversight.prompts import DEFAULT_JUDGE_PROMPT
from oversight.protocols.base import Participants, Protocol, options_in_order
from oversight.transcript import Order, Transcript


class Naive(Protocol):
    name = "naive"

    async def run(self, question: Question, pair: tuple[int, int], participants: Participants, variant: str = "") -> Transcript:
        return self.new_transcript(question, pair)

    def judge_view(self, transcript: Transcript, order: Order, judge_prompt: str = DEFAULT_JUDGE_PROMPT) -> list[Message]:
        first, second = options_in_order(transcript, order)
        return self.prompts.judge_messages(
            question=transcript.question.question, option_first=first, option_second=second, judge_prompt=judge_prompt
        )
