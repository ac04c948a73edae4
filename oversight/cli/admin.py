"""Dataset files and the database: data inspect, db upgrade / backup / restore."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from oversight.cli import DbOption, data_app, db_app, err_console
from oversight.cli.output import print_text, render


@data_app.command("inspect")
def data_inspect(
    path: Annotated[Path, typer.Argument(help="Dataset file.")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", "--dataset-format", help="Dataset format: {formats}, or FILE.py:FUNCTION (detected when left out)."),
    ] = None,
    hard: Annotated[bool, typer.Option("--hard", help="QuALITY: difficult questions only.")] = False,
    skip_bad_rows: Annotated[bool, typer.Option("--skip-bad-rows", help="Count and leave out rows that cannot be repaired.")] = False,
    filters: Annotated[
        list[str] | None, typer.Option("--filter", help="Keep only some questions, as `oversight run --filter` (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Validate a dataset file and summarise it: format, articles, questions, options, context lengths, repairs, bad rows."""
    from pydantic import ValidationError

    from oversight.cli.running import parse_assignments
    from oversight.data import DatasetFilters, LoadReport, load_dataset, summarize
    from oversight.errors import InputError

    chosen = parse_assignments(filters, "--filter", yaml_values=True)
    try:
        DatasetFilters.model_validate(chosen)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(f"--filter {'.'.join(map(str, err['loc']))}: {str(err['msg']).removeprefix('Value error, ')}") from None
    report = LoadReport()
    used, questions = load_dataset(path, fmt, hard=hard, skip_bad_rows=skip_bad_rows, report=report, filters=chosen)
    summary = summarize(path, used, questions, report)
    if as_json:
        print_text(json.dumps(summary, indent=2))
        return
    ctx = summary["context_chars"]
    rows = [
        {"field": "format", "value": used},
        {"field": "articles", "value": summary["articles"]},
        {"field": "questions", "value": summary["questions"]},
        {"field": "options per question", "value": ", ".join(f"{k}: {v}" for k, v in summary["options_per_question"].items())},
        {"field": "context chars (min/median/max)", "value": f"{ctx['min']}/{ctx['median']}/{ctx['max']}" if ctx else "no context"},
        {"field": "with a named distractor", "value": summary["with_distractor"]},
        {"field": "repaired (repeated or empty options dropped)", "value": summary["repaired"]},
        {"field": "bad rows skipped", "value": summary["skipped_bad_rows"]},
        *({"field": f"removed by {name}", "value": n} for name, n in report.filtered.items()),
        *({"field": "first problem" if i == 0 else "", "value": p} for i, p in enumerate(summary["first_problems"])),
    ]
    render(rows, "table", title=str(path))


@data_app.command("generate")
def data_generate(
    kind: Annotated[str, typer.Argument(help="What to generate: prontoqa (PrOntoQA-style logic questions).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL file to write (the generic format).")],
    n: Annotated[int, typer.Option("--n", min=1, max=1_000_000, help="Number of questions.")] = 200,
    hops: Annotated[int, typer.Option("--hops", min=1, max=10, help="Deduction steps each question takes.")] = 3,
    seed: Annotated[int, typer.Option("--seed", min=0, help="The same seed writes the same file.")] = 0,
) -> None:
    """Write generated questions (deterministic in --n, --hops and --seed) to run protocols or weak-to-strong on."""
    from oversight.data import prontoqa
    from oversight.errors import InputError

    if kind != "prontoqa":
        raise InputError(f"data generate: unknown kind {kind!r} (there is: prontoqa)")
    prontoqa.write(out, n, hops=hops, seed=seed)
    err_console.print(f"wrote {n} {hops}-hop question(s) to {out}", highlight=False)


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create the schema or apply pending migrations."""
    from oversight.db import connect
    from oversight.db.connect import current_revision, safe_url

    engine = connect(db, migrate=True)
    err_console.print(f"{safe_url(str(engine.url.render_as_string(hide_password=False)))} is at revision {current_revision(engine)}")


@db_app.command("backup")
def db_backup(
    out: Annotated[Path, typer.Argument(help="Backup file to write (must not exist).")],
    db: DbOption = None,
) -> None:
    """Copy the database while it is in use: SQLite's online backup, or pg_dump for PostgreSQL."""
    from oversight.db.backup import backup
    from oversight.db.connect import resolve_url, safe_url

    url = resolve_url(db)
    info = backup(url, out)
    err_console.print(f"backed up {safe_url(url)} to {info['file']} ({info['bytes']:,} bytes)", highlight=False)


@db_app.command("restore")
def db_restore(
    backup_file: Annotated[Path, typer.Argument(help="A file written by `oversight db backup`.")],
    db: DbOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing database.")] = False,
) -> None:
    """Restore a backup (and migrate it to the current schema)."""
    from oversight.db.backup import restore
    from oversight.db.connect import current_revision, resolve_url, safe_url

    url = resolve_url(db)
    engine = restore(backup_file, url, force=force)
    err_console.print(f"restored {backup_file} into {safe_url(url)}, now at revision {current_revision(engine)}", highlight=False)
