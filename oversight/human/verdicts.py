"""What a human judge gives: validated beliefs and verdicts, round-by-round reading, time-outs, questions to debaters.

Every form is validated on the server whatever the browser sent, written once (a second submit of the same item
is refused, not doubled), scored against the gold answer only after it is stored, and checked against the
campaign's window and time limit. What the judge is shown comes from `oversight.human.items`.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Engine, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from oversight.db.clean import as_utc
from oversight.db.queries import load_transcripts
from oversight.db.schema import TURNS
from oversight.errors import InputError, ModelError, OversightError, validation_problem
from oversight.human.assignment import SESSIONS, is_open, judge_state
from oversight.human.campaigns import (
    CJUDGES,
    HUMAN,
    ITEMS,
    JUDGMENTS,
    TRANSCRIPTS,
    assigned_item,
    campaign_row,
    conn_options,
    design_of,
    is_assigned,
)  # fmt: skip
from oversight.human.design import CampaignDesign
from oversight.human.items import BELIEFS, order_for, round_limits, session_of
from oversight.protocols.base import speaker_label

P_MIN, P_MAX = 0.05, 0.95  # Khan et al. bound judges' probabilities to 5-95%
EXPLANATION_MIN, EXPLANATION_MAX = 10, 2000


"""Characters of story shown before and after a quote in the quotes panel."""


class Belief(BaseModel):
    """A judge's probability on the first answer shown, validated on the server whatever the browser sent."""

    item_id: int
    p_first: float = Field(description="probability that the first answer shown is correct")
    unsure: bool = False
    """50/50 is stored only when the judge said so: an untouched slider is not a verdict."""
    round: int | None = Field(default=None, ge=1, description="judge-paced items: the round this belief follows")

    @model_validator(mode="after")
    def _said_unsure(self) -> Belief:
        if abs(self.p_first - 0.5) < 1e-9 and not self.unsure:
            raise ValueError("50% is recorded only when you tick Unsure; move the slider towards the answer you favour")
        return self

    @field_validator("p_first")
    @classmethod
    def _in_range(cls, v: float) -> float:
        if not math.isfinite(v) or not P_MIN <= v <= P_MAX:
            raise ValueError(f"must be between {P_MIN:.0%} and {P_MAX:.0%}")
        return v


class Submission(Belief):
    """A judge's verdict on an item."""

    explanation: str
    time_on_task_s: float = Field(ge=0.0, le=86400.0)
    exchanges: list[dict[str, str]] = Field(default_factory=list)

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
    rounds_read: int | None = None
    round_cost: float = 0.0
    qualification: str | None = None
    """After the last gold item: whether the judge qualified for the main campaign."""


TIME_GRACE_S = 10.0
"""A verdict this many seconds past the item's time limit is still on time (the page and the network take a moment)."""


def _validated(model: type[BaseModel], form: dict[str, Any]) -> Any:
    try:
        return model.model_validate(form)
    except ValidationError as exc:
        raise InputError(validation_problem(exc, default_field="p_first")) from None


class _Open(BaseModel):
    """An item locked for writing, with everything the rules were checked against."""

    model_config = {"arbitrary_types_allowed": True}
    item: Any
    campaign: Any
    design: CampaignDesign
    session: Any
    transcript: Any
    rounds: int
    """Rounds the transcript has now."""


def _open_for_writing(conn: Any, user_id: int, item_id: int) -> _Open:
    """Lock the item and check, inside the writing transaction, that this judge may still write to it."""
    item = conn.execute(select(ITEMS).where(ITEMS.c.id == item_id).with_for_update()).first()
    if item is None:
        raise InputError("no such item")
    campaign = campaign_row(conn, item.campaign_id)
    if not is_assigned(conn, campaign.id, user_id):
        raise InputError("this item is not assigned to you")
    design = design_of(campaign)
    if (closed := design.window_message()) is not None:
        raise InputError(closed)
    state = judge_state(conn, campaign, design, user_id, only_item=item_id)
    row = next(i for i in state.items if i.id == item_id)
    if not is_open(row, state, campaign, design, count_reserved=False):
        raise InputError("this item is not open for you (already judged, full, or a question you have seen)")
    session = conn.execute(select(SESSIONS).where(and_(SESSIONS.c.item_id == item_id, SESSIONS.c.user_id == user_id))).first()
    transcript = conn.execute(select(TRANSCRIPTS).where(TRANSCRIPTS.c.id == item.transcript_id)).first()
    rounds = conn.execute(select(func.max(TURNS.c.round)).where(TURNS.c.transcript_id == item.transcript_id)).scalar_one() or 0
    return _Open(item=item, campaign=campaign, design=design, session=session, transcript=transcript, rounds=rounds)


