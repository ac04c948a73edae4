"""`oversight report`: one self-contained HTML page (and a Markdown twin) with every headline table and chart.

Charts are Altair specs rendered to inline SVG with vl-convert, so the HTML needs no network and
no JavaScript; the Markdown report links the same SVGs written beside it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
from sqlalchemy import Engine

from oversight.charts import accuracy_chart, capability_chart, elo_chart, reliability_chart, rounds_chart, weak_sources_chart
from oversight.cli.output import render
from oversight.db.connect import safe_url
from oversight.db.queries import judgment_rows, run_summaries
from oversight.db.w2s import w2s_rows
from oversight.metrics.capability import capability_table
from oversight.metrics.elo import accuracy_vs_elo, elo_table
from oversight.metrics.intervals import few_articles_warning
from oversight.metrics.leaderboard import stored_leaderboard
from oversight.metrics.pgr import pgr_table, weak_source_table
from oversight.metrics.rounds import round_table, shared_with_humans, stopping_table
from oversight.metrics.style import style_elo
from oversight.metrics.tables import agreement_table, calibration_table, human_agreement_table, position_table


def svg(chart: alt.TopLevelMixin) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_json())


def _charts(
    board: list[dict[str, Any]],
    elo_points: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    by_round: list[dict[str, Any]],
    capability: list[dict[str, Any]],
) -> dict[str, str]:
    built = {
        "capability": capability_chart(capability),
        "accuracy": accuracy_chart(board),
        "elo": elo_chart(elo_points),
        "reliability": reliability_chart(rows),
        "rounds": rounds_chart(by_round),
    }
    return {name: svg(chart) for name, chart in built.items() if chart is not None}


def build_report(engine: Engine, out: Path) -> tuple[Path, Path]:
    rows = judgment_rows(engine)
    board = stored_leaderboard(engine)
    elo = elo_table(rows)
    elo_by_side = elo_table(rows, by_side=True)
    trend = accuracy_vs_elo(rows, elo)
    by_round = round_table(judgment_rows(engine, cuts=True))
    stopping = stopping_table(rows)
    capability = capability_table(rows)
    styled = style_elo(rows)
    shared = round_table(shared_with_humans(judgment_rows(engine, cuts=True)))
    stored_w2s = w2s_rows(engine)
    pgr = pgr_table(stored_w2s)
    sources = weak_source_table(stored_w2s)
    calibration = calibration_table(rows, ("protocol", "judge"))
    position = position_table(rows, ("protocol", "judge"))
    agree = agreement_table(rows)
    among_humans = human_agreement_table(rows)
    runs = [
        {
            k: r[k]
            for k in ("name", "protocol", "dataset", "status", "seed", "prompt_version", "config_hash", "package_version", "git_revision")
        }
        for r in run_summaries(engine)
    ]
    sections: list[tuple[str, list[dict[str, Any]], str | None]] = [
        ("Judge accuracy", board, "accuracy"),
        ("Debater Elo (Bradley–Terry, 95% CI: delete-one-article jackknife, t on K−1 df; tied ranks)", elo, "elo"),
        ("Debater Elo by assigned side", elo_by_side, None),
        *(
            [
                ("Debater Elo, raw and style-controlled (length, quotes, verified quotes, position)", styled["ratings"], None),
                ("Style covariates: Elo points per standard deviation of each difference", styled["coefficients"], None),
            ]
            if styled["ratings"]
            else []
        ),
        ("Calibration", calibration, "reliability"),
        *(
            [("Accuracy and calibration by round (judge --by-round; human beliefs after each round)", by_round, "rounds")]
            if by_round
            else []
        ),
        *([("Per-round value curves: humans and models on the same transcripts", shared, "value_curves")] if shared else []),
        *([("Judge-paced campaigns: the round judges stopped after", stopping, None)] if stopping else []),
        *(
            [
                (
                    "One capability axis: accuracy under each protocol vs the judge's naive accuracy, humans and models",
                    capability,
                    "capability",
                )
            ]
            if capability
            else []
        ),
        ("Position bias", position, None),
        ("Human–model agreement", agree, None),
        ("Agreement among human judges (Fleiss' κ, Krippendorff's α; 95% CIs: delete-one-article jackknife)", among_humans, None),
        *(
            [("Weak-to-strong: performance gap recovered (PGR of pooled gaps; Fieller 95% CI over articles and seeds)", pgr, None)]
            if pgr
            else []
        ),
        *(
            [("Debate verdicts as weak labels: PGR by source, and minus the first source's (paired by seed)", sources, "weak_sources")]
            if sources
            else []
        ),
        ("Runs", runs, None),
    ]
    charts = _charts(board, trend["points"], rows, by_round, capability)
    charts |= {
        name: svg(chart)
        for name, chart in (("value_curves", rounds_chart(shared)), ("weak_sources", weak_sources_chart(sources)))
        if chart is not None
    }
    slope = (
        f"Accuracy vs Elo: {trend['slope_per_100']:+.3f} per 100 Elo (95% CI {trend['ci_low']:+.3f} to {trend['ci_high']:+.3f}, t on debaters − 2 df)."
        if trend["slope_per_100"] is not None and trend["ci_low"] is not None
        else "Accuracy vs Elo: needs debates between at least two different debater models."
    )
    where = safe_url(str(engine.url.render_as_string(hide_password=False)))
    intro = f"{where} · {len(rows)} judgments, {sum(not r['valid'] for r in rows)} invalid"
    return write_report(
        out,
        "Oversight report",
        intro,
        [
            Section(title, table, charts.get(chart) if chart else None, slope if chart == "elo" else None, chart)
            for title, table, chart in sections
        ],
    )


@dataclass
class Section:
    title: str
    table: list[dict[str, Any]]
    chart_svg: str | None = None
    note: str | None = None
    chart_name: str | None = None
    """The chart's file name beside the Markdown report (default: the section's number)."""


def write_report(out: Path, title: str, intro: str, sections: list[Section]) -> tuple[Path, Path]:
    """One self-contained HTML page and its Markdown twin (charts as SVG files beside it)."""
    out = out.with_suffix(".html")
    md_path = out.with_suffix(".md")
    assets = out.parent / f"{out.stem}_charts"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    html_parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:3px 6px}th{background:#f3f3f3}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><p>{html.escape(stamp)} · {html.escape(intro)}</p>",
    ]
    md_parts = [f"# {title}\n\n{stamp} · {intro}\n"]
    for number, section in enumerate(sections, 1):
        html_parts.append(f"<h2>{html.escape(section.title)}</h2>")
        md_parts.append(f"\n## {section.title}\n")
        if section.chart_svg:
            html_parts.append(section.chart_svg)
            assets.mkdir(parents=True, exist_ok=True)
            svg_name = f"{section.chart_name or f'{number:02d}'}.svg"
            (assets / svg_name).write_text(section.chart_svg, encoding="utf-8")
            md_parts.append(f"![{section.title}]({assets.name}/{svg_name})\n")
        if section.note:
            html_parts.append(f"<p>{html.escape(section.note)}</p>")
            md_parts.append(f"{section.note}\n")
        warning = few_articles_warning(section.table)
        if warning:
            html_parts.append(f"<p><strong>Warning:</strong> {html.escape(warning)}</p>")
            md_parts.append(f"**Warning:** {warning}\n")
        if section.table:
            frame = pd.DataFrame(section.table)
            html_parts.append(frame.to_html(index=False, na_rep="—", float_format=lambda v: f"{v:.3f}"))
            md_parts.append((render(section.table, "markdown") or "") + "\n")
        else:
            html_parts.append("<p>No data.</p>")
            md_parts.append("No data.\n")
    html_parts.append("</body></html>")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(html_parts), encoding="utf-8")
    md_path.write_text("\n".join(md_parts), encoding="utf-8")
    return out, md_path
