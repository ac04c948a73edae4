"""Elo / Bradley–Terry, agreement, paired comparisons and position bias against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from oversight.metrics.agreement import agreement, cohen_kappa, paired_comparison, position_bias
from oversight.metrics.elo import elo_table


def debate_row(a: str, b: str, p_a: float, cluster: str, correct_side: str = "A") -> dict:
    return {"valid": True, "p_a": p_a, "p_b": 1 - p_a, "debaters": {"A": a, "B": b}, "cluster": cluster, "correct_side": correct_side}


def test_bradley_terry_recovers_a_known_win_rate():
    # strong beats weak 3 times out of 4: Elo gap = 400 log10(3) ≈ 190.8
    rows = []
    for i in range(200):
        wins = i % 4 != 0
        rows.append(debate_row("strong", "weak", 0.8 if wins else 0.2, f"c{i // 10}"))  # 20 articles, 7-8 wins in each
    table = {r["debater"]: r for r in elo_table(rows)}
    gap = table["strong"]["elo"] - table["weak"]["elo"]
    assert gap == pytest.approx(400 * math.log10(3), rel=0.02)
    assert table["strong"]["elo"] + table["weak"]["elo"] == pytest.approx(2000)
    assert table["strong"]["ci_low"] < table["strong"]["elo"] < table["strong"]["ci_high"]
    assert table["strong"]["rank"] == 1 and table["weak"]["rank"] == 2


def test_ranks_tie_when_intervals_overlap():
    rows = [debate_row("x", "y", 0.9 if i % 2 else 0.1, f"c{i}") for i in range(20)]  # 50/50
    table = elo_table(rows)
    assert {r["rank"] for r in table} == {1}
    assert abs(table[0]["elo"] - 1000) < 1


def test_weighted_and_by_side_variants():
    rows = [debate_row("m1", "m2", 0.7, "c1", correct_side="A"), debate_row("m2", "m1", 0.6, "c2", correct_side="A")]
    weighted = {r["debater"]: r for r in elo_table(rows, weighted=True)}
    assert weighted["m1"]["games"] == pytest.approx(2.0)
    sides = {r["debater"] for r in elo_table(rows, by_side=True)}
    assert sides == {"m1 (correct)", "m1 (incorrect)", "m2 (correct)", "m2 (incorrect)"}
    assert elo_table([debate_row("same", "same", 0.9, "c")]) == []  # self-play carries no rating information


def test_cohen_kappa_hand_computed():
    a = np.array([1, 1, 0, 0, 1, 0, 1, 1], dtype=bool)
    b = np.array([1, 0, 0, 0, 1, 1, 1, 1], dtype=bool)
    # observed 6/8; pa = 5/8, pb = 5/8; expected = 25/64 + 9/64 = 34/64
    assert cohen_kappa(a, b) == pytest.approx((0.75 - 34 / 64) / (1 - 34 / 64))
    assert cohen_kappa(np.array([True, True]), np.array([True, True])) is None


def test_agreement_on_common_items_only():
    def j(t, order, p):
        return {"valid": True, "transcript_id": t, "order": order, "p_a": p, "p_b": 1 - p}

    human = [j(1, "AB", 0.8), j(2, "AB", 0.3), j(3, "AB", 0.6)]
    model = [j(1, "AB", 0.7), j(2, "AB", 0.6), j(4, "AB", 0.9)]
    out = agreement(human, model)
    assert out["n"] == 2 and out["agreement"] == 0.5


def test_position_bias():
    rows = [
        {"valid": True, "order": "AB", "correct_side": "A", "correct": True},
        {"valid": True, "order": "BA", "correct_side": "A", "correct": False},
        {"valid": True, "order": "BA", "correct_side": "B", "correct": True},
        {"valid": False, "order": "AB", "correct_side": "A", "correct": None},
    ]
    out = position_bias(rows)
    assert out["acc_correct_first"] == 1.0 and out["acc_correct_second"] == 0.0 and out["gap"] == 1.0
    assert out["n_first"] == 2 and out["n_second"] == 1


def test_paired_comparison_difference_interval_and_p_value():
    def rows(correct_mask):
        return [
            {"valid": True, "dataset": "d", "question_id": f"q{i}", "cluster": f"art{i // 5}", "correct": bool(c)}
            for i, c in enumerate(correct_mask)
        ]

    better = rows([int(i % 10 != 0) for i in range(80)])  # 16 articles, better on every one of them
    worse = rows([i % 2 for i in range(80)])
    out = paired_comparison(better, worse, n_permutations=2000)
    assert out["n_questions"] == 80 and out["diff"] == pytest.approx(0.9 - 0.5)
    assert out["ci_low"] > 0 and out["p_value"] < 0.01 and out["n_clusters"] == 16 and not out["few_articles"]
    # the same 0.4 gain carried by only 4 articles: swapping whole articles, no p below 2/2^4 can honestly be claimed
    lumped = paired_comparison(rows([1] * 36 + [0] * 4), rows([1] * 20 + [0] * 20), n_permutations=2000)
    assert lumped["diff"] == pytest.approx(0.4) and lumped["p_value"] > 0.1
    same = paired_comparison(worse, worse, n_permutations=500)
    assert same["diff"] == 0 and same["p_value"] == 1.0


def test_accuracy_vs_elo_slope():
    from oversight.metrics.elo import accuracy_vs_elo

    table = [{"debater": "a", "elo": 1100.0}, {"debater": "b", "elo": 1000.0}, {"debater": "c", "elo": 900.0}]

    def judged(model: str, correct: bool) -> dict:
        return {"valid": True, "correct": correct, "debaters": {"A": model, "B": model}}

    rows = [judged("a", True)] * 9 + [judged("a", False)] + [judged("b", True)] * 7 + [judged("b", False)] * 3
    rows += [judged("c", True)] * 5 + [judged("c", False)] * 5
    out = accuracy_vs_elo(rows, table)
    assert {p["debater"]: p["accuracy"] for p in out["points"]} == {"a": 0.9, "b": 0.7, "c": 0.5}
    assert out["slope_per_100"] == pytest.approx(0.2)  # +20 points of accuracy per 100 Elo, exactly linear
    assert out["ci_low"] == pytest.approx(0.2) and out["ci_high"] == pytest.approx(0.2)
    assert accuracy_vs_elo([], table)["slope_per_100"] is None


def test_calibration_hand_computed():
    from oversight.metrics.calibration import calibration_summary, reliability

    def r(p_a: float, correct_side: str) -> dict:
        p_correct = p_a if correct_side == "A" else 1 - p_a
        return {"valid": True, "p_a": p_a, "p_correct": p_correct, "correct_side": correct_side}

    rows = [r(0.9, "A"), r(0.9, "A"), r(0.9, "B"), r(0.2, "B"), {"valid": False, "p_a": None, "p_correct": None, "correct_side": "A"}]
    table = {t["bin"]: t for t in reliability(rows)}
    assert table["0.9-1.0"]["n"] == 3 and table["0.9-1.0"]["observed"] == pytest.approx(2 / 3)
    assert table["0.2-0.3"]["mean_p"] == pytest.approx(0.2) and table["0.2-0.3"]["observed"] == 0.0
    out = calibration_summary(rows)
    pc = np.array([0.9, 0.9, 0.1, 0.8])
    assert out["n"] == 4
    assert out["brier"] == pytest.approx(np.mean((1 - pc) ** 2))
    assert out["log_loss"] == pytest.approx(-np.mean(np.log(pc)))
    assert out["ece"] == pytest.approx(3 / 4 * abs(0.9 - 2 / 3) + 1 / 4 * abs(0.2 - 0.0))
    assert calibration_summary([]) == {"n": 0, "brier": None, "log_loss": None, "ece": None}


def test_fleiss_kappa_and_krippendorff_alpha_by_hand():
    import numpy as np

    from oversight.metrics.agreement import fleiss_kappa, krippendorff_alpha

    table = np.array([[3, 0], [0, 3], [2, 1], [1, 2]])
    # per-unit agreement 1, 1, 1/3, 1/3 (mean 2/3); category shares 1/2, 1/2 (chance 1/2): kappa = (2/3 - 1/2) / (1/2)
    assert fleiss_kappa(table) == pytest.approx(1 / 3)
    # coincidences: o_AA = o_BB = 4, o_AB = o_BA = 2; n = 12: alpha = 1 - (4/12) / (72/132)
    assert krippendorff_alpha(table) == pytest.approx(1 - (4 / 12) / (72 / 132))
    assert fleiss_kappa(np.array([[2, 0], [3, 0]])) is None and krippendorff_alpha(np.array([[2, 0], [3, 0]])) is None
    assert fleiss_kappa(np.array([[1, 0]])) is None  # one rater per unit: nothing to agree on
    perfect = np.array([[2, 0], [0, 2], [3, 0]])
    assert fleiss_kappa(perfect) == pytest.approx(1.0) and krippendorff_alpha(perfect) == pytest.approx(1.0)


def test_human_agreement_from_judgment_rows_with_intervals():
    from oversight.metrics.agreement import human_agreement

    def verdict(unit: int, judge: str, picks_a: bool, order: str = "AB") -> dict:
        p_a = 0.8 if picks_a else 0.2
        return {"transcript_id": unit, "judge": judge, "judge_kind": "human", "valid": True, "p_a": p_a, "p_b": 1 - p_a,
                "order": order, "cluster": f"art{unit % 4}"}  # fmt: skip

    rows = [verdict(u, j, picks_a=(u % 2 == 0)) for u in range(12) for j in ("ana", "ben", "cy")]  # everyone agrees
    rows += [verdict(0, "ana", True, "BA"), verdict(1, "dee", True)]  # a second order counts once; a lone dissent
    rows += [verdict(99, "ana", True)]  # a transcript one human judged is no unit
    out = human_agreement(rows)
    assert out["units"] == 12 and out["judges"] == 4 and out["ratings"] == 37
    assert 0.8 < out["fleiss_kappa"] < 1.0 and 0.8 < out["krippendorff_alpha"] < 1.0
    assert out["kappa_ci_low"] <= out["fleiss_kappa"] <= out["kappa_ci_high"]
    assert out["alpha_ci_low"] <= out["krippendorff_alpha"] <= out["alpha_ci_high"]
