"""Calibration of judges' probabilities: Brier score, expected calibration error and a reliability table."""

from __future__ import annotations

from typing import Any

import numpy as np


def reliability(rows: list[dict[str, Any]], bins: int = 10) -> list[dict[str, Any]]:
    """Equal-width bins of the probability put on the first-listed canonical answer (A) against how often A was right."""
    valid = [r for r in rows if r.get("valid") and r.get("p_a") is not None]
    if not valid:
        return []
    p = np.array([r["p_a"] for r in valid], dtype=float)
    hit = np.array([1.0 if r["correct_side"] == "A" else 0.0 for r in valid])
    index = np.minimum((p * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        mask = index == b
        if mask.any():
            out.append(
                {
                    "bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}",
                    "mean_p": float(p[mask].mean()),
                    "observed": float(hit[mask].mean()),
                    "n": int(mask.sum()),
                }
            )
    return out


def calibration_summary(rows: list[dict[str, Any]], bins: int = 10) -> dict[str, float | int | None]:
    valid = [r for r in rows if r.get("valid") and r.get("p_correct") is not None]
    if not valid:
        return {"n": 0, "brier": None, "log_loss": None, "ece": None}
    pc = np.clip(np.array([r["p_correct"] for r in valid], dtype=float), 1e-6, 1 - 1e-6)
    table = reliability(valid, bins)
    n = sum(t["n"] for t in table)
    ece = sum(t["n"] / n * abs(t["mean_p"] - t["observed"]) for t in table) if n else None
    return {"n": len(valid), "brier": float(np.mean((1 - pc) ** 2)), "log_loss": float(-np.mean(np.log(pc))), "ece": ece}
