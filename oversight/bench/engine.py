"""`oversight bench engine`: the engine's overhead on one-call judge items against a local server.

A constant-reply OpenAI-compatible server runs in a child process (so it does not share the
engine's interpreter); the same number of requests is first sent by a bare aiohttp loop, the
floor any client can reach, then by a full `oversight run` (naive protocol, one answer order,
results written to SQL). The target is engine time ≤ 3 × the bare loop.
"""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from oversight.bench import peak_rss_mib

REPLY = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 0,
    "model": "bench",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "A"},
            "finish_reason": "stop",
            "logprobs": {
                "content": [
                    {
                        "token": "A",
                        "logprob": math.log(0.6),
                        "bytes": None,
                        "top_logprobs": [
                            {"token": "A", "logprob": math.log(0.6), "bytes": None},
                            {"token": "B", "logprob": math.log(0.4), "bytes": None},
                        ],
                    }
                ]
            },
        }
    ],
    "usage": {"prompt_tokens": 40, "completion_tokens": 1, "total_tokens": 41},
}


def _serve(port: int, latency: float = 0.0) -> None:
    from aiohttp import web

    body = json.dumps(REPLY).encode()
    first: list[float] = []  # when the first request since the last reset arrived (wall clock): a client's start-up

    async def handle(request: web.Request) -> web.Response:
        if not first:
            first.append(time.time())
        await request.read()
        if latency:
            await asyncio.sleep(latency)  # a model's time to answer, without using this machine's CPU
        return web.Response(body=body, content_type="application/json")

    async def reset(request: web.Request) -> web.Response:
        first.clear()
        return web.json_response({})

    async def first_request(request: web.Request) -> web.Response:
        return web.json_response({"first": first[0] if first else None})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handle)
    app.router.add_post("/bench/reset", reset)
    app.router.add_get("/bench/first", first_request)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_ready(url: str) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.post(url, json={}) as response:
                    await response.read()
                    return
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
    raise RuntimeError("benchmark server did not start")


async def _bare_loop(url: str, payloads: list[dict[str, Any]], concurrency: int) -> float:
    """The floor any client can reach: `payloads` posted by plain aiohttp, `concurrency` at a time, replies parsed."""
    import aiohttp

    limit = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def one(payload: dict[str, Any]) -> None:
            async with limit, session.post(url, json=payload) as response:
                json.loads(await response.read())

        start = time.perf_counter()
        await asyncio.gather(*(one(p) for p in payloads))
        return time.perf_counter() - start


def judge_request_bodies(spec: str, questions: list[Any], seed: int) -> list[dict[str, Any]]:
    """Exactly the bodies the engine sends for these naive judge items (one drawn answer order each)."""
    from oversight.judging import JUDGE_CONFIG
    from oversight.models import parse_spec
    from oversight.protocols import ProtocolSettings, get_protocol
    from oversight.work import orders_for

    parsed = parse_spec(spec)
    naive = get_protocol("naive", ProtocolSettings())
    bodies = []
    for q in questions:
        transcript = asyncio.run(naive.run(q, q.two_options(seed), None))  # type: ignore[arg-type]
        (order,) = orders_for("random", seed, q)
        body = {"model": parsed.model, "messages": [m.model_dump() for m in naive.judge_view(transcript, order)],
                "max_tokens": JUDGE_CONFIG.max_tokens, "temperature": JUDGE_CONFIG.temperature, "logprobs": True,
                "top_logprobs": JUDGE_CONFIG.top_logprobs}  # fmt: skip
        if parsed.provider == "vllm":
            body["structured_outputs"] = {"choice": list(JUDGE_CONFIG.choices)}
        bodies.append(body)
    return bodies


def engine_benchmark(n: int = 2000, concurrency: int = 256, db: str | None = None) -> dict[str, Any]:
    from oversight.config import RunConfig
    from oversight.engine import Runner

    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(port,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port}/v1"
    try:
        asyncio.run(_wait_ready(url + "/chat/completions"))
        payload = {"model": "bench", "messages": [{"role": "user", "content": "Question? A: x B: y"}], "max_tokens": 8}
        bare = asyncio.run(_bare_loop(url + "/chat/completions", [payload] * n, concurrency))
        with tempfile.TemporaryDirectory() as tmp:
            dataset = Path(tmp) / "bench.jsonl"
            with dataset.open("w") as handle:
                for i in range(n):
                    handle.write(json.dumps({"id": f"q{i}", "question": f"Is {i} even?", "options": ["yes", "no"], "answer": i % 2}) + "\n")
            config = RunConfig(
                protocol="naive",
                dataset=str(dataset),
                judges=[f"openai-compatible/bench@{url}"],
                orders="random",
                db=db or f"sqlite:///{tmp}/bench.db",
                run_name=f"bench-{time.time_ns()}",
                max_connections=concurrency,
                progress=False,
            )
            runner = Runner(config)
            start = time.perf_counter()
            summary = asyncio.run(runner.run())
            engine_s = time.perf_counter() - start
    finally:
        server.terminate()
        server.join(5)
    peak_mib = peak_rss_mib()
    return {
        "items": n,
        "concurrency": concurrency,
        "bare_aiohttp_s": round(bare, 3),
        "engine_s": round(engine_s, 3),
        "ratio": round(engine_s / bare, 2),
        "target_ratio": 3.0,
        "status": summary.status,
        "written": summary.written,
        "peak_rss_mib": round(peak_mib, 1),
    }
