"""How well a weak-to-strong learner does on held-out rows: accuracy, AUROC and the performance gap recovered."""

from __future__ import annotations

import numpy as np


def accuracy(p: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((p > 0.5) == (y > 0.5)))


def auroc(p: np.ndarray, y: np.ndarray) -> float | None:
    """Area under the ROC curve via the rank statistic (ties get half credit)."""
    y = y > 0.5
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    from scipy.stats import rankdata

    ranks = rankdata(p)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def pgr(weak: float, student: float, ceiling: float, min_gap: float = 0.02) -> float | None:
    """Performance gap recovered; None when the strong ceiling barely beats the weak floor."""
    gap = ceiling - weak
    if gap < min_gap:
        return None
    return (student - weak) / gap
