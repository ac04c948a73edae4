"""Judge accuracy and calibration by round: how much each round of argument helps the judge.

Verdicts on a transcript cut after round k (`oversight judge --by-round`) sit beside the verdicts
on the whole transcript (its last round), and so do human judges' beliefs after each round of a judge-paced
campaign; each round's accuracy has a 95% interval clustered by
article (CR2), its order-debiased accuracy scores each transcript once from the probability averaged
over both answer orders, and Brier score and ECE say how calibrated the judge is at that point.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from oversight.metrics.calibration import calibration_summary
from oversight.metrics.intervals import clustered_ci, few_articles
from oversight.metrics.leaderboard import debiased_score


def round_of(row: dict[str, Any]) -> int | None:
    """The round a verdict was given after: its cut, or the transcript's last round for a whole transcript."""
    return row.get("after_round") if row.get("after_round") is not None else row.get("rounds")


def round_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per protocol × judge (× judge kind) × round, for transcripts judged after more than one round."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    cut_transcripts = {(r["transcript_id"], r["judge"]) for r in rows if r.get("after_round") is not None}
    for r in rows:
        if r.get("judge_kind") == "human" and r.get("after_round") is None and r.get("stopped_after_round") is not None:
            continue  # a judge-paced verdict: the same belief is stored after the round the judge stopped at
        if (r["transcript_id"], r["judge"]) in cut_transcripts and round_of(r) is not None:
            groups[(r["protocol"], r["judge"], r.get("judge_kind", "model"), round_of(r))].append(r)
    out = []
    for (protocol, judge, kind, round_no), group in sorted(groups.items(), key=lambda kv: tuple(str(x) for x in kv[0][:3]) + (kv[0][3],)):
        valid = [r for r in group if r.get("valid")]
        hits = [1.0 if r["correct"] else 0.0 for r in valid]
        articles = len({str(r["cluster"]) for r in valid})
        low, high = clustered_ci(hits, [r["cluster"] for r in valid]) if valid else (None, None)
        per_item: dict[Any, list[float]] = defaultdict(list)
        for r in valid:
            if r.get("p_correct") is not None:
                per_item[r["transcript_id"]].append(float(r["p_correct"]))
        debiased = [debiased_score(sum(ps) / len(ps)) for ps in per_item.values()]
        calibration = calibration_summary(group)
        out.append({
            "protocol": protocol, "judge": judge, "judge_kind": kind, "round": round_no, "n": len(valid),
            "accuracy": float(np.mean(hits)) if hits else None, "ci_low": low, "ci_high": high,
            "debiased_accuracy": float(np.mean(debiased)) if debiased else None,
            "brier": calibration["brier"], "ece": calibration["ece"], "invalid": len(group) - len(valid),
            "n_clusters": articles, "few_articles": few_articles(articles) if valid else None,
        })  # fmt: skip
    return out


def stopping_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Judge-paced campaigns: how many verdicts stopped after each round, per protocol and judge kind, with the
    accuracy and mean probability on the correct answer of the verdicts that stopped there (judges who stop early
    may be the confident ones, so accuracy by stopping round is not accuracy by round)."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r.get("after_round") is None and r.get("stopped_after_round") is not None:
            groups[(r["protocol"], int(r["stopped_after_round"]))].append(r)
    totals: dict[str, int] = defaultdict(int)
    for (protocol, _), group in groups.items():
        totals[protocol] += len(group)
    out = []
    for (protocol, stop), group in sorted(groups.items()):
        valid = [r for r in group if r.get("valid")]
        out.append({
            "protocol": protocol, "stopped_after_round": stop, "n": len(group), "share": len(group) / totals[protocol],
            "accuracy": float(np.mean([1.0 if r["correct"] else 0.0 for r in valid])) if valid else None,
            "mean_p_correct": float(np.mean([float(r["p_correct"]) for r in valid])) if valid else None,
        })  # fmt: skip
    return out


def shared_with_humans(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Verdicts on the transcripts that human judges read round by round (judge-paced campaigns) and that model judges
    also judged after each round (`judge --by-round`): per-round value curves of humans and models on the same debates."""
    cut = [r for r in rows if r.get("after_round") is not None]
    human = {r["transcript_id"] for r in cut if r.get("judge_kind") == "human"}
    model = {r["transcript_id"] for r in cut if r.get("judge_kind") != "human"}
    both = human & model
    return [r for r in rows if r["transcript_id"] in both]
