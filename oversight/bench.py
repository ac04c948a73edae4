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
import resource
import socket
import tempfile
import time
from pathlib import Path
from typing import Any


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def _serve(port: int) -> None:
    from aiohttp import web

    body = json.dumps(REPLY).encode()

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handle)
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
    from oversight.engine import orders_for
    from oversight.judging import JUDGE_CONFIG
    from oversight.models import parse_spec
    from oversight.protocols import ProtocolSettings, get_protocol

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


def debate_prefix_share(
    question: Any, model: str, workdir: Path, *, rounds: int, max_tokens: int, layout: str = "shared-first"
) -> dict[str, Any]:
    """One debate over one question, every role on `model`, and the share of prompt tokens its server
    served from the prefix cache after the article's first call (as the server reports it)."""
    from sqlalchemy import select

    from oversight.config import RunConfig
    from oversight.db import connect
    from oversight.db.schema import ModelCall
    from oversight.engine import Runner

    one = workdir / f"{layout}-{question.id}.jsonl"
    one.write_text(json.dumps(question.model_dump()) + "\n", encoding="utf-8")
    config = RunConfig(
        protocol="debate", dataset=str(one), format="generic", rounds=rounds, debater_max_tokens=max_tokens, debater=model,
        judges=[model], db=f"sqlite:///{workdir}/{layout}-{question.id}.db", run_name=layout, cache="off", prompt_layout=layout,
        progress=False,
    )  # fmt: skip
    runner = Runner(config)
    provider = runner.pool.get(model).provider
    if hasattr(provider, "reset_prefix_cache"):  # llama.cpp: start from an empty KV cache
        provider.reset_prefix_cache()
    start = time.perf_counter()
    summary = asyncio.run(runner.run())
    wall = time.perf_counter() - start
    engine = connect(config.db)
    with engine.connect() as conn:
        calls = conn.execute(select(ModelCall.role, ModelCall.prompt_tokens, ModelCall.cached_prompt_tokens).order_by(ModelCall.id)).all()
    engine.dispose()
    after_first = calls[1:]
    debaters = [c for c in after_first if c.role.startswith("debater")]
    return {
        "status": summary.status,
        "wall_s": round(wall, 1),
        "calls": len(calls),
        "prompt_tokens": sum(c.prompt_tokens for c in calls),
        "cached_share_after_first_call": round(
            sum(c.cached_prompt_tokens for c in after_first) / max(1, sum(c.prompt_tokens for c in after_first)), 3
        ),
        "cached_share_debaters_after_first_call": round(
            sum(c.cached_prompt_tokens for c in debaters) / max(1, sum(c.prompt_tokens for c in debaters)), 3
        ),
    }


def prefix_benchmark(dataset: str, *, rounds: int = 3, max_tokens: int = 48, question: int = 0, model: str | None = None) -> dict[str, Any]:
    """A debate over one QuALITY article in the shared-first prompt layout and in role-first.

    Reports the share of prompt tokens served from the prefix cache after the first call of the
    article, and the wall time of each layout. On the embedded model each layout starts from an
    empty KV cache; a server's cache (vLLM) cannot be emptied from here, but the two layouts share
    no prompt prefix, so neither profits from the other.
    """
    from oversight.data import load_dataset
    from oversight.models import DEFAULT_MODEL

    model = model or DEFAULT_MODEL
    fmt, questions = load_dataset(dataset)
    if not 0 <= question < len(questions):
        from oversight.errors import InputError

        raise InputError(f"--question {question}: the file has {len(questions)} questions")
    chosen = questions[question]
    results: dict[str, Any] = {
        "dataset": dataset,
        "model": model,
        "question": chosen.id,
        "article_chars": len(chosen.context),
        "rounds": rounds,
        "max_tokens_per_turn": max_tokens,
    }
    with tempfile.TemporaryDirectory() as tmp:
        for layout in ("shared-first", "role-first"):
            results[layout] = debate_prefix_share(chosen, model, Path(tmp), rounds=rounds, max_tokens=max_tokens, layout=layout)
    results["speedup"] = round(results["role-first"]["wall_s"] / max(results["shared-first"]["wall_s"], 1e-9), 2)
    results["target_share"] = 0.8
    return results


