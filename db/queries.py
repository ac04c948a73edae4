"""Reads for the CLI, the report and the web app: judgments, transcripts, runs and usage as plain rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, case, func, select

from oversight.data.question import Question
from oversight.db.schema import (
    CALLS,
    CONTEXTS,
    HUMAN,
    JUDGMENTS,
    QUESTIONS,
    QUOTES,
    RUNS,
    TRANSCRIPTS,
    TURNS,
)
from oversight.errors import InputError
from oversight.quotes import QuoteCheck
from oversight.transcript import Outcome
from oversight.transcript import Transcript as TranscriptModel
from oversight.transcript import Turn as TurnModel

JUDGMENT_COLUMNS = (
    RUNS.c.name.label("run"),
    TRANSCRIPTS.c.protocol,
    QUESTIONS.c.source.label("dataset"),
    QUESTIONS.c.external_id.label("question_id"),
    TRANSCRIPTS.c.id.label("transcript_id"),
    QUESTIONS.c.article_id,
    QUESTIONS.c.context_hash,
    JUDGMENTS.c.judge,
    JUDGMENTS.c.judge_kind,
    JUDGMENTS.c.order,
    JUDGMENTS.c.p_a,
    JUDGMENTS.c.p_b,
    JUDGMENTS.c.p_correct,
    JUDGMENTS.c.correct,
    JUDGMENTS.c.valid,
    JUDGMENTS.c.method,
    JUDGMENTS.c.prompt_version,
    JUDGMENTS.c.after_round,
    TRANSCRIPTS.c.correct.label("correct_side"),
    JUDGMENTS.c.raw_output,
    TRANSCRIPTS.c.variant,
    TRANSCRIPTS.c.models,
    TRANSCRIPTS.c.consultant_correct,
    TRANSCRIPTS.c.chose_correct,
    TRANSCRIPTS.c.outcome,
    HUMAN.c.stopped_after_round,
)


def judgment_rows(engine: Engine, run: str | list[str] | None = None, *, cuts: bool = False) -> list[dict[str, Any]]:
    """One dict per judgment, joined with its run, transcript and question: the input of every metric
    (of one run, of a list of runs such as a study's cells, or of all). Verdicts on transcripts cut after
    an earlier round are left out unless `cuts` asks for them (accuracy by round, exports), and so are the verdicts of
    human judges an admin excluded from a campaign (e.g. for missing catch trials)."""
    query = (
        select(*JUDGMENT_COLUMNS)
        .select_from(
            JUDGMENTS.join(TRANSCRIPTS)
            .join(RUNS)
            .join(QUESTIONS, QUESTIONS.c.uid == TRANSCRIPTS.c.question_uid)
            .outerjoin(HUMAN, HUMAN.c.judgment_id == JUDGMENTS.c.id)
        )
        .where(JUDGMENTS.c.excluded.is_not(True))
        .order_by(JUDGMENTS.c.id)
    )
    if not cuts:
        query = query.where(JUDGMENTS.c.after_round.is_(None))
    if isinstance(run, list):
        query = query.where(RUNS.c.name.in_(run))
    elif run is not None:
        query = query.where(RUNS.c.name == run)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    for row in rows:
        row["cluster"] = row.pop("article_id") or row.pop("context_hash") or f"q:{row['question_id']}"
        row.pop("context_hash", None)
        outcome = row.pop("outcome") or {}
        row["debaters"] = outcome.get("debaters") or None
        row["players"] = outcome.get("players") or None
        row["rounds"] = max((r.get("round", 0) for r in outcome.get("rounds") or []), default=None)
        row["side_stats"] = side_stats(outcome.get("rounds") or [])
    return rows


def side_stats(records: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Words, quotes and verified quotes each side's turns add up to (style covariates for debater ratings)."""
    out: dict[str, dict[str, int]] = {}
    for rec in records:
        side = rec.get("side")
        if side in ("A", "B") and not str(rec.get("role", "")).startswith("judge"):
            s = out.setdefault(side, {"words": 0, "quotes": 0, "verified": 0})
            s["words"] += int(rec.get("words") or 0)
            s["quotes"] += int(rec.get("quotes") or 0)
            s["verified"] += int(rec.get("verified_quotes") or 0)
    return out


def transcript_rows(engine: Engine, run: str | None = None) -> list[dict[str, Any]]:
    """Transcripts with their turns, quotes and judgments nested, for export."""
    query = (
        select(
            TRANSCRIPTS.c.id,
            RUNS.c.name.label("run"),
            TRANSCRIPTS.c.protocol,
            QUESTIONS.c.source.label("dataset"),
            QUESTIONS.c.external_id.label("question_id"),
            QUESTIONS.c.question,
            QUESTIONS.c.options,
            TRANSCRIPTS.c.option_a,
            TRANSCRIPTS.c.option_b,
            TRANSCRIPTS.c.correct,
            TRANSCRIPTS.c.prompt_version,
            TRANSCRIPTS.c.outcome,
            TRANSCRIPTS.c.meta,
        )
        .select_from(TRANSCRIPTS.join(RUNS).join(QUESTIONS, QUESTIONS.c.uid == TRANSCRIPTS.c.question_uid))
        .order_by(TRANSCRIPTS.c.id)
    )
    if run is not None:
        query = query.where(RUNS.c.name == run)
    with engine.connect() as conn:
        out = {r.id: {**dict(r._mapping), "turns": [], "judgments": []} for r in conn.execute(query)}
        if not out:
            return []
        ids = list(out)
        turn_index: dict[tuple[int, int], dict[str, Any]] = {}
        for r in conn.execute(select(TURNS).where(TURNS.c.transcript_id.in_(ids)).order_by(TURNS.c.transcript_id, TURNS.c.idx)):
            turn = {k: getattr(r, k) for k in ("idx", "round", "role", "side", "model", "text", "saw_context", "meta")} | {"quotes": []}
            out[r.transcript_id]["turns"].append(turn)
            turn_index[(r.transcript_id, r.idx)] = turn
        for r in conn.execute(select(QUOTES).where(QUOTES.c.transcript_id.in_(ids)).order_by(QUOTES.c.id)):
            turn_index[(r.transcript_id, r.turn_idx)]["quotes"].append(
                {"text": r.text, "verified": r.verified, "start": r.start, "end": r.end}
            )
        for r in conn.execute(select(JUDGMENTS).where(JUDGMENTS.c.transcript_id.in_(ids)).order_by(JUDGMENTS.c.id)):
            out[r.transcript_id]["judgments"].append(
                {
                    k: getattr(r, k)
                    for k in ("judge", "judge_kind", "order", "p_a", "p_b", "p_correct", "correct", "valid", "method", "prompt_version")
                }
            )
    for row in out.values():
        row["transcript_id"] = row.pop("id")
    return list(out.values())


def run_summaries(engine: Engine) -> list[dict[str, Any]]:
    """Stored runs; a run still marked running whose process stopped sending heartbeats shows as `stale`."""
    from oversight.db.runs import is_stale

    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(RUNS).order_by(RUNS.c.id))]
    for row in rows:
        if row["status"] == "running" and is_stale(row["heartbeat_at"]):
            row["status"] = "stale"
    return rows


