"""Human-judging campaigns: which transcripts a campaign holds, who judges them, progress and export.

What a judge is shown and what they submit live in `verdicts`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Engine, and_, func, insert, select, update

from oversight.db.schema import (
    Campaign,
    CampaignItem,
    CampaignJudge,
    HumanJudgment,
    Judgment,
    QuestionRow,
    RoundBelief,
    Run,
    Transcript,
    User,
)
from oversight.errors import InputError
from oversight.human.design import CampaignDesign, ConditionSpec

CAMPAIGNS, ITEMS, CJUDGES, BELIEFS = Campaign.__table__, CampaignItem.__table__, CampaignJudge.__table__, RoundBelief.__table__
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
    runs: list[str] = Field(default_factory=list, description="transcripts judged under one condition; or give `conditions`")
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
    conditions: list[ConditionSpec] = Field(default_factory=list)
    """Several arms (e.g. debate, consultancy, naive), counterbalanced over judges; replaces `runs`/`protocols`."""
    qualification_runs: list[str] = Field(default_factory=list, description="gold items judges answer first")
    catch_runs: list[str] = Field(default_factory=list, description="obviously answerable items mixed in")
    design: CampaignDesign = Field(default_factory=CampaignDesign)

    @model_validator(mode="after")
    def _arms(self) -> CampaignSpec:
        if self.conditions and self.runs:
            raise ValueError("give either runs or conditions, not both")
        if not self.conditions and not self.runs:
            raise ValueError("give the runs whose transcripts are judged (or conditions)")
        if len({c.name for c in self.conditions}) != len(self.conditions):
            raise ValueError("condition names must differ")
        if self.design.qualification_items and not self.qualification_runs:
            raise ValueError("a qualification stage needs qualification_runs (the gold items)")
        if self.design.catch_every and not self.catch_runs:
            raise ValueError("catch trials need catch_runs (the obviously answerable items)")
        self.design.conditions = [c.name for c in self.conditions]
        return self

    def arms(self) -> list[ConditionSpec]:
        return self.conditions or [ConditionSpec.model_construct(name="", runs=self.runs, protocols=self.protocols)]


def _transcripts(conn: Any, runs: list[str], protocols: list[str], questions: list[str], what: str) -> list[int]:
    run_ids = dict(conn.execute(select(RUNS.c.name, RUNS.c.id).where(RUNS.c.name.in_(runs))).all())
    missing = [r for r in runs if r not in run_ids]
    if missing:
        raise InputError(f"no such run(s): {', '.join(missing)}")
    query = select(TRANSCRIPTS.c.id).where(TRANSCRIPTS.c.run_id.in_(run_ids.values()))
    if protocols:
        query = query.where(TRANSCRIPTS.c.protocol.in_(protocols))
    if questions:
        query = query.join(QUESTIONS, QUESTIONS.c.uid == TRANSCRIPTS.c.question_uid).where(QUESTIONS.c.external_id.in_(questions))
    ids = list(conn.execute(query.order_by(TRANSCRIPTS.c.id)).scalars().all())
    if not ids:
        raise InputError(f"{what} would have no items: no transcripts match those runs, protocols and questions")
    return ids


def create_campaign(engine: Engine, spec: CampaignSpec) -> int:
    from oversight.human.live import live_copies

    with engine.begin() as conn:
        if conn.execute(select(CAMPAIGNS.c.id).where(CAMPAIGNS.c.name == spec.name)).first():
            raise InputError(f"campaign {spec.name!r} exists already")
        users = dict(conn.execute(select(USERS.c.name, USERS.c.id).where(USERS.c.name.in_(spec.judges))).all())
        unknown = [u for u in spec.judges if u not in users]
        if unknown:
            raise InputError(f"no such user(s): {', '.join(unknown)}")
        items: list[dict[str, Any]] = []
        for arm in spec.arms():
            what = f"condition {arm.name!r}" if arm.name else "the campaign"
            ids = _transcripts(conn, arm.runs, arm.protocols, spec.questions, what)
            if spec.design.live:
                ids = live_copies(conn, spec.name, ids, spec.design)
            items += [{"transcript_id": tid, "condition": arm.name, "stage": "main"} for tid in ids]
        for stage, runs in (("qualification", spec.qualification_runs), ("catch", spec.catch_runs)):
            if runs:
                items += [
                    {"transcript_id": tid, "condition": "", "stage": stage}
                    for tid in _transcripts(conn, runs, [], [], f"the {stage} stage")
                ]
        values = spec.model_dump(exclude={"judges", "questions", "conditions", "qualification_runs", "catch_runs", "design"})
        values["runs"] = sorted({r for arm in spec.arms() for r in arm.runs})
        values["design"] = spec.design.model_dump(mode="json")
        cid = conn.execute(insert(CAMPAIGNS).values(**values).returning(CAMPAIGNS.c.id)).scalar_one()
        first_stage = "qualification" if spec.design.qualification_items else "main"
        conn.execute(
            insert(CJUDGES),
            [{"campaign_id": cid, "user_id": users[name], "stage": first_stage, "sequence": i} for i, name in enumerate(spec.judges)],
        )
        # one transcript once per campaign, whatever stage or condition names it
        seen: set[int] = set()
        unique = [i for i in items if not (i["transcript_id"] in seen or seen.add(i["transcript_id"]))]  # type: ignore[func-returns-value]
        conn.execute(insert(ITEMS), [{"campaign_id": cid, **i} for i in unique])
        return cid


def judge_standing(engine: Engine, campaign_id: int, user_id: int) -> tuple[CampaignDesign, str | None]:
    """The campaign's design and this judge's stage in it (None when not assigned)."""
    with engine.connect() as conn:
        campaign = campaign_row(conn, campaign_id)
        stage = conn.execute(
            select(CJUDGES.c.stage).where(and_(CJUDGES.c.campaign_id == campaign_id, CJUDGES.c.user_id == user_id))
        ).scalar()
    return design_of(campaign), stage


def design_of(campaign: Any) -> CampaignDesign:
    """The campaign's design as stored (campaigns made before designs existed have the defaults)."""
    return CampaignDesign.model_validate(getattr(campaign, "design", None) or {})


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
    """Per judge, for the admin page (and, where the campaign allows, the judge's own): main items done, mean time,
    how good the verdicts are — accuracy, mean probability on the correct answer, Brier score (lower is better) —
    items timed out, the qualification stage and the catch-trial record. A judge who missed a catch trial is flagged."""
    with engine.connect() as conn:
        total = conn.execute(
            select(func.count()).select_from(ITEMS).where(and_(ITEMS.c.campaign_id == campaign_id, ITEMS.c.stage == "main"))
        ).scalar_one()
        judges = conn.execute(
            select(USERS.c.id, USERS.c.name, CJUDGES.c.stage, CJUDGES.c.excluded)
            .join(USERS, USERS.c.id == CJUDGES.c.user_id)
            .where(CJUDGES.c.campaign_id == campaign_id)
            .order_by(USERS.c.name)
        ).all()
        verdicts = conn.execute(
            select(HUMAN.c.user_id, HUMAN.c.p_correct, HUMAN.c.correct, HUMAN.c.time_on_task_s, HUMAN.c.timed_out, ITEMS.c.stage)
            .join(ITEMS, ITEMS.c.id == HUMAN.c.item_id)
            .where(ITEMS.c.campaign_id == campaign_id)
        ).all()
    out = []
    for judge in judges:
        mine = [v for v in verdicts if v.user_id == judge.id]
        main = [v for v in mine if v.stage == "main"]
        scored = [v for v in main if not v.timed_out and v.p_correct is not None]
        catches = [v for v in mine if v.stage == "catch"]
        missed = sum(not v.correct for v in catches)
        gold = [v for v in mine if v.stage == "qualification"]
        out.append({
            "judge": judge.name, "done": len(main), "items": total,
            "mean_time_s": sum(v.time_on_task_s for v in main) / len(main) if main else None,
            "accuracy": sum(bool(v.correct) for v in scored) / len(scored) if scored else None,
            "mean_p_correct": sum(v.p_correct for v in scored) / len(scored) if scored else None,
            "brier": sum((1.0 - v.p_correct) ** 2 for v in scored) / len(scored) if scored else None,
            "timed_out": len(main) - len(scored), "stage": judge.stage,
            "qualification": f"{sum(bool(v.correct) for v in gold)}/{len(gold)}" if gold else "",
            "catch": f"{len(catches) - missed}/{len(catches)}" if catches else "", "flagged": missed > 0, "excluded": judge.excluded,
        })  # fmt: skip
    return out


