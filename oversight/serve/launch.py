"""Starting, watching and stopping vLLM servers.

Each replica is one `vllm.entrypoints.openai.api_server` process in a session of its own (so its
engine workers stop with it), on consecutive ports, with prefix caching and prompt-token details
on (the latter makes vLLM report how many prompt tokens its prefix cache served). A start waits
for every replica's /health; a replica that dies or never answers stops the others and fails
with one line and the tail of its log. The record of what runs is written as soon as the
processes exist, so `oversight serve --stop` can clean up even after an interrupted start.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from oversight.errors import OversightError
from oversight.serve import records
from oversight.serve.environment import Device, gpu_count, require_vllm_python, resolve_device
from oversight.serve.export import EXPORTABLE, export_hf, exported_dir, is_exported
from oversight.serve.paths import state_dir
from oversight.serve.processes import start_ticks, stop_group

EMBEDDED_MAX_MODEL_LEN = 8192
LOG_TAIL_LINES = 15


class ServeError(OversightError):
    """A server that would not start: the message is one line, `detail` the tail of its log."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


class ServeOptions(BaseModel):
    model: str
    """A Hugging Face directory or id, or an embedded model name (`smollm2-135m`)."""
    name: str | None = None
    """Served model name (what `vllm/NAME` refers to); default: the embedded name, the directory's name or the id."""
    replicas: int = Field(default=1, ge=1, le=64)
    port: int = Field(default=8000, ge=1, le=65535)
    host: str = "127.0.0.1"
    device: str = "auto"
    tensor_parallel_size: int = Field(default=1, ge=1, le=64)
    gpu_memory_utilization: float = Field(default=0.9, gt=0.0, le=1.0)
    max_model_len: int | None = Field(default=None, ge=16)
    cpu_kv_cache_gb: int = Field(default=2, ge=1, le=1024)
    task: Literal["generate", "embed"] = "generate"
    """`embed` serves /v1/embeddings (vLLM's pooling runner) instead of chat completions."""
    python: str | None = None
    log_dir: str | None = None
    startup_timeout: float = Field(default=900.0, gt=0)
    extra_args: list[str] = Field(default_factory=list)


class ReplicaPlan(BaseModel):
    port: int
    url: str
    command: list[str]
    env: dict[str, str]
    """Only the variables set for vLLM on top of the inherited environment."""
    log: str
    devices: str


class ServePlan(BaseModel):
    name: str
    model: str
    device: Device
    task: str
    replicas: list[ReplicaPlan]


def served_name(options: ServeOptions) -> str:
    if options.name:
        return options.name
    if options.model in EXPORTABLE:
        return options.model
    path = Path(options.model).expanduser()
    return path.resolve().name if path.is_dir() else options.model


def _model_path(options: ServeOptions) -> str:
    if options.model in EXPORTABLE:
        return str(exported_dir(options.model))
    path = Path(options.model).expanduser()
    if path.exists():
        if not (path / "config.json").exists():
            raise OversightError(f"{options.model}: not a Hugging Face model directory (no config.json)")
        return str(path.resolve())
    if options.model.startswith((".", "/", "~")):
        raise OversightError(f"{options.model}: no such directory")
    return options.model  # a hub id: vLLM downloads it (where the machine can reach the hub)


def _split(items: list[str], parts: int, per_part: int) -> list[list[str]]:
    return [items[i * per_part : (i + 1) * per_part] for i in range(parts)]


def _device_groups(device: Device, options: ServeOptions) -> list[str]:
    """What each replica is given: disjoint CPU cores, or disjoint GPUs (tensor-parallel-size each)."""
    if device == "cuda":
        need = options.replicas * options.tensor_parallel_size
        have = gpu_count()
        if need > have:
            raise OversightError(
                f"--replicas {options.replicas} × --tensor-parallel-size {options.tensor_parallel_size} needs {need} GPUs; {have} found"
            )
        return [",".join(g) for g in _split([str(i) for i in range(have)], options.replicas, options.tensor_parallel_size)]
    if options.tensor_parallel_size != 1:
        raise OversightError("--tensor-parallel-size applies to --device cuda; the CPU build runs one process per replica")
    if options.replicas == 1:
        return [""]  # vLLM binds its threads itself
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))
    if options.replicas > len(cores):
        raise OversightError(f"--replicas {options.replicas} on {len(cores)} CPU cores: each CPU replica needs a core of its own")
    per = len(cores) // options.replicas
    return [",".join(str(c) for c in g) for g in _split([str(c) for c in cores], options.replicas, per)]


