"""Writes of questions, finished items and re-judgments: one transaction per item, executemany throughout, no per-row ORM objects."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from oversight.data.question import Question
from oversight.db.cache import insert_ignoring_duplicates
from oversight.db.clean import storable
from oversight.db.schema import (
    CALLS,
    CONTEXTS,
    JUDGMENTS,
    QUESTIONS,
    QUOTES,
    TRANSCRIPTS,
    TURNS,
)
from oversight.transcript import ItemResult, Outcome, Turn
from oversight.transcript import Judgment as JudgmentModel


def question_uid(q: Question) -> str:
    payload = json.dumps([q.source, q.id, q.question, q.options, q.answer, q.context_hash], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:40]


def question_uids(questions: list[Question]) -> dict[str, str]:
    """Question id -> uid, from the content alone: what `store_questions` will key the rows by."""
    return {q.id: question_uid(q) for q in questions}


def store_questions(engine: Engine, questions: list[Question], uid_of: dict[str, str] | None = None) -> dict[str, str]:
    """Store each context once (by hash) and each question once (by content); returns question id -> uid
    (`uid_of`, where the caller has them already from `question_uids`)."""
    contexts = {q.context_hash: q.context for q in questions if q.context_hash}
    uid_of = uid_of if uid_of is not None else question_uids(questions)
    rows = {
        uid_of[q.id]: {
            "uid": uid_of[q.id],
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
    return uid_of


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
                "prompt_version": item.transcript.prompt_version or "unversioned",
                "meta": item.transcript.meta,
                "outcome": item.transcript.outcome.stored(),
                "variant": item.transcript.outcome.variant[:64],
                "models": item.transcript.outcome.models[:400],
                "consultant_correct": item.transcript.outcome.consultant_correct,
                "chose_correct": item.transcript.outcome.chose_correct,
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
            turn_rows, quote_rows = _turn_rows(tid, 0, item.transcript.turns)
            turns += turn_rows
            quotes += quote_rows
            judgments.extend(_judgment_row(tid, j) for j in item.judgments)
            calls.extend(_call_row(run_id, tid, c) for c in item.calls)
        for table, rows in ((TURNS, turns), (QUOTES, quotes), (JUDGMENTS, judgments), (CALLS, calls)):
            if rows:
                conn.execute(insert(table), storable(rows))


def _turn_rows(tid: int, start: int, turns: list[Turn]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    turn_rows, quote_rows = [], []
    for idx, turn in enumerate(turns, start):
        turn_rows.append({"transcript_id": tid, "idx": idx, "round": turn.round, "role": turn.role, "side": turn.side,
                          "model": turn.model, "text": turn.text, "saw_context": turn.saw_context, "meta": turn.meta})  # fmt: skip
        quote_rows.extend(
            {"transcript_id": tid, "turn_idx": idx, "text": q.text, "verified": q.verified, "start": q.start, "end": q.end}
            for q in turn.quotes
        )
    return turn_rows, quote_rows


def append_turns(engine: Engine, transcript_id: int, start: int, turns: list[Turn], outcome: Outcome) -> bool:
    """Add turns `start`, `start + 1`, … to a stored transcript (a live session's new round) with its updated outcome,
    in one transaction; False, changing nothing, when another writer stored turns at those positions first."""
    turn_rows, quote_rows = _turn_rows(transcript_id, start, turns)
    if not turn_rows:
        return True
    try:
        with engine.begin() as conn:
            conn.execute(insert(TURNS), storable(turn_rows))
            if quote_rows:
                conn.execute(insert(QUOTES), storable(quote_rows))
            conn.execute(
                update(TRANSCRIPTS)
                .where(TRANSCRIPTS.c.id == transcript_id)
                .values(outcome=outcome.stored(), models=outcome.models[:400], variant=outcome.variant[:64])
            )
    except IntegrityError:
        return False
    return True


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
        "after_round": j.after_round,
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


def existing_judgments(engine: Engine, run_id: int) -> set[tuple[int, str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(JUDGMENTS.c.transcript_id, JUDGMENTS.c.judge, JUDGMENTS.c.order, JUDGMENTS.c.prompt_version)
            .select_from(JUDGMENTS.join(TRANSCRIPTS))
            .where(TRANSCRIPTS.c.run_id == run_id)
        )
        return {tuple(r) for r in rows}  # type: ignore[misc]


def stored_judgments(engine: Engine, run_id: int, judges: list[str], prompt_version: str) -> list[dict[str, Any]]:
    """These judges' verdicts on the run's whole transcripts under one judge prompt version (an ensemble's members)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(JUDGMENTS.c.transcript_id, JUDGMENTS.c.judge, JUDGMENTS.c.order, JUDGMENTS.c.p_a, JUDGMENTS.c.p_b, JUDGMENTS.c.valid,
                   JUDGMENTS.c.method, TRANSCRIPTS.c.correct)
            .select_from(JUDGMENTS.join(TRANSCRIPTS))
            .where(TRANSCRIPTS.c.run_id == run_id, JUDGMENTS.c.judge.in_(judges), JUDGMENTS.c.prompt_version == prompt_version,
                   JUDGMENTS.c.after_round.is_(None))
            .order_by(JUDGMENTS.c.id)
        )  # fmt: skip
        return [dict(r._mapping) for r in rows]


def write_judgments(engine: Engine, run_id: int, results: list[tuple[int, JudgmentModel, list[Any]]]) -> None:
    """Judgments added to stored transcripts (re-judging), with their model calls, in one transaction."""
    if not results:
        return
    with engine.begin() as conn:
        conn.execute(insert(JUDGMENTS), [_judgment_row(tid, j) for tid, j, _ in results])
        calls = [_call_row(run_id, tid, c) for tid, _, cs in results for c in cs]
        if calls:
            conn.execute(insert(CALLS), calls)
