"""Debate (Irving et al. 2018; Khan et al. 2024): two debaters, each assigned one answer, argue over
`rounds` simultaneous rounds; only they read the context. The judge reads the question, the
answers and the debate with every quote marked verified or unverified.
"""

from __future__ import annotations

import asyncio

from oversight.data.question import Question
from oversight.models import GenerateConfig, Message, Model
from oversight.prompts import debater_messages, judge_messages
from oversight.protocols.base import Participants, Protocol, options_in_order
from oversight.quotes import ContextIndex, check_quotes, mark_quotes
from oversight.swap import shown_label, swap_labels
from oversight.transcript import Order, Side, Transcript, Turn


class Debate(Protocol):
    name = "debate"
    needs_debaters = True

    async def run(self, question: Question, pair: tuple[int, int], participants: Participants) -> Transcript:
        if participants.debater_a is None or participants.debater_b is None:
            raise ValueError("debate needs two debaters")
        transcript = Transcript(question=question, protocol=self.name, option_a=pair[0], option_b=pair[1])
        index = ContextIndex(question.context) if question.context else None
        config = GenerateConfig(max_tokens=self.settings.max_tokens, temperature=self.settings.temperature)
        debaters: dict[Side, Model] = {"A": participants.debater_a, "B": participants.debater_b}
        for round_no in range(1, self.settings.rounds + 1):
            history = [(t.round, f"Debater {t.side}", t.text) for t in transcript.turns]
            # simultaneous: both debaters see the same history, so neither sees the other's current turn
            prompts = {side: self._prompt(transcript, side, round_no, history) for side in ("A", "B")}
            replies = await asyncio.gather(
                *(debaters[side].generate(prompts[side], config, role=f"debater_{side.lower()}") for side in ("A", "B"))
            )
            for side, reply in zip(("A", "B"), replies, strict=True):
                text = reply.text.strip()
                transcript.turns.append(
                    Turn(
                        round=round_no,
                        role=f"debater_{side.lower()}",
                        side=side,
                        model=debaters[side].name,
                        text=text,
                        saw_context=True,
                        quotes=check_quotes(text, index, self.settings.min_quote_words),
                        meta={"finish_reason": reply.finish_reason, "truncated_prompt": reply.truncated_prompt},
                    )
                )
        return transcript

    def _prompt(self, transcript: Transcript, side: str, round_no: int, history: list[tuple[int, str, str]]) -> list[Message]:
        return debater_messages(
            context=transcript.question.context,
            question=transcript.question.question,
            option_a=transcript.option_text("A"),
            option_b=transcript.option_text("B"),
            side=side,
            round_no=round_no,
            rounds=self.settings.rounds,
            history=history,
            word_limit=self.settings.word_limit,
        )

    def judge_view(self, transcript: Transcript, order: Order) -> list[Message]:
        first, second = options_in_order(transcript, order)
        speeches = []
        for turn in transcript.turns:
            text = mark_quotes(turn.text, turn.quotes)
            if order == "BA":
                text = swap_labels(text)
            speeches.append((turn.round, f"Debater {shown_label(turn.side or 'A', order)}", text))
        # within a round, list speakers in the order the judge sees the answers
        speeches.sort(key=lambda s: (s[0], s[1]))
        return judge_messages(question=transcript.question.question, option_first=first, option_second=second, debate=speeches)

    def longest_first_prompt(self, question: Question, pair: tuple[int, int]) -> list[Message]:
        transcript = Transcript(question=question, protocol=self.name, option_a=pair[0], option_b=pair[1])
        return self._prompt(transcript, "A", 1, [])

    def reserved_tokens(self) -> int:
        # later rounds carry every earlier turn: 2 debaters × (rounds − 1) turns, plus this turn
        return 2 * (self.settings.rounds - 1) * self.settings.max_tokens + self.settings.max_tokens
