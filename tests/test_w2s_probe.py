"""Weak-to-strong probe training: the logconf loss by hand, its warm-up, PGR arithmetic and its guard, early stopping on weak labels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from oversight.w2s.learners.probe import cross_entropy, harden, logconf_alpha, logconf_loss, train_probe
from oversight.w2s.scores import auroc, pgr


def test_logconf_against_a_hand_computed_case():
    p = np.array([0.9, 0.2, 0.6, 0.4])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    hard = harden(p)  # median 0.5 -> [1, 0, 1, 0]
    assert hard.tolist() == [1.0, 0.0, 1.0, 0.0]
    ce_y = -(math.log(0.9) + math.log(0.8) + math.log(0.4) + math.log(0.4)) / 4
    ce_hard = -(math.log(0.9) + math.log(0.8) + math.log(0.6) + math.log(0.6)) / 4
    assert cross_entropy(p, y) == pytest.approx(ce_y)
    assert logconf_loss(p, y, 0.25) == pytest.approx(0.75 * ce_y + 0.25 * ce_hard)


def test_logconf_alpha_ramps_instead_of_jumping():
    alphas = [logconf_alpha(s, 100, alpha_max=0.5, warmup=0.2) for s in range(100)]
    assert alphas[0] == 0.0 and alphas[10] == pytest.approx(0.25) and alphas[20] == 0.5 and alphas[-1] == 0.5
    assert max(np.diff(alphas)) <= 0.5 / 20 + 1e-12


def test_pgr_and_its_guard():
    assert pgr(0.6, 0.75, 0.9) == pytest.approx(0.5)
    assert pgr(0.6, 0.95, 0.9) == pytest.approx(350 / 300)
    assert pgr(0.70, 0.71, 0.71) is None  # ceiling − weak below the 2-point guard
    assert pgr(0.70, 0.71, 0.71, min_gap=0.005) == pytest.approx(1.0)


def test_auroc_rank_statistic():
    assert auroc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.75)
    assert auroc(np.array([0.5, 0.5]), np.array([0, 1])) == pytest.approx(0.5)
    assert auroc(np.array([0.2, 0.3]), np.array([1, 1])) is None


def test_probe_learns_and_early_stopping_uses_the_labels_it_is_given():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5))
    truth = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(float)
    probe, _ = train_probe(x[:300], truth[:300], epochs=300, lr=0.5)
    assert np.mean((probe.predict(x[300:]) > 0.5) == truth[300:]) > 0.9
    # validation labels that are the opposite of the truth must pull model selection to the start
    flipped = 1 - truth[300:]
    _, info = train_probe(x[:300], truth[:300], epochs=100, lr=0.5, x_val=x[300:], y_val=flipped)
    assert info["best_step"] == 0.0
    with pytest.raises(ValueError, match="unknown loss"):
        train_probe(x, truth, loss="hinge")
