"""What a judge is handed: the next item of a campaign, and the blinded view of it.

Everything a judge's browser receives is built here from an allow-list: the question, the two
answers in this judge's order, the transcript with quotes marked and names following that order,
and the context only when the campaign is an expert baseline. Gold answers, the hidden context,
model names and other judges' votes never enter a `JudgeView`, so the web layer cannot leak them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, and_, select

from oversight.data.question import stable_draw
from oversight.db.clean import as_utc
from oversight.db.queries import load_transcripts
from oversight.db.schema import RoundBelief
from oversight.human.assignment import SESSIONS, choose, judge_state, reserve, stage_of, taken
from oversight.human.campaigns import (
    HUMAN,
    ITEMS,
    QUESTIONS,
    TRANSCRIPTS,
    assigned_item,
    campaign_row,
    design_of,
    is_assigned,
)  # fmt: skip
from oversight.human.design import CampaignDesign
from oversight.protocols import protocol_for_transcript
from oversight.protocols.base import last_round, options_in_order, speaker_label, speeches_for_judge
from oversight.transcript import Order

BELIEFS = RoundBelief.__table__


def next_item(engine: Engine, campaign_id: int, user_id: int) -> int | None:
    """The item this judge works on now: the one they have open, else the next the campaign's design gives them,
    reserved for them (the row lock keeps two judges from both filling an item's last place)."""
    with engine.begin() as conn:
        campaign = campaign_row(conn, campaign_id)
        design = design_of(campaign)
        if not is_assigned(conn, campaign_id, user_id) or design.window_message() is not None:
            return None
        widest = widest_condition_now(conn, campaign, design)
        for _ in range(5):
            state = judge_state(conn, campaign, design, user_id)
            item_id = choose(state, campaign, design, widest)
            if item_id is None:
                return None
            if state.open_session == item_id:
                return item_id
            conn.execute(select(ITEMS.c.id).where(ITEMS.c.id == item_id).with_for_update()).first()
            # only other judges change an item's fill, so with the item locked its fill is all there is to check again
            if stage_of(state, item_id) != "main" or taken(conn, item_id, user_id, design) < campaign.judges_per_item:
                reserve(conn, item_id, user_id)
                return item_id
    return None


def widest_condition_now(conn: Any, campaign: Any, design: CampaignDesign) -> str | None:
    """With `allocation: widest`, the condition whose accuracy interval over the campaign's verdicts is widest."""
    if design.allocation != "widest" or len(design.conditions) < 2:
        return None
    from oversight.human.assignment import article_key
    from oversight.metrics.planning import widest_condition

    rows = conn.execute(
        select(ITEMS.c.condition, HUMAN.c.correct, HUMAN.c.timed_out, article_key().label("cluster"))
        .join(ITEMS, ITEMS.c.id == HUMAN.c.item_id)
        .join(TRANSCRIPTS, TRANSCRIPTS.c.id == ITEMS.c.transcript_id)
        .join(QUESTIONS, QUESTIONS.c.uid == TRANSCRIPTS.c.question_uid)
        .where(and_(ITEMS.c.campaign_id == campaign.id, ITEMS.c.stage == "main"))
    ).all()
    by_condition: dict[str, list[dict[str, Any]]] = {c: [] for c in design.conditions}
    for r in rows:
        by_condition.setdefault(r.condition, []).append(
            {"valid": not r.timed_out and r.correct is not None, "correct": r.correct, "cluster": r.cluster}
        )
    return widest_condition(by_condition)


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
    stage: str = "main"
    """main, qualification (a gold item: the answer is shown after the verdict) or catch (shown like a main item)."""
    paced: bool = False
    round_shown: int = 0
    """Judge-paced items: the last round shown so far; the judge's belief is asked for this round."""
    can_continue: bool = False
    can_stop: bool = True
    min_rounds: int = 1
    max_rounds: int | None = None
    round_cost: float = 0.0
    beliefs: list[float] = Field(default_factory=list)
    """This judge's probability on the first answer after each earlier round."""
    time_left_s: float | None = None


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
    design = design_of(campaign)
    [(_, transcript)] = load_transcripts(engine, ids=[item.transcript_id])
    order = order_for(user_id, item_id)
    protocol = protocol_for_transcript(transcript.protocol)
    simultaneous = transcript.outcome.turn_order != "sequential"
    session, beliefs = session_of(engine, item_id, user_id)
    speeches = [Speech(round=r, speaker=s, text=t) for r, s, t in speeches_for_judge(transcript, order, simultaneous=simultaneous)]
    paced = design.paced and item.stage == "main"
    needed, most = round_limits(design, last_round(transcript))
    shown = 0
    if paced:
        shown = session.revealed_round if session is not None else 0
        speeches = [s for s in speeches if s.round <= shown]
    shows_story = campaign.show_context or protocol.judge_sees_context
    time_left = None
    if design.item_time_limit_s and session is not None:
        time_left = design.item_time_limit_s - (datetime.now(UTC) - as_utc(session.started_at)).total_seconds()
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
        stage=item.stage,
        paced=paced,
        round_shown=shown,
        can_continue=paced and shown < most,
        can_stop=not paced or shown >= needed,
        min_rounds=design.min_rounds,
        max_rounds=most if paced else None,
        round_cost=design.round_cost if paced else 0.0,
        beliefs=[b.p_first for b in beliefs],
        time_left_s=time_left,
    )


def session_of(engine: Engine, item_id: int, user_id: int) -> tuple[Any, list[Any]]:
    """The judge's session on the item (None before it was handed out) and their per-round beliefs so far."""
    with engine.connect() as conn:
        session = conn.execute(select(SESSIONS).where(and_(SESSIONS.c.item_id == item_id, SESSIONS.c.user_id == user_id))).first()
        beliefs = conn.execute(
            select(BELIEFS).where(and_(BELIEFS.c.item_id == item_id, BELIEFS.c.user_id == user_id)).order_by(BELIEFS.c.round)
        ).all()
    return session, list(beliefs)


def round_limits(design: CampaignDesign, rounds: int) -> tuple[int, int]:
    """The rounds a judge must read before stopping and may read at most: a live item may be generated up to
    `max_rounds`; a stored transcript has the rounds it has."""
    most = design.max_rounds if design.live and design.max_rounds else min(rounds, design.max_rounds or rounds)
    return min(design.min_rounds, max(most, 1)), most
