"""Commands that run protocols and judges: run, quickstart, judge (re-judging), runs."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from oversight.cli import DbOption, FormatOption, _check_format, app
from oversight.errors import InputError, OversightError, redact


@app.command()
def run(
    protocol: Annotated[
        str | None,
        typer.Option(
            "--protocol",
            "-p",
            envvar="OVERSIGHT_PROTOCOL",
            help="{protocols} (default: debate), or your own class as FILE.py:CLASS.",
        ),
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            "--dataset", "-d", envvar="OVERSIGHT_DATASET", help="Dataset file, or a shipped sample (sample:capitals, sample:quickstart)."
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "--dataset-format",
            envvar="OVERSIGHT_DATASET_FORMAT",
            help="Dataset format: {formats}, or your own reader as FILE.py:FUNCTION (detected when left out).",
        ),
    ] = None,
    hard: Annotated[
        bool | None, typer.Option("--hard/--all-questions", envvar="OVERSIGHT_HARD", help="QuALITY: keep difficult questions only.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", envvar="OVERSIGHT_LIMIT", help="Use the first N questions.")] = None,
    skip_bad_rows: Annotated[
        bool | None,
        typer.Option(
            "--skip-bad-rows/--stop-at-bad-rows",
            envvar="OVERSIGHT_SKIP_BAD_ROWS",
            help="Leave out rows that cannot be repaired (counted) instead of stopping at the first.",
        ),
    ] = None,
    filters: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            help="Keep only some questions: min_untimed_accuracy=1.0, max_speed_accuracy=0.5, min_context_required=2 "
            "(official QuALITY), max_per_article=5 (repeatable).",
        ),
    ] = None,
    rounds: Annotated[
        int | None, typer.Option("--rounds", envvar="OVERSIGHT_ROUNDS", help="Debate/consultancy rounds (default: 3).")
    ] = None,
    debater: Annotated[
        str | None, typer.Option("--debater", envvar="OVERSIGHT_DEBATER", help="Spec for both debaters (default: local/smollm2-135m).")
    ] = None,
    debater_a: Annotated[str | None, typer.Option("--debater-a", envvar="OVERSIGHT_DEBATER_A", help="Spec for debater A.")] = None,
    debater_b: Annotated[str | None, typer.Option("--debater-b", envvar="OVERSIGHT_DEBATER_B", help="Spec for debater B.")] = None,
    turns: Annotated[
        str | None,
        typer.Option("--turns", envvar="OVERSIGHT_TURNS", help="simultaneous | sequential (B reads A's turn of the same round)."),
    ] = None,
    best_of: Annotated[
        int | None,
        typer.Option("--best-of", envvar="OVERSIGHT_BEST_OF", help="Sample N arguments per turn, keep the preference judge's favourite."),
    ] = None,
    refine: Annotated[
        bool | None, typer.Option("--refine/--no-refine", envvar="OVERSIGHT_REFINE", help="Critique-and-refine each turn.")
    ] = None,
    consultant: Annotated[
        str | None,
        typer.Option("--consultant", envvar="OVERSIGHT_CONSULTANT", help="Spec for the consultant (default: local/smollm2-135m)."),
    ] = None,
    critic: Annotated[
        str | None,
        typer.Option("--critic", envvar="OVERSIGHT_CRITIC", help="Spec for the critic of --refine (default: the speaker's model)."),
    ] = None,
    preference_judge: Annotated[
        str | None,
        typer.Option(
            "--preference-judge",
            envvar="OVERSIGHT_PREFERENCE_JUDGE",
            help="Judge that scores --best-of/--refine candidates (default: the first --judge).",
        ),
    ] = None,
    judge_prompt: Annotated[
        str | None,
        typer.Option(
            "--judge-prompt",
            envvar="OVERSIGHT_JUDGE_PROMPT",
            help="Judge template (judges/NAME.j2 of the prompt set): {judge_prompts}; v1 answers at once, v1-cot reasons first.",
        ),
    ] = None,
    prompts: Annotated[
        str | None,
        typer.Option(
            "--prompts",
            envvar="OVERSIGHT_PROMPTS",
            help="A folder of Jinja2 templates overriding any of the packaged ones (see `oversight prompts show`), or a prompt set: {prompt_sets}.",
        ),
    ] = None,
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", "-S", help="A setting of the protocol's own, NAME=VALUE (YAML value); repeatable."),
    ] = None,
    roles: Annotated[
        list[str] | None,
        typer.Option("--role", help="A model for a role the protocol declares, NAME=SPEC; repeatable."),
    ] = None,
    min_quote_words: Annotated[
        int | None,
        typer.Option("--min-quote-words", envvar="OVERSIGHT_MIN_QUOTE_WORDS", help="Shorter quotes are never verified (default: 5)."),
    ] = None,
    judge: Annotated[
        list[str] | None,
        typer.Option("--judge", "-j", envvar="OVERSIGHT_JUDGE", help="Judge spec; repeat for several (default: local/smollm2-135m)."),
    ] = None,
    orders: Annotated[
        str | None,
        typer.Option(
            "--orders", envvar="OVERSIGHT_ORDERS", help="both | random: judge each item in both answer orders, or one drawn order."
        ),
    ] = None,
    word_limit: Annotated[
        int | None, typer.Option("--word-limit", envvar="OVERSIGHT_WORD_LIMIT", help="Words per debater turn asked for.")
    ] = None,
    debater_max_tokens: Annotated[
        int | None, typer.Option("--debater-max-tokens", envvar="OVERSIGHT_DEBATER_MAX_TOKENS", help="Token cap per debater turn.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", envvar="OVERSIGHT_SEED", help="Seed for option pairing and order.")] = None,
    db: DbOption = None,
    run_name: Annotated[str | None, typer.Option("--run-name", envvar="OVERSIGHT_RUN_NAME", help="Name; reuse it to resume a run.")] = None,
    max_connections: Annotated[
        int | None, typer.Option("--max-connections", envvar="OVERSIGHT_MAX_CONNECTIONS", help="Concurrent requests per endpoint.")
    ] = None,
    cache: Annotated[str | None, typer.Option("--cache", envvar="OVERSIGHT_CACHE", help="auto (temperature 0 only) | on | off.")] = None,
    context_policy: Annotated[
        str | None,
        typer.Option("--context-policy", envvar="OVERSIGHT_CONTEXT_POLICY", help="error (check before the run) | truncate (cut and mark)."),
    ] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", envvar="OVERSIGHT_TIMEOUT", help="Seconds per request.")] = None,
    max_retries: Annotated[int | None, typer.Option("--max-retries", envvar="OVERSIGHT_MAX_RETRIES", help="Retries per request.")] = None,
    unreachable_wait: Annotated[
        float | None,
        typer.Option(
            "--unreachable-wait",
            envvar="OVERSIGHT_UNREACHABLE_WAIT",
            help="Seconds to wait for an endpoint that refuses connections before failing (default: 600).",
        ),
    ] = None,
    config: Annotated[
        str | None, typer.Option("--config", "-c", envvar="OVERSIGHT_CONFIG", help="YAML file with any of these options.")
    ] = None,
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", envvar="OVERSIGHT_PROGRESS", help="Show a progress bar.")
    ] = None,
    batch: Annotated[
        bool | None,
        typer.Option(
            "--batch/--no-batch",
            envvar="OVERSIGHT_BATCH",
            help="Send OpenAI (and OpenAI-compatible) models' calls through the Batch API: half price, answers within 24 h; "
            "a stopped run resumes without paying twice.",
        ),
    ] = None,
    batch_poll: Annotated[
        float | None, typer.Option("--batch-poll", envvar="OVERSIGHT_BATCH_POLL", help="Seconds between polls of a batch (default: 30).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the calls, tokens and cost the run would make, and stop before any call.")
    ] = False,
    executor: Annotated[
        str | None,
        typer.Option(
            "--executor", envvar="OVERSIGHT_EXECUTOR", help="local (this process) | ray (Ray actors make items; this process stores them)."
        ),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option("--ray-address", envvar="RAY_ADDRESS", help="local (a private instance; default) | auto | ray://HOST:10001."),
    ] = None,
    workers: Annotated[int | None, typer.Option("--workers", envvar="OVERSIGHT_WORKERS", help="Ray actors (default: 2).")] = None,
    worker_resources: Annotated[
        str | None, typer.Option("--worker-resources", help="What each actor asks Ray for, as JSON, e.g. '{\"num_gpus\": 1}'.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON.")] = False,
) -> None:
    """Run a protocol over a dataset and store transcripts and judgments."""
    from oversight.config import build_config
    from oversight.engine import run_sync

    if dataset and dataset.startswith(("sample:", "generated:")):
        from pathlib import Path

        from oversight.data.references import resolve_path

        dataset = resolve_path(dataset, Path.cwd())  # a shipped sample or generated questions, as in study files
    cli = {
        "protocol": protocol, "dataset": dataset, "format": fmt, "hard": hard, "limit": limit, "skip_bad_rows": skip_bad_rows, "rounds": rounds,
        "turns": turns, "best_of": best_of, "refine": refine, "consultant": consultant, "critic": critic,
        "preference_judge": preference_judge, "judge_prompt": judge_prompt, "min_quote_words": min_quote_words,
        "prompts": prompts, "settings": parse_assignments(settings, "--set", yaml_values=True) or None,
        "roles": parse_assignments(roles, "--role") or None,
        "filters": parse_assignments(filters, "--filter", yaml_values=True) or None,
        "debater": debater, "debater_a": debater_a, "debater_b": debater_b, "judges": judge or None,
        "orders": orders, "word_limit": word_limit, "debater_max_tokens": debater_max_tokens, "seed": seed, "db": db,
        "run_name": run_name, "max_connections": max_connections, "cache": cache, "context_policy": context_policy,
        "timeout": timeout, "max_retries": max_retries, "unreachable_wait": unreachable_wait, "progress": progress,
        "batch": batch, "batch_poll": batch_poll, "executor": executor, "ray_address": ray_address, "workers": workers,
        "worker_resources": worker_resources,
    }  # fmt: skip
    run_config = build_config(cli, config)
    if dry_run:
        _print_estimate(run_config, as_json)
        return
    summary = run_sync(run_config)  # the engine makes its console when it first prints: Rich is not imported before the run
    report_run(summary, as_json)


def _print_estimate(run_config: Any, as_json: bool) -> None:
    from oversight.cli import err_console
    from oversight.cli.output import print_text, render
    from oversight.estimate import estimate

    result = estimate(run_config)
    if as_json:
        print_text(json.dumps(result, indent=2))
        return
    render(result["by_role"], "table", title=f"{result['protocol']}: {result['items']} item(s) from {result['questions']} question(s)")
    price = f"${result['cost_usd_max']:.4f} at most" + (" (Batch API: half price)" if result["batch"] else "")
    err_console.print(
        f"{result['calls']} call(s), {result['prompt_tokens']:,} prompt tokens, at most {result['completion_tokens_max']:,} completion "
        f"tokens, {price}; nothing was sent or written (models without a listed price count as free)",
        highlight=False,
    )


def parse_assignments(items: list[str] | None, option: str, *, yaml_values: bool = False) -> dict[str, Any]:
    """`["rounds=2", ...]` as a dict; values read as YAML where asked (`3` is a number, `true` a boolean)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise OversightError(f"{option} {item!r}: write NAME=VALUE")
        if yaml_values:
            import yaml  # only where some value is given: a run without --set need not import it

            try:
                out[key] = yaml.safe_load(value) if value.strip() else ""
            except yaml.YAMLError:
                out[key] = value
        else:
            out[key] = value.strip()
    return out


