"""Human judging from the command line: judge-app accounts, campaigns, serving the app, importing verdicts made elsewhere."""

from __future__ import annotations

import json
import sys
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer

from oversight.cli import DbOption, FormatOption, _check_format, app, campaigns_app, err_console, import_app, users_app
from oversight.cli.output import print_text, render
from oversight.errors import OversightError


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option("--role", help="judge | admin.")] = "judge",
    db: DbOption = None,
) -> None:
    """Add a user; the password is read from standard input (or prompted for on a terminal)."""
    from oversight.db import connect
    from oversight.human.accounts import add_user

    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    add_user(connect(db), name, role, password)
    err_console.print(f"added {role} {name}")


@users_app.command("list")
def users_list(db: DbOption = None, fmt: FormatOption = "table") -> None:
    """List users (never their password hashes)."""
    from oversight.db import connect
    from oversight.human.accounts import list_users

    _check_format(fmt)
    print_text(render(list_users(connect(db)), fmt, title="Users"))


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="User name.")], db: DbOption = None) -> None:
    """Disable a user: they are logged out at their next page view and cannot log in."""
    from oversight.db import connect
    from oversight.human.accounts import set_disabled

    set_disabled(connect(db), name)
    err_console.print(f"disabled {name}")


DESIGN_OPTIONS = {
    "starts_at": "--opens", "ends_at": "--closes", "item_time_limit_s": "--time-limit", "min_rounds": "--min-rounds",
    "max_rounds": "--max-rounds", "round_cost": "--round-cost", "allocation": "--allocate", "items_per_judge": "--items-per-judge",
    "qualification_items": "--qualify-items", "pass_threshold": "--pass-mark", "catch_every": "--catch-every",
    "live_model": "--live-model", "name": "NAME", "judges_per_item": "--per-item",
}  # fmt: skip
"""Which option set each design field, so an error names what the user typed."""


