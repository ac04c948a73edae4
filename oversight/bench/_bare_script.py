"""The bare clients of `oversight bench judge`, each run as a whole process the way a user would run a script.

Standalone (imports nothing from oversight), so its start-up is that of a plain script. Reads a JSON job on
stdin: {client: "aiohttp" | "openai", base_url, bodies_path (a JSON list, one request body per item), workload:
"judge" | "debate", rounds, concurrency}; prints {wall_s, cpu_s} of the requests alone as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

Send = Callable[[dict[str, Any]], Awaitable[None]]


def turn_body(judge_body: dict[str, Any], side: str) -> dict[str, Any]:
    return {"model": judge_body["model"], "messages": [{"role": "user", "content": judge_body["messages"][-1]["content"] + side}],
            "max_tokens": 48, "temperature": 0.0}  # fmt: skip


async def workload(send: Send, bodies: list[dict[str, Any]], kind: str, rounds: int, concurrency: int) -> None:
    """The request pattern of a workload, `concurrency` requests at a time: one call per judge item; per debate item
    two debaters in parallel each round, then the judge in both answer orders."""
    limit = asyncio.Semaphore(concurrency)

    async def call(body: dict[str, Any]) -> None:
        async with limit:
            await send(body)

    async def item(body: dict[str, Any]) -> None:
        if kind == "judge":
            await call(body)
            return
        for _ in range(rounds):
            await asyncio.gather(call(turn_body(body, " A")), call(turn_body(body, " B")))
        await asyncio.gather(call(body), call(body))

    await asyncio.gather(*(item(b) for b in bodies))


async def with_aiohttp(url: str, bodies: list[dict[str, Any]], kind: str, rounds: int, concurrency: int) -> None:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def send(body: dict[str, Any]) -> None:
            async with session.post(url + "/chat/completions", json=body) as response:
                json.loads(await response.read())

        await workload(send, bodies, kind, rounds, concurrency)


async def with_openai(url: str, bodies: list[dict[str, Any]], kind: str, rounds: int, concurrency: int) -> None:
    """`chat.completions.create` on the SDK's aiohttp transport: the fastest way to use the official client."""
    import openai

    client = openai.AsyncOpenAI(base_url=url, api_key="EMPTY", max_retries=0, http_client=openai.DefaultAioHttpClient())
    try:

        async def send(body: dict[str, Any]) -> None:
            await client.chat.completions.create(**body)

        await workload(send, bodies, kind, rounds, concurrency)
    finally:
        await client.close()


def main() -> None:
    job = json.load(sys.stdin)
    with open(job["bodies_path"]) as handle:
        bodies = json.load(handle)
    run = {"aiohttp": with_aiohttp, "openai": with_openai}[job["client"]]
    cpu, wall = time.process_time(), time.perf_counter()
    asyncio.run(run(job["base_url"], bodies, job["workload"], job["rounds"], job["concurrency"]))
    print(json.dumps({"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}))


if __name__ == "__main__":
    main()
