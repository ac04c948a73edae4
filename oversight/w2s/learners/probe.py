"""Linear probes on frozen features, trained on soft labels: the learner of weak-to-strong `--method probe`.

Losses (Burns et al. 2023):
- `xent`: cross-entropy against the (soft) labels.
- `logconf`: (1 − α)·CE(p, y) + α·CE(p, ŷ) where ŷ is the student's own hardened prediction
  (thresholded at the median so both classes stay present, as in openai/weak-to-strong), and α
  ramps linearly from 0 to `alpha_max` over the first `warmup` fraction of training — it never
  jumps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oversight.w2s.learners.base import Predictor

EPS = 1e-7


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def cross_entropy(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def logconf_alpha(step: int, total: int, alpha_max: float = 0.75, warmup: float = 0.2) -> float:
    """α at `step` of `total`: a linear ramp from 0 over the warm-up, then `alpha_max`."""
    ramp = max(1, int(round(warmup * total)))
    return alpha_max * min(1.0, step / ramp)


def harden(p: np.ndarray) -> np.ndarray:
    """The student's own labels: 1 above the batch median, 0 below (both classes stay present)."""
    return (p > np.median(p)).astype(float)


def logconf_loss(p: np.ndarray, y: np.ndarray, alpha: float) -> float:
    return (1 - alpha) * cross_entropy(p, y) + alpha * cross_entropy(p, harden(p))


@dataclass
class Probe:
    w: np.ndarray
    b: float
    mean: np.ndarray
    scale: np.ndarray

    def predict(self, x: np.ndarray) -> np.ndarray:
        return sigmoid(((x - self.mean) / self.scale) @ self.w + self.b)


def train_probe(
    x: np.ndarray,
    y: np.ndarray,
    *,
    loss: str = "xent",
    epochs: int = 200,
    lr: float = 0.1,
    l2: float = 1e-3,
    seed: int = 0,
    x_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    alpha_max: float = 0.75,
    warmup: float = 0.2,
) -> tuple[Probe, dict[str, float]]:
    """Full-batch gradient descent on standardised features.

    Early stopping keeps the weights with the best validation loss against `y_val`, which the
    caller supplies: in weak-to-strong training these are *weak* labels, never ground truth.
    """
    if loss not in ("xent", "logconf"):
        raise ValueError(f"unknown loss {loss!r}; use xent or logconf")
    rng = np.random.default_rng(seed)
    # a feature that never varies in training (a hashed word only unseen rows have) keeps its raw scale: dividing by
    # its zero spread would blow it up a millionfold wherever it does occur
    std = x.std(axis=0)
    mean, scale = x.mean(axis=0), np.where(std > 1e-6, std, 1.0)
    xs = (x - mean) / scale
    w = rng.normal(0, 0.01, x.shape[1])
    b = 0.0
    best = (np.inf, w.copy(), b, 0)
    for step in range(epochs):
        p = sigmoid(xs @ w + b)
        alpha = logconf_alpha(step, epochs, alpha_max, warmup) if loss == "logconf" else 0.0
        target = (1 - alpha) * y + alpha * harden(p) if alpha else y
        grad = p - target  # d CE / d logit, for the mixed target
        w -= lr * (xs.T @ grad / len(y) + l2 * w)
        b -= lr * float(grad.mean())
        if x_val is not None and y_val is not None:
            val = cross_entropy(sigmoid(((x_val - mean) / scale) @ w + b), y_val)
            if val < best[0]:
                best = (val, w.copy(), b, step)
    if x_val is not None and y_val is not None:
        _, w, b, best_step = best
    else:
        best_step = epochs - 1
    return Probe(w=w, b=b, mean=mean, scale=scale), {"best_step": float(best_step)}


class ProbeLearner:
    def __init__(self, name: str, x: np.ndarray, *, epochs: int = 300, alpha_max: float = 0.75, warmup: float = 0.2) -> None:
        self.name = name
        self.x = x
        self.epochs = epochs
        self.logconf = {"alpha_max": alpha_max, "warmup": warmup}
        self.invalid = 0

    def fit(
        self, rows: np.ndarray, targets: np.ndarray, *, val_rows: np.ndarray | None, val_targets: np.ndarray | None, loss: str, seed: int
    ) -> Predictor:
        x_val = self.x[val_rows] if val_rows is not None else None
        probe, _ = train_probe(
            self.x[rows], targets, loss=loss, epochs=self.epochs, seed=seed, x_val=x_val, y_val=val_targets, **self.logconf
        )
        return lambda r: probe.predict(self.x[r])
