"""`oversight bench judge`: the engine against the clients a user could write instead, on one scripted server.

Four clients send the same work to a constant-reply OpenAI-compatible server (a child process), each as a
whole process started the way a user starts it: a bare aiohttp script (the floor), a bare `openai` script
(`chat.completions.create` on the SDK's aiohttp transport, the fastest way to use the official client), the
`oversight run` command, and Inspect AI's equivalent eval when an interpreter with inspect_ai is at hand.
Workloads: judge calls (one call per item) at 1,000 and 10,000 items, and a 3-round debate (per item: two
debaters in parallel each round, then the judge in both answer orders). Reported per client: the whole
process's wall time, how long after its launch the server saw its first request, the requests' own time
inside it (for `oversight run`: the engine, `Runner.run`, timed in this process on a fresh database) and the
start-up between them, client CPU per call over the requests, and the ratios to the bare `openai` script
(wall) and to the bare aiohttp one (CPU).
"""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from oversight.bench.engine import _free_port, _serve, _wait_ready, judge_request_bodies

INSPECT_SCRIPT = Path(__file__).with_name("_inspect_script.py")
BARE_SCRIPT = Path(__file__).with_name("_bare_script.py")
SPEC_NAME = "bench"


class Measured(NamedTuple):
    """One client on one workload: the whole process, and the requests alone (timed inside it)."""

    wall_s: float
    first_request_s: float
    requests_s: float
    cpu_s: float
    status: str


def _dataset(path: Path, n: int) -> list[Any]:
    from oversight.data import load_dataset

    with path.open("w") as handle:
        for i in range(n):
            row = {"id": f"q{i}", "question": f"Is {i} an even number?", "options": ["yes", "no"], "answer": i % 2,
                   "context": f"Story {i}. The number {i} was written on the door; everyone agreed it was {'even' if i % 2 == 0 else 'odd'}."}  # fmt: skip
            handle.write(json.dumps(row) + "\n")
    return load_dataset(path)[1]


