"""What a human judge gets and gives: the next item, the blinded view, validated submissions, interactive questions.

Everything a judge's browser receives is built here from an allow-list: the question, the two
answers in this judge's order, the transcript with quotes marked and names following that order,
and the context only when the campaign is an expert baseline. Gold answers, the hidden context,
model names and other judges' votes never enter a `JudgeView`, so the web layer cannot leak them.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Engine, and_, func, insert, select
from sqlalchemy.exc import IntegrityError

from oversight.data.question import stable_draw
from oversight.db.queries import load_transcripts
from oversight.errors import InputError
from oversight.human.campaigns import (
    HUMAN,
    ITEMS,
    JUDGMENTS,
    TRANSCRIPTS,
    assigned_item,
    campaign_row,
    conn_options,
    is_assigned,
)  # fmt: skip
from oversight.protocols import protocol_for_transcript
from oversight.protocols.base import options_in_order, speaker_label, speeches_for_judge
from oversight.transcript import Order

P_MIN, P_MAX = 0.05, 0.95  # Khan et al. bound judges' probabilities to 5-95%
EXPLANATION_MIN, EXPLANATION_MAX = 10, 2000


def next_item(engine: Engine, campaign_id: int, user_id: int) -> int | None:
    """The next item for this judge: not judged by them, not full, and (unless the campaign allows it)
    not a question they judged anywhere before. Each judge walks the items in their own shuffled order."""
    with engine.connect() as conn:
        campaign = campaign_row(conn, campaign_id)
        if not is_assigned(conn, campaign_id, user_id):
            return None
        counts = select(HUMAN.c.item_id, func.count().label("n")).group_by(HUMAN.c.item_id).subquery()
        rows = conn.execute(
            select(ITEMS.c.id, TRANSCRIPTS.c.question_uid, func.coalesce(counts.c.n, 0).label("n"))
            .join(TRANSCRIPTS, TRANSCRIPTS.c.id == ITEMS.c.transcript_id)
            .outerjoin(counts, counts.c.item_id == ITEMS.c.id)
            .where(ITEMS.c.campaign_id == campaign_id)
        ).all()
        seen_items = set(conn.execute(select(HUMAN.c.item_id).where(HUMAN.c.user_id == user_id)).scalars())
        seen_questions = set(
            conn.execute(
                select(TRANSCRIPTS.c.question_uid)
                .join(ITEMS, ITEMS.c.transcript_id == TRANSCRIPTS.c.id)
                .join(HUMAN, HUMAN.c.item_id == ITEMS.c.id)
                .where(HUMAN.c.user_id == user_id)
            ).scalars()
        )
    open_items = [
        r.id
        for r in rows
        if r.id not in seen_items and r.n < campaign.judges_per_item and (campaign.allow_repeat or r.question_uid not in seen_questions)
    ]
    if not open_items:
        return None
    return min(open_items, key=lambda i: stable_draw(f"item:{user_id}:{i}"))


def order_for(user_id: int, item_id: int) -> Order:
    """The answer order this judge sees for this item: drawn per judge and item, stored with the verdict."""
    return "AB" if stable_draw(f"order:{user_id}:{item_id}") & 1 else "BA"


class Speech(BaseModel):
    round: int
    speaker: str
    text: str


class QuoteInStory(BaseModel):
    """A verified quote beside the place in the story it came from, for judges who may read the story."""

    speaker: str
    round: int
    text: str
    position: float
    """How far into the story the quote starts (0 to 1)."""
    before: str
    after: str


QUOTE_SURROUNDINGS = 120
"""Characters of story shown before and after a quote in the quotes panel."""


class JudgeView(BaseModel):
    """Everything a judge may see for one item; nothing else is ever rendered to them."""

    item_id: int
    campaign: str
    question: str
    answers: tuple[str, str]
    speeches: list[Speech]
    context: str | None = None
    interactive: bool = False
    turn_penalty: float = 0.0
    quotes: list[QuoteInStory] = Field(default_factory=list)
    """Every verified quote with its place in the story, in story order (only where the story is shown)."""


def quotes_in_story(transcript: Any, order: str) -> list[QuoteInStory]:
    """The transcript's verified quotes, each with the story around it, ordered by where they occur in the story."""
    context = transcript.question.context or ""
    out = []
    for turn in transcript.turns:
        label = speaker_label(turn, order)  # type: ignore[arg-type]
        for quote in turn.quotes:
            if not quote.verified or quote.start is None or quote.end is None or not context:
                continue
            before = context[max(0, quote.start - QUOTE_SURROUNDINGS) : quote.start]
            after = context[quote.end : quote.end + QUOTE_SURROUNDINGS]
            out.append(QuoteInStory(speaker=label, round=turn.round, text=context[quote.start : quote.end],
                                    position=quote.start / max(1, len(context)), before=before, after=after))  # fmt: skip
    return sorted(out, key=lambda q: (q.position, q.round, q.speaker))


