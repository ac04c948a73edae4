"""The commands; each is a thin layer over the library (engine, store, metrics)."""

from __future__ import annotations

import csv
import json
import sys
import time
from enum import StrEnum
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

import typer

from oversight.cli import DbOption, FormatOption, _check_format, app, bench_app, campaigns_app, data_app, db_app, err_console, users_app
from oversight.cli.output import render
from oversight.errors import OversightError, redact
from oversight.models import parse_spec


class ExportKind(StrEnum):
    judgments = "judgments"
    transcripts = "transcripts"
    w2s = "w2s"


def _print(text: str | None) -> None:
    if text is not None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


@app.command()
def run(
    protocol: Annotated[
        str | None,
        typer.Option(
            "--protocol",
            "-p",
            envvar="OVERSIGHT_PROTOCOL",
            help="naive | expert | debate | open-debate | interactive-debate | consultancy | open-consultancy | interactive-consultancy | human-arguments (default: debate).",
        ),
    ] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", envvar="OVERSIGHT_DATASET", help="Dataset file.")] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", envvar="OVERSIGHT_DATASET_FORMAT", help="Dataset format (detected when left out).")
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
        str | None, typer.Option("--judge-prompt", envvar="OVERSIGHT_JUDGE_PROMPT", help="v1 (answer at once) | v1-cot (reason first).")
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
    as_json: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON.")] = False,
) -> None:
    """Run a protocol over a dataset and store transcripts and judgments."""
    from oversight.config import build_config
    from oversight.engine import run_sync

    cli = {
        "protocol": protocol, "dataset": dataset, "format": fmt, "hard": hard, "limit": limit, "skip_bad_rows": skip_bad_rows, "rounds": rounds,
        "turns": turns, "best_of": best_of, "refine": refine, "consultant": consultant, "critic": critic,
        "preference_judge": preference_judge, "judge_prompt": judge_prompt, "min_quote_words": min_quote_words,
        "debater": debater, "debater_a": debater_a, "debater_b": debater_b, "judges": judge or None,
        "orders": orders, "word_limit": word_limit, "debater_max_tokens": debater_max_tokens, "seed": seed, "db": db,
        "run_name": run_name, "max_connections": max_connections, "cache": cache, "context_policy": context_policy,
        "timeout": timeout, "max_retries": max_retries, "unreachable_wait": unreachable_wait, "progress": progress,
    }  # fmt: skip
    run_config = build_config(cli, config)
    summary = run_sync(run_config, console=err_console)
    _report_run(summary, as_json)


def _report_run(summary: Any, as_json: bool) -> None:
    data = {k: v for k, v in vars(summary).items()}
    if as_json:
        _print(json.dumps(data, indent=2))
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
def quickstart(
    db: DbOption = None,
    model: Annotated[
        str, typer.Option("--model", envvar="OVERSIGHT_QUICKSTART_MODEL", help="Model for every role.")
    ] = "local/smollm2-135m",
    rounds: Annotated[int, typer.Option("--rounds", help="Debate rounds.")] = 2,
) -> None:
    """Run naive, expert and debate on a bundled sample with the embedded model, then print the leaderboard."""
    from oversight.config import RunConfig
    from oversight.db import connect
    from oversight.db.store import judgment_rows
    from oversight.engine import run_sync
    from oversight.metrics import leaderboard as compute

    sample = str(files("oversight.samples") / "quickstart.jsonl")
    engine = connect(db)
    started = time.perf_counter()
    names = []
    for protocol in ("naive", "expert", "debate"):
        config = RunConfig(
            protocol=protocol, dataset=sample, rounds=rounds, debater=model, judges=[model], db=db,
            run_name=f"quickstart-{protocol}", word_limit=40, debater_max_tokens=64,
        )  # fmt: skip
        summary = run_sync(config, engine=engine, console=err_console)
        names.append(summary.run_name)
        if summary.status != "finished":
            _report_run(summary, False)
    rows = [r for r in judgment_rows(engine) if r["run"] in names]
    board = compute(rows)
    render(quickstart_table(board), "table", title="Judge accuracy on the quickstart sample (95% CIs resample articles)")
    err_console.print(f"done in {time.perf_counter() - started:.0f} s; results are in {engine.url.render_as_string(hide_password=True)}")
    err_console.print(quickstart_reading(board, model), highlight=False, soft_wrap=True)


