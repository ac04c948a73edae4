"""What a protocol returns and what judges add: the in-memory form of one stored item."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, computed_field

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


class RoundRecord(BaseModel):
    """One speaker's turn in one round, in numbers: how much it said and how much of its evidence checked out."""

    round: int
    role: str
    side: Side | None = None
    words: int
    quotes: int
    verified_quotes: int


class Outcome(BaseModel):
    """What a transcript reports beside its turns, typed.

    The fields here are stored in real columns where results are grouped or scored by them
    (`variant`, `models`, `consultant_correct`, `chose_correct`) and, whole, in the transcript's
    typed `outcome` column. A protocol with more to report subclasses this and names the subclass
    as its `Outcome`; its extra fields are validated on the way in and on the way back out.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    variant: str = ""
    """Which of a question's transcripts this is (consultancy: "correct" / "incorrect" assignment)."""
    models: str = ""
    """Who argued, as one string ("m1 vs m2", "human", or "" when nobody did), for grouping."""
    debaters: dict[Side, str] = Field(default_factory=dict)
    """The model that argued each side."""
    players: dict[Side, str] = Field(default_factory=dict)
    """A study's player (a model with its search settings) on each side, where the run names them."""
    consultant_side: Side | None = None
    consultant_correct: bool | None = None
    chosen_side: Side | None = None
    """Open roles: the side the first model chose to argue."""
    chose_correct: bool | None = None
    turn_order: Literal["simultaneous", "sequential"] | None = None
    seed: int | None = None
    rounds: list[RoundRecord] = Field(default_factory=list)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        OUTCOME_TYPES[cls.__name__] = cls

    def stored(self) -> dict[str, Any]:
        """The JSON kept in `transcripts.outcome`: the fields and the class that reads them back."""
        return {"type": type(self).__name__, **self.model_dump(mode="json")}

    @staticmethod
    def from_stored(data: dict[str, Any] | None) -> Outcome:
        """Read back what `stored` wrote, as its own class when that class is known in this process (a plugin's
        class is known once its file is imported); otherwise every value is kept, untyped, in a `StoredOutcome`."""
        data = dict(data or {})
        cls = OUTCOME_TYPES.get(str(data.pop("type", "Outcome")), StoredOutcome)
        try:
            return cls.model_validate(data)
        except ValueError:
            return StoredOutcome.model_validate(data)


OUTCOME_TYPES: dict[str, type[Outcome]] = {"Outcome": Outcome}


class StoredOutcome(Outcome):
    """An outcome whose class is not known here (a plugin's, not imported): its extra fields are kept as they are."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)


class OpenRoleOutcome(Outcome):
    """Open roles (Kenton et al. 2024): how the choice of side was made."""

    chooser: str | None = None
    choice_p_a: float | None = None
    choice_valid: bool | None = None
    choice_raw: str | None = None


class Transcript(BaseModel):
    """One question under one protocol: canonical options A and B (indices into the question's options)."""

    question: Question
    protocol: str
    option_a: int
    option_b: int
    turns: list[Turn] = Field(default_factory=list)
    outcome: SerializeAsAny[Outcome] = Field(default_factory=Outcome)
    meta: dict[str, Any] = Field(default_factory=dict)
    """Free-form notes a protocol keeps for readers (e.g. where human arguments came from); never read by metrics."""
    prompt_version: str = ""
    """The run's prompt version (hash of the templates used); set by the engine."""

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
    after_round: int | None = None
    """Set when the judge read the transcript cut after this round (accuracy by round); None: the whole transcript."""

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