@campaigns_app.command("create")
def campaigns_create(
    name: Annotated[str, typer.Argument(help="Campaign name.")],
    judges: Annotated[list[str], typer.Option("--judge", help="User who judges; repeat for several.")],
    runs: Annotated[list[str] | None, typer.Option("--run", help="Run whose transcripts are judged; repeat for several.")] = None,
    protocols: Annotated[list[str] | None, typer.Option("--protocol", help="Only transcripts of this protocol; repeatable.")] = None,
    questions: Annotated[list[str] | None, typer.Option("--question", help="Only this question id; repeatable.")] = None,
    per_item: Annotated[int, typer.Option("--per-item", min=1, max=100, help="Judges per item.")] = 1,
    show_context: Annotated[bool, typer.Option("--show-context", help="Judges may read the story (expert baseline).")] = False,
    interactive: Annotated[bool, typer.Option("--interactive", help="Judges may ask questions, answered live.")] = False,
    interactive_model: Annotated[
        str, typer.Option("--interactive-model", help="Model that answers judges' questions.")
    ] = "local/smollm2-135m",
    penalty: Annotated[float, typer.Option("--penalty", min=0.0, max=1.0, help="Score charged per question asked.")] = 0.0,
    feedback: Annotated[bool, typer.Option("--feedback", help="Show the correct answer and score after each verdict.")] = False,
    allow_repeat: Annotated[bool, typer.Option("--allow-repeat", help="Allow questions a judge saw in another campaign.")] = False,
    conditions: Annotated[
        list[str] | None,
        typer.Option("--condition", help="A study arm NAME=RUN[/PROTOCOL] (repeatable; instead of --run), counterbalanced over judges."),
    ] = None,
    one_per_article: Annotated[bool, typer.Option("--one-per-article", help="A judge never sees an article twice.")] = False,
    allocate: Annotated[str, typer.Option("--allocate", help="balanced (Latin square) | widest (the widest interval first).")] = "balanced",
    items_per_judge: Annotated[int | None, typer.Option("--items-per-judge", min=1, help="Main items each judge does at most.")] = None,
    paced: Annotated[bool, typer.Option("--paced", help="Reveal transcripts round by round; a belief after each round.")] = False,
    live: Annotated[bool, typer.Option("--live", help="Generate each round when the judge asks for it (implies --paced).")] = False,
    live_model: Annotated[str | None, typer.Option("--live-model", help="Model that speaks in live sessions (default: the run's).")] = None,
    min_rounds: Annotated[int, typer.Option("--min-rounds", min=1, max=50, help="Rounds a judge must read before stopping.")] = 1,
    max_rounds: Annotated[int | None, typer.Option("--max-rounds", min=1, max=50, help="Rounds a judge may read at most.")] = None,
    round_cost: Annotated[float, typer.Option("--round-cost", min=0.0, max=1.0, help="Score charged per round beyond the minimum.")] = 0.0,
    opens: Annotated[str | None, typer.Option("--opens", help="When judging opens (UTC, e.g. 2026-12-01T09:00).")] = None,
    closes: Annotated[str | None, typer.Option("--closes", help="When judging closes (UTC).")] = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", min=1, help="Seconds per item; later verdicts are timed out.")] = None,
    qualify: Annotated[list[str] | None, typer.Option("--qualify", help="Run whose transcripts are the gold items (repeatable).")] = None,
    qualify_items: Annotated[int, typer.Option("--qualify-items", min=0, help="Gold items each judge answers first.")] = 0,
    pass_mark: Annotated[float, typer.Option("--pass-mark", min=0.0, max=1.0, help="Gold-item accuracy that qualifies.")] = 0.6,
    catch: Annotated[list[str] | None, typer.Option("--catch", help="Run whose transcripts are catch trials (repeatable).")] = None,
    catch_every: Annotated[int, typer.Option("--catch-every", min=0, help="One catch trial after every N main items.")] = 0,
    show_stats: Annotated[bool, typer.Option("--show-stats", help="Judges see their own record.")] = False,
    db: DbOption = None,
) -> None:
    """Create a human-judging campaign over stored runs: one set of transcripts, or several counterbalanced conditions,
    optionally judge-paced or live, with a window, a time limit, a qualification stage and catch trials."""
    from pydantic import ValidationError

    from oversight.db import connect
    from oversight.errors import InputError, validation_problem
    from oversight.human.campaigns import CampaignSpec, create_campaign
    from oversight.human.design import ConditionSpec
    from oversight.models import parse_spec

    parse_spec(interactive_model)
    if live_model:
        parse_spec(live_model)
    try:
        arms = [ConditionSpec.parse(text) for text in conditions or []]
    except InputError as exc:
        raise InputError(f"--condition {exc}") from None
    design = {
        "one_per_article": one_per_article, "allocation": allocate, "items_per_judge": items_per_judge, "paced": paced, "live": live,
        "live_model": live_model, "min_rounds": min_rounds, "max_rounds": max_rounds, "round_cost": round_cost, "starts_at": opens,
        "ends_at": closes, "item_time_limit_s": time_limit, "qualification_items": qualify_items, "pass_threshold": pass_mark,
        "catch_every": catch_every, "judge_sees_stats": show_stats,
    }  # fmt: skip
    try:
        spec = CampaignSpec(
            name=name, runs=runs or [], judges=judges, protocols=protocols or [], questions=questions or [], judges_per_item=per_item,
            show_context=show_context, interactive=interactive, interactive_model=interactive_model, turn_penalty=penalty, feedback=feedback,
            allow_repeat=allow_repeat, conditions=arms, qualification_runs=qualify or [], catch_runs=catch or [], design=design,
        )  # fmt: skip
    except ValidationError as exc:
        raise InputError(validation_problem(exc, skip=("design",), rename=DESIGN_OPTIONS)) from None
    cid = create_campaign(connect(db), spec)
    err_console.print(f"created campaign {name} (id {cid})")


