"""The Altair charts shared by the HTML report and the web leaderboard (one definition each)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from oversight.metrics.calibration import reliability


def accuracy_chart(board: list[dict[str, Any]]) -> alt.LayerChart | None:
    """Raw and order-debiased accuracy side by side per protocol and judge, each with its 95% interval."""
    measures = [("raw", "accuracy", "ci_low", "ci_high"), ("order-debiased", "debiased_accuracy", "debiased_ci_low", "debiased_ci_high")]
    frame = pd.DataFrame(
        [
            {
                "group": f"{r['protocol']} · {r['judge']}",
                "measure": name,
                "accuracy": r[value],
                "ci_low": r.get(low),
                "ci_high": r.get(high),
            }
            for r in board
            for name, value, low, high in measures
            if r.get(value) is not None
        ]
    )
    if frame.empty:
        return None
    y = alt.Y("group:N", title=None)
    offset = alt.YOffset("measure:N")
    colour = alt.Color("measure:N", title="accuracy")
    points = (
        alt.Chart(frame)
        .mark_point(filled=True, size=70)
        .encode(x=alt.X("accuracy:Q", scale=alt.Scale(domain=[0, 1])), y=y, yOffset=offset, color=colour)
    )
    bars = alt.Chart(frame).mark_rule().encode(x="ci_low:Q", x2="ci_high:Q", y=y, yOffset=offset, color=colour)
    return (bars + points).properties(title="Judge accuracy by protocol, raw and order-debiased (95% CI clustered by article)", width=480)


def elo_chart(points: list[dict[str, Any]]) -> alt.LayerChart | None:
    """Judge accuracy against debater Elo (Khan et al. 2024, Fig. 1): one colour per protocol where points name one,
    95% intervals on both axes where given, and a least-squares line per protocol."""
    if not points:
        return None
    frame = pd.DataFrame(points)
    if "protocol" not in frame:
        frame["protocol"] = "debate"
    colour = alt.Color("protocol:N", title="protocol")
    base = alt.Chart(frame)
    layers: list[alt.Chart] = [
        base.mark_circle(size=80).encode(x=alt.X("elo:Q", scale=alt.Scale(zero=False), title="debater Elo"),
                                         y=alt.Y("accuracy:Q", title="judge accuracy"), color=colour, tooltip=["debater", "protocol", "n"])
    ]  # fmt: skip
    if {"elo_low", "elo_high"} <= set(frame) and frame["elo_low"].notna().all():
        layers.append(base.mark_rule(opacity=0.5).encode(x="elo_low:Q", x2="elo_high:Q", y="accuracy:Q", color=colour))
    if {"acc_low", "acc_high"} <= set(frame) and frame["acc_low"].notna().all():
        layers.append(base.mark_rule(opacity=0.5).encode(x="elo:Q", y="acc_low:Q", y2="acc_high:Q", color=colour))
    layers.append(base.transform_regression("elo", "accuracy", groupby=["protocol"]).mark_line().encode(color=colour))
    return alt.layer(*layers).properties(title="Judge accuracy vs debater Elo (95% intervals)", width=480)


def reliability_chart(rows: list[dict[str, Any]]) -> alt.LayerChart | None:
    table = pd.DataFrame(reliability(rows))
    if table.empty:
        return None
    diagonal = alt.Chart(pd.DataFrame({"x": [0, 1], "y": [0, 1]})).mark_line(strokeDash=[4, 4]).encode(x="x:Q", y="y:Q")
    dots = (
        alt.Chart(table)
        .mark_circle()
        .encode(x=alt.X("mean_p:Q", title="stated probability (A)"), y=alt.Y("observed:Q", title="A was correct"), size="n:Q")
    )
    return (diagonal + dots).properties(title="Reliability diagram", width=360, height=360)


def judge_kind_chart(rows: list[dict[str, Any]]) -> alt.Chart | None:
    """Human against model judges: raw and order-debiased accuracy of each kind."""
    from oversight.metrics.leaderboard import leaderboard

    board = leaderboard(rows, by=("judge_kind",))
    frame = pd.DataFrame(
        [
            {"kind": r["judge_kind"], "measure": name, "accuracy": r[key]}
            for r in board
            for name, key in (("raw", "accuracy"), ("order-debiased", "debiased_accuracy"))
            if r.get(key) is not None
        ]
    )
    if frame.empty:
        return None
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(x="kind:N", xOffset="measure:N", y=alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1])), color="measure:N")
        .properties(title="Human vs model judges (raw and order-debiased accuracy)")
    )


def rounds_chart(table: list[dict[str, Any]]) -> alt.HConcatChart | None:
    """Judge accuracy (95% CI) and calibration (Brier score, lower is better) after each round, one line per protocol
    and judge: how much each round of argument is worth, for model and human judges alike."""
    frame = pd.DataFrame([r for r in table if r.get("accuracy") is not None])
    if frame.empty:
        return None
    frame["line"] = frame["protocol"] + " · " + frame["judge"]
    x = alt.X("round:O", title="judged after round")
    colour = alt.Color("line:N", title=None)
    y = alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1]), title="judge accuracy")
    line = alt.Chart(frame).mark_line(point=True).encode(x=x, y=y, color=colour)
    bars = alt.Chart(frame).mark_rule().encode(x=x, y=alt.Y("ci_low:Q", title="judge accuracy"), y2="ci_high:Q", color=colour)
    accuracy = (bars + line).properties(title="Judge accuracy by round (95% CI clustered by article)", width=360)
    brier = (
        alt.Chart(frame.dropna(subset=["brier"]))
        .mark_line(point=True, strokeDash=[4, 2])
        .encode(x=x, y=alt.Y("brier:Q", title="Brier score (lower is better)", scale=alt.Scale(domain=[0, 1])), color=colour)
        .properties(title="Calibration by round", width=300)
    )
    return alt.hconcat(accuracy, brier)


def capability_chart(table: list[dict[str, Any]]) -> alt.LayerChart | None:
    """Judge accuracy under each protocol against the judge's own naive accuracy, humans and models on one axis
    (Kenton et al. 2024): 95% intervals on both axes, the diagonal where a protocol adds nothing."""
    frame = pd.DataFrame(table)
    if frame.empty:
        return None
    base = alt.Chart(frame)
    colour = alt.Color("protocol:N", title="protocol")
    shape = alt.Shape("judge_kind:N", title="judge")
    x = alt.X("naive_accuracy:Q", scale=alt.Scale(domain=[0, 1]), title="judge's naive accuracy (its capability)")
    y = alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1]), title="judge accuracy under the protocol")
    diagonal = alt.Chart(pd.DataFrame({"x": [0, 1], "y": [0, 1]})).mark_line(strokeDash=[4, 4], color="grey").encode(x="x:Q", y="y:Q")
    points = base.mark_point(filled=True, size=90).encode(
        x=x, y=y, color=colour, shape=shape, tooltip=["judge", "protocol", "n", "naive_n"]
    )
    across = base.mark_rule(opacity=0.5).encode(x="naive_ci_low:Q", x2="naive_ci_high:Q", y="accuracy:Q", color=colour)
    up = base.mark_rule(opacity=0.5).encode(x="naive_accuracy:Q", y="ci_low:Q", y2="ci_high:Q", color=colour)
    trend = base.transform_regression("naive_accuracy", "accuracy", groupby=["protocol"]).mark_line(opacity=0.6).encode(color=colour)
    return alt.layer(diagonal, across, up, points, trend).properties(
        title="One capability axis: accuracy under each protocol vs the judge's naive accuracy (95% CIs clustered by article)",
        width=420,
        height=420,
    )


def weak_sources_chart(table: list[dict[str, Any]]) -> alt.LayerChart | None:
    """PGR of students supervised by each verdict source (w2s --weak-from-run), with 95% intervals over seeds."""
    frame = pd.DataFrame([r for r in table if r.get("pgr") is not None])
    if frame.empty:
        return None
    y = alt.Y("weak_labels_from:N", title="weak labels from", sort=None)
    colour = alt.Color("comparison:N", title=None)
    points = (
        alt.Chart(frame).mark_point(filled=True, size=80).encode(x=alt.X("pgr:Q", title="performance gap recovered"), y=y, color=colour)
    )
    bars = alt.Chart(frame.dropna(subset=["pgr_ci_low"])).mark_rule().encode(x="pgr_ci_low:Q", x2="pgr_ci_high:Q", y=y, color=colour)
    return (bars + points).properties(title="Debate verdicts as weak labels: PGR by source (95% CI over seeds)", width=420)
