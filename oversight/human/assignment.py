"""Which item a judge gets next, by the campaign's design, and the rules a submission is checked against again.

The rules, in one place so that serving an item and accepting its verdict cannot disagree:
a judge in the qualification stage gets gold items only, a judge who failed it gets nothing; a
main-stage judge gets main items and, after every `catch_every` of them, a catch trial; an item
is open to a judge who has not judged it, whose quota is not filled, whose question they have not
judged anywhere (unless the campaign allows repeats) and whose article they have not met under
another condition of the campaign (or at all, with `one_per_article`). Among open items the
judge's Latin-square row (or the widest interval) picks the condition, and a per-judge shuffle
picks the item. The item handed out is reserved: its session counts toward the quota while the
judge works on it, so thirty judges starting at once do not all get the same item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, literal, select

from oversight.data.question import stable_draw
from oversight.db.schema import Campaign, CampaignItem, CampaignJudge, HumanJudgment, ItemSession, QuestionRow, Transcript
from oversight.human.design import CampaignDesign, due_condition

ITEMS, CJUDGES, HUMAN, SESSIONS = CampaignItem.__table__, CampaignJudge.__table__, HumanJudgment.__table__, ItemSession.__table__
TRANSCRIPTS, QUESTIONS, CAMPAIGNS = Transcript.__table__, QuestionRow.__table__, Campaign.__table__
RESERVATION = timedelta(hours=2)
"""How long an untimed item stays reserved for the judge it was handed to."""


def article_key() -> Any:
    """The article an item's question comes from (its question when the dataset names none)."""
    return func.coalesce(QUESTIONS.c.article_id, QUESTIONS.c.context_hash, QUESTIONS.c.uid)


@dataclass
class JudgeState:
    """What the rules need about one judge in one campaign, read in one go."""

    user_id: int
    stage: str | None
    sequence: int
    items: list[Any]
    """The campaign's items: id, condition, stage, question_uid, article, verdicts, reserved by others."""
    mine: list[Any]
    """Every verdict of this judge anywhere: item_id, campaign_id, stage, condition, question_uid, article, correct."""
    open_session: int | None = None
    judged: set[int] = field(default_factory=set)
    main_done: int = 0
    catch_done: int = 0
    seen_questions: set[str] = field(default_factory=set)
    articles: dict[str, set[str]] = field(default_factory=dict)
    """Articles this judge met in this campaign's main items, with the conditions they met them under."""


def reservation_for(design: CampaignDesign) -> timedelta:
    return timedelta(seconds=design.item_time_limit_s + 60) if design.item_time_limit_s else RESERVATION


def judge_state(conn: Any, campaign: Any, design: CampaignDesign, user_id: int, only_item: int | None = None) -> JudgeState:
    """The judge's state; with `only_item`, the campaign's items are read for that one item only (checking a verdict)."""
    judge = conn.execute(select(CJUDGES).where(and_(CJUDGES.c.campaign_id == campaign.id, CJUDGES.c.user_id == user_id))).first()
    since = datetime.now(UTC) - reservation_for(design)
    verdicts = select(HUMAN.c.item_id, func.count().label("n")).group_by(HUMAN.c.item_id).subquery()
    held = (
        select(SESSIONS.c.item_id, func.count().label("n"))
        .outerjoin(HUMAN, and_(HUMAN.c.item_id == SESSIONS.c.item_id, HUMAN.c.user_id == SESSIONS.c.user_id))
        .where(and_(SESSIONS.c.user_id != user_id, SESSIONS.c.started_at > since, HUMAN.c.id.is_(None)))
        .group_by(SESSIONS.c.item_id)
        .subquery()
    )
    items = conn.execute(
        select(ITEMS.c.id, ITEMS.c.condition, ITEMS.c.stage, TRANSCRIPTS.c.question_uid, article_key().label("article"),
               func.coalesce(verdicts.c.n, 0).label("n"), func.coalesce(held.c.n, 0).label("held"))
        .join(TRANSCRIPTS, TRANSCRIPTS.c.id == ITEMS.c.transcript_id)
        .join(QUESTIONS, QUESTIONS.c.uid == TRANSCRIPTS.c.question_uid)
        .outerjoin(verdicts, verdicts.c.item_id == ITEMS.c.id)
        .outerjoin(held, held.c.item_id == ITEMS.c.id)
        .where(ITEMS.c.campaign_id == campaign.id, *([ITEMS.c.id == only_item] if only_item is not None else []))
        .order_by(ITEMS.c.id)
    ).all()  # fmt: skip
    mine = conn.execute(
        select(HUMAN.c.item_id, ITEMS.c.campaign_id, ITEMS.c.stage, ITEMS.c.condition, TRANSCRIPTS.c.question_uid,
               article_key().label("article"), HUMAN.c.correct)
        .join(ITEMS, ITEMS.c.id == HUMAN.c.item_id)
        .join(TRANSCRIPTS, TRANSCRIPTS.c.id == ITEMS.c.transcript_id)
        .join(QUESTIONS, QUESTIONS.c.uid == TRANSCRIPTS.c.question_uid)
        .where(HUMAN.c.user_id == user_id)
    ).all()  # fmt: skip
    state = JudgeState(
        user_id=user_id, stage=judge.stage if judge else None, sequence=(judge.sequence or 0) if judge else 0, items=items, mine=mine
    )
    judged = state.judged = {m.item_id for m in mine}
    here = [m for m in mine if m.campaign_id == campaign.id]
    state.main_done = sum(m.stage == "main" for m in here)
    state.catch_done = sum(m.stage == "catch" for m in here)
    state.seen_questions = {m.question_uid for m in mine if m.stage != "qualification"}
    for m in here:
        if m.stage == "main":
            state.articles.setdefault(m.article, set()).add(m.condition)
    sessions = conn.execute(
        select(SESSIONS.c.item_id).join(ITEMS, ITEMS.c.id == SESSIONS.c.item_id)
        .where(and_(SESSIONS.c.user_id == user_id, ITEMS.c.campaign_id == campaign.id)).order_by(SESSIONS.c.started_at)
    ).scalars().all()  # fmt: skip
    state.open_session = next((s for s in sessions if s not in judged), None)
    return state