def judge_view(engine: Engine, item_id: int, user_id: int) -> JudgeView:
    item, campaign = assigned_item(engine, item_id, user_id)
    [(_, transcript)] = load_transcripts(engine, ids=[item.transcript_id])
    order = order_for(user_id, item_id)
    protocol = protocol_for_transcript(transcript.protocol)
    simultaneous = transcript.outcome.turn_order != "sequential"
    speeches = [Speech(round=r, speaker=s, text=t) for r, s, t in speeches_for_judge(transcript, order, simultaneous=simultaneous)]
    shows_story = campaign.show_context or protocol.judge_sees_context
    return JudgeView(
        item_id=item_id,
        campaign=campaign.name,
        question=transcript.question.question,
        answers=options_in_order(transcript, order),
        speeches=speeches,
        context=transcript.question.context if shows_story else None,
        interactive=campaign.interactive,
        turn_penalty=campaign.turn_penalty,
        quotes=quotes_in_story(transcript, order) if shows_story else [],
    )


class Submission(BaseModel):
    """A judge's form, validated on the server whatever the browser sent."""

    item_id: int
    p_first: float = Field(description="probability that the first answer shown is correct")
    explanation: str
    time_on_task_s: float = Field(ge=0.0, le=86400.0)
    exchanges: list[dict[str, str]] = Field(default_factory=list)
    unsure: bool = False
    """50/50 is stored only when the judge said so: an untouched slider is not a verdict."""

    @model_validator(mode="after")
    def _said_unsure(self) -> Submission:
        if abs(self.p_first - 0.5) < 1e-9 and not self.unsure:
            raise ValueError("50% is recorded only when you tick Unsure; move the slider towards the answer you favour")
        return self

    @field_validator("p_first")
    @classmethod
    def _in_range(cls, v: float) -> float:
        if not math.isfinite(v) or not P_MIN <= v <= P_MAX:
            raise ValueError(f"must be between {P_MIN:.0%} and {P_MAX:.0%}")
        return v

    @field_validator("explanation")
    @classmethod
    def _explained(cls, v: str) -> str:
        v = v.replace("\x00", "").strip()
        if not EXPLANATION_MIN <= len(v) <= EXPLANATION_MAX:
            raise ValueError(f"write {EXPLANATION_MIN} to {EXPLANATION_MAX} characters")
        return v


class Feedback(BaseModel):
    correct_answer: str
    p_correct: float
    brier: float
    log_score: float


def submit(engine: Engine, user: dict[str, Any], form: dict[str, Any]) -> Feedback | None:
    """Store a verdict once; refuse items outside the judge's assignment and second submissions."""
    try:
        sub = Submission.model_validate(form)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "p_first"
        raise InputError(f"{field}: {str(err['msg']).removeprefix('Value error, ')}") from None
    with engine.begin() as conn:
        # the row lock (PostgreSQL) serialises verdicts on one item; SQLite serialises all writers anyway
        item = conn.execute(select(ITEMS).where(ITEMS.c.id == sub.item_id).with_for_update()).first()
        if item is None:
            raise InputError("no such item")
        campaign = campaign_row(conn, item.campaign_id)
        if not is_assigned(conn, campaign.id, user["id"]):
            raise InputError("this item is not assigned to you")
        if sub.item_id != next_item_locked(conn, campaign, user["id"], sub.item_id):
            raise InputError("this item is not open for you (already judged, full, or a question you have seen)")
        transcript = conn.execute(select(TRANSCRIPTS).where(TRANSCRIPTS.c.id == item.transcript_id)).first()
        order = order_for(user["id"], sub.item_id)
        p_a = sub.p_first if order == "AB" else 1.0 - sub.p_first
        p_correct = p_a if transcript.correct == "A" else 1.0 - p_a
        penalty = campaign.turn_penalty * max(0, len(sub.exchanges))
        try:
            jid = conn.execute(
                insert(JUDGMENTS)
                .values(
                    transcript_id=transcript.id,
                    judge=user["name"],
                    judge_kind="human",
                    order=order,
                    p_a=p_a,
                    p_b=1.0 - p_a,
                    p_correct=p_correct,
                    correct=p_correct > 0.5,
                    valid=True,
                    method="human",
                    raw_output=sub.explanation,
                    prompt_version=f"human:c{campaign.id}",
                )
                .returning(JUDGMENTS.c.id)
            ).scalar_one()
            conn.execute(
                insert(HUMAN).values(
                    item_id=sub.item_id,
                    user_id=user["id"],
                    judgment_id=jid,
                    order=order,
                    explanation=sub.explanation,
                    time_on_task_s=sub.time_on_task_s,
                    extra_turns=len(sub.exchanges),
                    exchanges=sub.exchanges,
                )
            )
        except IntegrityError:
            raise InputError("you have already judged this item") from None
        filled = conn.execute(select(func.count()).select_from(HUMAN).where(HUMAN.c.item_id == sub.item_id)).scalar_one()
        if filled > campaign.judges_per_item:
            raise InputError("this item was just completed by other judges; take the next one")
    if not campaign.feedback:
        return None
    options = conn_options(engine, transcript)
    return Feedback(
        correct_answer=options[transcript.correct],
        p_correct=p_correct,
        brier=(1.0 - p_correct) ** 2 + penalty,
        log_score=math.log(p_correct) - penalty,
    )


