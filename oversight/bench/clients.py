"""`oversight bench judge`: the engine against the clients a user could write instead, on one scripted server.

Four clients send the same work to a constant-reply OpenAI-compatible server (a child process):
a bare aiohttp loop (the floor), a bare `openai` loop (`chat.completions.create` on the SDK's
aiohttp transport, the fastest way to use the official client), `oversight run`, and Inspect
AI's equivalent eval when an interpreter with inspect_ai is at hand. Two workloads: judge calls
(one call per item) and a 3-round debate (per item: two debaters in parallel each round, then the
judge in both answer orders). Reported per client: wall time, client CPU per call (this process's
CPU time; the server's is not counted) and the ratio to the bare `openai` loop.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from oversight.bench.engine import _free_port, _serve, _wait_ready, judge_request_bodies

INSPECT_SCRIPT = Path(__file__).with_name("_inspect_script.py")
SPEC_NAME = "bench"

Send = Callable[[dict[str, Any]], Awaitable[None]]


def _dataset(path: Path, n: int) -> list[Any]:
    from oversight.data import load_dataset

    with path.open("w") as handle:
        for i in range(n):
            row = {"id": f"q{i}", "question": f"Is {i} an even number?", "options": ["yes", "no"], "answer": i % 2,
                   "context": f"Story {i}. The number {i} was written on the door; everyone agreed it was {'even' if i % 2 == 0 else 'odd'}."}  # fmt: skip
            handle.write(json.dumps(row) + "\n")
    return load_dataset(path)[1]


def _turn_body(judge_body: dict[str, Any], side: str) -> dict[str, Any]:
    return {"model": judge_body["model"], "messages": [{"role": "user", "content": judge_body["messages"][-1]["content"] + side}],
            "max_tokens": 48, "temperature": 0.0}  # fmt: skip


async def _workload(send: Send, bodies: list[dict[str, Any]], workload: str, rounds: int, concurrency: int) -> None:
    """The request pattern of a workload, `concurrency` requests at a time."""
    limit = asyncio.Semaphore(concurrency)

    async def call(body: dict[str, Any]) -> None:
        async with limit:
            await send(body)

    async def item(body: dict[str, Any]) -> None:
        if workload == "judge":
            await call(body)
            return
        for _ in range(rounds):
            await asyncio.gather(call(_turn_body(body, " A")), call(_turn_body(body, " B")))
        await asyncio.gather(call(body), call(body))

    await asyncio.gather(*(item(b) for b in bodies))


def _timed(run: Callable[[], Any]) -> tuple[float, float, Any]:
    cpu, wall = time.process_time(), time.perf_counter()
    out = run()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def _bare_aiohttp(url: str, bodies: list[dict[str, Any]], workload: str, rounds: int, concurrency: int) -> tuple[float, float]:
    import aiohttp

    async def go() -> None:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

            async def send(body: dict[str, Any]) -> None:
                async with session.post(url + "/chat/completions", json=body) as response:
                    json.loads(await response.read())

            await _workload(send, bodies, workload, rounds, concurrency)

    wall, cpu, _ = _timed(lambda: asyncio.run(go()))
    return wall, cpu


def _bare_openai(url: str, bodies: list[dict[str, Any]], workload: str, rounds: int, concurrency: int) -> tuple[float, float]:
    import openai

    async def go() -> None:
        client = openai.AsyncOpenAI(base_url=url, api_key="EMPTY", max_retries=0, http_client=openai.DefaultAioHttpClient())
        try:

            async def send(body: dict[str, Any]) -> None:
                await client.chat.completions.create(**body)

            await _workload(send, bodies, workload, rounds, concurrency)
        finally:
            await client.close()

    wall, cpu, _ = _timed(lambda: asyncio.run(go()))
    return wall, cpu


def _engine(url: str, dataset: Path, workload: str, rounds: int, concurrency: int, tmp: Path) -> tuple[float, float, str]:
    from oversight.config import RunConfig
    from oversight.engine import Runner

    spec = f"openai-compatible/{SPEC_NAME}@{url}"
    protocol = {"judge": {"protocol": "naive", "orders": "random"}, "debate": {"protocol": "debate", "orders": "both", "rounds": rounds}}[
        workload
    ]
    config = RunConfig(
        dataset=str(dataset), judges=[spec], debater=spec, debater_max_tokens=48, db=f"sqlite:///{tmp}/{workload}-{concurrency}.db",
        run_name=f"bench-{workload}-{concurrency}", max_connections=concurrency, progress=False, seed=0, **protocol,
    )  # fmt: skip
    runner = Runner(config)
    wall, cpu, summary = _timed(lambda: asyncio.run(runner.run()))
    return wall, cpu, summary.status


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


def _inspect(python: str, job: dict[str, Any]) -> tuple[float, float, str]:
    done = subprocess.run([python, str(INSPECT_SCRIPT)], input=json.dumps(job), capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        tail = " ".join(done.stderr.strip().splitlines()[-1:])
        return float("nan"), float("nan"), f"failed: {tail[:200]}"
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return out["wall_s"], out["cpu_s"], out["status"] + (f", {out['errors']} errors" if out["errors"] else "")


def clients_benchmark(
    *, n: int = 2000, debate_items: int = 200, rounds: int = 3, concurrencies: tuple[int, ...] = (64, 256), inspect: str | None = None
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
            for workload, items in (("judge", n), ("debate", debate_items)):
                dataset = tmp / f"{workload}.jsonl"
                bodies = judge_request_bodies(f"openai-compatible/{SPEC_NAME}@{url}", _dataset(dataset, items), seed=0)
                calls = items * (1 if workload == "judge" else 2 * rounds + 2)
                _bare_aiohttp(url, bodies[: min(200, items)], workload, rounds, 64)  # warm-up: imports, first connections
                for concurrency in concurrencies:
                    measured: dict[str, tuple[float, float, str]] = {}
                    wall, cpu = _bare_aiohttp(url, bodies, workload, rounds, concurrency)
                    measured["bare aiohttp"] = (wall, cpu, "finished")
                    wall, cpu = _bare_openai(url, bodies, workload, rounds, concurrency)
                    measured["bare openai"] = (wall, cpu, "finished")
                    measured["oversight run"] = _engine(url, dataset, workload, rounds, concurrency, tmp)
                    if python is not None:
                        job = {"workload": workload, "base_url": url, "bodies": bodies, "rounds": rounds, "concurrency": concurrency,
                               "log_dir": str(tmp / f"inspect-{workload}-{concurrency}")}  # fmt: skip
                        measured["inspect ai"] = _inspect(python, job)
                    floor = measured["bare openai"][0]
                    for client, (wall, cpu, status) in measured.items():
                        results.append(
                            {"workload": workload, "concurrency": concurrency, "client": client, "calls": calls, "wall_s": round(wall, 2),
                             "cpu_ms_per_call": round(1000 * cpu / calls, 3), "vs_bare_openai": round(wall / floor, 2), "status": status}
                        )  # fmt: skip
    finally:
        server.terminate()
        server.join(5)
    return {"results": results, "inspect": python or "not installed (pass --inspect-python or set OVERSIGHT_INSPECT_PYTHON)", "target": 1.2}