def _p_correct(o: _Open, user_id: int, p_first: float) -> tuple[str, float, float]:
    order = order_for(user_id, o.item.id)
    p_a = p_first if order == "AB" else 1.0 - p_first
    return order, p_a, p_a if o.transcript.correct == "A" else 1.0 - p_a


def _judgment(conn: Any, o: _Open, user: dict[str, Any], order: str, p_a: float | None, p_correct: float | None,
              raw: str, after_round: int | None = None) -> int:  # fmt: skip
    version = f"human:c{o.campaign.id}" + (f"@r{after_round}" if after_round is not None else "")
    try:
        return conn.execute(
            insert(JUDGMENTS)
            .values(transcript_id=o.transcript.id, judge=user["name"], judge_kind="human", order=order, p_a=p_a,
                    p_b=None if p_a is None else 1.0 - p_a, p_correct=p_correct, correct=None if p_correct is None else p_correct > 0.5,
                    valid=p_correct is not None, method="human", raw_output=raw, prompt_version=version, after_round=after_round)
            .returning(JUDGMENTS.c.id)
        ).scalar_one()  # fmt: skip
    except IntegrityError:
        raise InputError("you have already judged this item") from None


def _belief(conn: Any, o: _Open, user: dict[str, Any], round_no: int, p_first: float) -> None:
    """Store the judge's belief after `round_no` (once), and the same belief as a judgment after that round."""
    have = conn.execute(
        select(BELIEFS.c.id).where(and_(BELIEFS.c.item_id == o.item.id, BELIEFS.c.user_id == user["id"], BELIEFS.c.round == round_no))
    ).first()
    if have is not None:
        return
    order, p_a, p_correct = _p_correct(o, user["id"], p_first)
    jid = _judgment(conn, o, user, order, p_a, p_correct, "", after_round=round_no) if o.item.stage == "main" else None
    conn.execute(insert(BELIEFS).values(item_id=o.item.id, user_id=user["id"], round=round_no, p_first=p_first, p_correct=p_correct,
                                        judgment_id=jid))  # fmt: skip


def _timed_out(o: _Open) -> bool:
    limit = o.design.item_time_limit_s
    if not limit or o.session is None:
        return False
    return (datetime.now(UTC) - as_utc(o.session.started_at)).total_seconds() > limit + TIME_GRACE_S


def advance(engine: Engine, user: dict[str, Any], form: dict[str, Any]) -> int:
    """Judge-paced items: store the judge's belief after the round they read and show the next round (generated now
    in live campaigns); the round shown next. Asking twice for the same round changes nothing."""
    from oversight.human.live import ensure_round

    belief: Belief = _validated(Belief, form)
    if belief.round is None:
        raise InputError("round: say which round this belief follows")
    with engine.begin() as conn:
        o = _open_for_writing(conn, user["id"], belief.item_id)
        if not (o.design.paced and o.item.stage == "main") or o.session is None:
            raise InputError("this item is not judged round by round")
        if belief.round != o.session.revealed_round:
            raise InputError(f"round {belief.round} is not the round you are on (round {o.session.revealed_round})")
        if _timed_out(o):
            raise InputError("time is up for this item: give your verdict now")
        _, most = round_limits(o.design, o.rounds)
        if belief.round >= most:
            raise InputError("that was the last round: give your verdict")
        _belief(conn, o, user, belief.round, belief.p_first)
    if o.design.live:
        asyncio.run(ensure_round(engine, o.transcript.id, belief.round + 1))
    return reveal(engine, belief.item_id, user["id"], belief.round + 1)