def quickstart_table(board: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The leaderboard columns a newcomer needs: raw and order-debiased accuracy with intervals, and the position-bias flag."""

    def interval(value: float | None, low: float | None, high: float | None) -> str:
        return "—" if value is None else f"{value:.2f} [{low:.2f}, {high:.2f}]"

    return [
        {"protocol": r["protocol"], "judge": r["judge"], "judgments": r["n"], "invalid": r["invalid"],
         "accuracy": interval(r["accuracy"], r["ci_low"], r["ci_high"]),
         "debiased accuracy": interval(r["debiased_accuracy"], r["debiased_ci_low"], r["debiased_ci_high"]),
         "swap consistency": "—" if r["swap_consistency"] is None else f"{r['swap_consistency']:.2f}",
         "position-biased": {True: "YES", False: "no", None: "—"}[r["position_biased"]]}
        for r in board
    ]  # fmt: skip


def quickstart_reading(board: list[dict[str, Any]], model: str) -> str:
    """What the table means, in words, for someone who has never read Kenton et al."""
    lines = ["", "How to read this:"]
    biased = [r for r in board if r["position_biased"]]
    if biased:
        worst = min(r["swap_consistency"] for r in biased)
        lines.append(
            f"- The judge is position-biased under {', '.join(sorted({r['protocol'] for r in biased}))} (swap consistency down to "
            f"{worst:.2f}: it mostly picks the answer in the same position whichever answer is there), so its raw accuracy "
            "sits near 0.50 whatever it knows."
        )
    lines += [
        "- Debiased accuracy averages the judge's probability over both answer orders before deciding (as Kenton et al. 2024 "
        "do; an exact tie earns half): what the judge believes once its preference for a position cancels out.",
        "- Swap consistency: the share of items where the judge picks the same answer in both orders (1 = ignores position, "
        "0 = always the same position).",
        ("- SmolLM2 (135M parameters) judged" if model == "local/smollm2-135m" else f"- {model} judged")
        + " six questions on three short stories: this shows the machinery, not evidence about protocols; the intervals say as much"
        + " (below 0.50 means the judge leans to the wrong answer once position is taken out).",
        "",
        "Next: point roles at real models, e.g.",
        "  oversight run --protocol debate --dataset YOUR_FILE.jsonl --debater openai/gpt-4o-mini --judge openai/gpt-4o-mini --limit 20",
        "  oversight serve smollm2-135m   (vLLM; or any Hugging Face model on a GPU: see the README, Serving with vLLM)",
        "  oversight leaderboard · oversight export judgments --format csv · oversight web",
    ]
    return "\n".join(lines)


METRICS = ("accuracy", "elo", "calibration", "agreement", "position", "pgr")


@app.command()
def leaderboard(
    db: DbOption = None,
    fmt: FormatOption = "table",
    run_filter: Annotated[str | None, typer.Option("--run", help="Only this run.")] = None,
    metric: Annotated[
        str, typer.Option("--metric", help="accuracy | elo | calibration | agreement | position | pgr (weak-to-strong).")
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
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=100, max=100000, help="Bootstrap resamples.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
) -> None:
    """Judge accuracy (95% CIs clustered by article), debater Elo, calibration, human–model agreement, position bias or weak-to-strong PGR."""
    from oversight.db import connect
    from oversight.db.store import judgment_rows
    from oversight.metrics.leaderboard import GROUP_KEYS, group_rows

    _check_format(fmt)
    if metric not in METRICS:
        raise OversightError(f"--metric {metric!r}: choose one of {', '.join(METRICS)}")
    keys = tuple(k.strip() for k in by.split(",") if k.strip())
    unknown = [k for k in keys if k not in GROUP_KEYS]
    if unknown or not keys:
        raise OversightError(f"--by {by!r}: group by any of {', '.join(GROUP_KEYS)}")
    engine = connect(db)
    if metric == "pgr":
        from oversight.db.store import w2s_rows
        from oversight.metrics.pgr import pgr_table

        rows = pgr_table(w2s_rows(engine, run_filter))
    elif metric == "accuracy":
        from oversight.db.store import leaderboard_aggregates
        from oversight.metrics.leaderboard import leaderboard_from_aggregates

        rows = leaderboard_from_aggregates(leaderboard_aggregates(engine, keys, run_filter), by=keys, n_resamples=bootstrap, seed=seed)
    else:
        raw = judgment_rows(engine, run_filter)
        rows = _metric_rows(metric, raw, keys, group_rows, by_side=by_side, weighted=weighted, n_resamples=bootstrap, seed=seed)
    if not rows and fmt == "table":
        err_console.print("nothing to show yet: run `oversight quickstart` or `oversight run` (elo needs debates between different models)")
        return
    _print(render(rows, fmt, title=f"{metric} (95% CIs resample articles)"))


def _metric_rows(metric: str, raw: list[dict[str, Any]], keys: tuple[str, ...], group_rows: Any, **kw: Any) -> list[dict[str, Any]]:
    from oversight.metrics.agreement import agreement, position_bias
    from oversight.metrics.calibration import calibration_summary
    from oversight.metrics.elo import elo_table
    from oversight.metrics.leaderboard import swap_consistency

    if metric == "elo":
        return elo_table(raw, by_side=kw["by_side"], weighted=kw["weighted"], n_resamples=kw["n_resamples"], seed=kw["seed"])
    out = []
    for key, group in group_rows(raw, keys).items():
        head = dict(zip(keys, key, strict=True))
        invalid = sum(not r["valid"] for r in group)
        if metric == "calibration":
            out.append(head | calibration_summary(group) | {"invalid": invalid})
        elif metric == "position":
            out.append(
                head | position_bias(group) | {"swap_consistency": swap_consistency([r for r in group if r["valid"]]), "invalid": invalid}
            )
    if metric == "agreement":
        humans = [r for r in raw if r["judge_kind"] == "human"]
        for judge, group in group_rows([r for r in raw if r["judge_kind"] == "model"], ("judge",)).items():
            out.append({"model_judge": judge[0], **agreement(humans, group), "invalid": sum(not r["valid"] for r in group)})
    return out


@app.command()
def report(
    db: DbOption = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write; a Markdown twin goes beside it.")] = Path("report.html"),
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=100, max=100000, help="Bootstrap resamples.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed.")] = 0,
) -> None:
    """Write a self-contained HTML report (and Markdown) with accuracy, Elo, calibration, position bias and agreement."""
    from oversight.db import connect
    from oversight.report import build_report

    html_path, md_path = build_report(connect(db), out, n_resamples=bootstrap, seed=seed)
    err_console.print(f"wrote {html_path} and {md_path}")


def _parse_filters(items: list[str] | None, option: str) -> dict[str, str]:
    from oversight.metrics.leaderboard import GROUP_KEYS

    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or key not in GROUP_KEYS:
            raise OversightError(f"{option} {item!r}: use KEY=VALUE with KEY one of {', '.join(GROUP_KEYS)}")
        out[key] = value
    return out


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
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=100, max=100000, help="Bootstrap resamples.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Paired comparison of two runs or two filtered conditions on the questions both judged:
    accuracy difference, paired bootstrap CI over articles, permutation p-value."""
    from oversight.db import connect
    from oversight.db.store import judgment_rows, run_row
    from oversight.metrics.agreement import paired_comparison

    a, b = _parse_filters(filter_a, "--a"), _parse_filters(filter_b, "--b")
    engine = connect(db)
    for name, conditions in ((run_a, a), (run_b, b)):
        if name is not None:
            run_row(engine, name)
            conditions["run"] = name
    if not a or not b:
        raise OversightError("name two runs (compare RUN_A RUN_B) or two conditions (--a KEY=VALUE --b KEY=VALUE)")
    if judge:
        a["judge"] = b["judge"] = judge
    rows = judgment_rows(engine)
    rows_a = [r for r in rows if all(str(r.get(k)) == v for k, v in a.items())]
    rows_b = [r for r in rows if all(str(r.get(k)) == v for k, v in b.items())]
    label = lambda c: ",".join(f"{k}={v}" for k, v in c.items())  # noqa: E731
    result = {"a": label(a), "b": label(b), **paired_comparison(rows_a, rows_b, n_resamples=bootstrap, seed=seed)}
    if result["n_questions"] == 0:
        raise OversightError(f"{label(a)} and {label(b)} share no judged question")
    _print(json.dumps(result, indent=2) if as_json else render([result], "markdown"))


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
    from oversight.db.store import judgment_rows, transcript_rows, w2s_example_rows

    _check_format(fmt, ("jsonl", "csv"))
    engine = connect(db)
    fetch = {ExportKind.judgments: judgment_rows, ExportKind.transcripts: transcript_rows, ExportKind.w2s: w2s_example_rows}[kind]
    rows = fetch(engine, run_filter)
    handle = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
    try:
        if fmt == "jsonl":
            for row in rows:
                handle.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")
        elif rows:
            flat = [{k: (json.dumps(v, default=str) if isinstance(v, (list, dict)) else v) for k, v in r.items()} for r in rows]
            writer = csv.DictWriter(handle, fieldnames=list(flat[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(flat)
    finally:
        if out:
            handle.close()
    if out:
        err_console.print(f"wrote {len(rows)} {kind.value} to {out}")


@app.command()
def runs(db: DbOption = None, fmt: FormatOption = "table") -> None:
    """List stored runs with their status and provenance."""
    from oversight.db import connect
    from oversight.db.store import run_summaries

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
    _print(render(rows, fmt, title="Runs"))


@app.command()
def judge(
    run_name: Annotated[str, typer.Option("--run", help="The run whose transcripts to judge.")],
    judges: Annotated[list[str], typer.Option("--judge", "-j", help="Judge spec; repeat for several.")],
    db: DbOption = None,
    judge_prompt: Annotated[str, typer.Option("--judge-prompt", help="v1 (answer at once) | v1-cot (reason first).")] = "v1",
    orders: Annotated[str | None, typer.Option("--orders", help="both | random (default: as the run).")] = None,
    max_connections: Annotated[int | None, typer.Option("--max-connections", min=1, help="Concurrent requests per endpoint.")] = None,
    cache: Annotated[str, typer.Option("--cache", help="auto | on | off.")] = "auto",
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Add judges (other models or judge prompts) to a stored run without calling its debaters again."""
    import asyncio

    from oversight.db import connect
    from oversight.prompts import JUDGE_PROMPTS
    from oversight.rejudge import rejudge

    if judge_prompt not in JUDGE_PROMPTS:
        raise OversightError(f"--judge-prompt {judge_prompt!r}: choose one of {', '.join(JUDGE_PROMPTS)}")
    if cache not in ("auto", "on", "off"):
        raise OversightError(f"--cache {cache!r}: choose auto, on or off")
    for spec in judges:
        parse_spec(spec)
    summary = asyncio.run(
        rejudge(connect(db), run_name, judges, judge_prompt=judge_prompt, orders=orders, max_connections=max_connections,
                cache_mode=cache, progress=progress, console=err_console)  # type: ignore[arg-type]
    )  # fmt: skip
    if as_json:
        _print(json.dumps(vars(summary), indent=2))
    else:
        err_console.print(
            f"run [bold]{summary.run_name}[/]: {summary.status}; {summary.judged} judgment(s) added, {summary.skipped} already stored, "
            f"{summary.transcripts} transcript(s), {summary.elapsed:.1f} s"
        )
        for error in summary.errors:
            err_console.print(redact(error), style="red", markup=False, highlight=False, soft_wrap=True)
    if summary.status != "finished":
        raise typer.Exit(130 if summary.status == "interrupted" else 1)


@app.command()
def usage(
    db: DbOption = None,
    fmt: FormatOption = "table",
    run_filter: Annotated[str | None, typer.Option("--run", help="Only this run.")] = None,
) -> None:
    """Model calls, tokens (prompt, prefix-cached, completion), cost and cache hits per run, role and model."""
    from oversight.db import connect
    from oversight.db.store import usage_rows

    _check_format(fmt)
    _print(render(usage_rows(connect(db), run_filter), fmt, title="Model usage"))


@app.command()
def w2s(
    dataset: Annotated[
        str | None, typer.Option("--dataset", envvar="OVERSIGHT_DATASET", help="A two-option (or multiple-choice) dataset file.")
    ] = None,
    weak: Annotated[
        str | None,
        typer.Option(
            "--weak",
            envvar="OVERSIGHT_W2S_WEAK",
            help="Weak supervisor: bow | minilm | local/smollm2-135m | openai-compatible/M@URL | a HF model dir (finetune) | a chat model (prompt) (default: bow).",
        ),
    ] = None,
    strong: Annotated[
        str | None,
        typer.Option("--strong", envvar="OVERSIGHT_W2S_STRONG", help="Strong student, same kinds (default: local/smollm2-135m)."),
    ] = None,
    intermediate: Annotated[
        list[str] | None,
        typer.Option("--intermediate", help="Bootstrapping: a model between weak and strong; repeat for a chain, weakest first."),
    ] = None,
    method: Annotated[
        str | None, typer.Option("--method", envvar="OVERSIGHT_W2S_METHOD", help="probe | finetune | prompt (default: probe).")
    ] = None,
    loss: Annotated[str | None, typer.Option("--loss", envvar="OVERSIGHT_W2S_LOSS", help="xent | logconf (default: xent).")] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", envvar="OVERSIGHT_DATASET_FORMAT", help="Dataset format (detected when left out).")
    ] = None,
    skip_bad_rows: Annotated[
        bool | None, typer.Option("--skip-bad-rows", help="Leave out rows that cannot be repaired (counted) instead of stopping.")
    ] = None,
    n: Annotated[int | None, typer.Option("--n", envvar="OVERSIGHT_W2S_N", help="Use the first N questions.")] = None,
    seeds: Annotated[
        int | None, typer.Option("--seeds", envvar="OVERSIGHT_W2S_SEEDS", help="Seeds: splits and initialisations (default: 3).")
    ] = None,
    cache_dir: Annotated[
        str | None,
        typer.Option("--cache-dir", envvar="OVERSIGHT_FEATURE_CACHE", help="Feature cache (default: .oversight-cache/features)."),
    ] = None,
    finetune: Annotated[str | None, typer.Option("--finetune", help="finetune: lora | full (default: lora).")] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", help="finetune: epochs (default: 2).")] = None,
    lr: Annotated[float | None, typer.Option("--lr", help="finetune: learning rate (default: 2e-4 LoRA, 2e-5 full).")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", help="finetune: batch size (default: 16).")] = None,
    max_length: Annotated[int | None, typer.Option("--max-length", help="finetune: tokens per example (default: 256).")] = None,
    device: Annotated[
        str | None, typer.Option("--device", envvar="OVERSIGHT_DEVICE", help="finetune: auto | cpu | cuda (default: auto).")
    ] = None,
    dtype: Annotated[str | None, typer.Option("--dtype", help="finetune: auto (bf16 on CUDA) | float32 | bfloat16.")] = None,
    k_shot: Annotated[int | None, typer.Option("--k-shot", help="prompt: labelled examples shown in context (default: 4).")] = None,
    max_connections: Annotated[
        int | None, typer.Option("--max-connections", envvar="OVERSIGHT_MAX_CONNECTIONS", help="prompt: concurrent requests per endpoint.")
    ] = None,
    config: Annotated[str | None, typer.Option("--config", help="YAML file with any of these options (CLI values win).")] = None,
    db: DbOption = None,
    run_name: Annotated[
        str | None, typer.Option("--run-name", help="Name under which splits, labels, predictions and metrics are stored.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Weak-to-strong supervision: weak floor, student on weak labels, strong ceiling, PGR with CIs over seeds."""
    from oversight.config import W2SConfig, merge_config

    cli = {"dataset": dataset, "weak": weak, "strong": strong, "intermediate": intermediate or [], "method": method, "loss": loss,
           "format": fmt, "skip_bad_rows": skip_bad_rows, "n": n, "seeds": seeds, "cache_dir": cache_dir, "finetune": finetune, "epochs": epochs, "lr": lr,
           "batch_size": batch_size, "max_length": max_length, "device": device, "dtype": dtype, "k_shot": k_shot,
           "max_connections": max_connections, "db": db, "run_name": run_name}  # fmt: skip
    cfg = merge_config(W2SConfig, cli, config)
    summary = _run_and_store_w2s(cfg, quiet=as_json)
    if as_json:
        _print(json.dumps(summary, indent=2))
        return
    _print_w2s(summary)


def _run_and_store_w2s(cfg: Any, *, quiet: bool = False) -> dict[str, Any]:
    from oversight import __version__
    from oversight.db import connect
    from oversight.db.store import store_w2s, w2s_run_exists
    from oversight.engine import file_sha256, git_revision
    from oversight.errors import InputError
    from oversight.w2s_run import run_w2s

    engine = connect(cfg.db)  # a bad --db or a taken --run-name fails before any model work
    if cfg.run_name:
        with engine.connect() as conn:
            if w2s_run_exists(conn, cfg.run_name):
                raise InputError(f"--run-name {cfg.run_name!r}: a weak-to-strong run of that name exists; choose another")
    outcome = run_w2s(cfg, log=(lambda _: None) if quiet else (lambda m: err_console.print(f"[dim]{m}[/]")))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = cfg.run_name or f"w2s-{Path(cfg.dataset).stem}-{cfg.method}-{cfg.weak}-{cfg.strong}-{cfg.loss}-{stamp}".replace("/", "_")
    store_w2s(engine, name=name, questions=outcome.questions, option_indices=outcome.examples.option_indices, results=outcome.results,
              fields={"dataset": cfg.dataset, "weak": cfg.weak, "strong": cfg.strong, "method": cfg.method, "loss": cfg.loss,
                      "config": cfg.provenance() | {"dataset_sha256": file_sha256(Path(cfg.dataset))}, "package_version": __version__, "git_revision": git_revision()})  # fmt: skip
    return {"run_name": name, **outcome.summary}


def _print_w2s(summary: dict[str, Any]) -> None:
    roles = [("weak", summary["weak"]), *((f"intermediate {i['model']}", i) for i in summary.get("intermediates", []))]
    roles += [("student", summary["student"]), ("ceiling", summary["ceiling"])]
    table = [
        {"model": role, "accuracy": s["accuracy"]["mean"], "ci_low": s["accuracy"]["ci_low"], "ci_high": s["accuracy"]["ci_high"],
         "auroc": s["auroc"]["mean"]}
        for role, s in roles
    ]  # fmt: skip
    _print(render(table, "markdown"))
    p = summary["pgr"]
    _print(
        f"PGR: {p['mean']:.3f} (95% CI {p['ci_low']:.3f} to {p['ci_high']:.3f}, {p['n']} seeds)"
        if p["mean"] is not None and p["ci_low"] is not None
        else f"PGR: {p['mean']:.3f} (one seed with a gap to measure: no interval)"
        if p["mean"] is not None
        else "PGR: withheld on every seed (ceiling − weak under 2 points)"
    )
    _print(f"run {summary['run_name']}: {summary['total_s']} s, peak RSS {summary['peak_rss_mib']} MiB")
    if summary.get("invalid"):
        err_console.print(f"[yellow]{summary['invalid']} answers could not be read and counted as 0.5[/]")
    if summary.get("warning"):
        err_console.print(f"[yellow]{summary['warning']}[/]")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option("--role", help="judge | admin.")] = "judge",
    db: DbOption = None,
) -> None:
    """Add a user; the password is read from standard input (or prompted for on a terminal)."""
    from oversight.accounts import add_user
    from oversight.db import connect

    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    add_user(connect(db), name, role, password)
    err_console.print(f"added {role} {name}")


@users_app.command("list")
def users_list(db: DbOption = None, fmt: FormatOption = "table") -> None:
    """List users (never their password hashes)."""
    from oversight.accounts import list_users
    from oversight.db import connect

    _check_format(fmt)
    _print(render(list_users(connect(db)), fmt, title="Users"))


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="User name.")], db: DbOption = None) -> None:
    """Disable a user: they are logged out at their next page view and cannot log in."""
    from oversight.accounts import set_disabled
    from oversight.db import connect

    set_disabled(connect(db), name)
    err_console.print(f"disabled {name}")


