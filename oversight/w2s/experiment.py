"""One weak-to-strong experiment from a `W2SConfig`: data, learners, seeds, summary — with its time and peak memory."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oversight.bench import peak_rss_mib
from oversight.config import W2SConfig
from oversight.data import load_dataset
from oversight.data.question import Question
from oversight.errors import InputError
from oversight.metrics.pgr import summarize
from oversight.w2s.learners import check_spec, make_learner
from oversight.w2s.pipeline import MIN_QUESTIONS, Examples, SeedResult, examples, make_splits, run_seed


@dataclass
class W2SOutcome:
    questions: list[Question]
    examples: Examples
    results: list[SeedResult]
    summary: dict[str, Any]


def run_w2s(cfg: W2SConfig, log: Callable[[str], None] = lambda _: None) -> W2SOutcome:
    _, questions = load_dataset(cfg.dataset, cfg.format, limit=cfg.n, skip_bad_rows=cfg.skip_bad_rows)
    if len(questions) < MIN_QUESTIONS:
        raise InputError(f"{cfg.dataset}: weak-to-strong needs at least {MIN_QUESTIONS} questions, the file has {len(questions)}")
    transfer = len(make_splits(len(questions), 0).transfer)
    if len(cfg.intermediate) + 1 > transfer:
        raise InputError(f"--intermediate: {len(cfg.intermediate)} steps need more than the {transfer} transfer questions of this dataset")
    specs = [("weak", cfg.weak), ("strong", cfg.strong), *((f"intermediate {i + 1}", s) for i, s in enumerate(cfg.intermediate))]
    for _, spec in specs:
        check_spec(spec, cfg.method)
    ex = examples(questions)
    started = time.perf_counter()
    cache = Path(cfg.cache_dir)
    learners = {}
    for role, spec in specs:
        log(f"{role}: {spec} ({len(ex.texts)} examples)")
        learners[role] = make_learner(spec, cfg.method, ex.texts, cfg, cache)
    setup_s = time.perf_counter() - started
    intermediates = [learners[f"intermediate {i + 1}"] for i in range(len(cfg.intermediate))]
    if cfg.executor == "ray":
        from oversight.cluster import run_tasks

        log(f"{cfg.seeds} seeds as Ray tasks")
        calls = [
            {
                "weak": learners["weak"],
                "strong": learners["strong"],
                "y": ex.y,
                "seed": seed,
                "loss": cfg.loss,
                "intermediates": intermediates,
            }
            for seed in range(cfg.seeds)
        ]
        results = run_tasks(run_seed, calls, address=cfg.ray_address, resources=cfg.worker_resources, gpu=_wants_gpu(cfg))
    else:
        results = []
        for seed in range(cfg.seeds):
            log(f"seed {seed + 1}/{cfg.seeds}")
            results.append(run_seed(learners["weak"], learners["strong"], ex.y, seed=seed, loss=cfg.loss, intermediates=intermediates))
    total_s = time.perf_counter() - started
    summary = {
        "dataset": cfg.dataset, "questions": len(questions), "examples": len(ex.texts), "method": cfg.method, "weak": cfg.weak,
        "strong": cfg.strong, "intermediate": cfg.intermediate, "loss": cfg.loss, "seeds": cfg.seeds,
        "setup_s": round(setup_s, 1), "train_s": round(total_s - setup_s, 1), "total_s": round(total_s, 1), "peak_rss_mib": round(peak_rss_mib(), 1),
        "invalid": sum(r.invalid for r in results), **summarize([r.metrics([q.cluster for q in questions]) for r in results]),
    }  # fmt: skip
    return W2SOutcome(questions=questions, examples=ex, results=results, summary=summary)


def _wants_gpu(cfg: W2SConfig) -> bool:
    """Fine-tuning on CUDA asks Ray for one GPU per seed."""
    if cfg.method != "finetune" or cfg.device == "cpu":
        return False
    if cfg.device == "cuda":
        return True
    try:
        import torch
    except ModuleNotFoundError:
        return False
    return bool(torch.cuda.is_available())


def run_and_store(cfg: W2SConfig, log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Run an experiment and store it under `cfg.run_name` (or a generated name); a taken name fails before any model work."""
    from oversight import __version__
    from oversight.db import connect
    from oversight.db.w2s import store_w2s, w2s_run_exists
    from oversight.engine import file_sha256, git_revision

    engine = connect(cfg.db)  # a bad --db or a taken --run-name fails before any model work
    if cfg.run_name:
        with engine.connect() as conn:
            if w2s_run_exists(conn, cfg.run_name):
                raise InputError(f"--run-name {cfg.run_name!r}: a weak-to-strong run of that name exists; choose another")
    outcome = run_w2s(cfg, log=log)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = cfg.run_name or f"w2s-{Path(cfg.dataset).stem}-{cfg.method}-{cfg.weak}-{cfg.strong}-{cfg.loss}-{stamp}".replace("/", "_")
    store_w2s(engine, name=name, questions=outcome.questions, option_indices=outcome.examples.option_indices, results=outcome.results,
              fields={"dataset": cfg.dataset, "weak": cfg.weak, "strong": cfg.strong, "method": cfg.method, "loss": cfg.loss,
                      "config": cfg.provenance() | {"dataset_sha256": file_sha256(Path(cfg.dataset))}, "package_version": __version__, "git_revision": git_revision()})  # fmt: skip
    return {"run_name": name, **outcome.summary}
