"""`oversight bench engine --executor ray --workers 1,2`: items per second on Ray against a scripted server.

The server (a child process) answers every call after `latency` seconds, as a model would,
without using CPU. For each worker count a naive judge run of `n` items is made with
`--executor ray` (Ray started once, before the timings), and its items per second, the driver's
CPU time per item and the scaling against one worker are reported beside a local run.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from oversight.bench.engine import _free_port, _serve, _wait_ready


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cluster_benchmark(n: int = 2000, workers: tuple[int, ...] = (1, 2), latency: float = 0.05, concurrency: int = 256) -> dict[str, Any]:
    from oversight.cluster import connect_ray
    from oversight.config import RunConfig
    from oversight.engine import Runner

    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(port, latency), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port}/v1"
    results: list[dict[str, Any]] = []
    started_ray = False
    try:
        asyncio.run(_wait_ready(url + "/chat/completions"))
        started_ray = connect_ray("local", max(workers))
        with tempfile.TemporaryDirectory() as tmp:
            dataset = Path(tmp) / "bench.jsonl"
            dataset.write_text(
                "".join(
                    json.dumps({"id": f"q{i}", "question": f"Is {i} even?", "options": ["yes", "no"], "answer": i % 2}) + "\n"
                    for i in range(n)
                )
            )
            for executor, count in [("local", 1), *(("ray", w) for w in workers)]:
                config = RunConfig(
                    protocol="naive", dataset=str(dataset), judges=[f"openai-compatible/bench@{url}"], orders="random",
                    db=f"sqlite:///{tmp}/bench.db", run_name=f"bench-{executor}-{count}", max_connections=concurrency,
                    progress=False, cache="off", executor=executor, workers=count,
                )  # fmt: skip
                runner = Runner(config)
                cpu, start = _cpu_seconds(), time.perf_counter()
                summary = asyncio.run(runner.run())
                elapsed, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
                results.append(
                    {"executor": executor, "workers": count if executor == "ray" else None, "status": summary.status, "items": summary.written,
                     "seconds": round(elapsed, 2), "items_per_s": round(summary.written / elapsed, 1),
                     "driver_cpu_ms_per_item": round(1000 * cpu / max(1, summary.written), 3)}
                )  # fmt: skip
    finally:
        if started_ray:
            import ray

            ray.shutdown()
        server.terminate()
        server.join(5)
    ray_rows = [r for r in results if r["executor"] == "ray"]
    base = ray_rows[0]["items_per_s"] if ray_rows else None
    for row in ray_rows:
        row["scaling_vs_first"] = round(row["items_per_s"] / base, 2) if base else None
    return {"items": n, "latency_s": latency, "concurrency": concurrency, "results": results}