def _timed(run: Callable[[], Any]) -> tuple[float, float, Any]:
    cpu, wall = time.process_time(), time.perf_counter()
    out = run()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def _process(argv: list[str], url: str, stdin: str | None = None) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall time of a whole child process (interpreter start-up and imports included), and how long after its
    launch the scripted server at `url` saw its first request: the start-up a user waits before any work."""
    root = url.removesuffix("/v1")
    urllib.request.urlopen(urllib.request.Request(root + "/bench/reset", data=b"", method="POST"), timeout=10).close()
    launched, wall = time.time(), time.perf_counter()
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=3600, check=False)
    wall = time.perf_counter() - wall
    with urllib.request.urlopen(root + "/bench/first", timeout=10) as response:
        first = json.load(response)["first"]
    return wall, (math.nan if first is None else first - launched), done


def _failed(done: subprocess.CompletedProcess[str]) -> str:
    return "failed: " + " ".join(done.stderr.strip().splitlines()[-1:])[:200]


def _bare(client: str, url: str, bodies_path: Path, workload: str, rounds: int, concurrency: int) -> Measured:
    job = {
        "client": client,
        "base_url": url,
        "bodies_path": str(bodies_path),
        "workload": workload,
        "rounds": rounds,
        "concurrency": concurrency,
    }
    wall, first, done = _process([sys.executable, str(BARE_SCRIPT)], url, json.dumps(job))
    if done.returncode != 0:
        return Measured(wall, first, math.nan, math.nan, _failed(done))
    inner = json.loads(done.stdout.strip().splitlines()[-1])
    return Measured(wall, first, inner["wall_s"], inner["cpu_s"], "finished")


def oversight_command() -> list[str]:
    """`oversight` as a user types it: the console script beside this interpreter, else `python -m oversight`."""
    script = Path(sys.executable).with_name("oversight")
    return [str(script)] if script.exists() else [sys.executable, "-m", "oversight"]


def _oversight_run(url: str, dataset: Path, workload: str, rounds: int, concurrency: int, tmp: Path) -> Measured:
    """`oversight run` as a whole process, and the engine alone (`Runner.run` in this process) on a fresh database."""
    spec = f"openai-compatible/{SPEC_NAME}@{url}"
    name = f"bench-{workload}-{dataset.stem}-{concurrency}"
    argv = [*oversight_command(), "run", "--dataset", str(dataset), "-j", spec, "--db", f"sqlite:///{tmp}/{name}-cli.db", "--run-name", name,
            "--max-connections", str(concurrency), "--no-progress", "--seed", "0", "--json"]  # fmt: skip
    if workload == "judge":
        argv += ["--protocol", "naive", "--orders", "random"]
    else:
        argv += ["--protocol", "debate", "--orders", "both", "--rounds", str(rounds), "--debater", spec, "--debater-max-tokens", "48"]
    wall, first, done = _process(argv, url)
    if done.returncode != 0:
        return Measured(wall, first, math.nan, math.nan, _failed(done))
    engine_wall, engine_cpu, status = _engine(url, dataset, workload, rounds, concurrency, tmp)
    return Measured(wall, first, engine_wall, engine_cpu, status)


def _engine(url: str, dataset: Path, workload: str, rounds: int, concurrency: int, tmp: Path) -> tuple[float, float, str]:
    from oversight.config import RunConfig
    from oversight.engine import Runner

    spec = f"openai-compatible/{SPEC_NAME}@{url}"
    protocol = {"judge": {"protocol": "naive", "orders": "random"}, "debate": {"protocol": "debate", "orders": "both", "rounds": rounds}}[
        workload
    ]
    config = RunConfig(
        dataset=str(dataset), judges=[spec], debater=spec, debater_max_tokens=48, db=f"sqlite:///{tmp}/{dataset.stem}-{concurrency}-engine.db",
        run_name=f"bench-{dataset.stem}-{concurrency}", max_connections=concurrency, progress=False, seed=0, **protocol,
    )  # fmt: skip
    runner = Runner(config)
    wall, cpu, summary = _timed(lambda: asyncio.run(runner.run()))
    return wall, cpu, str(summary.status)


def inspect_python(explicit: str | None) -> str | None:
    """An interpreter with inspect_ai: the one named (or OVERSIGHT_INSPECT_PYTHON), else this one if it has it."""
    named = explicit or os.environ.get("OVERSIGHT_INSPECT_PYTHON")
    candidates = [named] if named else [sys.executable]
    for python in candidates:
        probe = subprocess.run([python, "-c", "import inspect_ai, openai"], capture_output=True, check=False)
        if probe.returncode == 0:
            return python
        if named:
            from oversight.errors import InputError

            raise InputError(f"--inspect-python {named}: that interpreter cannot import inspect_ai and openai")
    return None


def _inspect(python: str, job: dict[str, Any]) -> Measured:
    wall, first, done = _process([python, str(INSPECT_SCRIPT)], job["base_url"], json.dumps(job))
    if done.returncode != 0:
        return Measured(wall, first, math.nan, math.nan, _failed(done))
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return Measured(wall, first, out["wall_s"], out["cpu_s"], out["status"] + (f", {out['errors']} errors" if out["errors"] else ""))


def clients_benchmark(
    *,
    sizes: tuple[int, ...] = (1000, 10000),
    debate_items: int = 200,
    rounds: int = 3,
    concurrencies: tuple[int, ...] = (256,),
    inspect: str | None = None,
) -> dict[str, Any]:
    python = inspect_python(inspect)
    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(port,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port}/v1"
    results: list[dict[str, Any]] = []
    try:
        asyncio.run(_wait_ready(url + "/chat/completions"))
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            work = [("judge", n) for n in sizes] + ([("debate", debate_items)] if debate_items else [])
            for workload, items in work:
                dataset = tmp / f"{workload}-{items}.jsonl"
                bodies = judge_request_bodies(f"openai-compatible/{SPEC_NAME}@{url}", _dataset(dataset, items), seed=0)
                bodies_path = tmp / f"{workload}-{items}-bodies.json"
                bodies_path.write_text(json.dumps(bodies))
                calls = items * (1 if workload == "judge" else 2 * rounds + 2)
                _bare("aiohttp", url, bodies_path, workload, rounds, 64)  # warm-up: the server's first connections, the page cache
                for concurrency in concurrencies:
                    measured = {
                        "bare aiohttp": _bare("aiohttp", url, bodies_path, workload, rounds, concurrency),
                        "bare openai": _bare("openai", url, bodies_path, workload, rounds, concurrency),
                        "oversight run": _oversight_run(url, dataset, workload, rounds, concurrency, tmp),
                    }
                    if python is not None:
                        job = {"workload": workload, "base_url": url, "bodies": bodies, "rounds": rounds, "concurrency": concurrency,
                               "log_dir": str(tmp / f"inspect-{workload}-{items}-{concurrency}")}  # fmt: skip
                        measured["inspect ai"] = _inspect(python, job)
                    floor, cpu_floor = measured["bare openai"].wall_s, measured["bare aiohttp"].cpu_s
                    for client, m in measured.items():
                        results.append(
                            {"workload": workload, "items": items, "concurrency": concurrency, "client": client, "calls": calls,
                             "wall_s": round(m.wall_s, 2), "requests_s": _round(m.requests_s), "startup_s": _round(m.wall_s - m.requests_s),
                             "first_request_s": _round(m.first_request_s),
                             "cpu_ms_per_call": _round(1000 * m.cpu_s / calls, 3), "vs_bare_openai": round(m.wall_s / floor, 2),
                             "cpu_vs_aiohttp": _round(m.cpu_s / cpu_floor), "status": m.status}
                        )  # fmt: skip
    finally:
        server.terminate()
        server.join(5)
    return {
        "results": results,
        "inspect": python or "not installed (pass --inspect-python or set OVERSIGHT_INSPECT_PYTHON)",
        "target": {"vs_bare_openai": 1.2, "inspect_vs_oversight": 10.0, "cpu_vs_aiohttp": 3.0},
    }


def _round(value: float, digits: int = 2) -> float | None:
    return None if math.isnan(value) else round(value, digits)
