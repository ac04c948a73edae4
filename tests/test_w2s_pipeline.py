"""The weak-to-strong pipeline: disjoint seeded splits, weak labels only for the student, PGR over seeds."""

from __future__ import annotations

import numpy as np
import pytest

import oversight.w2s.pipeline as w2s
from conftest import TRUTHFULQA
from oversight.data import load_dataset
from oversight.metrics.pgr import summarize
from oversight.w2s.features import bow_features, features
from oversight.w2s.learners import ProbeLearner


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


class Spy(ProbeLearner):
    """A probe that records what every fit was given."""

    def __init__(self, name: str, x: np.ndarray, **kw) -> None:
        super().__init__(name, x, **kw)
        self.fits: list[dict] = []

    def fit(self, rows, targets, *, val_rows, val_targets, loss, seed):
        self.fits.append({"rows": rows.copy(), "targets": targets.copy(), "val_rows": val_rows, "val_targets": val_targets, "loss": loss})
        return super().fit(rows, targets, val_rows=val_rows, val_targets=val_targets, loss=loss, seed=seed)


def learners(weak_x, strong_x, epochs=150):
    return ProbeLearner("weak", weak_x, epochs=epochs), ProbeLearner("strong", strong_x, epochs=epochs)


def test_student_never_sees_ground_truth():
    weak_x, strong_x, y = synthetic()
    weak, strong = Spy("weak", weak_x, epochs=50), Spy("strong", strong_x, epochs=50)
    result = w2s.run_seed(weak, strong, y, seed=0, loss="logconf")
    splits = w2s.make_splits(len(y) // 2, 0)
    tr, va = splits.examples("transfer"), splits.examples("validation")
    student, ceiling = strong.fits
    assert np.array_equal(student["rows"], tr) and np.allclose(student["targets"], result.weak_labels)  # the weak labels, as stored
    assert set(np.unique(student["targets"])) - {0.0, 1.0}  # ...which are probabilities, not ground truth
    assert not np.array_equal(student["val_targets"], y[va]) and set(np.unique(student["val_targets"])) - {0.0, 1.0}  # selection too
    assert student["loss"] == "logconf" and ceiling["loss"] == "xent"
    assert np.array_equal(ceiling["targets"], y[tr])  # the ceiling is the one strong fit that sees ground truth
    (weak_fit,) = weak.fits
    assert np.array_equal(weak_fit["rows"], splits.examples("weak_train")) and np.array_equal(weak_fit["targets"], y[weak_fit["rows"]])


def test_bootstrapping_passes_labels_down_a_chain_without_ground_truth():
    weak_x, strong_x, y = synthetic()
    mid_x = (weak_x + strong_x) / 2
    weak, mid, strong = Spy("weak", weak_x, epochs=50), Spy("mid", mid_x, epochs=50), Spy("strong", strong_x, epochs=50)
    result = w2s.run_seed(weak, strong, y, seed=1, intermediates=[mid])
    splits = w2s.make_splits(len(y) // 2, 1)
    tr = splits.examples("transfer")
    (mid_fit,), (student, ceiling) = mid.fits, strong.fits
    assert len(np.intersect1d(mid_fit["rows"], student["rows"])) == 0  # each step labels data its teacher never trained on
    assert np.array_equal(np.sort(np.concatenate([mid_fit["rows"], student["rows"]])), tr)
    assert set(mid_fit["rows"] // 2).isdisjoint(student["rows"] // 2)  # cut along question boundaries
    weak_by_row = dict(zip(tr.tolist(), result.weak_labels, strict=True))
    assert np.allclose(mid_fit["targets"], [weak_by_row[r] for r in mid_fit["rows"]])  # the intermediate learns the weak labels
    assert not np.allclose(student["targets"], y[student["rows"]])  # the student learns the intermediate's, not the truth
    assert set(np.unique(student["targets"])) - {0.0, 1.0} and set(np.unique(student["val_targets"])) - {0.0, 1.0}
    assert np.array_equal(ceiling["rows"], tr)
    assert result.intermediates[0]["model"] == "mid" and 0 <= result.intermediates[0]["accuracy"] <= 1
    assert summarize([result.metrics()])["intermediates"][0]["accuracy"]["n"] == 1


def test_pgr_over_seeds_with_confidence_intervals():
    weak_x, strong_x, y = synthetic()
    results = [w2s.run_seed(*learners(weak_x, strong_x), y, seed=s) for s in range(3)]
    summary = summarize([r.metrics() for r in results])
    assert summary["ceiling"]["accuracy"]["mean"] > summary["weak"]["accuracy"]["mean"] + 0.05
    assert summary["pgr"]["n"] == 3 and summary["pgr"]["ci_low"] < summary["pgr"]["mean"] < summary["pgr"]["ci_high"]
    r = results[0]
    assert r.pgr == pytest.approx((r.student["accuracy"] - r.weak["accuracy"]) / (r.ceiling["accuracy"] - r.weak["accuracy"]))


def test_pgr_is_withheld_when_weak_and_strong_are_the_same():
    weak_x, _, y = synthetic()
    results = [w2s.run_seed(*learners(weak_x, weak_x, epochs=100), y, seed=s) for s in range(2)]
    summary = summarize([r.metrics() for r in results])
    withheld = [r.seed for r in results if r.pgr is None]
    assert summary["pgr_withheld_seeds"] == withheld
    if withheld:
        assert "withheld" in summary["warning"]


def test_bow_features_on_truthfulqa_are_cached(tmp_path):
    _, questions = load_dataset(TRUTHFULQA, limit=40)
    ex = w2s.examples(questions, seed=0)
    texts = ex.texts
    assert len(texts) == 80 and ex.labels == [1.0, 0.0] * 40
    assert [questions[i // 2].options[o] for i, o in enumerate(ex.option_indices)] == [t.split("\nAnswer: ", 1)[1] for t in texts]
    first = features("bow", texts, cache_dir=tmp_path)
    assert len(list((tmp_path / "bow").glob("*.npy"))) == 80
    assert np.array_equal(features("bow", texts, cache_dir=tmp_path), first) and np.array_equal(first, bow_features(texts))
