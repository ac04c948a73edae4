"""One capability axis for human and model judges (Kenton et al. 2024, extended to humans).

A judge's own naive accuracy (the question alone, no arguments) measures how capable the judge
is; its accuracy under debate, consultancy and the other protocols, plotted against it, shows
whether a protocol helps weak judges more than strong ones. Model judges of different sizes,
each human judge, and the humans pooled all sit on the same chart. Every accuracy is a mean over
the judge's verdicts with a 95% interval clustered by article, as everywhere else.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from oversight.metrics.intervals import clustered_ci, few_articles

NAIVE = "naive"
POOLED_HUMANS = "humans (pooled)"


def _accuracy(rows: list[dict[str, Any]]) -> tuple[float | None, float | None, float | None, int, int]:
    valid = [r for r in rows if r.get("valid") and r.get("correct") is not None]
    if not valid:
        return None, None, None, 0, 0
    hits = [1.0 if r["correct"] else 0.0 for r in valid]
    low, high = clustered_ci(hits, [r["cluster"] for r in valid])
    return float(np.mean(hits)), low, high, len(valid), len({str(r["cluster"]) for r in valid})


def capability_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per judge (each human, the humans pooled, each model judge) and protocol other than naive, for judges
    who also judged naive: the judge's naive accuracy and its accuracy under the protocol, each with its interval."""
    by_judge: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r.get("after_round") is not None:
            continue
        kind = r.get("judge_kind", "model")
        by_judge[(r["judge"], kind)].append(r)
        if kind == "human":
            by_judge[(POOLED_HUMANS, "human")].append(r)
    out = []
    for (judge, kind), judged in sorted(by_judge.items()):
        protocols: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in judged:
            protocols[r["protocol"]].append(r)
        naive, naive_low, naive_high, naive_n, naive_k = _accuracy(protocols.get(NAIVE, []))
        if naive is None:
            continue
        for protocol, group in sorted(protocols.items()):
            if protocol == NAIVE:
                continue
            acc, low, high, n, k = _accuracy(group)
            if acc is None:
                continue
            out.append({
                "judge": judge, "judge_kind": "humans (pooled)" if judge == POOLED_HUMANS else kind, "protocol": protocol,
                "naive_accuracy": naive, "naive_ci_low": naive_low, "naive_ci_high": naive_high, "naive_n": naive_n,
                "accuracy": acc, "ci_low": low, "ci_high": high, "n": n, "gain": acc - naive,
                "few_articles": few_articles(min(k, naive_k)),
            })  # fmt: skip
    return out