def reveal(engine: Engine, item_id: int, user_id: int, round_no: int) -> int:
    """Show the judge rounds up to `round_no` (from the one before); the round shown now."""
    with engine.begin() as conn:
        conn.execute(
            update(SESSIONS)
            .where(and_(SESSIONS.c.item_id == item_id, SESSIONS.c.user_id == user_id, SESSIONS.c.revealed_round == round_no - 1))
            .values(revealed_round=round_no)
        )
        return conn.execute(
            select(SESSIONS.c.revealed_round).where(and_(SESSIONS.c.item_id == item_id, SESSIONS.c.user_id == user_id))
        ).scalar_one()


def first_round(engine: Engine, item_id: int, user_id: int) -> None:
    """A judge-paced item just handed out: show round 1 (generated first in live campaigns)."""
    from oversight.human.live import ensure_round

    item, campaign = assigned_item(engine, item_id, user_id)
    design = design_of(campaign)
    session, _ = session_of(engine, item_id, user_id)
    if not (design.paced and item.stage == "main") or session is None or session.revealed_round > 0:
        return
    if design.live:
        asyncio.run(ensure_round(engine, item.transcript_id, 1))
    reveal(engine, item_id, user_id, 1)


def submit(engine: Engine, user: dict[str, Any], form: dict[str, Any]) -> Feedback | None:
    """Store a verdict once; refuse items outside the judge's assignment and second submissions. A verdict after the
    item's time limit is recorded as timed out (an invalid judgment) and the judge is told so."""
    sub: Submission = _validated(Submission, form)
    return _store(engine, user, sub)


def time_out(engine: Engine, user: dict[str, Any], item_id: int) -> None:
    """The judge's time on an item ran out: record it as timed out, so the next item can come."""
    with engine.begin() as conn:
        o = _open_for_writing(conn, user["id"], item_id)
        if not _timed_out(o):
            raise InputError("there is time left on this item")
        _record(
            conn, o, user, None, "", 0.0 if o.session is None else (datetime.now(UTC) - as_utc(o.session.started_at)).total_seconds(), []
        )


def _store(engine: Engine, user: dict[str, Any], sub: Submission) -> Feedback | None:
    with engine.begin() as conn:
        o = _open_for_writing(conn, user["id"], sub.item_id)
        if _timed_out(o):
            _record(conn, o, user, None, sub.explanation, sub.time_on_task_s, sub.exchanges)
            late = True
        else:
            late = False
            stopped = None
            if o.design.paced and o.item.stage == "main":
                shown = o.session.revealed_round if o.session is not None else 0
                needed, _ = round_limits(o.design, o.rounds)
                if sub.round is not None and sub.round != shown:
                    raise InputError(f"round {sub.round} is not the round you are on (round {shown})")
                if shown < needed:
                    raise InputError(f"read at least {needed} round(s) before you give your verdict")
                _belief(conn, o, user, shown, sub.p_first)
                stopped = shown
            p_correct, qualification = _record(conn, o, user, sub.p_first, sub.explanation, sub.time_on_task_s, sub.exchanges, stopped)
    if late:
        raise InputError("time was up for this item: it was recorded as timed out")
    if not (o.campaign.feedback or o.item.stage == "qualification"):
        return None
    options = conn_options(engine, o.transcript)
    cost = o.campaign.turn_penalty * len(sub.exchanges) + _round_cost(o.design, stopped)
    return Feedback(
        correct_answer=options[o.transcript.correct], p_correct=p_correct, brier=(1.0 - p_correct) ** 2 + cost,
        log_score=math.log(p_correct) - cost, rounds_read=stopped, round_cost=_round_cost(o.design, stopped), qualification=qualification,
    )  # fmt: skip


def _round_cost(design: CampaignDesign, stopped: int | None) -> float:
    return 0.0 if stopped is None else design.round_cost * max(0, stopped - design.min_rounds)


