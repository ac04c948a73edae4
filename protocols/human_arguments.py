"""Real human arguments as transcripts: model judges measured on human debates, no debater model needed.

Reads the arguments that come with the QuALITY debate set (nyu-mll/single_turn_debate): for each
question one single-turn debate (a human argument for each side) and two single-turn
consultancies (the argument for the correct side, and the one for the incorrect side). Each
argument's evidence snippets are appended as quotes and checked against the article like any
debater's quotes.
"""

from __future__ import annotations

from typing import Any

from oversight.data.question import Question
from oversight.errors import InputError
from oversight.models import Message
from oversight.prompts import DEFAULT_JUDGE_PROMPT
from oversight.protocols.base import Participants, Protocol, view_with_speeches
from oversight.quotes import ContextIndex, check_quotes
from oversight.transcript import Order, Side, Transcript, Turn

VARIANTS = ("debate", "consultancy-correct", "consultancy-incorrect")


def _argument_text(argument: dict[str, Any]) -> str:
    snippets = [s for s in argument.get("snippets", []) if s.strip()]
    quotes = "\n".join(f"(#{i}) <quote>{s}</quote>" for i, s in enumerate(snippets, start=1))
    return argument["argument"].strip() + (f"\n\nEvidence:\n{quotes}" if quotes else "")


class HumanArguments(Protocol):
    name = "human-arguments"
    shows = ("human-debate", "human-consultancy")

    def variants(self, question: Question) -> list[str]:
        arguments = question.meta.get("human_arguments") or []
        sides = {bool(a.get("for_correct")) for a in arguments}
        if sides != {True, False}:
            raise InputError(
                f"question {question.id}: human-arguments needs an argument for each side "
                "(a dataset with human arguments, such as --format quality-debate)"
            )
        return list(VARIANTS)

    async def run(self, question: Question, pair: tuple[int, int], participants: Participants, variant: str = "") -> Transcript:
        arguments = question.meta["human_arguments"]
        kind = "debate" if variant == "debate" else "consultancy"
        transcript = self.new_transcript(question, pair, meta={"source": "human"})
        transcript.protocol = f"human-{kind}"
        correct: Side = transcript.correct
        wrong: Side = "B" if correct == "A" else "A"
        by_side = {correct: next(a for a in arguments if a["for_correct"]), wrong: next(a for a in arguments if not a["for_correct"])}
        index = ContextIndex(question.context) if question.context else None
        if kind == "debate":
            sides: list[Side] = ["A", "B"]
        else:
            side = correct if variant == "consultancy-correct" else wrong
            sides = [side]
            transcript.outcome.consultant_side, transcript.outcome.consultant_correct = side, side == correct
        for side in sides:
            text = _argument_text(by_side[side])
            transcript.turns.append(
                Turn(
                    round=1,
                    role=f"debater_{side.lower()}" if kind == "debate" else "consultant",
                    side=side,
                    model=None,
                    text=text,
                    saw_context=True,
                    quotes=check_quotes(text, index, self.settings.min_quote_words),
                    meta={"author": "human"},
                )
            )
        return transcript

    def judge_view(self, transcript: Transcript, order: Order, judge_prompt: str = DEFAULT_JUDGE_PROMPT) -> list[Message]:
        kind = "debate" if transcript.protocol == "human-debate" else "consultancy"
        return view_with_speeches(self.prompts, transcript, order, kind, judge_prompt)
