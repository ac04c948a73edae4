"""Confidence intervals that keep their promise when a study has few articles.

Judgments of one article share its difficulty, so the article (cluster) is the unit of
replication, and human studies, recipes and pilots often have only 5–25 of them. The usual
percentile bootstrap over articles covers only 81–86% at 5 articles and 87–90% at 10 for a
nominal 95%: resampling K clusters underestimates the spread by (K − 1)/K and the normal-shaped
percentile ignores that the spread itself is estimated. What replaces it, by kind
of statistic (`oversight bench coverage` measures each one):

- Means and differences of means (paired protocol differences, planning): the cluster-robust
  variance with the CR2 bias correction of Bell & McCaffrey (2002) and their Satterthwaite degrees
  of freedom, the small-sample method Imbens & Kolesár (2016) and Pustejovsky & Tipton (2018)
  recommend; for a mean it has a closed form (below), equals K − 1 degrees of freedom with
  equal-sized articles and fewer when sizes differ.
- Shares in [0, 1] (accuracy, order-debiased accuracy, accuracy by round): a symmetric t interval
  undercovers when a share is near 1 and articles are few (order-debiased accuracy, whose items
  are nearly all-or-nothing within an article, covers 0.81 at K = 5), so these use the Korn &
  Graubard (1998) interval that survey statistics use for proportions from few clusters
  (NCHS's standard; `svyciprop(method = "beta")` in R's survey package): Clopper–Pearson on the
  effective sample size p(1 − p) / V_CR2, shrunk for the degrees of freedom.
- Refitted statistics (Elo and style-controlled Elo, Fleiss' κ, Krippendorff's α): the
  delete-one-article jackknife standard error with a t quantile on K − 1 degrees of freedom. For a
  mean the jackknife is the CR3 estimator, slightly conservative, and it costs K refits instead of
  a thousand. Agreement among human judges also resamples the judges (a lenient judge shifts every
  transcript they rate): a two-way jackknife over articles and judges (`oversight.metrics.agreement`).
- Ratios (PGR): Fieller's interval from the clustered variances of numerator and denominator,
  which stays honest when the denominator (the weak-to-strong gap) is near zero: it widens, or
  becomes unbounded, instead of pretending.

With fewer than `TRUSTED_CLUSTERS` articles no interval can be trusted (every method above rests
on the spread between articles); tables say so in their `few_articles` column.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from scipy import stats

TRUSTED_CLUSTERS = 5
"""Below this many articles an interval is printed but flagged: the spread between so few articles is itself too
uncertain for any interval to keep its coverage."""
CONFIDENCE = 0.95


def few_articles(n_clusters: int | None) -> bool:
    """Whether an interval over `n_clusters` articles is too thin to be trusted (and should be flagged as such)."""
    return n_clusters is None or n_clusters < TRUSTED_CLUSTERS


def few_articles_note(n_clusters: int | None) -> str | None:
    """The one line a table prints under an interval it cannot vouch for."""
    if not few_articles(n_clusters):
        return None
    return f"only {n_clusters or 0} article(s): no interval over fewer than {TRUSTED_CLUSTERS} articles can be trusted"


def few_articles_warning(rows: Sequence[dict[str, object]]) -> str | None:
    """The line shown under a table when some of its intervals rest on too few articles to be trusted."""
    flagged = sum(1 for r in rows if r.get("few_articles"))
    if not flagged:
        return None
    return (
        f"{flagged} of {len(rows)} row(s) rest on fewer than {TRUSTED_CLUSTERS} articles (few_articles): "
        "no interval over so few articles can be trusted; judge more articles"
    )


def t_quantile(df: float, confidence: float = CONFIDENCE) -> float:
    """The two-sided t quantile of a `confidence` interval on `df` degrees of freedom (at least one)."""
    return float(stats.t.ppf(0.5 + confidence / 2.0, max(df, 1.0)))


def cluster_mean_interval(
    sums: npt.ArrayLike, counts: npt.ArrayLike, *, confidence: float = CONFIDENCE, bounds: tuple[float, float] | None = (0.0, 1.0)
) -> tuple[float, float]:
    """Interval for the pooled mean Σsums / Σcounts of clustered observations (CR2 variance, Bell–McCaffrey df).

    For the intercept-only regression the CR2 adjustment (I − H_gg)^(-1/2) reduces to dividing each
    article's squared residual total by 1 − n_g/N, and the Satterthwaite degrees of freedom to a
    sum over articles, so no K × K matrix is formed. When every observation is at one bound (all
    correct, say) the spread is zero; the interval then treats each article as one trial and takes
    the exact binomial bound, rather than collapsing to a point.
    """
    sums, counts = np.asarray(sums, dtype=np.float64), np.asarray(counts, dtype=np.float64)
    keep = counts > 0
    sums, counts = sums[keep], counts[keep]
    k = len(sums)
    if k < 2:
        return (None, None)
    total = counts.sum()
    mean = float(sums.sum() / total)
    variance, df = _cr2(sums - mean * counts, counts, total)
    if variance <= 1e-18 and bounds is not None:
        return _degenerate(mean, k, bounds, confidence)
    if bounds == (0.0, 1.0):
        return _korn_graubard(mean, variance, df, total, confidence)
    half = t_quantile(df, confidence) * math.sqrt(max(variance, 0.0))
    return _clip(mean - half, mean + half, bounds)


def _korn_graubard(share: float, variance: float, df: float, n: float, confidence: float) -> tuple[float, float]:
    """Clopper–Pearson on the effective sample size of a clustered share (Korn & Graubard 1998)."""
    effective = min(share * (1.0 - share) / variance, n) * (t_quantile(n - 1, confidence) / t_quantile(df, confidence)) ** 2
    tail = (1.0 - confidence) / 2.0
    low = float(stats.beta.ppf(tail, effective * share, effective * (1.0 - share) + 1.0)) if share > 0 else 0.0
    high = float(stats.beta.ppf(1.0 - tail, effective * share + 1.0, effective * (1.0 - share))) if share < 1 else 1.0
    return (low, high)


def _cr2(residual_totals: np.ndarray, counts: np.ndarray, total: float) -> tuple[float, float]:
    """CR2 variance of a pooled mean from each article's residual total and size, and its Bell–McCaffrey df."""
    leverage = counts / total
    adjust = 1.0 / np.maximum(1.0 - leverage, 1e-12)
    variance = float(np.sum(residual_totals**2 * adjust) / total**2)
    trace = counts.sum()
    trace_sq = np.sum(adjust**2 * counts**2) - 2.0 * np.sum(adjust**2 * counts**3) / total + np.sum(adjust * counts**2) ** 2 / total**2
    df = float(trace**2 / trace_sq) if trace_sq > 0 else float(len(counts) - 1)
    return variance, df


