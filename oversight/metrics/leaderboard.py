"""The leaderboard: judge accuracy per protocol × judge × dataset, from raw judgment rows."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from oversight.metrics.bootstrap import clustered_bootstrap_ci

LEADERBOARD_KEYS = ("protocol", "judge", "dataset", "n", "accuracy", "ci_low", "ci_high", "mean_p_correct", "invalid", "n_clusters")


def leaderboard(rows: list[dict[str, Any]], *, n_resamples: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """One row per (protocol, judge, dataset).

    `n` counts valid judgments; accuracy is the share of them whose top choice was correct
    (a 50/50 tie counts as wrong); invalid judgments are counted beside it, never dropped
    silently. The interval is a 95% bootstrap over articles (clusters).
    """
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["protocol"], row["judge"], row["dataset"])].append(row)
    out = []
    for (protocol, judge, dataset), group in sorted(groups.items()):
        valid = [r for r in group if r["valid"]]
        entry: dict[str, Any] = {"protocol": protocol, "judge": judge, "dataset": dataset, "n": len(valid)}
        if valid:
            correct = np.array([1.0 if r["correct"] else 0.0 for r in valid])
            clusters = np.array([r["cluster"] for r in valid])
            low, high = clustered_bootstrap_ci(correct, clusters, n_resamples=n_resamples, seed=seed)
            entry.update(
                accuracy=float(correct.mean()),
                ci_low=low,
                ci_high=high,
                mean_p_correct=float(np.mean([r["p_correct"] for r in valid])),
                n_clusters=len(set(clusters.tolist())),
            )
        else:
            entry.update(accuracy=None, ci_low=None, ci_high=None, mean_p_correct=None, n_clusters=0)
        entry["invalid"] = len(group) - len(valid)
        out.append({k: entry[k] for k in LEADERBOARD_KEYS})
    return out
