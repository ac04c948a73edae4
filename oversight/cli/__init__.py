"""The `oversight` command line. Every option can also come from an `OVERSIGHT_*` variable; `run` also reads a YAML config."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from oversight.cli._lazy import LazyCommand, LazyCommands
from oversight.errors import OversightError, redact


class _OversightCommands(LazyCommands):
    def entries(self) -> dict[str, LazyCommand]:
        return COMMANDS


app = typer.Typer(
    name="oversight",
    help="Run debate, consultancy and baseline protocols and weak-to-strong supervision between language models, store everything in SQL, judge in a web app and rank with honest error bars.",
    cls=_OversightCommands,
    # Click's plain help: Typer's Rich help imports Markdown, Pygments and tracebacks (~0.1 s on every --help)
    rich_markup_mode=None,
    context_settings={"max_content_width": 120},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _group_app(help: str) -> typer.Typer:
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)


data_app = _group_app("Inspect dataset files; generate logic questions.")
db_app = _group_app("Manage the database schema.")
bench_app = _group_app("Benchmarks with documented targets.")
users_app = _group_app("Judge-app accounts.")
campaigns_app = _group_app("Human-judging campaigns.")
models_app = _group_app("Model files: export the embedded model for vLLM.")
prompts_app = _group_app("Prompt templates: list, show, export to edit (run with --prompts DIR).")
import_app = _group_app("Bring in results collected elsewhere.")
study_app = _group_app("Studies: grids of runs, debater tournaments and the papers' figures (see recipes/).")


def _command(module: str, summary: str) -> LazyCommand:
    return LazyCommand(f"oversight.cli.{module}", app, summary)


def _group(module: str, typer_app: typer.Typer) -> LazyCommand:
    return LazyCommand.group(f"oversight.cli.{module}", typer_app)


# what `oversight --help` lists, in this order, without importing the modules; each summary is its command's
# first help paragraph (a test holds them equal)
COMMANDS: dict[str, LazyCommand] = {
    "quickstart": _command("quickstart", "Run naive, expert and debate on a bundled sample with the embedded model, then print the leaderboard."),
    "run": _command("running", "Run a protocol over a dataset and store transcripts and judgments."),
    "runs": _command("running", "List stored runs with their status and provenance."),
    "judge": _command("running", "Add judges (other models or judge prompts) to a stored run without calling its debaters again."),
    "study": _group("study", study_app),
    "w2s": _command("w2s", "Weak-to-strong supervision: weak floor, student on weak labels, strong ceiling, PGR with CIs over seeds."),
    "leaderboard": _command("results", "Judge accuracy (95% CIs clustered by article), debater Elo, calibration, human–model agreement, position bias or weak-to-strong PGR."),
    "compare": _command("results", "Paired comparison of two runs or two filtered conditions on the questions both judged."),
    "plan": _command("results", "From a pilot's judgments: the interval on accuracy A − B now and the articles and judgments each condition needs for a 95% interval of --width."),
    "report": _command("results", "Write a self-contained HTML report (and Markdown) with accuracy, Elo, calibration, position bias and agreement."),
    "export": _command("results", "Export stored judgments, transcripts (with turns, quotes and judgments) or weak-to-strong examples."),
    "usage": _command("results", "Model calls, tokens (prompt, prefix-cached, completion), cost and cache hits per run, role and model."),
    "serve": _command("serving", "Serve a model with vLLM: replicas, health checks, recorded endpoints (so runs can use vllm/NAME), clean stop."),
    "web": _command("human", "Serve the judge app (Streamlit): judging, campaigns, users, transcripts, leaderboard."),
    "users": _group("human", users_app),
    "campaigns": _group("human", campaigns_app),
    "import": _group("human", import_app),
    "data": _group("admin", data_app),
    "db": _group("admin", db_app),
    "models": _group("serving", models_app),
    "prompts": _group("extending", prompts_app),
    "plugins": _command("extending", "Protocols, providers, dataset formats and prompt sets this installation knows, and where each comes from."),
    "bench": _group("bench", bench_app),
}  # fmt: skip

if TYPE_CHECKING:
    import logging

    from rich.console import Console

    err_console: Console


def __getattr__(name: str) -> Any:
    """`err_console` is made on first use: importing Rich costs every start-up ~35 ms."""
    if name != "err_console":
        raise AttributeError(f"module 'oversight.cli' has no attribute {name!r}")
    return _err_console()


def _err_console() -> Console:
    from rich.console import Console

    console = globals().get("err_console")
    if console is None:
        globals()["err_console"] = console = Console(stderr=True, soft_wrap=True)
    return console


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
    import logging

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


def main() -> None:
    try:
        app(prog_name="oversight")  # not `python -m oversight` or a wrapper script's name in usage lines
    except OversightError as exc:
        _err_console().print("[bold red]error:[/] ", end="", highlight=False, soft_wrap=True)
        _err_console().print(redact(str(exc)), highlight=False, markup=False, soft_wrap=True)
        detail = getattr(exc, "detail", None)
        if detail:
            _err_console().print(redact(detail), style="dim", highlight=False, markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _err_console().print("interrupted")
        sys.exit(130)
    except Exception as exc:
        if not _is_database_error(exc):
            raise
        # a full disk, a read-only file, a server gone: one line, what was committed stays
        detail = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
        _err_console().print("[bold red]database error:[/] ", end="", highlight=False, soft_wrap=True)
        _err_console().print(redact(f"{type(exc).__name__}: {detail}"), highlight=False, markup=False, soft_wrap=True)
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


__all__ = ["app", "err_console", "main", "run_in_process"]