def is_open(item: Any, state: JudgeState, campaign: Any, design: CampaignDesign, *, count_reserved: bool = True) -> bool:
    """Whether this judge may be given (or may submit a verdict on) this item now."""
    if item.id in state.judged:
        return False
    if state.stage == "qualification":
        return item.stage == "qualification"
    if state.stage != "main" or item.stage == "qualification":
        return False
    if item.stage == "main":
        if item.n + (item.held if count_reserved else 0) >= campaign.judges_per_item:
            return False
        if design.items_per_judge is not None and state.main_done >= design.items_per_judge:
            return False
        met = state.articles.get(item.article)
        if met is not None and (design.one_per_article or met - {item.condition}):
            return False
    return campaign.allow_repeat or item.question_uid not in state.seen_questions


def choose(state: JudgeState, campaign: Any, design: CampaignDesign, widest: str | None = None) -> int | None:
    """The item the rules give this judge next (without reserving it)."""
    if state.open_session is not None:
        current = next((i for i in state.items if i.id == state.open_session), None)
        if current is not None and is_open(current, state, campaign, design, count_reserved=False):
            return current.id
    candidates = [i for i in state.items if is_open(i, state, campaign, design)]
    if not candidates:
        return None

    def shuffled(items: list[Any]) -> int:
        return min(items, key=lambda i: stable_draw(f"item:{state.user_id}:{i.id}")).id

    if state.stage == "qualification":
        return shuffled(candidates)
    catches = [i for i in candidates if i.stage == "catch"]
    if design.catch_every and catches and state.main_done >= design.catch_every * (state.catch_done + 1):
        return shuffled(catches)
    main = [i for i in candidates if i.stage == "main"]
    if not main:
        return None
    order = due_condition(design.conditions, state.sequence, state.main_done)
    if widest is not None and widest in order:
        order.remove(widest)
        order.insert(0, widest)
    for condition in order:
        arm = [i for i in main if i.condition == condition]
        # finish the articles this judge already reads under this condition before claiming a new one, so that the
        # articles split evenly over the conditions
        claimed = [i for i in arm if condition in state.articles.get(i.article, set())]
        if claimed or arm:
            return shuffled(claimed or arm)
    return shuffled(main)


def reserve(conn: Any, item_id: int, user_id: int) -> None:
    """Open the judge's session on the item (once): the time limit runs from here and the item is held for them."""
    exists = conn.execute(select(literal(1)).where(and_(SESSIONS.c.item_id == item_id, SESSIONS.c.user_id == user_id))).first()
    if exists is None:
        conn.execute(insert(SESSIONS).values(item_id=item_id, user_id=user_id, started_at=datetime.now(UTC), revealed_round=0))


def stage_of(state: JudgeState, item_id: int) -> str:
    return next(i.stage for i in state.items if i.id == item_id)


def taken(conn: Any, item_id: int, user_id: int, design: CampaignDesign) -> int:
    """Places of the item filled by verdicts or held by other judges' unfinished sessions."""
    since = datetime.now(UTC) - reservation_for(design)
    verdicts = conn.execute(select(func.count()).select_from(HUMAN).where(HUMAN.c.item_id == item_id)).scalar_one()
    held = conn.execute(
        select(func.count())
        .select_from(SESSIONS.outerjoin(HUMAN, and_(HUMAN.c.item_id == SESSIONS.c.item_id, HUMAN.c.user_id == SESSIONS.c.user_id)))
        .where(and_(SESSIONS.c.item_id == item_id, SESSIONS.c.user_id != user_id, SESSIONS.c.started_at > since, HUMAN.c.id.is_(None)))
    ).scalar_one()
    return int(verdicts) + int(held)
