"""The protocol contract: a protocol owns the turn structure and decides what each participant and the judge see.

Protocols get `Model`s and return `Transcript`s; they never touch SQL or HTTP themselves. The
engine stores what they return and asks them for the judge's view of it in each answer order.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from oversight.data.question import Question
from oversight.models import Message, Model
from oversight.prompts import DEFAULT_JUDGE_PROMPT, Kind, Layout, PromptSet, Speech
from oversight.quotes import mark_quotes
from oversight.swap import shown_label, swap_labels
from oversight.transcript import Order, Outcome, Transcript, Turn


class RoleSearch(BaseModel):
    """How one role searches for its arguments, where it differs from the run's: a tournament *player* is a model
    plus these (Khan et al. 2024 rate "best-of-4" and "best-of-1" versions of one model as different debaters)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    best_of: int | None = Field(default=None, ge=1, le=32)
    refine: bool | None = None
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)


class ProtocolSettings(BaseModel):
    """The shape of a run, shared by every protocol (each reads the fields it needs).

    A protocol with settings of its own subclasses this and names the subclass as its `Settings`;
    the CLI (`--set NAME=VALUE`) and run files (`settings:`) then accept them, validated here.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rounds: int = Field(default=3, ge=1, le=20)
    turns: Literal["simultaneous", "sequential"] = "simultaneous"
    word_limit: int = Field(default=120, ge=10, le=2000)
    max_tokens: int = Field(default=256, ge=8, le=8192, description="tokens per debater/consultant turn")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0, description="debater/consultant sampling temperature")
    min_quote_words: int = Field(default=5, ge=1, le=100)
    best_of: int = Field(default=1, ge=1, le=32, description="candidate arguments per turn, best kept by the preference judge")
    best_of_temperature: float = Field(default=0.8, gt=0.0, le=2.0)
    refine: bool = False
    role_search: dict[str, RoleSearch] = Field(default_factory=dict)
    """Per-role overrides of best_of / refine / temperature (e.g. one debater samples best-of-4, the other does not)."""
    judge_prompt: str = DEFAULT_JUDGE_PROMPT
    layout: Layout = "shared-first"
    prompts: str | None = None
    """A folder of templates overriding the packaged prompt set, or a registered set's name."""

    def search(self, role: str) -> tuple[int, bool, float]:
        """(best_of, refine, temperature) for `role`: its own override where given, else the run's."""
        own = self.role_search.get(role) or RoleSearch()
        return (
            own.best_of if own.best_of is not None else self.best_of,
            own.refine if own.refine is not None else self.refine,
            own.temperature if own.temperature is not None else self.temperature,
        )

    def searching(self) -> bool:
        """Whether any role samples several candidates or refines (then a preference judge is needed)."""
        roles = [*self.role_search, ""]
        return any(self.search(r)[0] > 1 or self.search(r)[1] for r in roles)


@dataclass(frozen=True)
class Participants:
    debater_a: Model | None = None
    debater_b: Model | None = None
    consultant: Model | None = None
    critic: Model | None = None
    preference_judge: Model | None = None
    interactive_judge: Model | None = None
    extra: dict[str, Model] = field(default_factory=dict)
    """Models of roles a protocol declares beyond the built-in ones, by role name."""

    def speakers(self) -> list[Model]:
        """The models that play the protocol's roles (not the critic, the preference judge or the judges)."""
        return [m for m in (self.debater_a, self.debater_b, self.consultant, *self.extra.values()) if m is not None]

    def role(self, name: str) -> Model:
        """The model playing `name` (a built-in role or one the protocol declared); a clear error if the run gave none."""
        model = getattr(self, name, None) if name in ("debater_a", "debater_b", "consultant", "critic", "preference_judge") else None
        model = model or self.extra.get(name)
        if model is None:
            raise ValueError(f"no model plays the role {name!r}; declare it in the protocol's `roles`")
        return model


