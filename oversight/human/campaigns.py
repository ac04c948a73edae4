"""Human-judging campaigns: which transcripts a campaign holds, who judges them, progress and export.

What a judge is shown and what they submit live in `verdicts`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, and_, case, func, insert, select

from oversight.db.schema import Campaign, CampaignItem, CampaignJudge, HumanJudgment, Judgment, QuestionRow, Run, Transcript, User
from oversight.errors import InputError

CAMPAIGNS, ITEMS, CJUDGES = Campaign.__table__, CampaignItem.__table__, CampaignJudge.__table__
HUMAN, JUDGMENTS, TRANSCRIPTS, RUNS, USERS, QUESTIONS = (
    HumanJudgment.__table__,
    Judgment.__table__,
    Transcript.__table__,
    Run.__table__,
    User.__table__,
    QuestionRow.__table__,
)


class CampaignSpec(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    runs: list[str] = Field(min_length=1)
    protocols: list[str] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list, description="question ids to keep; empty: all")
    judges: list[str] = Field(min_length=1)
    judges_per_item: int = Field(default=1, ge=1, le=100)
    show_context: bool = False
    interactive: bool = False
    interactive_model: str | None = None
    turn_penalty: float = Field(default=0.0, ge=0.0, le=1.0)
    feedback: bool = False
    allow_repeat: bool = False


def create_campaign(engine: Engine, spec: CampaignSpec) -> int:
    with engine.begin() as conn:
        if conn.execute(select(CAMPAIGNS.c.id).where(CAMPAIGNS.c.name == spec.name)).first():
            raise InputError(f"campaign {spec.name!r} exists already")
        run_ids = dict(conn.execute(select(RUNS.c.name, RUNS.c.id).where(RUNS.c.name.in_(spec.runs))).all())
        missing = [r for r in spec.runs if r not in run_ids]
        if missing:
            raise InputError(f"no such run(s): {', '.join(missing)}")
        users = dict(conn.execute(select(USERS.c.name, USERS.c.id).where(USERS.c.name.in_(spec.judges))).all())
        unknown = [u for u in spec.judges if u not in users]
        if unknown:
            raise InputError(f"no such user(s): {', '.join(unknown)}")
        query = select(TRANSCRIPTS.c.id).where(TRANSCRIPTS.c.run_id.in_(run_ids.values()))
        if spec.protocols:
            query = query.where(TRANSCRIPTS.c.protocol.in_(spec.protocols))
        if spec.questions:
            query = query.join(QUESTIONS, QUESTIONS.c.uid == TRANSCRIPTS.c.question_uid).where(QUESTIONS.c.external_id.in_(spec.questions))
        transcript_ids = conn.execute(query.order_by(TRANSCRIPTS.c.id)).scalars().all()
        if not transcript_ids:
            raise InputError("the campaign would have no items: no transcripts match those runs, protocols and questions")
        cid = conn.execute(
            insert(CAMPAIGNS).values(**spec.model_dump(exclude={"judges", "questions"})).returning(CAMPAIGNS.c.id)
        ).scalar_one()
        conn.execute(insert(CJUDGES), [{"campaign_id": cid, "user_id": uid} for uid in users.values()])
        conn.execute(insert(ITEMS), [{"campaign_id": cid, "transcript_id": tid} for tid in transcript_ids])
        return cid


def campaigns_for(engine: Engine, user_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(CAMPAIGNS.c.id, CAMPAIGNS.c.name)
            .join(CJUDGES, CJUDGES.c.campaign_id == CAMPAIGNS.c.id)
            .where(CJUDGES.c.user_id == user_id)
        )
        return [dict(r._mapping) for r in rows]


def all_campaigns(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(CAMPAIGNS).order_by(CAMPAIGNS.c.id))]


def campaign_row(conn: Any, campaign_id: int) -> Any:
    row = conn.execute(select(CAMPAIGNS).where(CAMPAIGNS.c.id == campaign_id)).first()
    if row is None:
        raise InputError("no such campaign")
    return row


def is_assigned(conn: Any, campaign_id: int, user_id: int) -> bool:
    return conn.execute(select(CJUDGES).where(and_(CJUDGES.c.campaign_id == campaign_id, CJUDGES.c.user_id == user_id))).first() is not None


def assigned_item(engine: Engine, item_id: int, user_id: int) -> tuple[Any, Any]:
    """The item and its campaign, if the item exists and its campaign is assigned to this judge."""
    with engine.connect() as conn:
        item = conn.execute(select(ITEMS).where(ITEMS.c.id == item_id)).first()
        if item is None:
            raise InputError("no such item")
        campaign = campaign_row(conn, item.campaign_id)
        if not is_assigned(conn, campaign.id, user_id):
            raise InputError("this item is not assigned to you")
    return item, campaign


def conn_options(engine: Engine, transcript: Any) -> dict[str, str]:
    with engine.connect() as conn:
        options = conn.execute(select(QUESTIONS.c.options).where(QUESTIONS.c.uid == transcript.question_uid)).scalar_one()
    return {"A": options[transcript.option_a], "B": options[transcript.option_b]}


def progress(engine: Engine, campaign_id: int) -> list[dict[str, Any]]:
    """Per judge, for the admin page: items done, mean time, and how good the verdicts are — accuracy, mean probability
    on the correct answer and Brier score (lower is better)."""
    correct = case((JUDGMENTS.c.id.is_(None), None), (JUDGMENTS.c.correct, 1.0), else_=0.0)  # items not judged count for nothing
    brier = (1.0 - JUDGMENTS.c.p_correct) * (1.0 - JUDGMENTS.c.p_correct)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(ITEMS).where(ITEMS.c.campaign_id == campaign_id)).scalar_one()
        rows = conn.execute(
            select(USERS.c.name, func.count(HUMAN.c.id).label("done"), func.avg(HUMAN.c.time_on_task_s).label("mean_time_s"),
                   func.avg(correct).label("accuracy"), func.avg(JUDGMENTS.c.p_correct).label("mean_p_correct"),
                   func.avg(brier).label("brier"))
            .select_from(CJUDGES.join(USERS, USERS.c.id == CJUDGES.c.user_id))
            .outerjoin(ITEMS, ITEMS.c.campaign_id == CJUDGES.c.campaign_id)
            .outerjoin(HUMAN, and_(HUMAN.c.item_id == ITEMS.c.id, HUMAN.c.user_id == USERS.c.id))
            .outerjoin(JUDGMENTS, JUDGMENTS.c.id == HUMAN.c.judgment_id)
            .where(CJUDGES.c.campaign_id == campaign_id)
            .group_by(USERS.c.name)
            .order_by(USERS.c.name)
        ).all()  # fmt: skip
    return [
        {"judge": r.name, "done": r.done, "items": total, "mean_time_s": r.mean_time_s,
         "accuracy": r.accuracy if r.done else None, "mean_p_correct": r.mean_p_correct, "brier": r.brier}
        for r in rows
    ]  # fmt: skip


def export_rows(engine: Engine, campaign_id: int) -> list[dict[str, Any]]:
    """Human verdicts of a campaign with their item, question and timing, for CSV/JSONL export."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                USERS.c.name.label("judge"),
                QUESTIONS.c.external_id.label("question_id"),
                TRANSCRIPTS.c.protocol,
                HUMAN.c.order,
                JUDGMENTS.c.p_a,
                JUDGMENTS.c.p_b,
                JUDGMENTS.c.p_correct,
                JUDGMENTS.c.correct,
                HUMAN.c.explanation,
                HUMAN.c.time_on_task_s,
                HUMAN.c.extra_turns,
                HUMAN.c.exchanges,
                HUMAN.c.created_at,
            )
            .select_from(
                HUMAN.join(USERS, USERS.c.id == HUMAN.c.user_id)
                .join(ITEMS, ITEMS.c.id == HUMAN.c.item_id)
                .join(TRANSCRIPTS, TRANSCRIPTS.c.id == ITEMS.c.transcript_id)
                .join(QUESTIONS, QUESTIONS.c.uid == TRANSCRIPTS.c.question_uid)
                .join(JUDGMENTS, JUDGMENTS.c.id == HUMAN.c.judgment_id)
            )
            .where(ITEMS.c.campaign_id == campaign_id)
            .order_by(HUMAN.c.id)
        )
        return [dict(r._mapping) for r in rows]
