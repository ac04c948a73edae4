"""The one Bradley–Terry fit behind raw and style-controlled Elo: a logistic model without intercept, by Newton's method.

P(first wins) = σ(r_first − r_second + z·β). A tiny ridge pins the ratings' common level (and keeps a
debater that won every game finite). Newton's method with the exact Hessian converges in a handful of steps
on the few players a study has, which matters because every interval refits the model once per article
(`oversight.metrics.intervals.jackknife`); the Hessian is assembled from per-game terms with `bincount`,
so a million games never form a dense design matrix.
"""

from __future__ import annotations

import numpy as np

RIDGE = 1e-4


def _loss(d: np.ndarray, y: np.ndarray, weight: np.ndarray, params: np.ndarray) -> float:
    return float(np.sum(weight * (np.logaddexp(0.0, d) - y * d)) + RIDGE * np.sum(params**2))


def fit_bradley_terry(
    players: int,
    first: np.ndarray,
    second: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray | None = None,
    z: np.ndarray | None = None,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """Strengths (natural log-odds, centred) followed by the covariates' coefficients.

    `first`, `second`: player index of each game's two sides; `y`: 1 when the first side won (or the share it
    won); `z`: games × covariates (none when omitted)."""
    first, second = np.asarray(first, dtype=np.intp), np.asarray(second, dtype=np.intp)
    y = np.asarray(y, dtype=np.float64)
    weight = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=np.float64)
    z = np.zeros((len(y), 0)) if z is None else np.asarray(z, dtype=np.float64)
    k = z.shape[1]
    params = np.zeros(players + k) if start is None else np.array(start, dtype=np.float64)

    def margin(p: np.ndarray) -> np.ndarray:
        return p[first] - p[second] + z @ p[players:]

    d = margin(params)
    loss = _loss(d, y, weight, params)
    for _ in range(100):
        prob = 1.0 / (1.0 + np.exp(-d))
        g = weight * (prob - y)
        v = weight * prob * (1.0 - prob)
        grad = np.concatenate([np.bincount(first, g, players) - np.bincount(second, g, players), z.T @ g]) + 2 * RIDGE * params
        size = players * players
        hess = np.zeros((players + k, players + k))
        hess[:players, :players] = (
            np.bincount(first * players + first, v, size) + np.bincount(second * players + second, v, size)
            - np.bincount(first * players + second, v, size) - np.bincount(second * players + first, v, size)
        ).reshape(players, players)  # fmt: skip
        if k:
            vz = v[:, None] * z
            cross = np.stack([np.bincount(first, vz[:, j], players) - np.bincount(second, vz[:, j], players) for j in range(k)], axis=1)
            hess[:players, players:], hess[players:, :players] = cross, cross.T
            hess[players:, players:] = vz.T @ z
        hess[np.diag_indices_from(hess)] += 2 * RIDGE
        step = np.linalg.solve(hess, grad)
        shrink = 1.0
        while True:
            candidate = params - shrink * step
            d_new = margin(candidate)
            new_loss = _loss(d_new, y, weight, candidate)
            if new_loss <= loss + 1e-12 or shrink < 1e-6:
                break
            shrink /= 2.0
        params, d, improvement, loss = candidate, d_new, loss - new_loss, new_loss
        if np.max(np.abs(shrink * step)) < 1e-9 or improvement < 1e-12 * max(1.0, abs(loss)):
            break
    params[:players] -= params[:players].mean()
    return params
