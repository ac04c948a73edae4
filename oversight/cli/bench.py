"""The benchmarks, each with a documented target."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from oversight.cli import FormatOption, _check_format, bench_app, err_console
from oversight.cli.output import print_text, render
from oversight.errors import OversightError


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
    from oversight.bench.prefix import prefix_benchmark
    from oversight.models import parse_spec

    parse_spec(model)
    print_text(json.dumps(prefix_benchmark(dataset, rounds=rounds, max_tokens=max_tokens, question=question, model=model), indent=2))


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
    from oversight.bench.vllm import vllm_benchmark

    result = vllm_benchmark(model, n=n, concurrency=concurrency, dataset=dataset, articles=articles, rounds=rounds,
                            max_tokens=max_tokens, log=lambda m: err_console.print(m, style="dim", markup=False, highlight=False))  # fmt: skip
    print_text(json.dumps(result, indent=2))


@bench_app.command("judge")
def bench_judge(
    n: Annotated[
        list[int] | None, typer.Option("--n", min=1, help="Judge items (one call each); repeatable (default: 1000 and 10000).")
    ] = None,
    debate_items: Annotated[
        int, typer.Option("--debate-items", min=0, help="Debate items (2 × rounds + 2 calls each); 0 leaves the debate out.")
    ] = 200,
    rounds: Annotated[int, typer.Option("--rounds", min=1, max=10, help="Debate rounds.")] = 3,
    concurrency: Annotated[
        list[int] | None, typer.Option("--concurrency", min=1, help="Concurrent requests; repeatable (default: 256).")
    ] = None,
    inspect_python: Annotated[
        str | None,
        typer.Option("--inspect-python", envvar="OVERSIGHT_INSPECT_PYTHON", help="Interpreter with inspect_ai, to include Inspect AI."),
    ] = None,
    fmt: FormatOption = "table",
) -> None:
    """Whole processes on one scripted server: `oversight run` beside bare aiohttp and openai scripts and Inspect AI."""
    from oversight.bench.clients import clients_benchmark

    _check_format(fmt)
    result = clients_benchmark(
        sizes=tuple(n or (1000, 10000)), debate_items=debate_items, rounds=rounds, concurrencies=tuple(concurrency or (256,)),
        inspect=inspect_python,
    )  # fmt: skip
    if fmt == "json":
        print_text(json.dumps(result, indent=2))
        return
    target = result["target"]
    title = (f"Whole processes on one scripted server (targets: oversight run ≤ {target['vs_bare_openai']}× the bare openai script, "
             f"≥ {target['inspect_vs_oversight']:g}× faster than Inspect AI; client CPU ≤ {target['cpu_vs_aiohttp']:g}× bare aiohttp)")  # fmt: skip
    print_text(render(result["results"], fmt, title=title))
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
    from oversight.bench.reliability import reliability_campaign

    result = reliability_campaign(db=db, judge_items=judge_items, debate_items=debate_items, rounds=rounds, kills=kills, seed=seed)
    print_text(json.dumps(result, indent=2, default=str))


@bench_app.command("judges")
def bench_judges(
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: a temporary SQLite file).")] = None,
    judges: Annotated[int, typer.Option("--judges", min=1, max=500, help="Judges submitting at once.")] = 30,
    judgments: Annotated[int, typer.Option("--judgments", min=1, help="Verdicts to submit in all.")] = 1000,
) -> None:
    """Concurrent human judges: verdicts per second, and nothing lost or doubled."""
    from oversight.bench.judges import judges_load

    print_text(json.dumps(judges_load(db, judges=judges, judgments=judgments), indent=2))


@bench_app.command("leaderboard")
def bench_leaderboard(
    n: Annotated[int, typer.Option("--n", min=100, max=20_000_000, help="Synthetic judgments.")] = 1_000_000,
) -> None:
    """Fill a temporary database with synthetic judgments and time the full leaderboard (target: under 10 s for 1M)."""
    from oversight.bench.leaderboard import leaderboard_benchmark

    print_text(json.dumps(leaderboard_benchmark(n=n), indent=2))


@bench_app.command("engine")
def bench_engine(
    n: Annotated[int, typer.Option("--n", min=1, help="Judge items (one call each).")] = 2000,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Concurrent requests.")] = 256,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: a temporary SQLite file).")] = None,
    executor: Annotated[
        str, typer.Option("--executor", help="local (beside a bare aiohttp loop) | ray (items per second on Ray).")
    ] = "local",
    workers: Annotated[str, typer.Option("--workers", help="ray: worker counts to compare, e.g. 1,2.")] = "1,2",
    latency: Annotated[float, typer.Option("--latency", min=0.0, max=10.0, help="ray: seconds the scripted server takes per call.")] = 0.05,
) -> None:
    """Time the engine on one-call judge items against a local scripted server, beside a bare aiohttp loop (or on Ray)."""
    if executor == "ray":
        from oversight.bench.cluster import cluster_benchmark

        try:
            counts = tuple(int(w) for w in workers.split(",") if w.strip())
        except ValueError:
            raise OversightError(f"--workers {workers!r}: give counts like 1,2") from None
        print_text(json.dumps(cluster_benchmark(n=n, workers=counts or (1,), latency=latency, concurrency=concurrency), indent=2))
        return
    if executor != "local":
        raise OversightError(f"--executor {executor!r}: choose local or ray")
    from oversight.bench.engine import engine_benchmark

    result = engine_benchmark(n=n, concurrency=concurrency, db=db)
    print_text(json.dumps(result, indent=2))


@bench_app.command("coverage")
def bench_coverage(
    replications: Annotated[int, typer.Option("--replications", min=10, max=100_000, help="Simulated studies per statistic and K.")] = 400,
    articles: Annotated[str, typer.Option("--articles", help="Numbers of articles K to simulate, comma-separated.")] = "5,10,25,50",
    statistic: Annotated[
        list[str] | None, typer.Option("--statistic", help="Only this statistic (repeatable); default: all of them.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulations.")] = 0,
    workers: Annotated[int | None, typer.Option("--workers", min=1, max=64, help="Processes (default: one per core).")] = None,
    fmt: FormatOption = "table",
) -> None:
    """Simulate studies with known truth and measure every interval the product prints: coverage of its 95% interval,
    mean width, the estimate's bias and the share flagged as too few articles (target: 0.93–0.97 at K ≥ 10)."""
    from oversight.bench.coverage import STATISTICS, coverage_benchmark

    _check_format(fmt)
    try:
        ks = tuple(int(k) for k in articles.split(",") if k.strip())
    except ValueError:
        raise OversightError(f"--articles {articles!r}: give numbers of articles like 5,10,25,50") from None
    if not ks or min(ks) < 2 or max(ks) > 2000:
        raise OversightError(f"--articles {articles!r}: each K must be between 2 and 2000")
    unknown = [s for s in statistic or [] if s not in STATISTICS]
    if unknown:
        raise OversightError(f"--statistic {unknown[0]!r}: choose from {', '.join(STATISTICS)}")
    result = coverage_benchmark(replications=replications, articles=ks, statistics=statistic, seed=seed, workers=workers)
    if fmt != "table":
        print_text(json.dumps(result, indent=2) if fmt == "json" else render(result["rows"], fmt))
        return
    render(result["rows"], "table", title=f"Coverage of 95% intervals ({result['design']})")
    err_console.print(
        f"target: {result['target']}; {'all met' if result['all_ok'] else 'NOT all met'}; {result['seconds']} s", highlight=False
    )