@campaigns_app.command("exclude")
def campaigns_exclude(
    name: Annotated[str, typer.Argument(help="Campaign name.")],
    judge: Annotated[str, typer.Argument(help="Judge whose verdicts in this campaign leave the results.")],
    include: Annotated[bool, typer.Option("--include", help="Bring the judge's verdicts back instead.")] = False,
    db: DbOption = None,
) -> None:
    """Keep a judge's verdicts in a campaign out of the leaderboard and reports (e.g. after missed catch trials)."""
    from oversight.db import connect
    from oversight.human.campaigns import all_campaigns, set_excluded

    engine = connect(db)
    found = [c for c in all_campaigns(engine) if c["name"] == name]
    if not found:
        raise OversightError(f"no campaign named {name!r}")
    changed = set_excluded(engine, found[0]["id"], judge, excluded=not include)
    err_console.print(f"{'included' if include else 'excluded'} {judge} in {name} ({changed} verdicts)")


@campaigns_app.command("list")
def campaigns_list(db: DbOption = None, fmt: FormatOption = "table") -> None:
    """Campaigns with each judge's progress."""
    from oversight.db import connect
    from oversight.human.campaigns import all_campaigns, progress

    _check_format(fmt)
    engine = connect(db)
    rows = [{"campaign": c["name"], **p} for c in all_campaigns(engine) for p in progress(engine, c["id"])]
    print_text(render(rows, fmt, title="Campaign progress"))


@campaigns_app.command("export")
def campaigns_export(
    name: Annotated[str, typer.Argument(help="Campaign name.")],
    fmt: Annotated[str, typer.Option("--format", help="jsonl | csv.")] = "jsonl",
    db: DbOption = None,
) -> None:
    """Human verdicts of a campaign: judge, condition, stage, question, order, probabilities (and after each round), explanation, time, stopping round."""
    from oversight.db import connect
    from oversight.export import write_records
    from oversight.human.campaigns import all_campaigns, export_rows

    _check_format(fmt, ("jsonl", "csv"))
    engine = connect(db)
    found = [c for c in all_campaigns(engine) if c["name"] == name]
    if not found:
        raise OversightError(f"no campaign named {name!r}")
    write_records(export_rows(engine, found[0]["id"]), fmt, sys.stdout)  # type: ignore[arg-type]


@app.command()
def web(
    db: DbOption = None,
    port: Annotated[int, typer.Option("--port", envvar="OVERSIGHT_WEB_PORT", min=1, max=65535, help="Port.")] = 8501,
    host: Annotated[str, typer.Option("--host", envvar="OVERSIGHT_WEB_HOST", help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Serve the judge app (Streamlit): judging, campaigns, users, transcripts, leaderboard."""
    import os

    from oversight.db import connect
    from oversight.db.connect import resolve_url

    url = resolve_url(db)
    connect(url).dispose()  # fail here, with one line, if the database cannot be opened or migrated
    app_path = str(files("oversight.web") / "app.py")
    command = [
        sys.executable, "-m", "streamlit", "run", app_path, "--server.port", str(port), "--server.address", host,
        "--server.headless", "true", "--client.showErrorDetails", "false", "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
    ]  # fmt: skip
    # become the Streamlit server (no child left behind when this process is stopped); the database URL, which
    # may hold a password, goes in the environment, not on the command line where `ps` shows it
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, os.environ | {"OVERSIGHT_DB": url})


@import_app.command("human-judgments")
def import_human_judgments(
    path: Annotated[Path, typer.Argument(help="JSONL or CSV: question_id, judge_id, chosen [+ confidence] or p_correct, condition, …")],
    run: Annotated[str | None, typer.Option("--run", help="Attach the verdicts to this run's transcripts.")] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="A name for where the verdicts come from (default: the file's name).")
    ] = None,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Store human verdicts from another study or interface as human judgments on the matching transcripts
    (all or nothing: every problem is listed by line). Compare with: oversight leaderboard --metric agreement."""
    from oversight.db import connect
    from oversight.human.imports import import_human_judgments as run_import

    result = run_import(connect(db), path, run=run, source=source)
    counts = {"imported": result.imported, "already_there": result.already_there, "by_condition": result.by_condition}
    if as_json:
        print_text(json.dumps(counts, indent=2))
        return
    err_console.print(
        f"imported {result.imported} human verdict(s)"
        + (f" ({', '.join(f'{k}: {v}' for k, v in result.by_condition.items())})" if result.by_condition else "")
        + (f"; {result.already_there} were already there" if result.already_there else ""),
        highlight=False,
    )