def set_excluded(engine: Engine, campaign_id: int, judge: str, excluded: bool = True) -> int:
    """Keep a judge's verdicts in this campaign out of the leaderboard and every results table (or bring them back);
    the verdicts themselves stay stored. Returns how many judgments changed."""
    with engine.begin() as conn:
        user_id = conn.execute(
            select(USERS.c.id)
            .join(CJUDGES, CJUDGES.c.user_id == USERS.c.id)
            .where(and_(CJUDGES.c.campaign_id == campaign_id, USERS.c.name == judge))
        ).scalar()
        if user_id is None:
            raise InputError(f"{judge!r} does not judge in this campaign")
        conn.execute(
            update(CJUDGES).where(and_(CJUDGES.c.campaign_id == campaign_id, CJUDGES.c.user_id == user_id)).values(excluded=excluded)
        )
        items = select(ITEMS.c.id).where(ITEMS.c.campaign_id == campaign_id)
        ids = select(HUMAN.c.judgment_id).where(
            and_(HUMAN.c.user_id == user_id, HUMAN.c.item_id.in_(items), HUMAN.c.judgment_id.is_not(None))
        )
        beliefs = select(BELIEFS.c.judgment_id).where(
            and_(BELIEFS.c.user_id == user_id, BELIEFS.c.item_id.in_(items), BELIEFS.c.judgment_id.is_not(None))
        )
        return conn.execute(update(JUDGMENTS).where(JUDGMENTS.c.id.in_(ids.union(beliefs))).values(excluded=excluded)).rowcount


