"""`oversight study run|status|report STUDY.yaml`: a grid of runs, a tournament and the papers' figures from one file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from oversight.cli import DbOption, FormatOption, _check_format, err_console, study_app
from oversight.cli.output import print_text, render
from oversight.errors import InputError

StudyFile = Annotated[Path, typer.Argument(help="The study file (YAML), e.g. recipes/khan2024.yaml.")]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a key of the study file: --set run.rounds=1 --set datasets.0.limit=2 (repeatable)."),
]
DatasetOption = Annotated[
    list[str] | None, typer.Option("--dataset", "-d", help="Run on this dataset file instead of the study's (repeatable).")
]
LimitOption = Annotated[int | None, typer.Option("--limit", help="Use the first N questions of every dataset.")]


def _load(path: Path, overrides: list[str] | None, datasets: list[str] | None, limit: int | None) -> Any:
    from oversight.study import load_study

    spec = load_study(path, overrides, datasets)
    if limit is not None:
        if limit < 1:
            raise InputError("--limit: give a number of questions, 1 or more")
        for entry in spec.datasets:
            entry.limit = limit
    return spec


@study_app.command("run")
def study_run(
    study: StudyFile,
    overrides: SetOption = None,
    dataset: DatasetOption = None,
    limit: LimitOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the cells still to run with their calls, tokens and cost; run nothing.")
    ] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Where the report goes once every cell has finished [default: NAME-report.html].")
    ] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Do not write the report at the end.")] = False,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Run every cell of the study that has not finished (finished cells are left alone; a failed cell does not stop the
    others), then write the study's report."""
    spec = _load(study, overrides, dataset, limit)
    if dry_run:
        _dry_run(spec, db, as_json)
        return
    from oversight.study.runner import run_study

    result = run_study(spec, db=db, console=err_console)
    written = None
    if not result.failed and not no_report:
        from oversight.study.report import build_study_report

        written, _ = build_study_report(spec, report or Path(f"{spec.name}-report.html"), db=db)
    summary = {"study": spec.name, "ran": len(result.ran), "already_finished": len(result.skipped), "failed": result.failed,
               "campaign": result.campaign, "report": str(written) if written else None}  # fmt: skip
    if as_json:
        print_text(json.dumps(summary, indent=2))
    else:
        err_console.print(
            f"study {spec.name}: {len(result.ran)} cell(s) run, {len(result.skipped)} already finished, {len(result.failed)} failed"
            + (f"; campaign {result.campaign!r} ready in the judge app" if result.campaign else "")
            + (f"; report: {written}" if written else f". Figures: oversight study report {study}"),
            highlight=False,
            soft_wrap=True,
        )
    if result.failed:
        raise typer.Exit(1)


def _dry_run(spec: Any, db: str | None, as_json: bool) -> None:
    from oversight.db import connect
    from oversight.estimate import estimate
    from oversight.study.runner import all_cells, cell_states

    engine = connect(db)
    cells = all_cells(engine, spec)
    states = cell_states(engine, cells)
    rows = []
    for cell in cells:
        row: dict[str, Any] = {"cell": cell.key, "players": cell.matchup, "status": states[cell.run_name]}
        if states[cell.run_name] == "finished":
            row |= {"calls": 0, "prompt_tokens": 0, "completion_tokens_max": 0, "cost_usd_max": 0.0}
        elif cell.kind == "w2s":
            row |= {"calls": 0, "prompt_tokens": 0, "completion_tokens_max": 0, "cost_usd_max": 0.0, "note": "local training"}
        else:
            e = estimate(cell.run_config(db))
            row |= {k: e[k] for k in ("calls", "prompt_tokens", "completion_tokens_max", "cost_usd_max")}
        rows.append(row)
    pending = [r for r in rows if r["status"] != "finished"]
    later = 0
    if spec.tournament.pairing == "swiss":
        from oversight.study.cells import has_swiss

        if has_swiss(spec):
            known = max((c.stage for c in cells), default=0)
            later = spec.tournament.swiss_rounds - known
    totals = {k: sum(r[k] for r in pending) for k in ("calls", "prompt_tokens", "completion_tokens_max")}
    cost = round(sum(r["cost_usd_max"] for r in pending), 4)
    if as_json:
        print_text(
            json.dumps({"cells": rows, "pending": len(pending), "later_swiss_rounds": later, **totals, "cost_usd_max": cost}, indent=2)
        )
        return
    render(rows, "table", title=f"study {spec.name}: {len(pending)} of {len(rows)} cell(s) to run")
    err_console.print(
        f"{totals['calls']:,} call(s), {totals['prompt_tokens']:,} prompt tokens, at most {totals['completion_tokens_max']:,} completion "
        f"tokens, ${cost:.4f} at most"
        + (f"; {later} more Swiss round(s) are paired once the earlier ones finish (each about the size of round 1)" if later else "")
        + "; nothing was sent or written",
        highlight=False,
        soft_wrap=True,
    )


@study_app.command("status")
def study_status(study: StudyFile, overrides: SetOption = None, dataset: DatasetOption = None, limit: LimitOption = None,
                 db: DbOption = None, fmt: FormatOption = "table") -> None:  # fmt: skip
    """Each cell's state: finished, running, interrupted, failed, stale or pending."""
    from oversight.study.runner import status_rows

    spec = _load(study, overrides, dataset, limit)
    print_text(render(status_rows(spec, db), _check_format(fmt), title=f"study {spec.name}"))


@study_app.command("report")
def study_report(
    study: StudyFile,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="HTML file to write (a Markdown twin goes beside it).")] = None,
    overrides: SetOption = None,
    dataset: DatasetOption = None,
    limit: LimitOption = None,
    db: DbOption = None,
) -> None:
    """The study's figures from the stored rows: accuracy per cell, player Elo, accuracy against Elo, the w2s ladder."""
    from oversight.study.report import build_study_report

    spec = _load(study, overrides, dataset, limit)
    html_path, md_path = build_study_report(spec, out or Path(f"{spec.name}-report.html"), db=db)
    err_console.print(f"wrote {html_path} and {md_path}", highlight=False)