def plan(options: ServeOptions, python: Path, *, device: Device | None = None) -> ServePlan:
    """The exact commands and environment of every replica (what `--dry-run` prints)."""
    device = device or resolve_device(options.device)
    name = served_name(options)
    model_path = _model_path(options)
    max_len = options.max_model_len or (EMBEDDED_MAX_MODEL_LEN if options.model in EXPORTABLE else None)
    log_dir = Path(options.log_dir).expanduser() if options.log_dir else state_dir() / "logs"
    url_host = "127.0.0.1" if options.host in ("0.0.0.0", "::", "") else options.host
    safe = name.replace("/", "_")
    replicas = []
    for i, devices in enumerate(_device_groups(device, options)):
        port = options.port + i
        command = [
            str(python), "-m", "vllm.entrypoints.openai.api_server", "--model", model_path, "--served-model-name", name,
            "--host", options.host, "--port", str(port), "--enable-prefix-caching", "--enable-prompt-tokens-details",
        ]  # fmt: skip
        if max_len:
            command += ["--max-model-len", str(max_len)]
        if options.task == "embed":
            command += ["--runner", "pooling", "--convert", "embed"]
        env = {"VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1"}
        if device == "cpu":
            command += ["--dtype", "bfloat16"]
            env["VLLM_CPU_KVCACHE_SPACE"] = str(options.cpu_kv_cache_gb)
            if devices:
                env["VLLM_CPU_OMP_THREADS_BIND"] = devices
        else:
            command += ["--tensor-parallel-size", str(options.tensor_parallel_size)]
            command += ["--gpu-memory-utilization", str(options.gpu_memory_utilization)]
            env["CUDA_VISIBLE_DEVICES"] = devices
        command += options.extra_args
        replicas.append(
            ReplicaPlan(
                port=port, url=f"http://{url_host}:{port}/v1", command=command, env=env,
                log=str(log_dir / f"{safe}-{port}.log"), devices=devices,
            )
        )  # fmt: skip
    return ServePlan(name=name, model=model_path, device=device, task=options.task, replicas=replicas)


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host if host not in ("", "::") else "0.0.0.0", port))
        except OSError:
            return False
    return True


def _healthy(url: str, timeout: float = 2.0) -> bool:
    """vLLM answers GET /health (at the server root, beside /v1) with 200 once the engine is up."""
    root = url.removesuffix("/v1")
    try:
        with urllib.request.urlopen(f"{root}/health", timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _serves(url: str, name: str) -> bool:
    """Whether the server at `url` lists `name` among its models (guards against another server on the port)."""
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=5.0) as response:
            listed = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return any(isinstance(m, dict) and m.get("id") == name for m in listed.get("data", []))


_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?(\w*(?:Error|Exception)): (.+)$")


def failure_reason(path: str) -> str:
    """The most telling line of a failed start: the last exception message vLLM logged."""
    lines = log_tail(path, lines=200).splitlines()
    for line in reversed(lines):
        text = line.strip()
        if "Value error, " in text:
            return _shorten(text.split("Value error, ", 1)[1].split(" [type=", 1)[0])
        match = _EXCEPTION_LINE.match(re.sub(r"^\(\w+ pid=\d+\)\s*(?:\w+ [\d:\- ]+\[[^\]]*\]\s*)?", "", text))
        if match:
            return _shorten(f"{match.group(1)}: {match.group(2)}")
    return "no error message in the log"


