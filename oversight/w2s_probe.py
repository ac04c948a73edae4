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
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
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


def accuracy(p: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((p > 0.5) == (y > 0.5)))


def auroc(p: np.ndarray, y: np.ndarray) -> float | None:
    """Area under the ROC curve via the rank statistic (ties get half credit)."""
    y = y > 0.5
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    from scipy.stats import rankdata

    ranks = rankdata(p)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def pgr(weak: float, student: float, ceiling: float, min_gap: float = 0.02) -> float | None:
    """Performance gap recovered; None when the strong ceiling barely beats the weak floor."""
    gap = ceiling - weak
    if gap < min_gap:
        return None
    return (student - weak) / gap