class Protocol(ABC):
    """Subclass this (in your own file if you like) and run it with `--protocol FILE.py:Class`.

    Declare, as class attributes: `name` (stored with every transcript), `roles` (the models the
    run must provide, e.g. `("debater_a", "debater_b")` or a role of your own, given with
    `--role NAME=SPEC`), `Settings` (a `ProtocolSettings` subclass with your settings' types and
    defaults) and `Outcome` (a `Outcome` subclass with what each transcript reports).
    """

    name: ClassVar[str]
    roles: ClassVar[tuple[str, ...]] = ()
    """Models the run must provide, by role: debater_a, debater_b, consultant, or a new role's name."""
    Settings: ClassVar[type[ProtocolSettings]] = ProtocolSettings
    Outcome: ClassVar[type[Outcome]] = Outcome
    templates: ClassVar[tuple[str, ...] | None] = ()
    """Prompt templates the protocol renders besides the judge's (their hash is the run's prompt
    version); None means every template in the set."""
    judge_sees_context: ClassVar[bool] = False
    shows: ClassVar[tuple[str, ...]] = ()
    """Transcript protocol names this class can show a judge (beyond its own name), for re-judging."""

    def __init__(self, settings: ProtocolSettings | None = None) -> None:
        if settings is None:
            settings = self.Settings()
        elif not isinstance(settings, self.Settings):  # shared settings (re-judging): this protocol's own take their defaults
            settings = self.Settings(**settings.model_dump())
        self.settings = settings
        self.prompts: PromptSet = PromptSet.named(self.settings.prompts)

    @classmethod
    def prompt_templates(cls, prompts: PromptSet) -> list[str]:
        """The non-judge templates this protocol may render, for its prompt version."""
        if cls.templates is None:
            return [n for n in prompts.env.list_templates() if n.endswith(".j2") and not n.startswith("judges/")]
        return list(cls.templates)

    def new_transcript(self, question: Question, pair: tuple[int, int], **fields: object) -> Transcript:
        """An empty transcript of this protocol, with this protocol's `Outcome`."""
        return Transcript(question=question, protocol=self.name, option_a=pair[0], option_b=pair[1], outcome=self.Outcome(), **fields)  # type: ignore[arg-type]

    def variants(self, question: Question) -> list[str]:
        """Transcripts made per question (consultancy: one per assigned side); "" means one."""
        return [""]

    @abstractmethod
    async def run(self, question: Question, pair: tuple[int, int], participants: Participants, variant: str = "") -> Transcript:
        """Produce the transcript for one question with options `pair` as (A, B)."""

    @abstractmethod
    def judge_view(self, transcript: Transcript, order: Order, judge_prompt: str = DEFAULT_JUDGE_PROMPT) -> list[Message]:
        """Exactly what a judge is shown when the answers appear in `order`."""

    async def next_round(self, transcript: Transcript, participants: Participants) -> list[Turn]:
        """One more round of a transcript already under way, appended to it and returned: a judge-paced live session
        asks for rounds one at a time while the judge reads. Protocols whose turns cannot be split so refuse."""
        raise ValueError(f"protocol {self.name!r} cannot be generated round by round (live sessions take debate and consultancy)")

    def longest_first_prompt(self, question: Question, pair: tuple[int, int]) -> list[Message]:
        """The longest prompt of the first call, used to check the context window before a run."""
        return self.judge_view(self.new_transcript(question, pair), "AB")

    def reserved_tokens(self) -> int:
        """Tokens later turns add on top of `longest_first_prompt` (0 for single-call protocols)."""
        return 0


def last_round(transcript: Transcript) -> int:
    """The highest round any turn of the transcript belongs to (0 before the first)."""
    return max((t.round for t in transcript.turns), default=0)


def options_in_order(transcript: Transcript, order: Order) -> tuple[str, str]:
    """The answer texts in the order a judge sees them."""
    a, b = transcript.option_text("A"), transcript.option_text("B")
    return (a, b) if order == "AB" else (b, a)


def speaker_label(turn: Turn, order: Order) -> str:
    """How a turn's speaker is named to a judge who sees the answers in `order`."""
    if turn.role.startswith("judge"):
        target = turn.meta.get("addressed_to")
        if target in ("A", "B"):
            return f"Judge (to Debater {shown_label(target, order)})"
        return "Judge"
    if turn.role.endswith("consultant"):
        return "Consultant"
    if turn.role.startswith("debater"):
        return f"Debater {shown_label(turn.side or 'A', order)}"
    return turn.role.replace("_", " ").capitalize()  # a protocol's own role (e.g. "skeptic") speaks under its name


def speeches_for_judge(transcript: Transcript, order: Order, *, simultaneous: bool) -> list[Speech]:
    """The transcript as a judge reads it: quotes marked, names and letters following the shown order.

    Within a simultaneous round the speakers are listed in the order their answers are shown,
    so the position of an argument never tells which side it was assigned.
    """
    rows: list[tuple[int, int, str, str]] = []
    for position, turn in enumerate(transcript.turns):
        text = mark_quotes(turn.text, turn.quotes)
        if order == "BA":
            text = swap_labels(text)
        label = speaker_label(turn, order)
        is_judge = turn.role.startswith("judge")
        slot = 1000 + position if is_judge else (0 if simultaneous else position)
        rows.append((turn.round, slot, label, text))
    if simultaneous:
        rows.sort(key=lambda r: (r[0], r[1], r[2] if r[1] == 0 else ""))
    else:
        rows.sort(key=lambda r: (r[0], r[1]))
    return [(rnd, label, text) for rnd, _, label, text in rows]


def view_with_speeches(
    prompts: PromptSet, transcript: Transcript, order: Order, kind: Kind, judge_prompt: str, *, simultaneous: bool = True
) -> list[Message]:
    first, second = options_in_order(transcript, order)
    return prompts.judge_messages(
        question=transcript.question.question,
        option_first=first,
        option_second=second,
        speeches=speeches_for_judge(transcript, order, simultaneous=simultaneous),
        kind=kind,
        judge_prompt=judge_prompt,
    )