def usage_rows(engine: Engine, run: str | None = None) -> list[dict[str, Any]]:
    """Token, cost and cache accounting per run, role and model."""
    query = (
        select(
            RUNS.c.name.label("run"),
            CALLS.c.role,
            CALLS.c.model,
            func.count().label("calls"),
            func.sum(CALLS.c.attempts).label("attempts"),
            func.sum(case((CALLS.c.cache_hit, 1), else_=0)).label("cache_hits"),
            func.sum(CALLS.c.prompt_tokens).label("prompt_tokens"),
            func.sum(CALLS.c.cached_prompt_tokens).label("prefix_cached_tokens"),
            func.sum(CALLS.c.completion_tokens).label("completion_tokens"),
            func.sum(CALLS.c.cost_usd).label("cost_usd"),
            func.avg(CALLS.c.latency).label("mean_latency_s"),
            func.sum(case((CALLS.c.truncated_prompt, 1), else_=0)).label("truncated"),
        )
        .select_from(CALLS.join(RUNS))
        .group_by(RUNS.c.name, CALLS.c.role, CALLS.c.model)
        .order_by(RUNS.c.name, CALLS.c.role, CALLS.c.model)
    )
    if run is not None:
        query = query.where(RUNS.c.name == run)
    with engine.connect() as conn:
        return [{k: (float(v) if isinstance(v, float) else v) for k, v in r._mapping.items()} for r in conn.execute(query)]


