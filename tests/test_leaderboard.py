"""Leaderboard numbers against hand-computed cases; the bootstrap resamples clusters."""

from __future__ import annotations

import numpy as np
import pytest

from oversight.metrics import clustered_bootstrap_ci, leaderboard


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
    board = {(r["protocol"], r["judge"]): r for r in leaderboard(rows, n_resamples=200)}
    debate = board[("debate", "j")]
    assert debate["n"] == 3 and debate["invalid"] == 1 and debate["n_clusters"] == 2
    assert debate["accuracy"] == pytest.approx(2 / 3)
    assert debate["mean_p_correct"] == pytest.approx((0.9 + 0.3 + 0.6) / 3)
    # clusters: a = 1/2 correct, b = 1/1 -> resampled means lie in {0.5, 2/3, 1}
    assert 0.5 - 1e-9 <= debate["ci_low"] <= debate["accuracy"] <= debate["ci_high"] <= 1.0
    naive = board[("naive", "j")]
    assert naive["accuracy"] == 0.0 and naive["ci_low"] == 0.0 and naive["ci_high"] == 0.0


def test_all_invalid_group_reports_counts_without_accuracy():
    out = leaderboard([row(valid=False), row(valid=False)])
    assert out[0]["n"] == 0 and out[0]["invalid"] == 2 and out[0]["accuracy"] is None and out[0]["ci_low"] is None


def test_keys_and_sorting():
    out = leaderboard([row(judge="z"), row(judge="a")])
    assert [r["judge"] for r in out] == ["a", "z"]
    assert {"protocol", "judge", "dataset", "n", "accuracy", "ci_low", "ci_high"} <= set(out[0])


def test_bootstrap_matches_an_independent_loop():
    rng = np.random.default_rng(1)
    values = rng.integers(0, 2, 60).astype(float)
    clusters = np.repeat(np.arange(12), 5)
    low, high = clustered_bootstrap_ci(values, clusters, n_resamples=2000, seed=7)
    # independent re-implementation: explicit loop over resamples
    rng2 = np.random.default_rng(7)
    draws = rng2.integers(0, 12, size=(2000, 12))
    means = [np.concatenate([values[clusters == c] for c in d]).mean() for d in draws]
    assert low == pytest.approx(np.quantile(means, 0.025))
    assert high == pytest.approx(np.quantile(means, 0.975))


def test_clustering_widens_the_interval_on_clustered_data():
    # 10 articles, 20 questions each; whole articles are right or wrong together
    values = np.repeat([1, 0, 1, 1, 0, 1, 0, 1, 1, 0], 20).astype(float)
    clustered = clustered_bootstrap_ci(values, np.repeat(np.arange(10), 20), seed=0)
    independent = clustered_bootstrap_ci(values, np.arange(200), seed=0)
    assert (clustered[1] - clustered[0]) > 2 * (independent[1] - independent[0])


def test_bootstrap_is_reproducible_and_handles_edges():
    v, c = [1, 0, 1, 1], ["a", "b", "c", "d"]
    assert clustered_bootstrap_ci(v, c, seed=3) == clustered_bootstrap_ci(v, c, seed=3)
    assert clustered_bootstrap_ci([1, 0], ["a", "a"]) == (0.5, 0.5)
    assert all(np.isnan(x) for x in clustered_bootstrap_ci([], []))


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
    (board,) = leaderboard(knows, n_resamples=200)
    assert board["accuracy"] == 0.5 and board["debiased_accuracy"] == 1.0
    assert board["swap_consistency"] == 0.0 and board["position_biased"] is True
    # pure position bias: every item ties after averaging and earns half
    blind = [r for t in range(4) for r in judged_both_ways(t, 0.7, 0.7, cluster=f"c{t}")]
    (board,) = leaderboard(blind, n_resamples=200)
    assert board["debiased_accuracy"] == 0.5 and board["debiased_ci_low"] == board["debiased_ci_high"] == 0.5
    # a judge that reads the answers: consistent in both orders, not flagged
    reads = [r for t in range(4) for r in judged_both_ways(t, 0.9, 0.2, cluster=f"c{t}")]
    (board,) = leaderboard(reads, n_resamples=200)
    assert board["accuracy"] == 1.0 and board["debiased_accuracy"] == 1.0 and board["position_biased"] is False