def report_run(summary: Any, as_json: bool) -> None:
    from oversight.cli import err_console
    from oversight.cli.output import print_text

    data = {k: v for k, v in vars(summary).items()}
    if as_json:
        print_text(json.dumps(data, indent=2))
    else:
        hit = f", {summary.cache_hits} from cache" if summary.cache_hits else ""
        retried = summary.attempts - (summary.calls - summary.cache_hits)
        hit += f", {retried} retried attempt(s)" if retried > 0 else ""
        err_console.print(
            f"run [bold]{summary.run_name}[/]: {summary.status}; {summary.written} item(s) written, "
            f"{summary.skipped} already done, {summary.calls} model call(s){hit}, {summary.elapsed:.1f} s"
        )
        for error in summary.errors:
            err_console.print(redact(error), style="red", markup=False, highlight=False, soft_wrap=True)
    if summary.status == "interrupted":
        raise typer.Exit(130)
    if summary.status == "failed":
        raise typer.Exit(1)


@app.command()
def runs(db: DbOption = None, fmt: FormatOption = "table") -> None:
    """List stored runs with their status and provenance."""
    from oversight.cli.output import print_text, render
    from oversight.db import connect
    from oversight.db.queries import run_summaries

    _check_format(fmt)
    keep = (
        "name",
        "protocol",
        "dataset",
        "status",
        "n_items",
        "seed",
        "prompt_version",
        "config_hash",
        "package_version",
        "git_revision",
        "elapsed_s",
    )
    rows = [{k: (r[k][:12] if k in ("config_hash", "git_revision") and r[k] else r[k]) for k in keep} for r in run_summaries(connect(db))]
    print_text(render(rows, fmt, title="Runs"))


