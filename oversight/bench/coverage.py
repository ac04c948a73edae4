"""Coverage of every interval the product prints, measured on simulated studies whose truth is known.

For each statistic (the studies are in `oversight.bench.simulated_studies`) and each number of articles, the bench
reports the share of studies whose 95% interval covers the truth, the interval's mean width, the estimate's bias
and RMSE, and the share of studies the product flagged as too thin to trust (`few_articles`), with a verdict
against the target; the studies run in a process pool.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
from scipy import stats

from oversight.bench.simulated_studies import ARTICLE_SD, QUESTION_SD, QUESTIONS_PER_ARTICLE, STATISTICS, Draw, warm_truths

ARTICLES = (5, 10, 25, 50)
TARGET = (0.93, 0.97)
"""Coverage wanted at K ≥ 10; at K = 5 an interval must cover at least 0.90 or be flagged."""
TARGET_FEW = 0.90


def _replicate(task: tuple[str, int, int, int]) -> dict[str, Any]:
    """`replications` studies of one statistic at K articles (one task of the process pool)."""
    name, k, replications, seed = task
    simulate = STATISTICS[name]
    rng = np.random.default_rng([seed, k, list(STATISTICS).index(name)])
    draws: list[Draw] = []
    ranks: list[float] = []
    for _ in range(replications):
        study = simulate(rng, k)
        draws += study
        if name in ("Elo of players", "style-controlled Elo") and len(study) > 2:
            ranks.append(float(stats.spearmanr([d.estimate for d in study], [d.truth for d in study]).statistic))
    return _summarize(name, k, replications, draws, ranks)


def _summarize(name: str, k: int, replications: int, draws: list[Draw], ranks: list[float]) -> dict[str, Any]:
    low = np.array([-math.inf if d.low is None else d.low for d in draws])
    high = np.array([math.inf if d.high is None else d.high for d in draws])
    truth = np.array([d.truth for d in draws])
    estimate = np.array([d.estimate for d in draws], dtype=float)
    covered = (low <= truth) & (truth <= high)
    bounded = np.isfinite(low) & np.isfinite(high)
    coverage = float(covered.mean())
    return {
        "statistic": name,
        "articles": k,
        "studies": replications,
        "coverage": round(coverage, 3),
        "coverage_se": round(math.sqrt(coverage * (1 - coverage) / len(draws)), 3),
        "mean_width": round(float((high - low)[bounded].mean()), 3) if bounded.any() else None,
        "unbounded": round(float(1 - bounded.mean()), 3),
        "bias": round(float(np.nanmean(estimate - truth)), 4),
        "rmse": round(float(np.sqrt(np.nanmean((estimate - truth) ** 2))), 4),
        "flagged": round(float(np.mean([d.flagged for d in draws])), 3),
        "rank_correlation": round(float(np.mean(ranks)), 3) if ranks else None,
        "verdict": verdict(name, k, coverage, float(np.mean([d.flagged for d in draws]))),
    }


def verdict(name: str, k: int, coverage: float, flagged: float) -> str:
    """Whether a statistic meets the target at K articles."""
    if name.endswith("(for comparison)"):
        return "baseline"
    if k >= 10:
        return "ok" if TARGET[0] <= coverage <= TARGET[1] else ("low" if coverage < TARGET[0] else "wide")
    if coverage >= TARGET_FEW or flagged >= 0.99:
        return "ok"
    return "low"


def _tasks(statistics: list[str], articles: tuple[int, ...], replications: int, seed: int) -> Iterator[tuple[str, int, int, int]]:
    for name in statistics:
        for k in articles:
            yield (name, k, replications, seed)


def coverage_benchmark(
    *,
    replications: int = 400,
    articles: tuple[int, ...] = ARTICLES,
    statistics: list[str] | None = None,
    seed: int = 0,
    workers: int | None = None,
) -> dict[str, Any]:
    """Coverage, width, bias and flag rate of every statistic's interval at each number of articles."""
    names = statistics or list(STATISTICS)
    unknown = [n for n in names if n not in STATISTICS]
    if unknown:
        raise ValueError(f"unknown statistic(s) {', '.join(unknown)}: choose from {', '.join(STATISTICS)}")
    start = time.perf_counter()
    tasks = list(_tasks(names, articles, replications, seed))
    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    if workers == 1:
        warm_truths(names)
        rows = [_replicate(t) for t in tasks]
    else:
        with ProcessPoolExecutor(workers, initializer=warm_truths, initargs=(names,)) as pool:
            rows = list(pool.map(_replicate, tasks))
    return {
        "design": f"{QUESTIONS_PER_ARTICLE} questions per article; article effect sd {ARTICLE_SD}, question effect sd {QUESTION_SD} (log-odds)",
        "target": f"coverage {TARGET[0]}–{TARGET[1]} at K ≥ 10; ≥ {TARGET_FEW} or flagged at K < 10",
        "rows": rows,
        "all_ok": all(r["verdict"] in ("ok", "baseline") for r in rows),
        "seconds": round(time.perf_counter() - start, 1),
    }
