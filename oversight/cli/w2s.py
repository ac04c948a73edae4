"""The weak-to-strong command."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from oversight.cli import DbOption, app, err_console
from oversight.cli.output import print_text, render


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
        str | None,
        typer.Option(
            "--format", "--dataset-format", envvar="OVERSIGHT_DATASET_FORMAT", help="Dataset format: {formats} (detected when left out)."
        ),
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
    executor: Annotated[
        str | None, typer.Option("--executor", help="local | ray (seeds as Ray tasks; one GPU each when fine-tuning on CUDA).")
    ] = None,
    ray_address: Annotated[str | None, typer.Option("--ray-address", envvar="RAY_ADDRESS", help="local | auto | ray://HOST:10001.")] = None,
    worker_resources: Annotated[str | None, typer.Option("--worker-resources", help="What each seed's task asks Ray for, as JSON.")] = None,
    config: Annotated[str | None, typer.Option("--config", help="YAML file with any of these options (CLI values win).")] = None,
    db: DbOption = None,
    run_name: Annotated[
        str | None, typer.Option("--run-name", help="Name under which splits, labels, predictions and metrics are stored.")
    ] = None,
    weak_from_run: Annotated[
        list[str] | None,
        typer.Option(
            "--weak-from-run",
            help="Weak labels from a stored protocol run: its judge's order-debiased probabilities (instead of --weak and --dataset). "
            "Repeat to compare sources (e.g. naive and debate) on the questions every run judged.",
        ),
    ] = None,
    judge: Annotated[
        str | None, typer.Option("--judge", help="--weak-from-run: whose verdicts (default: the run's one model judge).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Weak-to-strong supervision: weak floor, student on weak labels, strong ceiling, PGR with CIs over seeds."""
    from oversight.config import W2SConfig, merge_config
    from oversight.errors import InputError

    if weak_from_run:
        if dataset or weak or intermediate:
            raise InputError(
                "--weak-from-run takes the questions and the weak labels from the run: leave out --dataset, --weak and --intermediate"
            )
        dataset = f"run:{weak_from_run[0]}"
    elif judge:
        raise InputError("--judge goes with --weak-from-run")

    cli = {"dataset": dataset, "weak": weak, "strong": strong, "intermediate": intermediate or [], "method": method, "loss": loss,
           "format": fmt, "skip_bad_rows": skip_bad_rows, "n": n, "seeds": seeds, "cache_dir": cache_dir, "finetune": finetune, "epochs": epochs, "lr": lr,
           "batch_size": batch_size, "max_length": max_length, "device": device, "dtype": dtype, "k_shot": k_shot,
           "max_connections": max_connections, "db": db, "run_name": run_name, "executor": executor, "ray_address": ray_address,
           "worker_resources": worker_resources}  # fmt: skip
    cfg = merge_config(W2SConfig, cli, config)
    log = (lambda _: None) if as_json else (lambda m: err_console.print(f"[dim]{m}[/]"))
    if weak_from_run:
        from oversight.w2s.from_verdicts import run_weak_from_runs

        summaries = run_weak_from_runs(cfg, list(dict.fromkeys(weak_from_run)), judge, log=log)
        if as_json:
            print_text(json.dumps(summaries, indent=2))
            return
        for summary in summaries:
            print_text(f"weak labels: {summary['weak_labels']} ({summary['questions']} questions every source judged)")
            _print_w2s(summary)
        return
    from oversight.w2s.experiment import run_and_store

    summary = run_and_store(cfg, log=log)
    if as_json:
        print_text(json.dumps(summary, indent=2))
        return
    _print_w2s(summary)


def _print_w2s(summary: dict[str, Any]) -> None:
    roles = [("weak", summary["weak"]), *((f"intermediate {i['model']}", i) for i in summary.get("intermediates", []))]
    roles += [("student", summary["student"]), ("ceiling", summary["ceiling"])]
    table = [
        {"model": role, "accuracy": s["accuracy"]["mean"], "ci_low": s["accuracy"]["ci_low"], "ci_high": s["accuracy"]["ci_high"],
         "auroc": s["auroc"]["mean"]}
        for role, s in roles
    ]  # fmt: skip
    print_text(render(table, "markdown"))
    p = summary["pgr"]
    print_text(
        f"PGR: {p['mean']:.3f} (95% CI {p['ci_low']:.3f} to {p['ci_high']:.3f}, {p['n']} seeds)"
        if p["mean"] is not None and p["ci_low"] is not None
        else f"PGR: {p['mean']:.3f} (one seed with a gap to measure: no interval)"
        if p["mean"] is not None
        else "PGR: withheld on every seed (ceiling − weak under 2 points)"
    )
    print_text(f"run {summary['run_name']}: {summary['total_s']} s, peak RSS {summary['peak_rss_mib']} MiB")
    if summary.get("invalid"):
        err_console.print(f"[yellow]{summary['invalid']} answers could not be read and counted as 0.5[/]")
    if summary.get("warning"):
        err_console.print(f"[yellow]{summary['warning']}[/]")
