"""The turn mechanics shared by debate and consultancy: rounds, turn order, judge questions,
best-of-N sampling and critique-and-refine. Protocols decide who speaks for which side; this
module runs the rounds and records everything, candidates included.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from oversight.data.question import Question
from oversight.judging import judge_transcript
from oversight.models import GenerateConfig, Message, Model
from oversight.prompts import Kind, Speech
from oversight.protocols.base import Participants, Protocol, speaker_label, speeches_for_judge
from oversight.quotes import ContextIndex, check_quotes
from oversight.transcript import Side, Transcript, Turn

ADDRESSED = re.compile(r"Debater\s+([AB])\s*[:,-]\s*(.+)", re.S)
JUDGE_QUESTION_TOKENS = 64


@dataclass(frozen=True)
class Speaker:
    side: Side
    model: Model
    role: str  # debater_a | debater_b | consultant


class Dialogue:
    def __init__(self, protocol: Protocol, transcript: Transcript, speakers: list[Speaker], participants: Participants, kind: Kind) -> None:
        self.protocol = protocol
        self.settings = protocol.settings
        self.transcript = transcript
        self.speakers = speakers
        self.participants = participants
        self.kind = kind
        context = transcript.question.context
        self.index = ContextIndex(context) if context else None

    @property
    def simultaneous(self) -> bool:
        return self.settings.turns == "simultaneous" or len(self.speakers) == 1

    async def run(self) -> Transcript:
        interactive = self.participants.interactive_judge
        for round_no in range(1, self.settings.rounds + 1):
            await self.run_round(round_no)
            if interactive is not None and round_no < self.settings.rounds:
                self.transcript.turns.append(await self._judge_question(interactive, round_no))
        return self.transcript

    async def run_round(self, round_no: int) -> list[Turn]:
        """Every speaker's turn of one round, appended to the transcript (and returned): a whole run calls this for
        each round; a judge-paced live session calls it when the judge asks for the next round."""
        before = len(self.transcript.turns)
        if self.simultaneous:
            # everyone sees the same history: nobody sees another's turn of this round
            history = self._history()
            turns = await asyncio.gather(*(self._turn(s, round_no, history) for s in self.speakers))
            self.transcript.turns.extend(turns)
        else:
            for speaker in self.speakers:
                self.transcript.turns.append(await self._turn(speaker, round_no, self._history()))
        return self.transcript.turns[before:]

    def _history(self) -> list[Speech]:
        """The transcript as participants read it: canonical names, quotes as written."""
        return [(t.round, speaker_label(t, "AB"), t.text) for t in self.transcript.turns]

    def _question_for(self, speaker: Speaker, round_no: int) -> str | None:
        for turn in reversed(self.transcript.turns):
            if turn.round < round_no - 1:
                break
            if turn.role == "judge" and turn.round == round_no - 1:
                target = turn.meta.get("addressed_to")
                if target in (None, speaker.side, "consultant"):
                    return turn.text
        return None

    def _prompt(self, speaker: Speaker, round_no: int, history: list[Speech]) -> list[Message]:
        t = self.transcript
        return self.protocol.prompts.speaker_messages(
            kind=self.kind,
            context=t.question.context,
            question=t.question.question,
            option_a=t.option_text("A"),
            option_b=t.option_text("B"),
            side=speaker.side,
            round_no=round_no,
            rounds=self.settings.rounds,
            history=history,
            word_limit=self.settings.word_limit,
            judge_question=self._question_for(speaker, round_no),
            layout=self.settings.layout,
        )

    def _make_turn(self, speaker: Speaker, round_no: int, text: str, meta: dict) -> Turn:
        return Turn(
            round=round_no,
            role=speaker.role,
            side=speaker.side,
            model=speaker.model.name,
            text=text,
            saw_context=True,
            quotes=check_quotes(text, self.index, self.settings.min_quote_words),
            meta=meta,
        )

    async def _turn(self, speaker: Speaker, round_no: int, history: list[Speech]) -> Turn:
        messages = self._prompt(speaker, round_no, history)
        n, refine, temperature = self.settings.search(speaker.role)
        if n == 1:
            config = GenerateConfig(max_tokens=self.settings.max_tokens, temperature=temperature)
            reply = await speaker.model.generate(messages, config, role=speaker.role)
            text, meta = reply.text.strip(), {"finish_reason": reply.finish_reason, "truncated_prompt": reply.truncated_prompt}
        else:
            configs = [
                GenerateConfig(max_tokens=self.settings.max_tokens, temperature=self.settings.best_of_temperature, seed=i) for i in range(n)
            ]
            replies = await asyncio.gather(*(speaker.model.generate(messages, c, role=speaker.role) for c in configs))
            texts = [r.text.strip() for r in replies]
            scores = await asyncio.gather(*(self._score(speaker, round_no, t) for t in texts))
            best = max(range(n), key=lambda i: (scores[i], -i))
            text = texts[best]
            meta = {"candidates": [{"text": t, "score": s} for t, s in zip(texts, scores, strict=True)], "chosen": best}
        if refine:
            text, meta["refine"] = await self._refine(speaker, round_no, history, messages, text, temperature)
        return self._make_turn(speaker, round_no, text, meta)

    def _judge(self) -> Model:
        judge = self.participants.preference_judge
        if judge is None:
            raise ValueError("best-of-N and refine need a preference judge")
        return judge

    async def _score(self, speaker: Speaker, round_no: int, text: str) -> float:
        """The preference judge's probability for the speaker's own answer, given this candidate and the
        transcript so far (the opponent's arguments held fixed)."""
        hypothetical = self.transcript.model_copy(deep=True)
        hypothetical.turns.append(self._make_turn(speaker, round_no, text, {}))
        judgment = await judge_transcript(
            self._judge(), self.protocol, hypothetical, "AB", self.settings.judge_prompt, role="preference_judge"
        )
        p = judgment.p_a if speaker.side == "A" else judgment.p_b
        return float(p) if p is not None else 0.0

    async def _refine(
        self, speaker: Speaker, round_no: int, history: list[Speech], messages: list[Message], draft: str, temperature: float
    ) -> tuple[str, dict]:
        critic = self.participants.critic or speaker.model
        t = self.transcript
        critique = await critic.generate(
            self.protocol.prompts.critic_messages(
                context=t.question.context,
                question=t.question.question,
                option_a=t.option_text("A"),
                option_b=t.option_text("B"),
                side=speaker.side,
                argument=draft,
                history=history,
            ),
            GenerateConfig(max_tokens=self.settings.max_tokens, temperature=0.0),
            role="critic",
        )
        rewrite = await speaker.model.generate(
            self.protocol.prompts.revision_messages(messages, draft, critique.text),
            GenerateConfig(max_tokens=self.settings.max_tokens, temperature=temperature),
            role=speaker.role,
        )
        revised = rewrite.text.strip()
        draft_score, revised_score = await asyncio.gather(self._score(speaker, round_no, draft), self._score(speaker, round_no, revised))
        keep_revision = bool(revised) and revised_score > draft_score
        return (revised if keep_revision else draft), {
            "critic": critic.name,
            "critique": critique.text.strip(),
            "draft": draft,
            "revision": revised,
            "scores": {"draft": draft_score, "revision": revised_score},
            "kept": "revision" if keep_revision else "draft",
        }

    async def _judge_question(self, judge: Model, round_no: int) -> Turn:
        t = self.transcript
        messages = self.protocol.prompts.judge_question_messages(
            question=t.question.question,
            option_first=t.option_text("A"),
            option_second=t.option_text("B"),
            speeches=speeches_for_judge(t, "AB", simultaneous=self.simultaneous),
            kind=self.kind,
        )
        reply = await judge.generate(messages, GenerateConfig(max_tokens=JUDGE_QUESTION_TOKENS, temperature=0.0), role="interactive_judge")
        text = reply.text.strip()
        addressed: str | None = "consultant" if self.kind == "consultancy" else None
        if self.kind == "debate" and (match := ADDRESSED.search(text)):
            addressed, text = match.group(1), match.group(2).strip()
        return Turn(round=round_no, role="judge", model=judge.name, text=text, saw_context=False, meta={"addressed_to": addressed})


def first_turn_prompt(protocol: Protocol, question: Question, pair: tuple[int, int], kind: Kind) -> list[Message]:
    """The first speaker's first prompt (the longest prompt before any turn exists), for the context check."""
    s = protocol.settings
    return protocol.prompts.speaker_messages(
        kind=kind,
        context=question.context,
        question=question.question,
        option_a=question.options[pair[0]],
        option_b=question.options[pair[1]],
        side="A",
        round_no=1,
        rounds=s.rounds,
        history=[],
        word_limit=s.word_limit,
        layout=s.layout,
    )


def reserved_tokens(protocol: Protocol, speakers: int, interactive: bool) -> int:
    s = protocol.settings
    turns = s.rounds * speakers * s.max_tokens
    return turns + (s.rounds * JUDGE_QUESTION_TOKENS if interactive else 0)
