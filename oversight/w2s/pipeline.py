"""Weak-to-strong supervision (Burns et al. 2023): weak floor, student on weak labels, strong ceiling, PGR.

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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel

from oversight.data.question import Question
from oversight.w2s.learners.base import Learner
from oversight.w2s.scores import accuracy, auroc, pgr

MIN_QUESTIONS = 8
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
    if n_questions < MIN_QUESTIONS:
        raise ValueError(f"weak-to-strong needs at least {MIN_QUESTIONS} questions, got {n_questions}")
    order = np.random.default_rng(seed).permutation(n_questions)
    cuts = np.cumsum([int(round(f * n_questions)) for f in SPLIT_FRACTIONS.values()])[:-1]
    parts = np.split(order, cuts)
    return Splits(**{name: sorted(int(i) for i in part) for name, part in zip(SPLIT_FRACTIONS, parts, strict=True)})


class Examples(BaseModel):
    """Two examples per question, in row order: row 2i is question i with its correct option, 2i+1 with the distractor."""

    texts: list[str]
    labels: list[float]
    option_indices: list[int]

    @property
    def y(self) -> np.ndarray:
        return np.array(self.labels)


def examples(questions: list[Question], seed: int = 0) -> Examples:
    texts, labels, options = [], [], []
    for q in questions:
        pair = q.two_options(seed)
        wrong = pair[0] if pair[0] != q.answer else pair[1]
        for option, label in ((q.answer, 1.0), (wrong, 0.0)):
            texts.append(f"Question: {q.question}\nAnswer: {q.options[option]}")
            labels.append(label)
            options.append(option)
    return Examples(texts=texts, labels=labels, option_indices=options)


@dataclass
class SeedResult:
    seed: int
    weak: dict[str, float | None]
    student: dict[str, float | None]
    ceiling: dict[str, float | None]
    pgr: float | None
    intermediates: list[dict[str, float | None]] = field(default_factory=list)
    invalid: int = 0
    weak_labels: list[float] = field(repr=False, default_factory=list)
    """The weak supervisor's soft labels for the transfer split, in row order."""
    test_predictions: dict[str, list[float]] = field(repr=False, default_factory=dict)
    """weak, student and ceiling probabilities on the test split, in row order."""

    def metrics(self, clusters: Sequence[str] | None = None) -> dict[str, Any]:
        """The per-seed figures (what is stored in `w2s_results` and summarised over seeds); given each question's
        article (`Question.cluster`), also its test questions' hits, from which PGR's interval is computed."""
        out = {"seed": self.seed, "weak": self.weak, "student": self.student, "ceiling": self.ceiling, "pgr": self.pgr,
               "intermediates": self.intermediates, "invalid": self.invalid}  # fmt: skip
        if clusters is not None and self.test_predictions:
            out["test_items"] = self.test_items(clusters)
        return out

    def test_items(self, clusters: Sequence[str]) -> list[dict[str, Any]]:
        """Per test question: its article and the share of its two examples each of weak, student and ceiling got right."""
        questions = make_splits(len(clusters), self.seed).test
        hits = {}
        for role, predictions in self.test_predictions.items():
            p = np.asarray(predictions, dtype=float).reshape(-1, 2)  # rows 2q (label 1) and 2q + 1 (label 0), q in test order
            hits[role] = ((p[:, 0] > 0.5).astype(float) + (p[:, 1] <= 0.5).astype(float)) / 2.0
        return [{"cluster": str(clusters[q]), **{role: float(h[i]) for role, h in hits.items()}} for i, q in enumerate(questions)]


def _scores(p: np.ndarray, y: np.ndarray) -> dict[str, float | None]:
    return {"accuracy": accuracy(p, y), "auroc": auroc(p, y)}


def _question_chunks(rows: np.ndarray, parts: int) -> list[np.ndarray]:
    """Split example rows into `parts` chunks along question boundaries (both options of a question stay together)."""
    questions = np.unique(rows // 2)
    return [np.sort(np.concatenate([2 * q, 2 * q + 1])) for q in np.array_split(questions, parts)]


def _fit_predict(learner: Learner, rows: np.ndarray, targets: np.ndarray, val: tuple[np.ndarray, np.ndarray], loss: str, seed: int,
                 on: dict[str, np.ndarray]) -> dict[str, np.ndarray]:  # fmt: skip
    """Fit, predict what the pipeline needs from this model, and let the model go (three large models never sit in memory at once)."""
    predict = learner.fit(rows, targets, val_rows=val[0], val_targets=val[1], loss=loss, seed=seed)
    return {name: predict(r) for name, r in on.items()}


def run_seed(
    weak: Learner, strong: Learner, y: np.ndarray, seed: int, *, loss: str = "xent", intermediates: Sequence[Learner] = ()
) -> SeedResult:
    """One seed of the pipeline.

    With intermediate models (bootstrapping), the transfer split is cut into one chunk per step:
    the weak supervisor labels chunk 1 for the first intermediate, which labels chunk 2 for the
    next, and the last chunk, labelled by the last intermediate, trains the student. Each step is
    selected on its teacher's labels of the validation split; ground truth reaches none of them.
    The ceiling always trains on the ground truth of the whole transfer split.
    """
    splits = make_splits(len(y) // 2, seed)
    wt, tr, va, te = (splits.examples(n) for n in ("weak_train", "transfer", "validation", "test"))
    learners = [weak, strong, *intermediates]
    invalid_before = sum(m.invalid for m in learners)
    chunks = _question_chunks(tr, len(intermediates) + 1) if intermediates else [tr]
    # the weak supervisor is trained (and selected) on ground truth: it is the floor
    weak_out = _fit_predict(weak, wt, y[wt], (va, y[va]), "xent", seed, {"transfer": tr, "validation": va, "test": te})
    labels, val_labels = weak_out["transfer"][np.isin(tr, chunks[0])], weak_out["validation"]
    intermediate_scores = []
    for learner, chunk, next_chunk in zip(intermediates, chunks, chunks[1:], strict=False):
        out = _fit_predict(learner, chunk, labels, (va, val_labels), loss, seed, {"next": next_chunk, "validation": va, "test": te})
        labels, val_labels = out["next"], out["validation"]
        intermediate_scores.append({"model": learner.name, **_scores(out["test"], y[te])})
    # the student sees its teacher's labels only, for training and for model selection
    student = _fit_predict(strong, chunks[-1], labels, (va, val_labels), loss, seed, {"test": te})["test"]
    ceiling = _fit_predict(strong, tr, y[tr], (va, y[va]), "xent", seed, {"test": te})["test"]
    predictions = {"weak": weak_out["test"], "student": student, "ceiling": ceiling}
    w, s, c = (_scores(predictions[k], y[te]) for k in ("weak", "student", "ceiling"))
    return SeedResult(
        seed=seed, weak=w, student=s, ceiling=c, pgr=pgr(w["accuracy"], s["accuracy"], c["accuracy"]),  # type: ignore[arg-type]
        intermediates=intermediate_scores, invalid=sum(m.invalid for m in learners) - invalid_before,
        weak_labels=weak_out["transfer"].tolist(), test_predictions={k: v.tolist() for k, v in predictions.items()},
    )  # fmt: skip
