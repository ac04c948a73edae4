"""Comparisons between judges and between protocols on the same items.

- Agreement of two judges (say, humans and a model) on the same transcripts and orders: the rate
  at which they pick the same answer, Cohen's kappa, and the correlation of their probabilities.
- Paired comparison of two conditions on the same questions: difference in accuracy with a
  paired bootstrap interval over articles and a permutation p-value (labels swapped within pairs).
- Position bias: accuracy when the correct answer is shown first vs second.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float | None:
    """Kappa for two binary raters; None when chance agreement is total (kappa undefined)."""
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    if a.size == 0:
        return None
    observed = float(np.mean(a == b))
    pa, pb = a.mean(), b.mean()
    expected = float(pa * pb + (1 - pa) * (1 - pb))
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def _picks(rows: list[dict[str, Any]]) -> dict[tuple[Any, str], tuple[bool, float]]:
    """(transcript, order) -> (picked A, probability on A), valid judgments only."""
    out = {}
    for r in rows:
        if r.get("valid") and r.get("p_a") is not None:
            out[(r["transcript_id"], r["order"])] = (r["p_a"] > r["p_b"], float(r["p_a"]))
    return out


def agreement(rows_a: list[dict[str, Any]], rows_b: list[dict[str, Any]]) -> dict[str, Any]:
    """Two judges (or judge groups) on the same transcripts; items only one of them judged are left out."""
    pa, pb = _picks(rows_a), _picks(rows_b)
    common = sorted(set(pa) & set(pb), key=str)
    if not common:
        return {"n": 0, "agreement": None, "kappa": None, "correlation": None}
    a_pick = np.array([pa[k][0] for k in common])
    b_pick = np.array([pb[k][0] for k in common])
    a_p = np.array([pa[k][1] for k in common])
    b_p = np.array([pb[k][1] for k in common])
    corr = float(np.corrcoef(a_p, b_p)[0, 1]) if len(common) > 1 and a_p.std() > 0 and b_p.std() > 0 else None
    return {"n": len(common), "agreement": float(np.mean(a_pick == b_pick)), "kappa": cohen_kappa(a_pick, b_pick), "correlation": corr}


def position_bias(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy when the correct answer is shown first and when it is shown second."""
    first, second = [], []
    for r in rows:
        if not r.get("valid"):
            continue
        shown_first = r["correct_side"] == ("A" if r["order"] == "AB" else "B")
        (first if shown_first else second).append(1.0 if r["correct"] else 0.0)
    acc_first = float(np.mean(first)) if first else None
    acc_second = float(np.mean(second)) if second else None
    gap = acc_first - acc_second if acc_first is not None and acc_second is not None else None
    return {"n_first": len(first), "acc_correct_first": acc_first, "n_second": len(second), "acc_correct_second": acc_second, "gap": gap}


def paired_comparison(
    rows_a: list[dict[str, Any]], rows_b: list[dict[str, Any]], *, n_resamples: int = 1000, n_permutations: int = 10000, seed: int = 0
) -> dict[str, Any]:
    """Accuracy of condition A minus condition B on the questions both judged (pairs keyed by question).

    Each question contributes its mean correctness under each condition; the bootstrap resamples
    articles (clusters) and the permutation test swaps the two conditions within each question.
    """

    def per_question(rows: list[dict[str, Any]]) -> dict[Any, tuple[float, Any]]:
        acc: dict[Any, list[float]] = defaultdict(list)
        cluster: dict[Any, Any] = {}
        for r in rows:
            if r.get("valid"):
                key = (r["dataset"], r["question_id"])
                acc[key].append(1.0 if r["correct"] else 0.0)
                cluster[key] = r["cluster"]
        return {k: (float(np.mean(v)), cluster[k]) for k, v in acc.items()}

    qa, qb = per_question(rows_a), per_question(rows_b)
    keys = sorted(set(qa) & set(qb), key=str)
    if not keys:
        return {"n_questions": 0, "diff": None, "ci_low": None, "ci_high": None, "p_value": None}
    a = np.array([qa[k][0] for k in keys])
    b = np.array([qb[k][0] for k in keys])
    d = a - b
    _, cluster_index = np.unique(np.array([str(qa[k][1]) for k in keys]), return_inverse=True)
    n_clusters = int(cluster_index.max()) + 1
    sums = np.bincount(cluster_index, weights=d, minlength=n_clusters)
    counts = np.bincount(cluster_index, minlength=n_clusters).astype(float)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_clusters, size=(n_resamples, n_clusters))
    boot = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    low, high = np.quantile(boot, [0.025, 0.975])
    observed = float(d.mean())
    signs = rng.choice([-1.0, 1.0], size=(n_permutations, len(d)))
    permuted = np.abs((signs * d).mean(axis=1))
    p_value = float((1 + np.sum(permuted >= abs(observed) - 1e-12)) / (n_permutations + 1))
    return {
        "n_questions": len(keys),
        "acc_a": float(a.mean()),
        "acc_b": float(b.mean()),
        "diff": observed,
        "ci_low": float(low),
        "ci_high": float(high),
        "p_value": p_value,
    }
