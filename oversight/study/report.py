"""`oversight study report`: the study's figures drawn from its stored rows — accuracy per cell, player Elo,
judge accuracy against debater Elo for debate and consultancy beside the naive and expert baselines (Khan et
al. 2024, Fig. 1), the weak-to-strong ladder (Burns et al. 2023), humans against model judges, and the
paper's own headline figures beside them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
from sqlalchemy import Engine

from oversight.charts import elo_chart, rounds_chart
from oversight.db import connect
from oversight.db.queries import judgment_rows
from oversight.metrics.elo import tournament_figure
from oversight.metrics.leaderboard import leaderboard
from oversight.metrics.rounds import round_table
from oversight.metrics.tables import agreement_table, human_agreement_table
from oversight.report import Section, svg, write_report
from oversight.study.cells import Cell
from oversight.study.spec import DEBATE_LIKE, StudySpec

BY = ("protocol", "matchup", "judge", "dataset")


def study_rows(engine: Engine, cells: list[Cell], *, cuts: bool = False) -> list[dict[str, Any]]:
    """Judgment rows of the study's runs, each labelled with its cell's players (`matchup`)."""
    by_run = {c.run_name: c for c in cells if c.kind == "run"}
    rows = judgment_rows(engine, list(by_run), cuts=cuts) if by_run else []
    for row in rows:
        cell = by_run[row["run"]]
        row["matchup"] = cell.matchup or "—"
    return rows


def baselines(board: list[dict[str, Any]], judge: str | None) -> list[dict[str, Any]]:
    """Naive and expert judge accuracy (the figure's horizontal lines) for the rating judge."""
    return [
        {"protocol": r["protocol"], "accuracy": r["accuracy"], "dataset": r["dataset"]}
        for r in board
        if r["protocol"] in ("naive", "expert") and r["judge"] == judge and r.get("accuracy") is not None
    ]


def khan_chart(points: list[dict[str, Any]], lines: list[dict[str, Any]]) -> alt.TopLevelMixin | None:
    chart = elo_chart(points)
    if chart is None:
        return None
    if lines:
        rules = alt.Chart(pd.DataFrame(lines)).mark_rule(strokeDash=[5, 4]).encode(y="accuracy:Q", color=alt.Color("protocol:N"))
        chart = alt.layer(chart, rules)
    return chart


def ladder_chart(table: list[dict[str, Any]], ladder: list[str]) -> alt.TopLevelMixin | None:
    frame = pd.DataFrame([r for r in table if r.get("pgr") is not None])
    if frame.empty:
        return None
    x = alt.X("strong:N", sort=ladder, title="strong student")
    colour = alt.Color("weak:N", sort=ladder, title="weak supervisor")
    line = alt.Chart(frame).mark_line(point=True).encode(x=x, y=alt.Y("pgr:Q", title="performance gap recovered"), color=colour)
    bars = alt.Chart(frame.dropna(subset=["pgr_ci_low"])).mark_rule().encode(x=x, y="pgr_ci_low:Q", y2="pgr_ci_high:Q", color=colour)
    return alt.layer(bars, line).properties(title="PGR along the ladder (95% t-interval over seeds)", width=420)


def slope_note(slopes: dict[str, Any]) -> str:
    parts = []
    for protocol, trend in slopes.items():
        if trend["slope_per_100"] is None and len(trend["points"]) >= 2:
            parts.append(f"{protocol}: every player has the same rating, so no slope can be fitted")
        elif trend["slope_per_100"] is None:
            parts.append(f"{protocol}: needs at least two rated players with judged transcripts")
        elif trend["ci_low"] is None:
            parts.append(f"{protocol}: {trend['slope_per_100']:+.3f} accuracy per 100 Elo")
        else:
            parts.append(
                f"{protocol}: {trend['slope_per_100']:+.3f} accuracy per 100 Elo (95% CI {trend['ci_low']:+.3f} to {trend['ci_high']:+.3f}, t on players − 2 df)"
            )
    return "Fitted slopes — " + "; ".join(parts) + "." if parts else "No debate or consultancy cells."


def build_study_report(spec: StudySpec, out: Path, *, db: str | None = None) -> tuple[Path, Path]:
    from oversight.db.w2s import w2s_rows
    from oversight.metrics.pgr import pgr_table
    from oversight.study.runner import all_cells, cell_states

    engine = connect(db)
    cells = all_cells(engine, spec)
    states = cell_states(engine, cells)
    rows = study_rows(engine, cells)
    board = leaderboard(rows, by=BY)
    table, points, slopes = tournament_figure(rows, spec.rater, self_play=spec.tournament.self_play)
    lines = baselines(board, spec.rater)
    w2s_names = [c.run_name for c in cells if c.kind == "w2s"]
    ladder = pgr_table(w2s_rows(engine, w2s_names)) if w2s_names else []
    done = sum(s == "finished" for s in states.values())
    sections = [
        Section("Cells", [{"cell": c.key, "players": c.matchup, "status": states[c.run_name], "run": c.run_name} for c in cells]),
        Section("Judge accuracy by protocol, players and judge (raw and order-debiased; 95% CIs clustered by article, CR2)", board),
    ]
    if any(p in DEBATE_LIKE for p in spec.protocols):
        sections.append(Section(f"Player Elo from {spec.rater}'s verdicts (Bradley–Terry, 95% CI: delete-one-article jackknife)", table))
    if points:
        chart = khan_chart(points, lines)
        sections.append(Section("Judge accuracy against debater Elo (Khan et al. 2024, Fig. 1)", points,
                                svg(chart) if chart is not None else None, slope_note(slopes) + _baseline_note(lines), "accuracy_vs_elo"))  # fmt: skip
    if spec.w2s is not None:
        chart = ladder_chart(ladder, spec.w2s.ladder)
        sections.append(
            Section("Weak-to-strong ladder (Burns et al. 2023)", ladder, svg(chart) if chart is not None else None, None, "ladder")
        )
    by_round = round_table(study_rows(engine, cells, cuts=True))
    if by_round:
        chart = rounds_chart(by_round)
        sections.append(Section("Accuracy and calibration by round", by_round, svg(chart) if chart is not None else None, None, "rounds"))
    if any(r["judge_kind"] == "human" for r in rows):
        sections.append(Section("Human judges against model judges (same transcripts)", agreement_table(rows)))
        sections.append(
            Section(
                "Agreement among human judges (Fleiss' κ, Krippendorff's α)",
                human_agreement_table(rows),
            )
        )
    if spec.paper:
        sections.append(
            Section("What the paper reports (compare the rows above)", [{"figure": k, "value": v} for k, v in spec.paper.items()])
        )
    intro = f"study {spec.name}: {done} of {len(cells)} cells finished · {len(rows)} judgments, {sum(not r['valid'] for r in rows)} invalid"
    if spec.description:
        intro += f" · {' '.join(spec.description.split())}"
    return write_report(out, f"Study {spec.name}", intro, sections)


def _baseline_note(lines: list[dict[str, Any]]) -> str:
    if not lines:
        return ""
    return " Dashed lines: " + ", ".join(f"{r['protocol']} {r['accuracy']:.2f} ({r['dataset']})" for r in lines) + "."
