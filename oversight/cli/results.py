"""Commands that read results: leaderboard, report, compare, export, usage."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from oversight.cli import DbOption, FormatOption, _check_format, app, err_console
from oversight.cli.output import print_text, render
from oversight.errors import OversightError


class ExportKind(StrEnum):
    judgments = "judgments"
    transcripts = "transcripts"
    w2s = "w2s"


METRICS = (
    "accuracy",
    "elo",
    "calibration",
    "agreement",
    "human-agreement",
    "position",
    "style-elo",
    "rounds",
    "value-curves",
    "stopping",
    "capability",
    "pgr",
    "weak-sources",
)


@app.command()
def leaderboard(
    db: DbOption = None,
    fmt: FormatOption = "table",
    run_filter: Annotated[str | None, typer.Option("--run", help="Only this run.")] = None,
    metric: Annotated[
        str,
        typer.Option(
            "--metric",
            help="accuracy | elo | style-elo (raw and style-controlled Elo, with what length, quotes, verified quotes and position buy) | calibration | agreement | position | rounds (after `judge --by-round` or a judge-paced campaign) | value-curves (humans and models by round on the same transcripts) | stopping (judge-paced campaigns) | capability (accuracy under each protocol vs the judge's naive accuracy, humans and models) | pgr (weak-to-strong) | weak-sources (w2s --weak-from-run: does debate raise PGR?).",
        ),
    ] = "accuracy",
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="Comma-separated grouping: protocol, judge, dataset, judge_kind, prompt_version, run, variant, models (who argued).",
        ),
    ] = "protocol,judge,dataset",
    by_side: Annotated[
        bool, typer.Option("--by-side", help="elo: rate each debater separately on the correct and the incorrect side.")
    ] = False,
    weighted: Annotated[
        bool, typer.Option("--weighted", help="elo: a debater wins the judge's probability for its side, not 0/1.")
    ] = False,
) -> None:
    """Judge accuracy (95% CIs clustered by article), debater Elo, calibration, human–model agreement, position bias or weak-to-strong PGR."""
    from oversight.db import connect
    from oversight.db.queries import judgment_rows
    from oversight.metrics.leaderboard import GROUP_KEYS

    _check_format(fmt)
    if metric not in METRICS:
        raise OversightError(f"--metric {metric!r}: choose one of {', '.join(METRICS)}")
    keys = tuple(k.strip() for k in by.split(",") if k.strip())
    unknown = [k for k in keys if k not in GROUP_KEYS]
    if unknown or not keys:
        raise OversightError(f"--by {by!r}: group by any of {', '.join(GROUP_KEYS)}")
    engine = connect(db)
    if metric == "pgr":
        from oversight.db.w2s import w2s_rows
        from oversight.metrics.pgr import pgr_table

        rows = pgr_table(w2s_rows(engine, run_filter))
    elif metric == "weak-sources":
        from oversight.db.w2s import w2s_rows
        from oversight.metrics.pgr import weak_source_table

        rows = weak_source_table(w2s_rows(engine, run_filter))
    elif metric == "style-elo":
        from oversight.metrics.style import style_elo

        styled = style_elo(judgment_rows(engine, run_filter))
        if not styled["ratings"] and fmt == "table":
            err_console.print("nothing to show yet: style-controlled Elo needs judged debates between two different debaters")
            return
        print_text(render(styled["ratings"], fmt, title="Debater Elo, raw and style-controlled (95% CIs: delete-one-article jackknife)"))
        _warn_few_articles(styled["ratings"], fmt)
        if fmt == "table":
            print_text(render(styled["coefficients"], fmt, title="What style buys: Elo points per standard deviation of each difference"))
        return
    elif metric == "accuracy":
        from oversight.metrics.leaderboard import stored_leaderboard

        rows = stored_leaderboard(engine, by=keys, runs=run_filter)
    else:
        from oversight.metrics.tables import metric_table

        rows = metric_table(
            metric,
            judgment_rows(engine, run_filter, cuts=metric in ("rounds", "value-curves")),
            keys,
            by_side=by_side,
            weighted=weighted,
        )
    if not rows and fmt == "table":
        err_console.print("nothing to show yet: run `oversight quickstart` or `oversight run` (elo needs debates between different models)")
        return
    print_text(render(rows, fmt, title=f"{metric} ({INTERVALS.get(metric, 'clustered by article: CR2, t on Bell–McCaffrey df')})"))
    _warn_few_articles(rows, fmt)


INTERVALS = {
    "pgr": "95% CIs: Fieller over articles and seeds",
    "weak-sources": "95% CIs over seeds",
    "elo": "95% CIs: delete-one-article jackknife",
    "human-agreement": "95% CIs: delete-one-article jackknife",
    "calibration": "no intervals",
    "position": "no intervals",
    "agreement": "no intervals",
    "stopping": "no intervals",
}
"""How each metric's interval is made, for the table title (accuracy-like metrics use CR2)."""


def _warn_few_articles(rows: list[dict[str, object]], fmt: str) -> None:
    from oversight.metrics.intervals import few_articles_warning

    warning = few_articles_warning(rows) if fmt == "table" else None
    if warning:
        err_console.print(warning, style="yellow", highlight=False, soft_wrap=True)


@app.command()
def report(
    db: DbOption = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write; a Markdown twin goes beside it.")] = Path("report.html"),
) -> None:
    """Write a self-contained HTML report (and Markdown) with accuracy, Elo, calibration, position bias and agreement."""
    from oversight.db import connect
    from oversight.report import build_report

    html_path, md_path = build_report(connect(db), out)
    err_console.print(f"wrote {html_path} and {md_path}")