@campaigns_app.command("create")
def campaigns_create(
    name: Annotated[str, typer.Argument(help="Campaign name.")],
    runs: Annotated[list[str], typer.Option("--run", help="Run whose transcripts are judged; repeat for several.")],
    judges: Annotated[list[str], typer.Option("--judge", help="User who judges; repeat for several.")],
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
    db: DbOption = None,
) -> None:
    """Create a human-judging campaign over stored runs."""
    from oversight.campaigns import CampaignSpec, create_campaign
    from oversight.db import connect

    parse_spec(interactive_model)
    spec = CampaignSpec(
        name=name, runs=runs, judges=judges, protocols=protocols or [], questions=questions or [], judges_per_item=per_item, show_context=show_context,
        interactive=interactive, interactive_model=interactive_model, turn_penalty=penalty, feedback=feedback, allow_repeat=allow_repeat,
    )  # fmt: skip
    cid = create_campaign(connect(db), spec)
    err_console.print(f"created campaign {name} (id {cid})")


@campaigns_app.command("list")
def campaigns_list(db: DbOption = None, fmt: FormatOption = "table") -> None:
    """Campaigns with each judge's progress."""
    from oversight.campaigns import all_campaigns, progress
    from oversight.db import connect

    _check_format(fmt)
    engine = connect(db)
    rows = [{"campaign": c["name"], **p} for c in all_campaigns(engine) for p in progress(engine, c["id"])]
    _print(render(rows, fmt, title="Campaign progress"))