def _fill_synthetic(url: str, n: int, seed: int) -> None:
    """Write `n` synthetic judgments (2 orders per transcript, 10 questions per article) in bulk."""
    import numpy as np
    from sqlalchemy import insert

    from oversight.db import connect
    from oversight.db.schema import Context, Judgment, QuestionRow, Run, Transcript

    rng = np.random.default_rng(seed)
    engine = connect(url)
    n_transcripts = max(1, n // 2)
    n_questions = max(1, min(n_transcripts, 20000))
    protocols = ["naive", "expert", "debate", "consultancy"]
    judges = ["local/smollm2-135m", "openai/gpt-4o-mini"]
    with engine.begin() as conn:
        conn.execute(
            insert(Context.__table__), [{"hash": f"ctx{a:06d}", "text": f"article {a}", "n_chars": 9} for a in range(n_questions // 10 + 1)]
        )
        conn.execute(
            insert(QuestionRow.__table__),
            [
                {"uid": f"q{q:07d}", "source": "synthetic", "external_id": f"q{q}", "question": "?", "options": ["a", "b"], "answer": 0,
                 "distractor": 1, "context_hash": f"ctx{q // 10:06d}", "article_id": f"art{q // 10}", "meta": {}}
                for q in range(n_questions)
            ],
        )  # fmt: skip
        conn.execute(
            insert(Run.__table__),
            [
                {"id": i + 1, "name": f"synthetic-{p}", "protocol": p, "dataset": "synthetic", "dataset_path": "-", "dataset_format": "generic",
                 "config": {}, "config_hash": "-", "prompt_version": "v1", "models": {}, "seed": seed, "package_version": "-", "status": "finished"}
                for i, p in enumerate(protocols)
            ],
        )  # fmt: skip
        run_of = rng.integers(0, len(protocols), n_transcripts)
        question_of = rng.integers(0, n_questions, n_transcripts)
        correct_side = np.where(rng.random(n_transcripts) < 0.5, "A", "B")
        for start in range(0, n_transcripts, 100_000):
            stop = min(n_transcripts, start + 100_000)
            conn.execute(
                insert(Transcript.__table__),
                [
                    {"id": t + 1, "run_id": int(run_of[t]) + 1, "question_uid": f"q{int(question_of[t]):07d}", "item_key": f"i{t}",
                     "protocol": protocols[int(run_of[t])], "option_a": 0 if correct_side[t] == "A" else 1, "option_b": 1 if correct_side[t] == "A" else 0,
                     "correct": str(correct_side[t]), "prompt_version": "v1", "meta": {}}
                    for t in range(start, stop)
                ],
            )  # fmt: skip
        skill = {"naive": 0.6, "expert": 0.9, "debate": 0.75, "consultancy": 0.65}
        for start in range(0, n, 200_000):
            stop = min(n, start + 200_000)
            rows = []
            for j in range(start, stop):
                t = j // 2
                protocol = protocols[int(run_of[t % n_transcripts])]
                p_correct = float(np.clip(rng.normal(skill[protocol], 0.2), 0.01, 0.99))
                valid = rng.random() > 0.01
                p_a = p_correct if correct_side[t % n_transcripts] == "A" else 1 - p_correct
                rows.append(
                    {"transcript_id": t % n_transcripts + 1, "judge": judges[j % 4 // 2], "judge_kind": "model", "order": "AB" if j % 2 == 0 else "BA",
                     "p_a": p_a if valid else None, "p_b": 1 - p_a if valid else None, "p_correct": p_correct if valid else None,
                     "correct": p_correct > 0.5 if valid else None, "valid": valid, "method": "logprobs", "raw_output": "", "prompt_version": f"v1-{j % 4}"}
                )  # fmt: skip
            conn.execute(insert(Judgment.__table__), rows)
    engine.dispose()


def leaderboard_benchmark(n: int = 1_000_000, n_resamples: int = 1000, db: str | None = None, seed: int = 0) -> dict[str, Any]:
    """Fill a database with `n` synthetic judgments, then time loading them and computing the leaderboard."""
    from oversight.db import connect
    from oversight.db.leaderboard import leaderboard_aggregates
    from oversight.metrics.leaderboard import DEFAULT_BY, leaderboard_from_aggregates

    with tempfile.TemporaryDirectory() as tmp:
        url = db or f"sqlite:///{tmp}/leaderboard.db"
        start = time.perf_counter()
        filler = multiprocessing.get_context("spawn").Process(target=_fill_synthetic, args=(url, n, seed))
        filler.start()
        filler.join()
        if filler.exitcode != 0:
            raise RuntimeError("filling the benchmark database failed")
        fill_s = time.perf_counter() - start
        engine = connect(url)
        rss_before = peak_rss_mib()
        start = time.perf_counter()
        aggregates = leaderboard_aggregates(engine, DEFAULT_BY)
        load_s = time.perf_counter() - start
        board = leaderboard_from_aggregates(aggregates, n_resamples=n_resamples, seed=seed)
        total_s = time.perf_counter() - start
        engine.dispose()
    return {
        "judgments": int(sum(r["n"] + r["invalid"] for r in board)),
        "groups": len(board),
        "bootstrap_resamples": n_resamples,
        "fill_s": round(fill_s, 1),
        "sql_aggregate_s": round(load_s, 2),
        "leaderboard_s": round(total_s, 2),
        "target_s": 10.0,
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "rss_before_load_mib": round(rss_before, 1),
    }