def _shorten(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def log_tail(path: str, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    kept = [line for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def start(options: ServeOptions, *, log: Callable[[str], None] = print) -> records.ServedModel:
    """Start every replica and wait until all are healthy; on any failure nothing is left running."""
    python = require_vllm_python(options.python)
    if options.model in EXPORTABLE and not is_exported(options.model):
        export_hf(options.model, python, log=log)
    the_plan = plan(options, python)
    existing = records.load(the_plan.name)
    if existing is not None:
        if existing.urls:
            raise OversightError(
                f"{the_plan.name} is already served at {', '.join(existing.urls)}; stop it first: oversight serve --stop {the_plan.name}"
            )
        records.remove(the_plan.name)  # a stale record of servers that are gone
    for replica in the_plan.replicas:
        if not _port_free(options.host, replica.port):
            raise OversightError(f"port {replica.port} is in use; choose another with --port")
    record = records.ServedModel(
        name=the_plan.name, model=the_plan.model, device=the_plan.device, task=the_plan.task, replicas=[],
        started_at=time.time(), command=the_plan.replicas[0].command,
    )  # fmt: skip
    started = record.replicas
    try:
        for replica in the_plan.replicas:
            Path(replica.log).parent.mkdir(parents=True, exist_ok=True)
            with open(replica.log, "wb") as handle:
                process = subprocess.Popen(
                    replica.command, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    env=os.environ | replica.env, start_new_session=True,
                )  # fmt: skip
            started.append(
                records.ReplicaRecord(
                    url=replica.url, port=replica.port, pid=process.pid, start_ticks=start_ticks(process.pid), log=replica.log,
                    devices=replica.devices,
                )
            )  # fmt: skip
            records.save(record)
        log(f"starting {the_plan.name} on {the_plan.device}: {', '.join(r.url for r in started)} (logs: {started[0].log})")
        _wait_healthy(record, options.startup_timeout, log)
    except BaseException:
        _stop_record(record)
        raise
    return record


def _wait_healthy(record: records.ServedModel, timeout: float, log: Callable[[str], None]) -> None:
    began = time.monotonic()
    waiting = list(record.replicas)
    next_note = 60.0
    while waiting:
        for replica in list(waiting):
            if not replica.running:
                raise ServeError(
                    f"vLLM for {record.name} on port {replica.port} exited before it was ready: {failure_reason(replica.log)} "
                    f"(the last lines of {replica.log} follow)",
                    log_tail(replica.log),
                )
            if _healthy(replica.url):
                if not _serves(replica.url, record.name):
                    raise ServeError(f"port {replica.port} is answered by another server, not by {record.name}; choose another --port")
                waiting.remove(replica)
        elapsed = time.monotonic() - began
        if waiting and elapsed > timeout:
            replica = waiting[0]
            raise ServeError(
                f"vLLM for {record.name} on port {replica.port} was not ready after {timeout:.0f} s; the last lines of {replica.log}:",
                log_tail(replica.log),
            )
        if waiting:
            if elapsed > next_note:
                log(f"still starting ({elapsed:.0f} s)")
                next_note += 60.0
            time.sleep(1.0)
    log(f"{record.name} is ready after {time.monotonic() - began:.0f} s")


def _stop_record(record: records.ServedModel) -> bool:
    clean = True
    for replica in record.replicas:
        if replica.running:
            clean = stop_group(replica.pid) and clean
    if clean:
        records.remove(record.name)
    return clean


def stop(name: str | None = None) -> list[tuple[str, bool]]:
    """Stop one served name (or all); returns (name, stopped cleanly) for each."""
    targets = records.load_all() if name is None else [r for r in [records.load(name)] if r is not None]
    if name is not None and not targets:
        raise OversightError(f"nothing named {name!r} is served here (see oversight serve --list)")
    return [(record.name, _stop_record(record)) for record in targets]


def status_rows() -> list[dict[str, object]]:
    """One row per replica of every served name: where, which process, whether it answers."""
    rows: list[dict[str, object]] = []
    for record in records.load_all():
        for replica in record.replicas:
            running = replica.running
            state = ("ready" if _healthy(replica.url, timeout=1.0) else "starting") if running else "stopped"
            rows.append(
                {"name": record.name, "url": replica.url, "state": state, "device": record.device, "task": record.task,
                 "devices": replica.devices, "pid": replica.pid, "model": record.model, "log": replica.log}
            )  # fmt: skip
    return rows
