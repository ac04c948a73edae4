"""Debate verdicts as weak labels: a judge's verdicts from a stored protocol run supervise the strong student.

Instead of a weak model trained on ground truth, the weak supervisor is a judge that already
judged each question under some protocol (naive, consultancy, debate): its order-debiased
probability on each question's correct option — the mean over every verdict it gave on that
question's transcripts, both answer orders and both consultancy assignments — is the soft label,
and 1 minus it the label of the other option. Nothing is trained for the weak side, so ground
truth reaches neither it nor the student; the splits, the student, the ceiling and PGR are the
usual pipeline's. Given several runs (say naive and debate judged by the same judge), every run
supervises a student on the same questions — those all the runs judged — so the report can say
whether debate raises PGR (Lang et al. 2025 ask this).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import Engine

from oversight.config import W2SConfig
from oversight.data.question import Question
from oversight.errors import InputError
from oversight.w2s.learners.base import Predictor
from oversight.w2s.pipeline import MIN_QUESTIONS, examples, run_seed


class VerdictSupervisor:
    """A weak supervisor whose labels are stored verdicts: `fit` learns nothing and sees no target."""

    def __init__(self, name: str, p_rows: np.ndarray) -> None:
        self.name = name
        self.invalid = 0
        self._p = p_rows

    def fit(
        self, rows: np.ndarray, targets: np.ndarray, *, val_rows: np.ndarray | None, val_targets: np.ndarray | None, loss: str, seed: int
    ) -> Predictor:
        return lambda r: self._p[np.asarray(r, dtype=int)]


def judge_of(rows: list[dict[str, Any]], run: str, judge: str | None) -> str:
    judges = sorted({r["judge"] for r in rows})
    if judge is not None:
        if judge not in judges:
            raise InputError(f"--judge {judge!r}: run {run!r} has no verdicts by it (its judges: {', '.join(judges) or 'none'})")
        return judge
    models = sorted({r["judge"] for r in rows if r.get("judge_kind") == "model"})
    if len(models) != 1:
        raise InputError(f"run {run!r} has {len(models)} model judges ({', '.join(models) or 'none'}): name one with --judge")
    return models[0]


def verdict_labels(engine: Engine, runs: list[str], judge: str | None) -> tuple[list[Question], dict[str, np.ndarray], dict[str, Any]]:
    """The questions every run's judge gave a valid verdict on (in a fixed order), each run's probability on each
    question's correct option, and what was left out."""
    from oversight.db.queries import judgment_rows, load_transcripts, run_row

    seeds, judged, questions, judges = set(), {}, {}, {}
    for run in runs:
        info = run_row(engine, run)
        seeds.add(info["seed"])
        rows = judgment_rows(engine, run)
        if not rows:
            raise InputError(f"--weak-from-run {run!r}: the run has no verdicts")
        judges[run] = judge_of(rows, run, judge)
        p: dict[str, list[float]] = defaultdict(list)
        for r in rows:
            if r["judge"] == judges[run] and r["valid"] and r["p_correct"] is not None:
                p[r["question_id"]].append(float(r["p_correct"]))
        judged[run] = {q: float(np.mean(v)) for q, v in p.items()}
        for _, t in load_transcripts(engine, info["id"]):
            questions.setdefault(t.question.id, t.question)
    if len(seeds) > 1:
        raise InputError(
            "--weak-from-run: the runs used different seeds, so their answer pairs may differ; compare runs made with one seed"
        )
    shared = sorted(set.intersection(*(set(j) for j in judged.values())))
    if len(shared) < MIN_QUESTIONS:
        raise InputError(f"--weak-from-run: the runs share {len(shared)} judged questions; weak-to-strong needs at least {MIN_QUESTIONS}")
    chosen = [questions[q] for q in shared]
    labels = {run: np.array([judged[run][q] for q in shared]) for run in runs}
    left_out = {run: len(judged[run]) - len(shared) for run in runs}
    return chosen, labels, {"judges": judges, "seed": seeds.pop(), "left_out": left_out}


def run_weak_from_runs(
    cfg: W2SConfig, runs: list[str], judge: str | None, log: Callable[[str], None] = lambda _: None
) -> list[dict[str, Any]]:
    """One stored weak-to-strong run per verdict source, all on the same questions and splits; their summaries."""
    import time
    from pathlib import Path

    from oversight import __version__
    from oversight.bench import peak_rss_mib
    from oversight.db import connect
    from oversight.db.w2s import store_w2s, w2s_run_exists
    from oversight.engine import git_revision
    from oversight.metrics.pgr import summarize
    from oversight.w2s.learners import check_spec, make_learner

    engine = connect(cfg.db)
    base = cfg.run_name or f"w2s-verdicts-{time.strftime('%Y%m%d-%H%M%S')}"
    names = {run: f"{base}:{run}"[:200] for run in runs}
    with engine.connect() as conn:
        taken = [n for n in names.values() if w2s_run_exists(conn, n)]
    if taken:
        raise InputError(f"--run-name {base!r}: weak-to-strong run {taken[0]!r} exists; choose another name")
    check_spec(cfg.strong, cfg.method)
    questions, labels, info = verdict_labels(engine, runs, judge)
    ex = examples(questions, seed=info["seed"])
    started = time.perf_counter()
    log(f"strong: {cfg.strong} ({len(ex.texts)} examples, {len(questions)} questions every run judged)")
    strong = make_learner(cfg.strong, cfg.method, ex.texts, cfg, Path(cfg.cache_dir))
    digest = hashlib.sha256("\n".join(q.id for q in questions).encode()).hexdigest()
    out = []
    for run in runs:
        p_rows = np.empty(len(ex.texts))
        p_rows[0::2], p_rows[1::2] = labels[run], 1.0 - labels[run]  # row 2i: the correct option; 2i+1: the other
        weak = VerdictSupervisor(f"verdicts:{run}", p_rows)
        results = []
        for seed in range(cfg.seeds):
            log(f"{run}: seed {seed + 1}/{cfg.seeds}")
            results.append(run_seed(weak, strong, ex.y, seed=seed, loss=cfg.loss))
        weak_name = f"verdicts:{run}#{info['judges'][run]}"[:200]
        store_w2s(engine, name=names[run], questions=questions, option_indices=ex.option_indices, results=results,
                  fields={"dataset": f"run:{run}", "weak": weak_name, "strong": cfg.strong, "method": cfg.method, "loss": cfg.loss,
                          "config": cfg.provenance() | {"weak_from_run": run, "judge": info["judges"][run], "comparison": base,
                                                        "sources": runs, "questions_sha256": digest, "left_out": info["left_out"][run]},
                          "package_version": __version__, "git_revision": git_revision()})  # fmt: skip
        out.append({"run_name": names[run], "weak_labels": weak_name, "questions": len(questions), "left_out": info["left_out"][run],
                    "seeds": cfg.seeds, **summarize([r.metrics([q.cluster for q in questions]) for r in results])})  # fmt: skip
    for summary in out:
        summary["total_s"] = round(time.perf_counter() - started, 1)
        summary["peak_rss_mib"] = round(peak_rss_mib(), 1)
    return out
