"""The non-accuracy leaderboard tables (Elo, calibration, position bias, human–model agreement) from judgment rows.

One place that turns stored judgment rows into each table, so the CLI's `leaderboard --metric`
and the HTML report show the same figures.
"""

from __future__ import annotations

from typing import Any

from oversight.metrics.agreement import agreement, position_bias
from oversight.metrics.calibration import calibration_summary
from oversight.metrics.elo import elo_table
from oversight.metrics.leaderboard import group_rows, swap_consistency

ROW_METRICS = ("elo", "calibration", "agreement", "position")
"""Metrics computed from judgment rows (accuracy is aggregated in SQL; PGR comes from weak-to-strong runs)."""


def _invalid(group: list[dict[str, Any]]) -> int:
    return sum(not r["valid"] for r in group)


def calibration_table(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    return [dict(zip(keys, k, strict=True)) | calibration_summary(g) | {"invalid": _invalid(g)} for k, g in group_rows(rows, keys).items()]


def position_table(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        dict(zip(keys, k, strict=True))
        | position_bias(g)
        | {"swap_consistency": swap_consistency([r for r in g if r["valid"]]), "invalid": _invalid(g)}
        for k, g in group_rows(rows, keys).items()
    ]


def agreement_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each model judge against the human judges on the items both judged (empty without human verdicts)."""
    humans = [r for r in rows if r["judge_kind"] == "human"]
    if not humans:
        return []
    models = group_rows([r for r in rows if r["judge_kind"] == "model"], ("judge",))
    return [{"model_judge": judge[0], **agreement(humans, group), "invalid": _invalid(group)} for judge, group in models.items()]


def metric_table(
    metric: str,
    rows: list[dict[str, Any]],
    keys: tuple[str, ...] = ("protocol", "judge"),
    *,
    by_side: bool = False,
    weighted: bool = False,
    n_resamples: int = 1000,
    seed: int = 0,
) -> list[dict[str, Any]]:
    if metric == "elo":
        return elo_table(rows, by_side=by_side, weighted=weighted, n_resamples=n_resamples, seed=seed)
    if metric == "calibration":
        return calibration_table(rows, keys)
    if metric == "position":
        return position_table(rows, keys)
    if metric == "agreement":
        return agreement_table(rows)
    raise ValueError(f"unknown metric {metric!r}")
