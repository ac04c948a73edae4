"""Debate (Irving et al. 2018; Khan et al. 2024; Kenton et al. 2024).

Two debaters argue for the two answers over `rounds` rounds, simultaneously (neither sees the
other's turn of the same round) or sequentially (B reads A's turn of the round first); only they
read the context. `open-debate` lets debater A's model pick its answer first, the other takes
the rest; `interactive-debate` lets the judge ask one debater a question between rounds.
"""

from __future__ import annotations

from oversight.data.question import Question
from oversight.models import Message
from oversight.prompts import DEFAULT_JUDGE_PROMPT, SEARCH_TEMPLATES, SPEAKER_TEMPLATES
from oversight.protocols._dialogue import Dialogue, Speaker, first_turn_prompt, reserved_tokens
from oversight.protocols.base import Participants, Protocol, last_round, view_with_speeches
from oversight.protocols.open_roles import choose_side
from oversight.transcript import OpenRoleOutcome, Order, Transcript, Turn


class Debate(Protocol):
    name = "debate"
    roles = ("debater_a", "debater_b")
    templates = (*SPEAKER_TEMPLATES, *SEARCH_TEMPLATES, "choice.j2", "judge_question.j2", "setting.j2")
    interactive = False
    open_roles = False

    async def run(self, question: Question, pair: tuple[int, int], participants: Participants, variant: str = "") -> Transcript:
        a, b = participants.debater_a, participants.debater_b
        if a is None or b is None:
            raise ValueError(f"{self.name} needs two debaters")
        transcript = self.new_transcript(question, pair)
        transcript.outcome.turn_order = self.settings.turns
        models = {"A": a, "B": b}
        if self.open_roles:
            side = await choose_side(self.prompts, a, transcript)
            if side == "B":  # the chooser argues for its pick; the other model takes the remaining side
                models = {"A": b, "B": a}
        speakers = [Speaker("A", models["A"], "debater_a"), Speaker("B", models["B"], "debater_b")]
        return await Dialogue(self, transcript, speakers, participants, "debate").run()

    async def next_round(self, transcript: Transcript, participants: Participants) -> list[Turn]:
        if self.open_roles or participants.debater_a is None or participants.debater_b is None:
            return await super().next_round(transcript, participants)
        speakers = [Speaker("A", participants.debater_a, "debater_a"), Speaker("B", participants.debater_b, "debater_b")]
        transcript.outcome.turn_order = self.settings.turns
        return await Dialogue(self, transcript, speakers, participants, "debate").run_round(last_round(transcript) + 1)

    def judge_view(self, transcript: Transcript, order: Order, judge_prompt: str = DEFAULT_JUDGE_PROMPT) -> list[Message]:
        simultaneous = transcript.outcome.turn_order != "sequential"
        return view_with_speeches(self.prompts, transcript, order, "debate", judge_prompt, simultaneous=simultaneous)

    def longest_first_prompt(self, question: Question, pair: tuple[int, int]) -> list[Message]:
        return first_turn_prompt(self, question, pair, "debate")

    def reserved_tokens(self) -> int:
        return reserved_tokens(self, 2, self.interactive)


class OpenDebate(Debate):
    name = "open-debate"
    Outcome = OpenRoleOutcome
    open_roles = True


class InteractiveDebate(Debate):
    name = "interactive-debate"
    interactive = True