def _degenerate(mean: float, k: int, bounds: tuple[float, float], confidence: float) -> tuple[float, float]:
    low_bound, high_bound = bounds
    tail = (1.0 - confidence) / 2.0
    span = high_bound - low_bound
    if mean >= high_bound - 1e-12:
        return (high_bound - span * (1.0 - tail ** (1.0 / k)), high_bound)
    if mean <= low_bound + 1e-12:
        return (low_bound, low_bound + span * (1.0 - tail ** (1.0 / k)))
    return (mean, mean)


def _clip(low: float, high: float, bounds: tuple[float, float] | None) -> tuple[float, float]:
    if bounds is None:
        return (float(low), float(high))
    return (float(max(low, bounds[0])), float(min(high, bounds[1])))


def cluster_totals(values: npt.ArrayLike, clusters: Sequence[object] | npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Per-article sums and counts of `values` (articles in sorted order of their names)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return np.zeros(0), np.zeros(0)
    _, index = np.unique(np.asarray([str(c) for c in clusters]), return_inverse=True)
    n = int(index.max()) + 1
    return np.bincount(index, weights=values, minlength=n), np.bincount(index, minlength=n).astype(np.float64)


def clustered_ci(
    values: npt.ArrayLike,
    clusters: Sequence[object] | npt.ArrayLike,
    *,
    confidence: float = CONFIDENCE,
    bounds: tuple[float, float] | None = (0.0, 1.0),
) -> tuple[float | None, float | None]:
    """Interval for the mean of `values` (0/1 hits, scores, differences) whose rows are clustered by article."""
    sums, counts = cluster_totals(values, clusters)
    return cluster_mean_interval(sums, counts, confidence=confidence, bounds=bounds)


def unpaired_difference_interval(
    a: tuple[npt.ArrayLike, npt.ArrayLike], b: tuple[npt.ArrayLike, npt.ArrayLike], *, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Mean of A minus mean of B when the two use different articles (counterbalanced designs): the CR2 variances add,
    and their degrees of freedom combine by Welch–Satterthwaite. Each side is (per-article sums, counts)."""
    parts = []
    for sums, counts in (a, b):
        sums, counts = np.asarray(sums, dtype=np.float64), np.asarray(counts, dtype=np.float64)
        mean = sums.sum() / counts.sum()
        parts.append((mean, *_cr2(sums - mean * counts, counts, counts.sum())))
    (mean_a, var_a, df_a), (mean_b, var_b, df_b) = parts
    variance = var_a + var_b
    denominator = (var_a**2 / df_a if df_a > 0 else 0.0) + (var_b**2 / df_b if df_b > 0 else 0.0)
    df = variance**2 / denominator if denominator > 0 else min(df_a, df_b)
    half = t_quantile(df, confidence) * math.sqrt(variance)
    diff = mean_a - mean_b
    return (float(diff - half), float(diff + half))


def jackknife_variance(leave_one_out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per component of a statistic, the jackknife variance from its K leave-one-out values (K × p, NaN where a value
    could not be computed without that group) and how many values it rests on; NaN variance with fewer than two."""
    loo = np.asarray(leave_one_out, dtype=np.float64).reshape(len(leave_one_out), -1)
    variance, used = np.full(loo.shape[1], np.nan), np.zeros(loo.shape[1], dtype=int)
    for j in range(loo.shape[1]):
        column = loo[:, j][np.isfinite(loo[:, j])]
        used[j] = k = len(column)
        if k >= 2:
            variance[j] = (k - 1) / k * float(np.sum((column - column.mean()) ** 2))
    return variance, used


def jackknife_interval(
    estimate: np.ndarray,
    leave_one_out: np.ndarray,
    *,
    confidence: float = CONFIDENCE,
) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise intervals from a statistic's estimate and its K leave-one-article-out values (K × p, NaN where a
    value could not be computed without that article): estimate ± t(K − 1) × jackknife standard error. A component
    with fewer than two usable leave-one-out values gets NaN bounds."""
    estimate = np.atleast_1d(np.asarray(estimate, dtype=np.float64))
    variance, used = jackknife_variance(leave_one_out)
    half = np.array([t_quantile(k - 1, confidence) * math.sqrt(v) if k >= 2 else np.nan for v, k in zip(variance, used, strict=True)])
    return estimate - half, estimate + half


def leave_one_cluster_out(clusters: Sequence[object] | npt.ArrayLike) -> list[np.ndarray]:
    """Row indices that remain when each article in turn is left out (articles in sorted order of their names)."""
    _, index = np.unique(np.asarray([str(c) for c in clusters]), return_inverse=True)
    n = int(index.max()) + 1 if len(index) else 0
    return [np.flatnonzero(index != c) for c in range(n)]


def leave_one_out_values(
    statistic: Callable[[np.ndarray], npt.ArrayLike | None], clusters: Sequence[object] | npt.ArrayLike, size: int
) -> np.ndarray:
    """`statistic(rows)` without each cluster in turn (rows: indices into `clusters`), K × `size`; a statistic that
    returns None for a leave-one-out sample (undefined there) gives NaN for it."""
    values = []
    for rows in leave_one_cluster_out(clusters):
        value = statistic(rows)
        values.append(np.full(size, np.nan) if value is None else np.atleast_1d(np.asarray(value, dtype=np.float64)))
    return np.vstack(values) if values else np.full((0, size), np.nan)


def jackknife(
    statistic: Callable[[np.ndarray], npt.ArrayLike | None],
    clusters: Sequence[object] | npt.ArrayLike,
    estimate: npt.ArrayLike,
    *,
    confidence: float = CONFIDENCE,
) -> tuple[np.ndarray, np.ndarray]:
    """`jackknife_interval` of `statistic(rows)` (rows: indices into `clusters`), leaving out one article at a time."""
    estimate = np.atleast_1d(np.asarray(estimate, dtype=np.float64))
    return jackknife_interval(estimate, leave_one_out_values(statistic, clusters, estimate.size), confidence=confidence)


def fieller_ratio_interval(
    numerators: npt.ArrayLike,
    denominators: npt.ArrayLike,
    *,
    confidence: float = CONFIDENCE,
    extra_covariance: np.ndarray | None = None,
) -> tuple[float, float, float]:
    """Ratio Σnum / Σden of per-article totals with Fieller's interval (clustered variance, K − 1 df).

    The interval is the set of ratios θ for which Σ(num − θ·den) is not significantly different from zero.
    When the denominator is not itself clearly above zero the set is unbounded: the bounds come back as
    −inf/inf (or the interval is the whole line). `extra_covariance` (2 × 2, of the two totals) adds a variance
    component that article resampling cannot see (for PGR: the spread between seeds' trainings).
    """
    a, b = np.asarray(numerators, dtype=np.float64), np.asarray(denominators, dtype=np.float64)
    k = len(a)
    if k < 2:
        return (float(a.sum() / b.sum()) if k and b.sum() else math.nan, math.nan, math.nan)
    ca, cb = a - a.mean(), b - b.mean()
    cov = k / (k - 1) * np.array([[ca @ ca, ca @ cb], [ca @ cb, cb @ cb]])
    if extra_covariance is not None:
        cov = cov + extra_covariance
    total_a, total_b = float(a.sum()), float(b.sum())
    estimate = total_a / total_b if total_b != 0 else math.nan
    t2 = t_quantile(k - 1, confidence) ** 2
    # (A − θB)² ≤ t² (v_aa − 2θ v_ab + θ² v_bb)  ⇔  q2 θ² + q1 θ + q0 ≤ 0
    q2 = total_b**2 - t2 * cov[1, 1]
    q1 = -2.0 * (total_a * total_b - t2 * cov[0, 1])
    q0 = total_a**2 - t2 * cov[0, 0]
    disc = q1**2 - 4.0 * q2 * q0
    if q2 > 0 and disc >= 0:
        root = math.sqrt(disc)
        return (estimate, float((-q1 - root) / (2 * q2)), float((-q1 + root) / (2 * q2)))
    return (estimate, -math.inf, math.inf)