def export_rows(engine: Engine, campaign_id: int) -> list[dict[str, Any]]:
    """Human verdicts of a campaign with their item, condition, stage, question, timing and (judge-paced campaigns)
    the belief after each round and the round the judge stopped at, for CSV/JSONL export."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                HUMAN.c.item_id, HUMAN.c.user_id, USERS.c.name.label("judge"), ITEMS.c.condition, ITEMS.c.stage,
                QUESTIONS.c.external_id.label("question_id"), TRANSCRIPTS.c.protocol, HUMAN.c.order, JUDGMENTS.c.p_a, JUDGMENTS.c.p_b,
                HUMAN.c.p_correct, HUMAN.c.correct, HUMAN.c.explanation, HUMAN.c.time_on_task_s, HUMAN.c.timed_out, HUMAN.c.extra_turns,
                HUMAN.c.exchanges, HUMAN.c.stopped_after_round, HUMAN.c.round_cost, HUMAN.c.created_at,
            )
            .select_from(
                HUMAN.join(USERS, USERS.c.id == HUMAN.c.user_id)
                .join(ITEMS, ITEMS.c.id == HUMAN.c.item_id)
                .join(TRANSCRIPTS, TRANSCRIPTS.c.id == ITEMS.c.transcript_id)
                .join(QUESTIONS, QUESTIONS.c.uid == TRANSCRIPTS.c.question_uid)
                .outerjoin(JUDGMENTS, JUDGMENTS.c.id == HUMAN.c.judgment_id)
            )
            .where(ITEMS.c.campaign_id == campaign_id)
            .order_by(HUMAN.c.id)
        ).all()  # fmt: skip
        beliefs: dict[tuple[int, int], list[float]] = {}
        for b in conn.execute(
            select(BELIEFS.c.item_id, BELIEFS.c.user_id, BELIEFS.c.p_correct)
            .join(ITEMS, ITEMS.c.id == BELIEFS.c.item_id)
            .where(ITEMS.c.campaign_id == campaign_id)
            .order_by(BELIEFS.c.round)
        ):
            beliefs.setdefault((b.item_id, b.user_id), []).append(b.p_correct)
    out = []
    for r in rows:
        row = dict(r._mapping)
        row["p_correct_by_round"] = beliefs.get((row.pop("item_id"), row.pop("user_id")), [])
        out.append(row)
    return out
