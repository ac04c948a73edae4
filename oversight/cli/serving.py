"""`oversight serve` (vLLM replicas) and `oversight models export-hf`."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from oversight.cli import FormatOption, _check_format, app, err_console, models_app
from oversight.cli.output import render
from oversight.errors import OversightError


def _note(message: str) -> None:
    err_console.print(message, style="dim", highlight=False, markup=False, soft_wrap=True)


@app.command()
def serve(
    model: Annotated[
        str | None,
        typer.Argument(help="A Hugging Face directory or id, or smollm2-135m (the embedded model); with --stop, the served name."),
    ] = None,
    replicas: Annotated[int, typer.Option("--replicas", min=1, max=64, help="Servers of the same model, on consecutive ports.")] = 1,
    port: Annotated[int, typer.Option("--port", envvar="OVERSIGHT_SERVE_PORT", min=1, max=65535, help="Port of the first replica.")] = 8000,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (0.0.0.0 to serve other machines).")] = "127.0.0.1",
    device: Annotated[str, typer.Option("--device", envvar="OVERSIGHT_SERVE_DEVICE", help="auto | cuda | cpu.")] = "auto",
    tensor_parallel_size: Annotated[int, typer.Option("--tensor-parallel-size", "-tp", min=1, max=64, help="GPUs per replica (CUDA).")] = 1,
    gpu_memory_utilization: Annotated[
        float, typer.Option("--gpu-memory-utilization", min=0.05, max=1.0, help="Share of each GPU's memory vLLM may take (CUDA).")
    ] = 0.9,
    max_model_len: Annotated[
        int | None, typer.Option("--max-model-len", min=16, help="Context length (default: the model's; 8192 for smollm2-135m).")
    ] = None,
    cpu_kv_cache_gb: Annotated[int, typer.Option("--cpu-kv-cache-gb", min=1, help="KV-cache memory per CPU replica, GiB.")] = 2,
    task: Annotated[
        str, typer.Option("--task", help="generate (chat completions) | embed (/v1/embeddings, for weak-to-strong features).")
    ] = "generate",
    name: Annotated[str | None, typer.Option("--name", help="Served model name, used as vllm/NAME (default: from MODEL).")] = None,
    python: Annotated[
        str | None, typer.Option("--python", envvar="OVERSIGHT_VLLM_PYTHON", help="Interpreter of the environment that has vLLM.")
    ] = None,
    log_dir: Annotated[str | None, typer.Option("--log-dir", help="Folder for vLLM's logs (default: the state folder's logs/).")] = None,
    startup_timeout: Annotated[
        float, typer.Option("--startup-timeout", min=1, help="Seconds to wait for every replica to be ready.")
    ] = 900.0,
    vllm_arg: Annotated[
        list[str] | None, typer.Option("--vllm-arg", help="Extra argument passed to vLLM as it is; repeatable (e.g. --vllm-arg=--seed=1).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the commands and environment; start nothing.")] = False,
    list_: Annotated[bool, typer.Option("--list", help="List served models and whether each replica answers.")] = False,
    stop_: Annotated[
        bool, typer.Option("--stop", help="Stop MODEL (a served name), or every served model when MODEL is left out.")
    ] = False,
    install_cpu: Annotated[
        bool, typer.Option("--install-cpu", help="Build vLLM's CPU environment in the cache folder (once; reused afterwards).")
    ] = False,
    fmt: FormatOption = "table",
) -> None:
    """Serve a model with vLLM: replicas, health checks, recorded endpoints (so runs can use vllm/NAME), clean stop."""
    from oversight.serve import ServeOptions, install_cpu_env, plan, require_vllm_python, start, status_rows, stop

    chosen = [flag for flag, on in (("--list", list_), ("--stop", stop_), ("--install-cpu", install_cpu)) if on]
    if len(chosen) > 1:
        raise OversightError(f"{' and '.join(chosen)}: choose one")
    if install_cpu:
        install_cpu_env(log=_note)
        return
    if list_:
        _check_format(fmt)
        rows = status_rows()
        if not rows and fmt == "table":
            _note("nothing is served here; start a model with: oversight serve smollm2-135m")
            return
        text = render(rows, fmt, title="Served models")
        if text is not None:
            sys.stdout.write(text + "\n")
        return
    if stop_:
        results = stop(model)
        if not results:
            _note("nothing was served")
        for served, clean in results:
            if not clean:
                raise OversightError(f"{served}: some vLLM processes would not stop (see oversight serve --list)")
            _note(f"stopped {served}")
        return
    if model is None:
        raise OversightError("name a model to serve, e.g. oversight serve smollm2-135m (or use --list, --stop, --install-cpu)")
    if task not in ("generate", "embed"):
        raise OversightError(f"--task {task!r}: choose generate or embed")
    options = ServeOptions(
        model=model, name=name, replicas=replicas, port=port, host=host, device=device, tensor_parallel_size=tensor_parallel_size,
        gpu_memory_utilization=gpu_memory_utilization, max_model_len=max_model_len, cpu_kv_cache_gb=cpu_kv_cache_gb, task=task,
        python=python, log_dir=log_dir, startup_timeout=startup_timeout, extra_args=vllm_arg or [],
    )  # fmt: skip
    if dry_run:
        the_plan = plan(options, require_vllm_python(python))
        sys.stdout.write(json.dumps(the_plan.model_dump(), indent=2) + "\n")
        return
    record = start(options, log=_note)
    spec = f"vllm/{record.name}"
    err_console.print(
        f"serving [bold]{record.name}[/] at {', '.join(r.url for r in record.replicas)}; use it as {spec} "
        f"(e.g. oversight run --judge {spec} ...); stop with: oversight serve --stop {record.name}",
        highlight=False,
        soft_wrap=True,
    )


@models_app.command("export-hf")
def models_export_hf(
    name: Annotated[str, typer.Argument(help="The embedded model to export.")] = "smollm2-135m",
    python: Annotated[
        str | None,
        typer.Option(
            "--python", envvar="OVERSIGHT_VLLM_PYTHON", help="Interpreter with transformers, gguf and accelerate (default: vLLM's)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Export again even if an export exists.")] = False,
) -> None:
    """Export the embedded GGUF model to Hugging Face safetensors (what vLLM loads), once, into the cache folder."""
    from oversight.serve import export_hf, require_vllm_python

    out = export_hf(name, require_vllm_python(python), force=force, log=_note)
    sys.stdout.write(f"{out}\n")
