"""Comparisons between judges and between protocols on the same items.

- Agreement of two judges (say, humans and a model) on the same transcripts and orders: the rate
  at which they pick the same answer, Cohen's kappa, and the correlation of their probabilities.
- Paired comparison of two conditions on the same questions: difference in accuracy with a
  paired interval clustered by article (CR2) and a permutation p-value (conditions swapped for whole articles).
- Position bias: accuracy when the correct answer is shown first vs second.
- Agreement among several human judges on shared transcripts: Fleiss' kappa and Krippendorff's
  alpha (nominal), each with a jackknife interval over both articles and judges.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, NamedTuple

import numpy as np

from oversight.metrics.intervals import cluster_totals, clustered_ci, few_articles, jackknife_variance, leave_one_out_values, t_quantile


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
    rows_a: list[dict[str, Any]], rows_b: list[dict[str, Any]], *, n_permutations: int = 10000, seed: int = 0
) -> dict[str, Any]:
    """Accuracy of condition A minus condition B on the questions both judged (pairs keyed by question).

    Each question contributes its mean correctness under each condition; the interval is clustered by
    article (CR2, `oversight.metrics.intervals`) and the permutation test swaps the two conditions for all
    of an article's questions at once (questions of one article are not exchangeable on their own).
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
    clusters = [str(qa[k][1]) for k in keys]
    low, high = clustered_ci(d, clusters, bounds=(-1.0, 1.0))
    rng = np.random.default_rng(seed)
    observed = float(d.mean())
    article_sums, _ = cluster_totals(d, clusters)
    signs = rng.choice([-1.0, 1.0], size=(n_permutations, len(article_sums)))
    permuted = np.abs(signs @ article_sums / len(d))
    p_value = float((1 + np.sum(permuted >= abs(observed) - 1e-12)) / (n_permutations + 1))
    return {
        "n_questions": len(keys),
        "acc_a": float(a.mean()),
        "acc_b": float(b.mean()),
        "diff": observed,
        "ci_low": low,
        "ci_high": high,
        "p_value": p_value,
        "n_clusters": len(set(clusters)),
        "few_articles": few_articles(len(set(clusters))),
    }


def fleiss_kappa(counts: np.ndarray) -> float | None:
    """Fleiss' kappa from a units × categories table of how many raters chose each category; units may have different
    numbers of raters (each unit needs at least two). None when chance agreement is total."""
    counts = np.asarray(counts, dtype=float)
    n = counts.sum(axis=1)
    counts, n = counts[n >= 2], n[n >= 2]
    if counts.size == 0:
        return None
    agreement_per_unit = (np.sum(counts**2, axis=1) - n) / (n * (n - 1))
    shares = counts.sum(axis=0) / n.sum()
    expected = float(np.sum(shares**2))
    if expected >= 1.0:
        return None
    return (float(agreement_per_unit.mean()) - expected) / (1.0 - expected)