def run_row(engine: Engine, name: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(RUNS).where(RUNS.c.name == name)).first()
    if row is None:
        raise InputError(f"--run {name!r}: no such run (see `oversight runs`)")
    return dict(row._mapping)


def load_transcripts(engine: Engine, run_id: int | None = None, ids: list[int] | None = None) -> list[tuple[int, TranscriptModel]]:
    """Stored transcripts rebuilt as the protocol produced them (question, context, turns, quotes, meta)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                TRANSCRIPTS.c.id,
                TRANSCRIPTS.c.protocol,
                TRANSCRIPTS.c.option_a,
                TRANSCRIPTS.c.option_b,
                TRANSCRIPTS.c.meta.label("transcript_meta"),
                TRANSCRIPTS.c.outcome,
                TRANSCRIPTS.c.prompt_version,
                QUESTIONS.c.external_id,
                QUESTIONS.c.question,
                QUESTIONS.c.options,
                QUESTIONS.c.answer,
                QUESTIONS.c.source,
                QUESTIONS.c.article_id,
                QUESTIONS.c.distractor,
                QUESTIONS.c.meta.label("question_meta"),
                CONTEXTS.c.text.label("context_text"),
            )
            .select_from(
                TRANSCRIPTS.join(QUESTIONS, QUESTIONS.c.uid == TRANSCRIPTS.c.question_uid).outerjoin(
                    CONTEXTS, CONTEXTS.c.hash == QUESTIONS.c.context_hash
                )
            )
            .where(TRANSCRIPTS.c.run_id == run_id if run_id is not None else TRANSCRIPTS.c.id.in_(ids or []))
            .order_by(TRANSCRIPTS.c.id)
        ).all()
        ids = [r.id for r in rows]
        turns: dict[int, list[Any]] = {}
        quotes: dict[tuple[int, int], list[Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for t in conn.execute(select(TURNS).where(TURNS.c.transcript_id.in_(chunk)).order_by(TURNS.c.transcript_id, TURNS.c.idx)):
                turns.setdefault(t.transcript_id, []).append(t)
            for q in conn.execute(select(QUOTES).where(QUOTES.c.transcript_id.in_(chunk)).order_by(QUOTES.c.id)):
                quotes.setdefault((q.transcript_id, q.turn_idx), []).append(q)
    out = []
    for r in rows:
        question = Question(
            id=r.external_id,
            question=r.question,
            options=r.options,
            answer=r.answer,
            context=r.context_text or "",
            source=r.source,
            article_id=r.article_id,
            distractor=r.distractor,
            meta=r.question_meta or {},
        )
        transcript = TranscriptModel(
            question=question,
            protocol=r.protocol,
            option_a=r.option_a,
            option_b=r.option_b,
            meta=r.transcript_meta or {},
            outcome=Outcome.from_stored(r.outcome),
            prompt_version=r.prompt_version,
            turns=[
                TurnModel(
                    round=t.round,
                    role=t.role,
                    side=t.side,
                    model=t.model,
                    text=t.text,
                    saw_context=t.saw_context,
                    meta=t.meta or {},
                    quotes=[QuoteCheck(text=q.text, verified=q.verified, start=q.start, end=q.end) for q in quotes.get((r.id, t.idx), [])],
                )
                for t in turns.get(r.id, [])
            ],
        )
        out.append((r.id, transcript))
    return out