def next_item_locked(conn: Any, campaign: Any, user_id: int, item_id: int) -> int | None:
    """`item_id` when it is still open for this judge inside the submitting transaction, else None."""
    judged = conn.execute(select(func.count()).select_from(HUMAN).where(HUMAN.c.item_id == item_id)).scalar_one()
    mine = conn.execute(select(HUMAN.c.id).where(and_(HUMAN.c.item_id == item_id, HUMAN.c.user_id == user_id))).first()
    if mine is not None or judged >= campaign.judges_per_item:
        return None
    if not campaign.allow_repeat:
        uid = conn.execute(
            select(TRANSCRIPTS.c.question_uid).join(ITEMS, ITEMS.c.transcript_id == TRANSCRIPTS.c.id).where(ITEMS.c.id == item_id)
        ).scalar_one()
        seen = conn.execute(
            select(HUMAN.c.id)
            .join(ITEMS, ITEMS.c.id == HUMAN.c.item_id)
            .join(TRANSCRIPTS, TRANSCRIPTS.c.id == ITEMS.c.transcript_id)
            .where(and_(HUMAN.c.user_id == user_id, TRANSCRIPTS.c.question_uid == uid))
        ).first()
        if seen is not None:
            return None
    return item_id


async def ask(engine: Engine, item_id: int, user_id: int, target: str, question: str, exchanges: list[dict[str, str]]) -> str:
    """Interactive judging: the campaign's model answers the judge's question as the named participant.

    The answer is checked for quotes and shown with the judge's own letters, like the transcript.
    """
    from oversight.models import GenerateConfig, ModelPool
    from oversight.prompts import default_prompts
    from oversight.protocols.base import speaker_label
    from oversight.quotes import ContextIndex, check_quotes, mark_quotes
    from oversight.swap import shown_label, swap_labels

    question = question.strip()
    if not 3 <= len(question) <= 500:
        raise InputError("question: write 3 to 500 characters")
    item, campaign = assigned_item(engine, item_id, user_id)
    if not campaign.interactive or not campaign.interactive_model:
        raise InputError("this campaign is not interactive")
    [(_, transcript)] = load_transcripts(engine, ids=[item.transcript_id])
    order = order_for(user_id, item_id)
    if target == "Consultant":
        kind, side = "consultancy", transcript.outcome.consultant_side or "A"
    elif target in ("Debater A", "Debater B"):
        kind, side = "debate", shown_label(target[-1], order)  # the judge's letter back to the canonical side
    else:
        raise InputError(f"{target!r}: ask Debater A, Debater B or the Consultant")
    history = [(t.round, speaker_label(t, "AB"), t.text) for t in transcript.turns]
    last_round = max((t.round for t in transcript.turns), default=0)
    for ex in exchanges:
        history.append((last_round + 1, "Judge", swap_labels(ex["question"]) if order == "BA" else ex["question"]))
        history.append((last_round + 1, target if order == "AB" else swap_labels(target), ex["answer"]))
    asked = swap_labels(question) if order == "BA" else question
    messages = default_prompts().speaker_messages(
        kind=kind, context=transcript.question.context, question=transcript.question.question,
        option_a=transcript.option_text("A"), option_b=transcript.option_text("B"), side=side,
        round_no=last_round + 1, rounds=last_round + 1, history=history, word_limit=80, judge_question=asked,
    )  # fmt: skip
    pool = ModelPool()
    try:
        reply = await pool.get(campaign.interactive_model).generate(messages, GenerateConfig(max_tokens=160), role="interactive_answer")
    finally:
        await pool.aclose()
    index = ContextIndex(transcript.question.context) if transcript.question.context else None
    marked = mark_quotes(reply.text.strip(), check_quotes(reply.text.strip(), index))
    return swap_labels(marked) if order == "BA" else marked