@app.command()
def compare(
    run_a: Annotated[str | None, typer.Argument(help="First run (or use --a filters).")] = None,
    run_b: Annotated[str | None, typer.Argument(help="Second run (or use --b filters).")] = None,
    filter_a: Annotated[
        list[str] | None, typer.Option("--a", help="Condition A as KEY=VALUE (protocol, judge, dataset, run, ...); repeatable.")
    ] = None,
    filter_b: Annotated[list[str] | None, typer.Option("--b", help="Condition B as KEY=VALUE; repeatable.")] = None,
    db: DbOption = None,
    judge: Annotated[str | None, typer.Option("--judge", help="Only this judge's verdicts (both conditions).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the permutation test.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Paired comparison of two runs or two filtered conditions on the questions both judged.

    Gives the accuracy difference, its 95% CI clustered by article (CR2) and a permutation p-value (articles
    swapped whole)."""
    from oversight.db import connect
    from oversight.db.queries import judgment_rows, run_row
    from oversight.metrics.conditions import compare_conditions, parse_condition

    a, b = parse_condition(filter_a, "--a"), parse_condition(filter_b, "--b")
    engine = connect(db)
    for name, conditions in ((run_a, a), (run_b, b)):
        if name is not None:
            run_row(engine, name)
            conditions["run"] = name
    if not a or not b:
        raise OversightError("name two runs (compare RUN_A RUN_B) or two conditions (--a KEY=VALUE --b KEY=VALUE)")
    if judge:
        a["judge"] = b["judge"] = judge
    result = compare_conditions(judgment_rows(engine), a, b, seed=seed)
    print_text(json.dumps(result, indent=2) if as_json else render([result], "markdown"))
    _warn_few_articles([result], "table" if not as_json else "json")


@app.command()
def export(
    kind: Annotated[
        ExportKind, typer.Argument(help="judgments | transcripts | w2s (weak-to-strong examples: weak labels and predictions)")
    ],
    db: DbOption = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl | csv.")] = "jsonl",
    run_filter: Annotated[str | None, typer.Option("--run", help="Only this run.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Export stored judgments, transcripts (with turns, quotes and judgments) or weak-to-strong examples."""
    from oversight.db import connect
    from oversight.db.queries import judgment_rows, transcript_rows
    from oversight.db.w2s import w2s_example_rows
    from oversight.export import write_records

    _check_format(fmt, ("jsonl", "csv"))
    engine = connect(db)
    fetch = {ExportKind.judgments: judgment_rows, ExportKind.transcripts: transcript_rows, ExportKind.w2s: w2s_example_rows}[kind]
    rows = judgment_rows(engine, run_filter, cuts=True) if kind == ExportKind.judgments else fetch(engine, run_filter)
    handle = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
    try:
        write_records(rows, fmt, handle)  # type: ignore[arg-type]
    finally:
        if out:
            handle.close()
    if out:
        err_console.print(f"wrote {len(rows)} {kind.value} to {out}")


@app.command()
def usage(
    db: DbOption = None,
    fmt: FormatOption = "table",
    run_filter: Annotated[str | None, typer.Option("--run", help="Only this run.")] = None,
) -> None:
    """Model calls, tokens (prompt, prefix-cached, completion), cost and cache hits per run, role and model."""
    from oversight.db import connect
    from oversight.db.queries import usage_rows

    _check_format(fmt)
    print_text(render(usage_rows(connect(db), run_filter), fmt, title="Model usage"))


@app.command()
def plan(
    filter_a: Annotated[
        list[str], typer.Option("--a", help="Condition A as KEY=VALUE (protocol, judge, judge_kind, run, ...); repeatable.")
    ],
    filter_b: Annotated[list[str], typer.Option("--b", help="Condition B as KEY=VALUE; repeatable.")],
    width: Annotated[float, typer.Option("--width", min=0.001, max=2.0, help="The 95% interval width wanted on A − B (e.g. 0.1).")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """From a pilot's judgments: the interval on accuracy A − B now and the articles and judgments each condition needs for a 95% interval of --width.

    The interval is clustered by article within each condition (CR2, Welch–Satterthwaite df)."""
    from oversight.db import connect
    from oversight.db.queries import judgment_rows
    from oversight.metrics.conditions import label, matching, parse_condition
    from oversight.metrics.planning import plan_study

    a, b = parse_condition(filter_a, "--a"), parse_condition(filter_b, "--b")
    rows = judgment_rows(connect(db))
    try:
        result = plan_study(matching(rows, a), matching(rows, b), width)
    except ValueError as exc:
        raise OversightError(f"{label(a)} vs {label(b)}: {exc}") from None
    if as_json:
        print_text(json.dumps({"a": label(a), "b": label(b), **result}, indent=2))
        return
    render([{"condition": label(c), "accuracy": result[f"accuracy_{s}"], "articles": result[f"articles_{s}"],
             "judgments": result[f"judgments_{s}"], "articles needed": result[f"articles_needed_{s}"],
             "judgments needed": result[f"judgments_needed_{s}"], "more judgments": result[f"more_judgments_{s}"]}
            for c, s in ((a, "a"), (b, "b"))], "table", title="Pilot and plan")  # fmt: skip
    err_console.print(
        f"A − B = {result['diff']:+.3f}, 95% CI {result['ci_low']:+.3f} to {result['ci_high']:+.3f} (width {result['width']:.3f}); "
        f"a width of {width:.3f} needs the judgments above (articles scale as (width now / width wanted)²)",
        highlight=False,
        soft_wrap=True,
    )
