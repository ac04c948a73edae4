"""Weak-to-strong storage: a run's provenance, per-seed metrics and per-example splits, labels and predictions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, insert, select

from oversight.data.question import Question
from oversight.db.items import store_questions
from oversight.db.schema import (
    QUESTIONS,
)
from oversight.errors import InputError


def store_w2s(
    engine: Engine, *, name: str, questions: list[Question], option_indices: list[int], fields: dict[str, Any], results: list[Any]
) -> int:
    """One weak-to-strong run: its provenance, per-seed metrics (with the test questions' hits that PGR's interval needs), and
    per-example splits, weak labels and predictions."""
    from oversight.db.schema import W2SExample, W2SResult, W2SRun
    from oversight.w2s.pipeline import make_splits

    uids = store_questions(engine, questions)
    clusters = [q.cluster for q in questions]
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
                    "metrics": {k: v for k, v in r.metrics(clusters).items() if k not in ("seed", "pgr")},
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


def w2s_rows(engine: Engine, run: str | list[str] | None = None) -> list[dict[str, Any]]:
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
            runs.c.config,
            results.c.seed,
            results.c.metrics,
            results.c.pgr,
        )
        .select_from(results.join(runs))
        .order_by(runs.c.id, results.c.seed)
    )
    if isinstance(run, list):
        query = query.where(runs.c.name.in_(run))
    elif run is not None:
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
