"""Bootstrap confidence intervals that resample whole clusters (articles), not single judgments.

Questions about one article share its difficulty, so treating them as independent makes
intervals too narrow; resampling articles keeps that dependence (Khan et al. 2024 do the same).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt


def clustered_bootstrap_ci(
    values: npt.ArrayLike,
    clusters: npt.ArrayLike,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval for the mean of `values`, resampling clusters with replacement."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return (float("nan"), float("nan"))
    _, cluster_index = np.unique(np.asarray(clusters), return_inverse=True)
    n_clusters = int(cluster_index.max()) + 1
    sums = np.bincount(cluster_index, weights=values, minlength=n_clusters)
    counts = np.bincount(cluster_index, minlength=n_clusters).astype(np.float64)
    return bootstrap_from_cluster_sums(sums, counts, n_resamples=n_resamples, confidence=confidence, seed=seed)


def bootstrap_from_cluster_sums(
    sums: npt.ArrayLike, counts: npt.ArrayLike, *, n_resamples: int = 1000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """The same interval from per-cluster totals (clusters in sorted order of their names), as SQL can aggregate them."""
    sums = np.asarray(sums, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    n_clusters = len(sums)
    if n_clusters == 0:
        return (float("nan"), float("nan"))
    if n_clusters == 1:
        mean = float(sums[0] / counts[0])
        return (mean, mean)
    means = resampled_means(sums, counts, n_resamples, np.random.default_rng(seed))
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return (float(low), float(high))


def resampled_means(sums: np.ndarray, counts: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """The mean of each bootstrap resample of whole clusters: total of the drawn clusters' sums over total of their sizes."""
    draws = rng.integers(0, len(sums), size=(n_resamples, len(sums)))
    return sums[draws].sum(axis=1) / counts[draws].sum(axis=1)


def cluster_resamples(clusters: npt.ArrayLike, n_resamples: int, seed: int = 0) -> Iterator[np.ndarray]:
    """Row indices of each bootstrap resample that draws whole clusters with replacement (for statistics that need
    the rows themselves, such as a refitted rating or an agreement coefficient)."""
    _, index = np.unique(np.asarray(clusters), return_inverse=True)
    n_clusters = int(index.max()) + 1 if len(index) else 0
    members = [np.flatnonzero(index == c) for c in range(n_clusters)]
    rng = np.random.default_rng(seed)
    for _ in range(n_resamples):
        yield np.concatenate([members[c] for c in rng.integers(0, n_clusters, n_clusters)])
