"""`oversight quickstart`: the three protocols on the bundled sample with one model, and what the table means."""

from __future__ import annotations

import time
from importlib.resources import files
from typing import Annotated, Any

import typer

from oversight.cli import DbOption, app, err_console
from oversight.cli.output import render


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
    from oversight.engine import run_sync
    from oversight.metrics.leaderboard import stored_leaderboard

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
            from oversight.cli.running import report_run

            report_run(summary, False)
    board = stored_leaderboard(engine, runs=names)
    render(quickstart_table(board), "table", title="Judge accuracy on the quickstart sample (95% CIs clustered by article, CR2)")
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
