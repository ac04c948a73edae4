"""The weak-to-strong pipeline: disjoint seeded splits, weak labels only for the student, PGR over seeds."""

from __future__ import annotations

import numpy as np
import pytest

import oversight.protocols.weak_to_strong as w2s
from conftest import SHARED_DATA
from oversight.data import load_dataset
from oversight.w2s_features import bow_features, features


def test_splits_are_disjoint_cover_everything_and_follow_the_seed():
    s = w2s.make_splits(100, seed=3)
    parts = [set(s.weak_train), set(s.transfer), set(s.validation), set(s.test)]
    assert sum(len(p) for p in parts) == 100 and set().union(*parts) == set(range(100))
    assert all(not (a & b) for i, a in enumerate(parts) for b in parts[i + 1 :])
    assert w2s.make_splits(100, seed=3) == s and w2s.make_splits(100, seed=4) != s
    rows = s.examples("test")
    assert set(rows // 2) == set(s.test) and len(rows) == 2 * len(s.test)  # both options of a question stay together
    with pytest.raises(ValueError, match="at least 8 questions"):
        w2s.make_splits(5, 0)


def synthetic(n_questions: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.tile([1.0, 0.0], n_questions)
    signal = (y - 0.5)[:, None]
    strong = signal * 2.0 + rng.normal(size=(len(y), 8))
    weak = signal * 0.5 + rng.normal(size=(len(y), 8)) * 1.5
    return weak, strong, y


def test_student_never_sees_ground_truth(monkeypatch: pytest.MonkeyPatch):
    weak_x, strong_x, y = synthetic()
    calls = []
    real = w2s.train_probe

    def spy(x, labels, **kw):
        calls.append((labels.copy(), kw.get("y_val")))
        return real(x, labels, **kw)

    monkeypatch.setattr(w2s, "train_probe", spy)
    w2s.run_seed(weak_x, strong_x, y, seed=0, epochs=50)
    (_, _), (student_y, student_val), (_, _) = calls
    splits = w2s.make_splits(len(y) // 2, 0)
    assert not np.array_equal(student_y, y[splits.examples("transfer")])  # trained on soft weak labels
    assert set(np.unique(student_y)) - {0.0, 1.0}  # ...which are probabilities, not ground truth
    assert not np.array_equal(student_val, y[splits.examples("validation")])  # selected on weak labels too


def test_pgr_over_seeds_with_confidence_intervals():
    weak_x, strong_x, y = synthetic()
    results = [w2s.run_seed(weak_x, strong_x, y, seed=s, epochs=150) for s in range(3)]
    summary = w2s.summarize(results)
    assert summary["ceiling"]["accuracy"]["mean"] > summary["weak"]["accuracy"]["mean"] + 0.05
    assert summary["pgr"]["n"] == 3 and summary["pgr"]["ci_low"] < summary["pgr"]["mean"] < summary["pgr"]["ci_high"]
    r = results[0]
    assert r.pgr == pytest.approx((r.student["accuracy"] - r.weak["accuracy"]) / (r.ceiling["accuracy"] - r.weak["accuracy"]))


def test_pgr_is_withheld_when_weak_and_strong_are_the_same():
    weak_x, _, y = synthetic()
    results = [w2s.run_seed(weak_x, weak_x, y, seed=s, epochs=100) for s in range(2)]
    summary = w2s.summarize(results)
    withheld = [r.seed for r in results if r.pgr is None]
    assert summary["pgr_withheld_seeds"] == withheld
    if withheld:
        assert "withheld" in summary["warning"]


def test_bow_features_on_truthfulqa_are_cached(tmp_path):
    _, questions = load_dataset(SHARED_DATA / "truthfulqa" / "TruthfulQA.csv", limit=40)
    texts, labels = w2s.examples(questions, seed=0)
    assert len(texts) == 80 and labels.tolist() == [1.0, 0.0] * 40
    first = features("bow", texts, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.npy"))) == 80
    assert np.array_equal(features("bow", texts, cache_dir=tmp_path), first) and np.array_equal(first, bow_features(texts))
