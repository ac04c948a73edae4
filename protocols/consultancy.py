"""Consultancy (Michael et al. 2023; Khan et al. 2024): one consultant argues for an assigned answer.

Each question is run twice, with the consultant assigned to the correct and to the incorrect
answer, so accuracy can be reported for both halves and their mean. `open-consultancy` lets the
consultant pick its answer (Kenton et al. 2024); `interactive-consultancy` lets the judge ask the
consultant a question between rounds.
"""

from __future__ import annotations

from oversight.data.question import Question
from oversight.models import Message
from oversight.prompts import DEFAULT_JUDGE_PROMPT, SEARCH_TEMPLATES, SPEAKER_TEMPLATES
from oversight.protocols._dialogue import Dialogue, Speaker, first_turn_prompt, reserved_tokens
from oversight.protocols.base import Participants, Protocol, last_round, view_with_speeches
from oversight.protocols.open_roles import choose_side
from oversight.transcript import OpenRoleOutcome, Order, Side, Transcript, Turn

ASSIGNMENTS = ("correct", "incorrect")


class Consultancy(Protocol):
    name = "consultancy"
    roles = ("consultant",)
    templates = (*SPEAKER_TEMPLATES, *SEARCH_TEMPLATES, "choice.j2", "judge_question.j2", "setting.j2")
    interactive = False
    open_roles = False

    def variants(self, question: Question) -> list[str]:
        return [""] if self.open_roles else list(ASSIGNMENTS)

    async def run(self, question: Question, pair: tuple[int, int], participants: Participants, variant: str = "") -> Transcript:
        consultant = participants.consultant
        if consultant is None:
            raise ValueError(f"{self.name} needs a consultant")
        transcript = self.new_transcript(question, pair)
        if self.open_roles:
            side = await choose_side(self.prompts, consultant, transcript)
        else:
            wrong: Side = "B" if transcript.correct == "A" else "A"
            side = transcript.correct if variant == "correct" else wrong
        transcript.outcome.consultant_side = side
        transcript.outcome.consultant_correct = side == transcript.correct
        return await Dialogue(self, transcript, [Speaker(side, consultant, "consultant")], participants, "consultancy").run()

    async def next_round(self, transcript: Transcript, participants: Participants) -> list[Turn]:
        side = transcript.outcome.consultant_side
        if self.open_roles or side is None or participants.consultant is None:
            return await super().next_round(transcript, participants)
        speakers = [Speaker(side, participants.consultant, "consultant")]
        return await Dialogue(self, transcript, speakers, participants, "consultancy").run_round(last_round(transcript) + 1)

    def judge_view(self, transcript: Transcript, order: Order, judge_prompt: str = DEFAULT_JUDGE_PROMPT) -> list[Message]:
        return view_with_speeches(self.prompts, transcript, order, "consultancy", judge_prompt)

    def longest_first_prompt(self, question: Question, pair: tuple[int, int]) -> list[Message]:
        return first_turn_prompt(self, question, pair, "consultancy")

    def reserved_tokens(self) -> int:
        return reserved_tokens(self, 1, self.interactive)


class OpenConsultancy(Consultancy):
    name = "open-consultancy"
    Outcome = OpenRoleOutcome
    open_roles = True


class InteractiveConsultancy(Consultancy):
    name = "interactive-consultancy"
    interactive = True