@campaigns_app.command("export")
def campaigns_export(
    name: Annotated[str, typer.Argument(help="Campaign name.")],
    fmt: Annotated[str, typer.Option("--format", help="jsonl | csv.")] = "jsonl",
    db: DbOption = None,
) -> None:
    """Human verdicts of a campaign (judge, question, order, probabilities, explanation, time on task)."""
    from oversight.campaigns import all_campaigns, export_rows
    from oversight.db import connect

    _check_format(fmt, ("jsonl", "csv"))
    engine = connect(db)
    found = [c for c in all_campaigns(engine) if c["name"] == name]
    if not found:
        raise OversightError(f"no campaign named {name!r}")
    rows = export_rows(engine, found[0]["id"])
    if fmt == "jsonl":
        _print("".join(json.dumps(r, default=str) + "\n" for r in rows) or None)
    elif rows:
        flat = [{k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in r.items()} for r in rows]
        writer = csv.DictWriter(sys.stdout, fieldnames=list(flat[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(flat)


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


@data_app.command("inspect")
def data_inspect(
    path: Annotated[Path, typer.Argument(help="Dataset file.")],
    fmt: Annotated[str | None, typer.Option("--format", help="Dataset format (detected when left out).")] = None,
    hard: Annotated[bool, typer.Option("--hard", help="QuALITY: difficult questions only.")] = False,
    skip_bad_rows: Annotated[bool, typer.Option("--skip-bad-rows", help="Count and leave out rows that cannot be repaired.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Validate a dataset file and summarise it: format, articles, questions, options, context lengths, repairs, bad rows."""
    from oversight.data import LoadReport, load_dataset, summarize

    report = LoadReport()
    used, questions = load_dataset(path, fmt, hard=hard, skip_bad_rows=skip_bad_rows, report=report)
    summary = summarize(path, used, questions, report)
    if as_json:
        _print(json.dumps(summary, indent=2))
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
        *({"field": "first problem" if i == 0 else "", "value": p} for i, p in enumerate(summary["first_problems"])),
    ]
    render(rows, "table", title=str(path))


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


@bench_app.command("prefix")
def bench_prefix(
    dataset: Annotated[
        str, typer.Option("--dataset", help="A QuALITY-style file with articles.")
    ] = "../shared/data/quality_debate/train.jsonl",
    rounds: Annotated[int, typer.Option("--rounds", min=1, max=10, help="Debate rounds.")] = 3,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=8, max=512, help="Tokens per debater turn.")] = 48,
    question: Annotated[int, typer.Option("--question", min=0, help="Which question of the file (0-based).")] = 0,
    model: Annotated[
        str, typer.Option("--model", help="Model for every role: the embedded one, or a served one (vllm/NAME).")
    ] = "local/smollm2-135m",
) -> None:
    """Prefix-cache reuse of a debate (embedded model or a vLLM server): shared-first prompt layout against role-first."""
    from oversight.bench import prefix_benchmark

    parse_spec(model)
    _print(json.dumps(prefix_benchmark(dataset, rounds=rounds, max_tokens=max_tokens, question=question, model=model), indent=2))


@bench_app.command("vllm")
def bench_vllm(
    model: Annotated[
        str, typer.Option("--model", help="A served model (vllm/NAME or vllm/NAME@URL); vllm/smollm2-135m is started if not served.")
    ] = "vllm/smollm2-135m",
    n: Annotated[int, typer.Option("--n", min=1, help="Judge items (one call each).")] = 200,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Concurrent requests.")] = 32,
    dataset: Annotated[
        str, typer.Option("--dataset", help="A QuALITY-style file with articles, for the debates.")
    ] = "../shared/data/quality_debate/train.jsonl",
    articles: Annotated[int, typer.Option("--articles", min=1, max=50, help="Articles to debate (one question each).")] = 2,
    rounds: Annotated[int, typer.Option("--rounds", min=1, max=10, help="Debate rounds.")] = 3,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=8, max=512, help="Tokens per debater turn.")] = 48,
) -> None:
    """Against a real vLLM server: engine vs bare aiohttp on judge calls, and vLLM's prefix-cache share over debates."""
    from oversight.bench_vllm import vllm_benchmark

    result = vllm_benchmark(model, n=n, concurrency=concurrency, dataset=dataset, articles=articles, rounds=rounds,
                            max_tokens=max_tokens, log=lambda m: err_console.print(m, style="dim", markup=False, highlight=False))  # fmt: skip
    _print(json.dumps(result, indent=2))


@bench_app.command("judge")
def bench_judge(
    n: Annotated[int, typer.Option("--n", min=1, help="Judge items (one call each).")] = 2000,
    debate_items: Annotated[int, typer.Option("--debate-items", min=1, help="Debate items (2 × rounds + 2 calls each).")] = 200,
    rounds: Annotated[int, typer.Option("--rounds", min=1, max=10, help="Debate rounds.")] = 3,
    concurrency: Annotated[
        list[int] | None, typer.Option("--concurrency", min=1, help="Concurrent requests; repeatable (default: 64 and 256).")
    ] = None,
    inspect_python: Annotated[
        str | None,
        typer.Option("--inspect-python", envvar="OVERSIGHT_INSPECT_PYTHON", help="Interpreter with inspect_ai, to include Inspect AI."),
    ] = None,
    fmt: FormatOption = "table",
) -> None:
    """The engine beside a bare aiohttp loop, a bare openai loop and Inspect AI, on judge calls and on 3-round debates."""
    from oversight.bench_clients import clients_benchmark

    _check_format(fmt)
    result = clients_benchmark(
        n=n, debate_items=debate_items, rounds=rounds, concurrencies=tuple(concurrency or (64, 256)), inspect=inspect_python
    )
    if fmt == "json":
        _print(json.dumps(result, indent=2))
        return
    _print(
        render(result["results"], fmt, title=f"Clients on one scripted server (target: oversight run ≤ {result['target']}× bare openai)")
    )
    err_console.print(f"Inspect AI: {result['inspect']}", highlight=False)


@bench_app.command("reliability")
def bench_reliability(
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: a temporary SQLite file).")] = None,
    judge_items: Annotated[int, typer.Option("--judge-items", min=1, help="Items of the naive judge run (2 calls each).")] = 2000,
    debate_items: Annotated[int, typer.Option("--debate-items", min=1, help="Items of the debate runs (2 × rounds + 2 calls each).")] = 500,
    rounds: Annotated[int, typer.Option("--rounds", min=1, max=10, help="Debate rounds.")] = 3,
    kills: Annotated[int, typer.Option("--kills", min=0, help="SIGKILLs of the debate run, each followed by a resume.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the faults and of the kill moments.")] = 0,
) -> None:
    """Fault campaign: runs against a server that rate-limits, errs, hangs and sends garbage, then SIGKILLs and resumes a run."""
    from oversight.bench_reliability import reliability_campaign

    result = reliability_campaign(db=db, judge_items=judge_items, debate_items=debate_items, rounds=rounds, kills=kills, seed=seed)
    _print(json.dumps(result, indent=2, default=str))