@app.command()
def judge(
    run_name: Annotated[str, typer.Option("--run", help="The run whose transcripts to judge.")],
    judges: Annotated[list[str], typer.Option("--judge", "-j", help="Judge spec; repeat for several.")],
    db: DbOption = None,
    judge_prompt: Annotated[str, typer.Option("--judge-prompt", help="Judge template: {judge_prompts} (or one in --prompts).")] = "v1",
    prompts: Annotated[
        str | None, typer.Option("--prompts", help="A folder of templates overriding the packaged ones, or a prompt set's name.")
    ] = None,
    orders: Annotated[str | None, typer.Option("--orders", help="both | random (default: as the run).")] = None,
    max_connections: Annotated[int | None, typer.Option("--max-connections", min=1, help="Concurrent requests per endpoint.")] = None,
    cache: Annotated[str, typer.Option("--cache", help="auto | on | off.")] = "auto",
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
    batch: Annotated[bool, typer.Option("--batch", help="Judge through the Batch API (OpenAI and OpenAI-compatible judges).")] = False,
    batch_poll: Annotated[float, typer.Option("--batch-poll", min=0.01, help="Seconds between polls of a batch.")] = 30.0,
    executor: Annotated[str, typer.Option("--executor", help="local | ray (Ray actors judge; this process stores).")] = "local",
    ray_address: Annotated[str | None, typer.Option("--ray-address", envvar="RAY_ADDRESS", help="local | auto | ray://HOST:10001.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Ray actors.")] = 2,
    worker_resources: Annotated[str | None, typer.Option("--worker-resources", help="What each actor asks Ray for, as JSON.")] = None,
    by_round: Annotated[
        bool,
        typer.Option("--by-round", help="Also judge each transcript as it stood after each earlier round (see --metric rounds)."),
    ] = False,
    ensemble: Annotated[
        str | None,
        typer.Option("--ensemble", help="Combine the --judge models into one judge named ensemble:NAME (members stored too)."),
    ] = None,
    samples: Annotated[int, typer.Option("--samples", min=1, max=64, help="With --ensemble: samples per member judge.")] = 1,
    combine: Annotated[str, typer.Option("--combine", help="With --ensemble: mean (of probabilities) | majority (of votes).")] = "mean",
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Add judges (other models or judge prompts) to a stored run without calling its debaters again."""
    import asyncio

    from oversight.cli import err_console
    from oversight.cli.output import print_text
    from oversight.db import connect
    from oversight.models import parse_spec
    from oversight.rejudge import rejudge

    if cache not in ("auto", "on", "off"):
        raise OversightError(f"--cache {cache!r}: choose auto, on or off")
    if executor not in ("local", "ray"):
        raise OversightError(f"--executor {executor!r}: choose local or ray")
    for spec in judges:
        parse_spec(spec)
    members = None
    if ensemble is not None:
        from pydantic import ValidationError

        from oversight.ensemble import EnsembleSpec

        try:
            members = EnsembleSpec(name=ensemble, members=judges, samples=samples, combine=combine)  # type: ignore[arg-type]
        except ValidationError as exc:
            err = exc.errors()[0]
            option = {"name": "ensemble", "members": "judge"}.get(str(err["loc"][0]) if err["loc"] else "name", str(err["loc"][0]))
            raise InputError(f"--{option}: {str(err['msg']).removeprefix('Value error, ')}") from None
    elif samples != 1 or combine != "mean":
        raise InputError("--samples and --combine go with --ensemble NAME")
    summary = asyncio.run(
        rejudge(connect(db), run_name, judges, judge_prompt=judge_prompt, prompts=prompts, orders=orders, max_connections=max_connections,
                cache_mode=cache, progress=progress, console=err_console, batch=batch, batch_poll=batch_poll,
                executor=executor, ray_address=ray_address, workers=workers, worker_resources=worker_resources,
                by_round=by_round, ensemble=members)  # type: ignore[arg-type]
    )  # fmt: skip
    if as_json:
        print_text(json.dumps(vars(summary), indent=2))
    else:
        err_console.print(
            f"run [bold]{summary.run_name}[/]: {summary.status}; {summary.judged} judgment(s) added, {summary.skipped} already stored, "
            f"{summary.transcripts} transcript(s), {summary.elapsed:.1f} s"
        )
        for error in summary.errors:
            err_console.print(redact(error), style="red", markup=False, highlight=False, soft_wrap=True)
    if summary.status != "finished":
        raise typer.Exit(130 if summary.status == "interrupted" else 1)
