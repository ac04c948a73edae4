"""The non-accuracy leaderboard tables (Elo, calibration, position bias, human–model agreement) from judgment rows.

One place that turns stored judgment rows into each table, so the CLI's `leaderboard --metric`
and the HTML report show the same figures.
"""

from __future__ import annotations

from typing import Any

from oversight.metrics.agreement import agreement, human_agreement, position_bias
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
    """Per protocol, each model judge against the human judges on the transcripts both judged: agreement, Cohen's
    kappa, correlation of probabilities, and each side's accuracy on those shared items (empty without humans)."""
    out = []
    for (protocol,), group in group_rows(rows, ("protocol",)).items():
        humans = [r for r in group if r["judge_kind"] == "human"]
        if not humans:
            continue
        human_acc = _accuracy(humans)
        for (judge,), models in group_rows([r for r in group if r["judge_kind"] == "model"], ("judge",)).items():
            shared = {(r["transcript_id"], r["order"]) for r in humans} & {(r["transcript_id"], r["order"]) for r in models}
            out.append({
                "protocol": protocol, "model_judge": judge, **agreement(humans, models),
                "human_accuracy": _accuracy([r for r in humans if (r["transcript_id"], r["order"]) in shared]),
                "model_accuracy": _accuracy([r for r in models if (r["transcript_id"], r["order"]) in shared]),
                "human_accuracy_all": human_acc, "humans": len({r["judge"] for r in humans}), "invalid": _invalid(models),
            })  # fmt: skip
    return out


def human_agreement_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per protocol, how much the human judges agree among themselves on the transcripts several of them judged."""
    out = []
    for (protocol,), group in group_rows([r for r in rows if r.get("judge_kind") == "human"], ("protocol",)).items():
        stats = human_agreement(group)
        if stats["units"]:
            out.append({"protocol": protocol, **stats})
    return out


def _accuracy(rows: list[dict[str, Any]]) -> float | None:
    valid = [r for r in rows if r.get("valid")]
    return sum(bool(r["correct"]) for r in valid) / len(valid) if valid else None


def metric_table(
    metric: str,
    rows: list[dict[str, Any]],
    keys: tuple[str, ...] = ("protocol", "judge"),
    *,
    by_side: bool = False,
    weighted: bool = False,
) -> list[dict[str, Any]]:
    if metric == "elo":
        return elo_table(rows, by_side=by_side, weighted=weighted)
    if metric == "calibration":
        return calibration_table(rows, keys)
    if metric == "position":
        return position_table(rows, keys)
    if metric == "agreement":
        return agreement_table(rows)
    if metric == "human-agreement":
        return human_agreement_table(rows)
    if metric == "rounds":
        from oversight.metrics.rounds import round_table

        return round_table(rows)
    if metric == "capability":
        from oversight.metrics.capability import capability_table

        return capability_table(rows)
    if metric == "value-curves":
        from oversight.metrics.rounds import round_table, shared_with_humans

        return round_table(shared_with_humans(rows))
    if metric == "stopping":
        from oversight.metrics.rounds import stopping_table

        return stopping_table(rows)
    raise ValueError(f"unknown metric {metric!r}")