def krippendorff_alpha(counts: np.ndarray) -> float | None:
    """Krippendorff's alpha for nominal data from the same table (the `krippendorff` package); None when undefined."""
    import krippendorff

    counts = np.asarray(counts, dtype=float)
    counts = counts[counts.sum(axis=1) >= 2]
    if counts.size == 0 or np.count_nonzero(counts.sum(axis=0)) < 2:
        return None  # every pairable value is the same: no disagreement is possible, alpha is undefined
    value = float(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal"))
    return value if np.isfinite(value) else None


class Votes(NamedTuple):
    """One decided vote per (transcript, human judge) on transcripts with at least two: the transcript's index, the
    judge's, its article's, and the choice."""

    unit: np.ndarray
    judge: np.ndarray
    article: np.ndarray
    chose_b: np.ndarray
    n_units: int

    def table(self, keep: np.ndarray | None = None) -> np.ndarray:
        """Units with at least two of the kept votes (row indices) × (chose A, chose B) counts."""
        unit, chose_b = (self.unit, self.chose_b) if keep is None else (self.unit[keep], self.chose_b[keep])
        counts = np.stack([np.bincount(unit, ~chose_b, self.n_units), np.bincount(unit, chose_b, self.n_units)], axis=1)
        return counts[counts.sum(axis=1) >= 2]


def human_votes(rows: list[dict[str, Any]]) -> Votes:
    """The human judges' votes of `rows` on transcripts two or more of them decided. A judge who saw a transcript in
    both orders counts once, by the mean of their probabilities; an undecided judge (equal probabilities) gives that
    transcript no vote."""
    per_judge: dict[tuple[Any, str], list[float]] = defaultdict(list)
    cluster: dict[Any, str] = {}
    for r in rows:
        if r.get("judge_kind") == "human" and r.get("valid") and r.get("p_a") is not None and r.get("p_b") is not None:
            per_judge[(r["transcript_id"], r["judge"])].append(float(r["p_a"]) - float(r["p_b"]))
            cluster[r["transcript_id"]] = str(r.get("cluster"))
    decided = [(unit, judge, sum(m) / len(m)) for (unit, judge), m in per_judge.items() if sum(m) != 0]
    voters: dict[Any, int] = defaultdict(int)
    for unit, _, _ in decided:
        voters[unit] += 1
    decided = [v for v in decided if voters[v[0]] >= 2]
    units = {u: i for i, u in enumerate(dict.fromkeys(u for u, _, _ in decided))}
    judges = {j: i for i, j in enumerate(sorted({j for _, j, _ in decided}))}
    articles = {a: i for i, a in enumerate(sorted({cluster[u] for u in units}))}
    return Votes(
        unit=np.array([units[u] for u, _, _ in decided], dtype=np.intp),
        judge=np.array([judges[j] for _, j, _ in decided], dtype=np.intp),
        article=np.array([articles[cluster[u]] for u, _, _ in decided], dtype=np.intp),
        chose_b=np.array([m < 0 for _, _, m in decided], dtype=bool),
        n_units=len(units),
    )


def human_agreement(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Fleiss' kappa and Krippendorff's alpha among the human judges of `rows`, with 95% intervals.

    Articles and judges are both crossed random factors: a study's judges are a sample of judges as its articles are
    of articles, and a lenient judge shifts every transcript they rate. The variance is two-way clustered (Cameron,
    Gelbach & Miller 2011) with jackknives: delete-one-article plus delete-one-judge minus delete-one-(article, judge)
    cell (the larger one-way variance where that difference is not positive), with a t quantile on
    min(articles, judges) − 1 degrees of freedom. With the article jackknife alone, a study drawing 3 of 12 judges per
    transcript covers only about 0.92 at 50 articles; flooring the two-way variance at both one-way ones over-covers
    (0.97); the plain two-way variance covers 0.94–0.95 at 10 to 50 articles (`oversight bench coverage`).
    """
    votes = human_votes(rows)
    table = votes.table()
    out: dict[str, Any] = {"units": len(table), "judges": len(set(votes.judge.tolist())), "ratings": int(table.sum())}
    out["fleiss_kappa"], out["krippendorff_alpha"] = fleiss_kappa(table), krippendorff_alpha(table)
    out.update(dict.fromkeys(("kappa_ci_low", "kappa_ci_high", "alpha_ci_low", "alpha_ci_high")))
    out["n_clusters"] = len(set(votes.article.tolist()))
    out["few_articles"] = few_articles(out["n_clusters"])
    for name, statistic in (("kappa", fleiss_kappa), ("alpha", krippendorff_alpha)):
        estimate = out["fleiss_kappa" if name == "kappa" else "krippendorff_alpha"]
        if estimate is None or out["n_clusters"] < 2:
            continue

        def variance_over(groups: np.ndarray, f: Any = statistic) -> tuple[float, int]:
            v, used = jackknife_variance(leave_one_out_values(lambda keep: f(votes.table(keep)), groups, 1))
            return float(v[0]), int(used[0])

        variance, articles = variance_over(votes.article)
        df = articles - 1
        if out["judges"] >= 3:  # with two judges, leaving one out leaves nobody to agree with
            by_judge, judges = variance_over(votes.judge)
            by_cell, _ = variance_over(votes.article * (int(votes.judge.max()) + 1) + votes.judge)
            two_way = variance + by_judge - by_cell
            variance, df = (two_way if two_way > 0 else max(variance, by_judge)), min(articles, judges) - 1
        if np.isfinite(variance) and np.isfinite(df) and df >= 1:
            half = t_quantile(df) * math.sqrt(variance)
            out[f"{name}_ci_low"], out[f"{name}_ci_high"] = float(max(estimate - half, -1.0)), float(min(estimate + half, 1.0))
    return out
