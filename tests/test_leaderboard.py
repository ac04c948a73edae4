"""Leaderboard numbers against hand-computed cases; intervals are CR2 clustered by article."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from oversight.metrics import clustered_ci, leaderboard


def row(protocol="debate", judge="j", dataset="d", correct=True, p=0.8, valid=True, cluster="c1"):
    return {"protocol": protocol, "judge": judge, "dataset": dataset, "correct": correct if valid else None,
            "p_correct": p if valid else None, "valid": valid, "cluster": cluster}  # fmt: skip


def test_hand_computed_groups():
    rows = [
        row(correct=True, p=0.9, cluster="a"),
        row(correct=False, p=0.3, cluster="a"),
        row(correct=True, p=0.6, cluster="b"),
        row(valid=False, cluster="b"),
        row(protocol="naive", correct=False, p=0.4, cluster="a"),
    ]
    board = {(r["protocol"], r["judge"]): r for r in leaderboard(rows)}
    debate = board[("debate", "j")]
    assert debate["n"] == 3 and debate["invalid"] == 1 and debate["n_clusters"] == 2
    assert debate["accuracy"] == pytest.approx(2 / 3)
    assert debate["mean_p_correct"] == pytest.approx((0.9 + 0.3 + 0.6) / 3)
    # clusters a = 1/2 correct, b = 1/1; two articles: one degree of freedom leaves almost no effective sample
    assert 0.0 <= debate["ci_low"] < debate["accuracy"] < debate["ci_high"] <= 1.0
    assert debate["ci_high"] == pytest.approx(1.0) and debate["ci_low"] < 0.1
    assert debate["few_articles"] is True  # two articles: flagged as too few to trust
    naive = board[("naive", "j")]
    assert naive["accuracy"] == 0.0 and naive["ci_low"] is None and naive["ci_high"] is None


def test_all_invalid_group_reports_counts_without_accuracy():
    out = leaderboard([row(valid=False), row(valid=False)])
    assert out[0]["n"] == 0 and out[0]["invalid"] == 2 and out[0]["accuracy"] is None and out[0]["ci_low"] is None


def test_keys_and_sorting():
    out = leaderboard([row(judge="z"), row(judge="a")])
    assert [r["judge"] for r in out] == ["a", "z"]
    assert {"protocol", "judge", "dataset", "n", "accuracy", "ci_low", "ci_high"} <= set(out[0])


def cr2_by_matrices(values: np.ndarray, clusters: np.ndarray) -> tuple[float, float]:
    """CR2 variance and Bell–McCaffrey degrees of freedom of an intercept-only regression, written the long way
    (hat matrix blocks, symmetric inverse square roots, the Satterthwaite formula of Pustejovsky & Tipton 2018)."""
    n = len(values)
    x = np.ones((n, 1))
    bread = np.linalg.inv(x.T @ x)
    resid = values - values.mean()
    meat, gs = 0.0, []
    for c in np.unique(clusters):
        rows = clusters == c
        h = x[rows] @ bread @ x[rows].T
        w, v = np.linalg.eigh(np.eye(rows.sum()) - h)
        a = v @ np.diag(w**-0.5) @ v.T
        g = (bread @ x[rows].T @ a @ resid[rows]).item()
        meat += g**2
        full = np.zeros(n)
        full[rows] = (bread @ x[rows].T @ a).ravel()
        gs.append(full)
    m = np.eye(n) - x @ bread @ x.T  # residual maker
    g = np.array(gs)  # K x n
    omega = g @ m @ m.T @ g.T
    df = np.trace(omega) ** 2 / np.trace(omega @ omega)
    return meat, df


def test_cr2_interval_matches_the_matrix_formula_with_unequal_articles():
    rng = np.random.default_rng(1)
    sizes = [3, 7, 2, 9, 5, 4]
    clusters = np.repeat(np.arange(len(sizes)), sizes)
    values = rng.integers(0, 2, len(clusters)).astype(float)
    variance, df = cr2_by_matrices(values, clusters)
    half = stats.t.ppf(0.975, df) * np.sqrt(variance)
    low, high = clustered_ci(values, clusters, bounds=None)
    assert low == pytest.approx(values.mean() - half) and high == pytest.approx(values.mean() + half)
    assert df < len(sizes) - 1  # unequal articles: fewer degrees of freedom than K - 1


def test_equal_articles_give_a_t_interval_on_k_minus_1_df():
    rng = np.random.default_rng(2)
    values = rng.integers(0, 2, 60).astype(float)
    clusters = np.repeat(np.arange(12), 5)
    means = values.reshape(12, 5).mean(axis=1)
    half = stats.t.ppf(0.975, 11) * means.std(ddof=1) / np.sqrt(12)
    assert clustered_ci(values, clusters, bounds=None) == pytest.approx((means.mean() - half, means.mean() + half))


def test_a_share_gets_clopper_pearson_on_its_effective_size():
    # 8 articles of 6 questions: the design effect shrinks n, the t ratio shrinks it again (Korn & Graubard 1998)
    values = np.array([1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1] * 2, dtype=float)
    clusters = np.repeat(np.arange(8), 6)
    share = values.mean()
    variance, df = cr2_by_matrices(values, clusters)
    effective = min(share * (1 - share) / variance, 48) * (stats.t.ppf(0.975, 47) / stats.t.ppf(0.975, df)) ** 2
    expected = (stats.beta.ppf(0.025, effective * share, effective * (1 - share) + 1),
                stats.beta.ppf(0.975, effective * share + 1, effective * (1 - share)))  # fmt: skip
    low, high = clustered_ci(values, clusters)
    assert (low, high) == pytest.approx(expected)
    assert 0 < low < share < high < 1 and high - share < share - low  # asymmetric near the ceiling, never past it


def test_clustering_widens_the_interval_on_clustered_data():
    # 10 articles, 20 questions each; whole articles are right or wrong together
    values = np.repeat([1, 0, 1, 1, 0, 1, 0, 1, 1, 0], 20).astype(float)
    clustered = clustered_ci(values, np.repeat(np.arange(10), 20))
    independent = clustered_ci(values, np.arange(200))
    assert (clustered[1] - clustered[0]) > 2 * (independent[1] - independent[0])


def test_interval_edges():
    # one article: no spread between articles, no interval
    assert clustered_ci([1, 0], ["a", "a"]) == (None, None)
    assert clustered_ci([], []) == (None, None)
    # every judgment correct on 5 articles: not a point, the exact one-sided bound with one trial per article
    low, high = clustered_ci([1.0] * 10, list("aabbccddee"))
    assert high == 1.0 and low == pytest.approx(0.025 ** (1 / 5))
    low, high = clustered_ci([0.0] * 10, list("aabbccddee"))
    assert low == 0.0 and high == pytest.approx(1 - 0.025 ** (1 / 5))
    # an interval never leaves [0, 1], and near the ceiling it is lopsided rather than cut off
    low, high = clustered_ci([1, 1, 1, 1, 1, 0], list("abcdef"))
    assert 0.0 < low < 5 / 6 < high < 1.0 and high - 5 / 6 < 5 / 6 - low


def judged_both_ways(transcript: int, p_first_when_first_correct: float, p_first_when_first_wrong: float, cluster: str) -> list[dict]:
    """One transcript (correct answer A) judged in both orders by a judge whose P(first shown answer) is given."""
    ab = p_first_when_first_correct  # AB: A (correct) is shown first
    ba = p_first_when_first_wrong  # BA: B (wrong) is shown first, so P(correct) = 1 - P(first)
    common = {"protocol": "naive", "judge": "j", "dataset": "d", "valid": True, "cluster": cluster, "transcript_id": transcript}
    return [
        common | {"order": "AB", "p_a": ab, "p_b": 1 - ab, "p_correct": ab, "correct": ab > 0.5},
        common | {"order": "BA", "p_a": 1 - ba, "p_b": ba, "p_correct": 1 - ba, "correct": 1 - ba > 0.5},
    ]


def test_order_debiased_accuracy_and_the_position_bias_flag():
    # always prefers the first answer, a little more when it is right: raw accuracy 0.5, debiased 1.0 (0.8 and 0.4 average 0.6)
    knows = [r for t in range(4) for r in judged_both_ways(t, 0.8, 0.6, cluster=f"c{t}")]
    (board,) = leaderboard(knows)
    assert board["accuracy"] == 0.5 and board["debiased_accuracy"] == 1.0
    assert board["swap_consistency"] == 0.0 and board["position_biased"] is True
    # pure position bias: every item ties after averaging and earns half
    blind = [r for t in range(4) for r in judged_both_ways(t, 0.7, 0.7, cluster=f"c{t}")]
    (board,) = leaderboard(blind)
    assert board["debiased_accuracy"] == 0.5 and board["debiased_ci_low"] == board["debiased_ci_high"] == 0.5
    # a judge that reads the answers: consistent in both orders, not flagged
    reads = [r for t in range(4) for r in judged_both_ways(t, 0.9, 0.2, cluster=f"c{t}")]
    (board,) = leaderboard(reads)
    assert board["accuracy"] == 1.0 and board["debiased_accuracy"] == 1.0 and board["position_biased"] is False
