"""Bulk reads and writes. Core statements and executemany throughout: no per-row ORM objects on hot paths."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Engine, case, func, insert, select

from oversight.data.question import Question
from oversight.db.cache import insert_ignoring_duplicates
from oversight.db.clean import storable
from oversight.db.runs import finish_run, start_run  # noqa: F401 - part of the store's surface
from oversight.db.schema import Context, Judgment, ModelCall, QuestionRow, Quote, Run, Transcript, Turn
from oversight.errors import InputError
from oversight.prompts import PROMPT_VERSION
from oversight.quotes import QuoteCheck
from oversight.transcript import ItemResult
from oversight.transcript import Judgment as JudgmentModel
from oversight.transcript import Transcript as TranscriptModel
from oversight.transcript import Turn as TurnModel

CONTEXTS, QUESTIONS, RUNS = Context.__table__, QuestionRow.__table__, Run.__table__
TRANSCRIPTS, TURNS, QUOTES = Transcript.__table__, Turn.__table__, Quote.__table__
JUDGMENTS, CALLS = Judgment.__table__, ModelCall.__table__


def question_uid(q: Question) -> str:
    payload = json.dumps([q.source, q.id, q.question, q.options, q.answer, q.context_hash], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:40]


def store_questions(engine: Engine, questions: list[Question]) -> dict[str, str]:
    """Store each context once (by hash) and each question once (by content); returns question id -> uid."""
    contexts = {q.context_hash: q.context for q in questions if q.context_hash}
    rows = {
        question_uid(q): {
            "uid": question_uid(q),
            "source": q.source,
            "external_id": q.id,
            "question": q.question,
            "options": q.options,
            "answer": q.answer,
            "distractor": q.distractor,
            "context_hash": q.context_hash,
            "article_id": q.article_id,
            "meta": q.meta,
        }
        for q in questions
    }
    with engine.begin() as conn:
        have = set(conn.execute(select(CONTEXTS.c.hash).where(CONTEXTS.c.hash.in_(list(contexts)))).scalars()) if contexts else set()
        new_contexts = [{"hash": h, "text": t, "n_chars": len(t)} for h, t in contexts.items() if h not in have]
        if new_contexts:
            conn.execute(insert_ignoring_duplicates(engine, CONTEXTS), storable(new_contexts))
        uids = list(rows)
        have_q: set[str] = set()
        for start in range(0, len(uids), 500):
            chunk = uids[start : start + 500]
            have_q |= set(conn.execute(select(QUESTIONS.c.uid).where(QUESTIONS.c.uid.in_(chunk))).scalars())
        new_rows = [r for uid, r in rows.items() if uid not in have_q]
        if new_rows:
            conn.execute(insert_ignoring_duplicates(engine, QUESTIONS), storable(new_rows))
    return {q.id: question_uid(q) for q in questions}


def write_items(engine: Engine, run_id: int, items: list[ItemResult]) -> None:
    """Write finished items in one transaction: each item appears whole or not at all."""
    if not items:
        return
    with engine.begin() as conn:
        transcript_rows = [
            {
                "run_id": run_id,
                "question_uid": item.question_uid,
                "item_key": item.item_key,
                "protocol": item.transcript.protocol,
                "option_a": item.transcript.option_a,
                "option_b": item.transcript.option_b,
                "correct": item.transcript.correct,
                "prompt_version": PROMPT_VERSION,
                "meta": item.transcript.meta,
            }
            for item in items
        ]
        ids = (
            conn.execute(insert(TRANSCRIPTS).returning(TRANSCRIPTS.c.id, sort_by_parameter_order=True), storable(transcript_rows))
            .scalars()
            .all()
        )
        turns, quotes, judgments, calls = [], [], [], []
        for tid, item in zip(ids, items, strict=True):
            for idx, turn in enumerate(item.transcript.turns):
                turns.append(
                    {
                        "transcript_id": tid,
                        "idx": idx,
                        "round": turn.round,
                        "role": turn.role,
                        "side": turn.side,
                        "model": turn.model,
                        "text": turn.text,
                        "saw_context": turn.saw_context,
                        "meta": turn.meta,
                    }
                )
                quotes.extend(
                    {"transcript_id": tid, "turn_idx": idx, "text": q.text, "verified": q.verified, "start": q.start, "end": q.end}
                    for q in turn.quotes
                )
            judgments.extend(_judgment_row(tid, j) for j in item.judgments)
            calls.extend(_call_row(run_id, tid, c) for c in item.calls)
        for table, rows in ((TURNS, turns), (QUOTES, quotes), (JUDGMENTS, judgments), (CALLS, calls)):
            if rows:
                conn.execute(insert(table), storable(rows))


def _judgment_row(tid: int, j: JudgmentModel) -> dict[str, Any]:
    return {
        "transcript_id": tid,
        "judge": j.judge,
        "judge_kind": j.judge_kind,
        "order": j.order,
        "p_a": j.p_a,
        "p_b": j.p_b,
        "p_correct": j.p_correct,
        "correct": j.correct,
        "valid": j.valid,
        "method": j.method,
        "raw_output": j.raw_output,
        "prompt_version": j.prompt_version,
    }


def _call_row(run_id: int, tid: int | None, c: Any) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "transcript_id": tid,
        "role": c.role,
        "model": c.model,
        "prompt_tokens": c.prompt_tokens,
        "completion_tokens": c.completion_tokens,
        "cached_prompt_tokens": c.cached_prompt_tokens,
        "cost_usd": c.cost_usd,
        "latency": c.latency,
        "cache_hit": c.cache_hit,
        "truncated_prompt": c.truncated_prompt,
        "attempts": c.attempts,
    }


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
    TRANSCRIPTS.c.correct.label("correct_side"),
    JUDGMENTS.c.raw_output,
    TRANSCRIPTS.c.meta.label("transcript_meta"),
)


def judgment_rows(engine: Engine, run: str | None = None) -> list[dict[str, Any]]:
    """One dict per judgment, joined with its run, transcript and question: the input of every metric."""
    query = (
        select(*JUDGMENT_COLUMNS)
        .select_from(JUDGMENTS.join(TRANSCRIPTS).join(RUNS).join(QUESTIONS, QUESTIONS.c.uid == TRANSCRIPTS.c.question_uid))
        .order_by(JUDGMENTS.c.id)
    )
    if run is not None:
        query = query.where(RUNS.c.name == run)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    for row in rows:
        row["cluster"] = row.pop("article_id") or row.pop("context_hash") or f"q:{row['question_id']}"
        row.pop("context_hash", None)
        meta = row.pop("transcript_meta") or {}
        row["variant"] = meta.get("variant", "")
        row["consultant_correct"] = meta.get("consultant_correct")
        row["chose_correct"] = meta.get("chose_correct")
        row["debaters"] = meta.get("debaters")
        row["models"] = meta.get("models", "")
    return rows


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


def existing_judgments(engine: Engine, run_id: int) -> set[tuple[int, str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(JUDGMENTS.c.transcript_id, JUDGMENTS.c.judge, JUDGMENTS.c.order, JUDGMENTS.c.prompt_version)
            .select_from(JUDGMENTS.join(TRANSCRIPTS))
            .where(TRANSCRIPTS.c.run_id == run_id)
        )
        return {tuple(r) for r in rows}  # type: ignore[misc]


def write_judgments(engine: Engine, run_id: int, results: list[tuple[int, JudgmentModel, list[Any]]]) -> None:
    """Judgments added to stored transcripts (re-judging), with their model calls, in one transaction."""
    if not results:
        return
    with engine.begin() as conn:
        conn.execute(insert(JUDGMENTS), [_judgment_row(tid, j) for tid, j, _ in results])
        calls = [_call_row(run_id, tid, c) for tid, _, cs in results for c in cs]
        if calls:
            conn.execute(insert(CALLS), calls)


def _fetch_columns(engine: Engine, query: Any) -> dict[str, list[Any]]:
    """Run a Core query through the DB-API cursor and return its columns (SQLAlchemy's per-row
    Result processing costs ten times the query itself at a million rows)."""
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    names = [c.name for c in query.selected_columns]
    with engine.connect() as conn:
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql)
            rows = cursor.fetchall()
        finally:
            cursor.close()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return {name: list(col) for name, col in zip(names, columns, strict=True)}


def _group_columns(by: tuple[str, ...]) -> list[Any]:
    mapping = {
        "protocol": TRANSCRIPTS.c.protocol,
        "judge": JUDGMENTS.c.judge,
        "dataset": QUESTIONS.c.source,
        "judge_kind": JUDGMENTS.c.judge_kind,
        "prompt_version": JUDGMENTS.c.prompt_version,
        "run": RUNS.c.name,
        "variant": func.coalesce(TRANSCRIPTS.c.meta["variant"].as_string(), ""),
        "models": func.coalesce(TRANSCRIPTS.c.meta["models"].as_string(), ""),
    }
    return [mapping[k].label(k) for k in by]


def leaderboard_aggregates(engine: Engine, by: tuple[str, ...], run: str | None = None) -> dict[str, dict[str, list[Any]]]:
    """Everything the leaderboard needs, aggregated in SQL: per group and article the valid, correct and
    invalid counts and the summed probability on the correct answer; swap pairs; consultancy halves;
    open-role choices. The bootstrap only needs per-article totals, so a million judgments come
    back as a few thousand rows."""
    from sqlalchemy import and_, case, literal
    from sqlalchemy.orm import aliased

    from oversight.metrics.leaderboard import TIE

    cluster = func.coalesce(QUESTIONS.c.article_id, QUESTIONS.c.context_hash, literal("q:") + QUESTIONS.c.external_id)
    base = JUDGMENTS.join(TRANSCRIPTS).join(RUNS).join(QUESTIONS, QUESTIONS.c.uid == TRANSCRIPTS.c.question_uid)
    groups = _group_columns(by)
    where = RUNS.c.name == run if run is not None else literal(True)
    valid_int = case((JUDGMENTS.c.valid, 1), else_=0)
    per_cluster = (
        select(
            *groups,
            cluster.label("cluster"),
            func.sum(valid_int).label("n_valid"),
            func.sum(case((and_(JUDGMENTS.c.valid, JUDGMENTS.c.correct), 1), else_=0)).label("n_correct"),
            func.sum(case((JUDGMENTS.c.valid, JUDGMENTS.c.p_correct), else_=0.0)).label("sum_p"),
            func.sum(1 - valid_int).label("n_invalid"),
        )
        .select_from(base)
        .where(where)
        .group_by(*[g.element for g in groups], cluster)
    )
    # order-debiased items: the mean probability on the correct answer over the orders an item was judged in
    mean_p = func.avg(JUDGMENTS.c.p_correct)
    item_score = case((mean_p > 0.5 + TIE, 1.0), (mean_p < 0.5 - TIE, 0.0), else_=0.5)
    items = (
        select(*groups, cluster.label("cluster"), item_score.label("score"))
        .select_from(base)
        .where(and_(where, JUDGMENTS.c.valid, JUDGMENTS.c.p_correct.is_not(None)))
        .group_by(*[g.element for g in groups], cluster, JUDGMENTS.c.transcript_id, JUDGMENTS.c.judge, JUDGMENTS.c.prompt_version)
        .subquery()
    )
    item_keys = [items.c[k] for k in by]
    debiased = select(*item_keys, items.c.cluster, func.count().label("n_items"), func.sum(items.c.score).label("sum_score")).group_by(
        *item_keys, items.c.cluster
    )
    other = aliased(JUDGMENTS)
    pick = func.sign(JUDGMENTS.c.p_a - JUDGMENTS.c.p_b)
    other_pick = func.sign(other.c.p_a - other.c.p_b)
    swaps = (
        select(*groups, func.count().label("pairs"), func.sum(case((and_(pick == other_pick, pick != 0), 1), else_=0)).label("consistent"))
        .select_from(
            base.join(
                other,
                and_(
                    other.c.transcript_id == JUDGMENTS.c.transcript_id,
                    other.c.judge == JUDGMENTS.c.judge,
                    other.c.prompt_version == JUDGMENTS.c.prompt_version,
                    other.c.order == "BA",
                    other.c.valid,
                ),
            )
        )
        .where(and_(where, JUDGMENTS.c.order == "AB", JUDGMENTS.c.valid, JUDGMENTS.c.p_a.is_not(None), other.c.p_a.is_not(None)))
        .group_by(*[g.element for g in groups])
    )
    flag = TRANSCRIPTS.c.meta["consultant_correct"].as_boolean()
    halves = (
        select(
            *groups,
            flag.label("consultant_correct"),
            func.count().label("n"),
            func.sum(case((JUDGMENTS.c.correct, 1), else_=0)).label("n_correct"),
        )
        .select_from(base)
        .where(and_(where, JUDGMENTS.c.valid, flag.is_not(None)))
        .group_by(*[g.element for g in groups], flag)
    )
    chose = TRANSCRIPTS.c.meta["chose_correct"].as_boolean()
    choices = (
        select(
            *groups,
            func.count(func.distinct(TRANSCRIPTS.c.id)).label("n"),
            func.count(func.distinct(case((chose, TRANSCRIPTS.c.id)))).label("n_correct"),
        )
        .select_from(base)
        .where(and_(where, chose.is_not(None)))
        .group_by(*[g.element for g in groups])
    )
    return {
        name: _fetch_columns(engine, q)
        for name, q in (("clusters", per_cluster), ("debiased", debiased), ("swaps", swaps), ("halves", halves), ("choices", choices))
    }


def store_w2s(
    engine: Engine, *, name: str, questions: list[Question], option_indices: list[int], fields: dict[str, Any], results: list[Any]
) -> int:
    """One weak-to-strong run: its provenance, per-seed metrics, and per-example splits, weak labels and predictions."""
    from oversight.db.schema import W2SExample, W2SResult, W2SRun
    from oversight.protocols.weak_to_strong import make_splits

    uids = store_questions(engine, questions)
    with engine.begin() as conn:
        if w2s_run_exists(conn, name):
            raise InputError(f"--run-name {name!r}: a weak-to-strong run of that name exists; choose another")
        run_id = conn.execute(insert(W2SRun.__table__).values(name=name, **fields).returning(W2SRun.__table__.c.id)).scalar_one()
        conn.execute(
            insert(W2SResult.__table__),
            [
                {
                    "run_id": run_id,
                    "seed": r.seed,
                    "pgr": r.pgr,
                    "metrics": {
                        "weak": r.weak,
                        "student": r.student,
                        "ceiling": r.ceiling,
                        "intermediates": r.intermediates,
                        "invalid": r.invalid,
                    },
                }
                for r in results
            ],
        )
        rows = []
        for r in results:
            splits = make_splits(len(questions), r.seed)
            transfer = dict(zip(splits.examples("transfer").tolist(), r.weak_labels, strict=True))
            test_rows = splits.examples("test").tolist()
            test = {role: dict(zip(test_rows, preds, strict=True)) for role, preds in r.test_predictions.items()}
            for split in ("weak_train", "transfer", "validation", "test"):
                for row in splits.examples(split).tolist():
                    q = questions[row // 2]
                    rows.append(
                        {"run_id": run_id, "seed": r.seed, "split": split, "question_uid": uids[q.id], "option_index": option_indices[row],
                         "label": 1.0 if row % 2 == 0 else 0.0, "weak_label": transfer.get(row),
                         "weak_prediction": test.get("weak", {}).get(row), "student_prediction": test.get("student", {}).get(row),
                         "ceiling_prediction": test.get("ceiling", {}).get(row)}
                    )  # fmt: skip
        for start in range(0, len(rows), 5000):
            conn.execute(insert(W2SExample.__table__), rows[start : start + 5000])
    return run_id


def w2s_run_exists(conn: Any, name: str) -> bool:
    from oversight.db.schema import W2SRun

    return conn.execute(select(W2SRun.__table__.c.id).where(W2SRun.__table__.c.name == name)).first() is not None


def w2s_rows(engine: Engine, run: str | None = None) -> list[dict[str, Any]]:
    """Per-seed weak-to-strong results with their run's settings, for the PGR table."""
    from oversight.db.schema import W2SResult, W2SRun

    runs, results = W2SRun.__table__, W2SResult.__table__
    query = (
        select(
            runs.c.name,
            runs.c.dataset,
            runs.c.weak,
            runs.c.strong,
            runs.c.method,
            runs.c.loss,
            results.c.seed,
            results.c.metrics,
            results.c.pgr,
        )
        .select_from(results.join(runs))
        .order_by(runs.c.id, results.c.seed)
    )
    if run is not None:
        query = query.where(runs.c.name == run)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def w2s_example_rows(engine: Engine, run: str | None = None) -> list[dict[str, Any]]:
    """Per-example weak-to-strong rows for export: split, ground truth, weak label and the three test predictions."""
    from oversight.db.schema import W2SExample, W2SRun

    examples, runs = W2SExample.__table__, W2SRun.__table__
    query = (
        select(
            runs.c.name.label("run"),
            examples.c.seed,
            examples.c.split,
            QUESTIONS.c.source.label("dataset"),
            QUESTIONS.c.external_id.label("question_id"),
            QUESTIONS.c.question,
            QUESTIONS.c.options,
            examples.c.option_index,
            examples.c.label,
            examples.c.weak_label,
            examples.c.weak_prediction,
            examples.c.student_prediction,
            examples.c.ceiling_prediction,
        )
        .select_from(examples.join(runs).join(QUESTIONS, QUESTIONS.c.uid == examples.c.question_uid))
        .order_by(examples.c.id)
    )
    if run is not None:
        query = query.where(runs.c.name == run)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    for row in rows:
        options = row.pop("options") or []
        row["option"] = options[row["option_index"]] if 0 <= row["option_index"] < len(options) else None
    return rows