def _record(conn: Any, o: _Open, user: dict[str, Any], p_first: float | None, explanation: str, time_s: float,
            exchanges: list[dict[str, str]], stopped: int | None = None) -> tuple[float, str | None]:  # fmt: skip
    """Write the verdict (None: timed out) and, after a gold item, the judge's stage; (p on the correct answer, stage news)."""
    order = order_for(user["id"], o.item.id)
    p_a = p_correct = None
    if p_first is not None:
        order, p_a, p_correct = _p_correct(o, user["id"], p_first)
    jid = None
    if o.item.stage == "main":
        jid = _judgment(conn, o, user, order, p_a, p_correct, explanation if p_first is not None else "timed out")
    try:
        conn.execute(
            insert(HUMAN).values(
                item_id=o.item.id, user_id=user["id"], judgment_id=jid, order=order, explanation=explanation, time_on_task_s=time_s,
                extra_turns=len(exchanges), exchanges=exchanges, p_correct=p_correct, correct=None if p_correct is None else p_correct > 0.5,
                stopped_after_round=stopped, round_cost=_round_cost(o.design, stopped), timed_out=p_first is None,
            )
        )  # fmt: skip
    except IntegrityError:
        raise InputError("you have already judged this item") from None
    if o.item.stage == "main":
        filled = conn.execute(select(func.count()).select_from(HUMAN).where(HUMAN.c.item_id == o.item.id)).scalar_one()
        if filled > o.campaign.judges_per_item:
            raise InputError("this item was just completed by other judges; take the next one")
    news = _qualify(conn, o, user["id"]) if o.item.stage == "qualification" else None
    return (p_correct if p_correct is not None else 0.0), news


def _qualify(conn: Any, o: _Open, user_id: int) -> str | None:
    """After a gold item: once the judge has answered the stage's items, promote them (accuracy at the threshold or
    above) or end their campaign."""
    results = conn.execute(
        select(HUMAN.c.correct).join(ITEMS, ITEMS.c.id == HUMAN.c.item_id)
        .where(and_(HUMAN.c.user_id == user_id, ITEMS.c.campaign_id == o.campaign.id, ITEMS.c.stage == "qualification"))
    ).scalars().all()  # fmt: skip
    total = conn.execute(
        select(func.count()).select_from(ITEMS).where(and_(ITEMS.c.campaign_id == o.campaign.id, ITEMS.c.stage == "qualification"))
    ).scalar_one()
    if len(results) < min(o.design.qualification_items, total):
        return None
    accuracy = sum(bool(r) for r in results) / len(results)
    stage = "main" if accuracy >= o.design.pass_threshold else "failed"
    conn.execute(update(CJUDGES).where(and_(CJUDGES.c.campaign_id == o.campaign.id, CJUDGES.c.user_id == user_id)).values(stage=stage))
    verdict = "qualified for the main campaign" if stage == "main" else "did not reach the pass mark"
    return f"{accuracy:.0%} right on the qualification items (pass mark {o.design.pass_threshold:.0%}): you {verdict}."


async def ask(engine: Engine, item_id: int, user_id: int, target: str, question: str, exchanges: list[dict[str, str]]) -> str:
    """Interactive judging: the campaign's model answers the judge's question as the named participant.

    The answer is checked for quotes and shown with the judge's own letters, like the transcript.
    """
    from oversight.human.live import pool_for_a_waiting_judge
    from oversight.models import GenerateConfig
    from oversight.prompts import default_prompts
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
    pool = pool_for_a_waiting_judge()
    try:
        reply = await pool.get(campaign.interactive_model).generate(messages, GenerateConfig(max_tokens=160), role="interactive_answer")
    except OversightError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the server did, the judge gets one line
        raise ModelError(f"the answer could not be generated: {type(exc).__name__}: {exc}") from None
    finally:
        await pool.aclose()
    index = ContextIndex(transcript.question.context) if transcript.question.context else None
    marked = mark_quotes(reply.text.strip(), check_quotes(reply.text.strip(), index))
    return swap_labels(marked) if order == "BA" else marked
