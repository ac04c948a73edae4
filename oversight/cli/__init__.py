"""The `oversight` command line. Every option can also come from an `OVERSIGHT_*` variable; `run` also reads a YAML config."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from oversight.errors import OversightError, redact

app = typer.Typer(
    name="oversight",
    help="Run debate, consultancy and baseline protocols and weak-to-strong supervision between language models, store everything in SQL, judge in a web app and rank with honest error bars.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Inspect dataset files; generate logic questions.", no_args_is_help=True)
db_app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks with documented targets.", no_args_is_help=True)
users_app = typer.Typer(help="Judge-app accounts.", no_args_is_help=True)
campaigns_app = typer.Typer(help="Human-judging campaigns.", no_args_is_help=True)
models_app = typer.Typer(help="Model files: export the embedded model for vLLM.", no_args_is_help=True)
prompts_app = typer.Typer(help="Prompt templates: list, show, export to edit (run with --prompts DIR).", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(db_app, name="db")
app.add_typer(bench_app, name="bench")
app.add_typer(users_app, name="users")
app.add_typer(campaigns_app, name="campaigns")
app.add_typer(models_app, name="models")
app.add_typer(prompts_app, name="prompts")

err_console = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[str | None, typer.Option("--db", envvar="OVERSIGHT_DB", help="Database URL [default: sqlite:///oversight.db].")]
FormatOption = Annotated[str, typer.Option("--format", envvar="OVERSIGHT_FORMAT", help="table | json | csv | markdown.")]


def _version(value: bool) -> None:
    if value:
        from oversight import __version__

        typer.echo(f"oversight {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    log_level: Annotated[
        str, typer.Option("--log-level", envvar="OVERSIGHT_LOG_LEVEL", help="debug | info | warning | error.")
    ] = "warning",
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
    plugin: Annotated[
        list[str] | None,
        typer.Option(
            "--plugin",
            help="A Python file (or module) to import first: its @protocol / @provider / @dataset_format registrations "
            "become usable names. Repeatable; also OVERSIGHT_PLUGINS (separated by the path separator).",
        ),
    ] = None,
) -> None:
    # API keys may sit in a .env file beside the work (never in the database or the run config); the environment wins
    from dotenv import find_dotenv, load_dotenv

    load_dotenv(find_dotenv(usecwd=True), override=False)
    level = getattr(logging, log_level.upper(), None)
    if not isinstance(level, int):
        raise OversightError(f"--log-level {log_level!r}: choose debug, info, warning or error")
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_redact_log_record)
    for noisy in ("httpx", "openai", "alembic"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    from oversight.plugins import add_plugins

    add_plugins(plugin or [])
    if "--help" in sys.argv[1:]:  # only help shows them, and reading the registries' entry points costs ~0.1 s
        fill_help(ctx.find_root().command)


def fill_help(command: Any, marks: dict[str, str] | None = None) -> None:
    """Put what the registries hold (plugins included) into option help texts written with `{protocols}`-style marks."""
    if marks is None:
        from oversight.plugins import DATASET_FORMATS, PROMPT_SETS, PROTOCOLS, PROVIDERS
        from oversight.prompts import default_prompts

        marks = {
            "{protocols}": PROTOCOLS.help(), "{formats}": DATASET_FORMATS.help(), "{providers}": PROVIDERS.help(),
            "{prompt_sets}": PROMPT_SETS.help(), "{judge_prompts}": " | ".join(default_prompts().judge_prompts()),
        }  # fmt: skip
    for param in command.params:
        text = getattr(param, "help", None)
        if text and "{" in text:
            for mark, value in marks.items():
                text = text.replace(mark, value)
            param.help = text  # type: ignore[attr-defined]
    for sub in getattr(command, "commands", {}).values():
        fill_help(sub, marks)


def _redact_log_record(record: logging.LogRecord) -> bool:
    record.msg, record.args = redact(record.getMessage()), None
    return True


def _check_format(fmt: str, allowed: tuple[str, ...] = ("table", "json", "csv", "markdown")) -> str:
    if fmt not in allowed:
        raise OversightError(f"--format {fmt!r}: choose one of {', '.join(allowed)}")
    return fmt


from oversight.cli import admin, bench, extending, human, results, running, serving, study, w2s  # noqa: E402,F401  (register the commands on `app`)


def main() -> None:
    try:
        app()
    except OversightError as exc:
        err_console.print("[bold red]error:[/] ", end="", highlight=False, soft_wrap=True)
        err_console.print(redact(str(exc)), highlight=False, markup=False, soft_wrap=True)
        detail = getattr(exc, "detail", None)
        if detail:
            err_console.print(redact(detail), style="dim", highlight=False, markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        if not _is_database_error(exc):
            raise
        # a full disk, a read-only file, a server gone: one line, what was committed stays
        detail = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
        err_console.print("[bold red]database error:[/] ", end="", highlight=False, soft_wrap=True)
        err_console.print(redact(f"{type(exc).__name__}: {detail}"), highlight=False, markup=False, soft_wrap=True)
        sys.exit(1)


def _is_database_error(exc: BaseException) -> bool:
    """Whether `exc` is SQLAlchemy's, without importing SQLAlchemy into commands that never touched a database."""
    database = sys.modules.get("sqlalchemy.exc")
    return database is not None and isinstance(exc, database.SQLAlchemyError)


def run_in_process(args: list[str]) -> int:
    """The `oversight` command run in this process (benchmarks, tests); returns its exit code."""
    old, sys.argv = sys.argv, ["oversight", *args]
    try:
        main()
        return 0
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        sys.argv = old


__all__ = ["app", "main", "run_in_process", "json", "Path"]
