"""Weak-to-strong supervision (Burns et al. 2023) with linear probes on frozen features.

Pipeline: split the questions (seeded, disjoint) into weak-train, transfer, validation and test;
train the weak supervisor on ground truth (weak floor); let it label the transfer set with soft
probabilities; train the strong student on those labels, selecting the stopping point on the
*weak* labels of the validation split (ground truth never reaches the student); train the strong
model on the transfer set's ground truth (ceiling); report accuracy, AUROC and
PGR = (student − weak) / (ceiling − weak), withheld when the gap is too small to mean anything.

Each two-option question becomes two examples ("question + option", label 1 for the correct one);
both stay in the same split, so no question leaks across splits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel

from oversight.data.question import Question
from oversight.w2s_probe import accuracy, auroc, pgr, train_probe

SPLIT_FRACTIONS = {"weak_train": 0.25, "transfer": 0.35, "validation": 0.15, "test": 0.25}


class Splits(BaseModel):
    weak_train: list[int]
    transfer: list[int]
    validation: list[int]
    test: list[int]

    def examples(self, name: str) -> np.ndarray:
        """Example rows of a split: question i gives rows 2i and 2i+1."""
        qs = np.array(getattr(self, name), dtype=int)
        return np.sort(np.concatenate([2 * qs, 2 * qs + 1])) if len(qs) else np.array([], dtype=int)


def make_splits(n_questions: int, seed: int) -> Splits:
    if n_questions < 8:
        raise ValueError(f"weak-to-strong needs at least 8 questions, got {n_questions}")
    order = np.random.default_rng(seed).permutation(n_questions)
    cuts = np.cumsum([int(round(f * n_questions)) for f in SPLIT_FRACTIONS.values()])[:-1]
    parts = np.split(order, cuts)
    return Splits(**{name: sorted(int(i) for i in part) for name, part in zip(SPLIT_FRACTIONS, parts, strict=True)})


def examples(questions: list[Question], seed: int) -> tuple[list[str], np.ndarray]:
    """Two examples per question: its text with the correct option (1) and with the distractor (0)."""
    texts, labels = [], []
    for q in questions:
        pair = q.two_options(seed)
        wrong = pair[0] if pair[0] != q.answer else pair[1]
        for option, label in ((q.answer, 1.0), (wrong, 0.0)):
            texts.append(f"Question: {q.question}\nAnswer: {q.options[option]}")
            labels.append(label)
    return texts, np.array(labels)


@dataclass
class SeedResult:
    seed: int
    weak: dict[str, float | None]
    student: dict[str, float | None]
    ceiling: dict[str, float | None]
    pgr: float | None
    weak_labels: list[float] = field(repr=False, default_factory=list)
    student_predictions: list[float] = field(repr=False, default_factory=list)


def _scores(p: np.ndarray, y: np.ndarray) -> dict[str, float | None]:
    return {"accuracy": accuracy(p, y), "auroc": auroc(p, y)}


def run_seed(weak_x: np.ndarray, strong_x: np.ndarray, y: np.ndarray, seed: int, *, loss: str = "xent", epochs: int = 300) -> SeedResult:
    splits = make_splits(len(y) // 2, seed)
    wt, tr, va, te = (splits.examples(n) for n in ("weak_train", "transfer", "validation", "test"))
    weak, _ = train_probe(weak_x[wt], y[wt], epochs=epochs, seed=seed)
    weak_on_transfer = weak.predict(weak_x[tr])
    weak_on_validation = weak.predict(weak_x[va])
    # the student sees weak labels only, for training and for model selection
    student, _ = train_probe(
        strong_x[tr], weak_on_transfer, loss=loss, epochs=epochs, seed=seed, x_val=strong_x[va], y_val=weak_on_validation
    )
    ceiling, _ = train_probe(strong_x[tr], y[tr], epochs=epochs, seed=seed, x_val=strong_x[va], y_val=y[va])
    w, s, c = (_scores(m.predict(x[te]), y[te]) for m, x in ((weak, weak_x), (student, strong_x), (ceiling, strong_x)))
    return SeedResult(
        seed=seed, weak=w, student=s, ceiling=c, pgr=pgr(w["accuracy"], s["accuracy"], c["accuracy"]),  # type: ignore[arg-type]
        weak_labels=weak_on_transfer.tolist(), student_predictions=student.predict(strong_x[te]).tolist(),
    )  # fmt: skip


def summarize(results: list[SeedResult]) -> dict[str, Any]:
    """Mean and 95% t-interval over seeds for every accuracy and for PGR (seeds with a guarded PGR are left out of its mean)."""
    from scipy import stats

    def interval(values: list[float]) -> dict[str, float | None]:
        if not values:
            return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
        arr = np.array(values, dtype=float)
        if len(arr) == 1:
            return {"mean": float(arr[0]), "ci_low": None, "ci_high": None, "n": 1}
        half = stats.t.ppf(0.975, len(arr) - 1) * arr.std(ddof=1) / np.sqrt(len(arr))
        return {"mean": float(arr.mean()), "ci_low": float(arr.mean() - half), "ci_high": float(arr.mean() + half), "n": len(arr)}

    out: dict[str, Any] = {}
    for role in ("weak", "student", "ceiling"):
        out[role] = {m: interval([getattr(r, role)[m] for r in results if getattr(r, role)[m] is not None]) for m in ("accuracy", "auroc")}
    out["pgr"] = interval([r.pgr for r in results if r.pgr is not None])
    out["pgr_withheld_seeds"] = [r.seed for r in results if r.pgr is None]
    if out["pgr_withheld_seeds"]:
        out["warning"] = "ceiling − weak was under 2 accuracy points on some seeds: their PGR is withheld"
    return out