@bench_app.command("judges")
def bench_judges(
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: a temporary SQLite file).")] = None,
    judges: Annotated[int, typer.Option("--judges", min=1, max=500, help="Judges submitting at once.")] = 30,
    judgments: Annotated[int, typer.Option("--judgments", min=1, help="Verdicts to submit in all.")] = 1000,
) -> None:
    """Concurrent human judges: verdicts per second, and nothing lost or doubled."""
    from oversight.bench_judges import judges_load

    _print(json.dumps(judges_load(db, judges=judges, judgments=judgments), indent=2))


@bench_app.command("leaderboard")
def bench_leaderboard(
    n: Annotated[int, typer.Option("--n", min=100, max=20_000_000, help="Synthetic judgments.")] = 1_000_000,
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=100, max=100000, help="Bootstrap resamples.")] = 1000,
) -> None:
    """Fill a temporary database with synthetic judgments and time the full leaderboard (target: under 10 s for 1M)."""
    from oversight.bench import leaderboard_benchmark

    _print(json.dumps(leaderboard_benchmark(n=n, n_resamples=bootstrap), indent=2))


@bench_app.command("engine")
def bench_engine(
    n: Annotated[int, typer.Option("--n", min=1, help="Judge items (one call each).")] = 2000,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Concurrent requests.")] = 256,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: a temporary SQLite file).")] = None,
) -> None:
    """Time the engine on one-call judge items against a local scripted server, beside a bare aiohttp loop."""
    from oversight.bench import engine_benchmark

    result = engine_benchmark(n=n, concurrency=concurrency, db=db)
    _print(json.dumps(result, indent=2))
