"""`oversight bench reliability`: a repeatable fault campaign whose figures go in the README.

A chaos OpenAI-compatible server (a child process, seeded) answers 10% of requests with 429 and a
Retry-After, 5% with HTTP 500, hangs on 1% past the client's timeout and sends 2% bodies that are
not JSON. Against it the campaign runs (1) a judge run and (2) a debate run to completion and
checks that every item is stored exactly once and that every request the server saw is counted
as an attempt; then (3) it runs the debate again in a child process, SIGKILLs it at random
moments `kills` times, resumes after each kill, and checks the final database: the exact rows,
nothing duplicated, no half-written item.
"""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from oversight.bench.engine import _free_port
from oversight.cli import run_in_process

RATES = {"rate_limit": 0.10, "server_error": 0.05, "hang": 0.01, "garbage": 0.02}
CLIENT_TIMEOUT = 1.0


def _reply(prompt: str) -> dict[str, Any]:
    debater = "You are Debater" in prompt
    text = "I argue for my answer. <quote>the lamp burned for eleven nights</quote>" if debater else "A"
    choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
    if not debater:
        choice["logprobs"] = {"content": [{"token": "A", "logprob": math.log(0.6), "top_logprobs": [
            {"token": "A", "logprob": math.log(0.6)}, {"token": "B", "logprob": math.log(0.4)}]}]}  # fmt: skip
    return {"id": "c", "object": "chat.completion", "created": 0, "model": "chaos", "choices": [choice],
            "usage": {"prompt_tokens": 50, "completion_tokens": 5, "total_tokens": 55}}  # fmt: skip


def _chaos_serve(port: int, seed: int) -> None:
    from aiohttp import web

    rng = random.Random(seed)
    stats = {"requests": 0, "ok": 0} | dict.fromkeys(RATES, 0)

    async def chat(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        stats["requests"] += 1
        roll = rng.random()
        edge = 0.0
        for kind, rate in RATES.items():
            edge += rate
            if roll < edge:
                stats[kind] += 1
                if kind == "rate_limit":
                    return web.json_response({"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "0.05"})
                if kind == "server_error":
                    return web.json_response({"error": {"message": "boom"}}, status=500)
                if kind == "hang":
                    await asyncio.sleep(CLIENT_TIMEOUT * 3)
                    return web.json_response(_reply(body["messages"][-1]["content"]))
                return web.Response(text="<html>502 Bad Gateway</html>", content_type="text/html")
        stats["ok"] += 1
        return web.json_response(_reply(body["messages"][-1]["content"]))

    async def get_stats(_: web.Request) -> web.Response:
        return web.json_response(stats)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/stats", get_stats)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _stats(url: str) -> dict[str, int]:
    import urllib.request

    with urllib.request.urlopen(url.removesuffix("/v1") + "/stats", timeout=10) as response:
        return dict(json.loads(response.read()))


def _wait(url: str) -> None:
    for _ in range(200):
        try:
            _stats(url)
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the chaos server did not start")


def _dataset(path: Path, n: int) -> Path:
    story = "The keeper said the lamp burned for eleven nights while the storm raged over Gull Rock."
    with path.open("w") as handle:
        for i in range(n):
            row = {"id": f"q{i}", "question": f"How long did the lamp burn? ({i})", "options": ["Eleven nights", "Two nights"],
                   "answer": 0, "context": story, "article_id": f"a{i % 20}"}  # fmt: skip
            handle.write(json.dumps(row) + "\n")
    return path


def _run_args(protocol: str, dataset: Path, url: str, db: str, name: str, rounds: int) -> list[str]:
    spec = f"openai-compatible/chaos@{url}"
    return ["run", "--protocol", protocol, "--dataset", str(dataset), "--judge", spec, "--debater", spec, "--rounds", str(rounds),
            "--db", db, "--run-name", name, "--no-progress", "--max-connections", "64", "--max-retries", "12",
            "--timeout", str(CLIENT_TIMEOUT), "--cache", "off", "--debater-max-tokens", "32"]  # fmt: skip


def _check(db: str, name: str, items: int, turns_per_item: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from oversight.db import connect
    from oversight.db.schema import Judgment, ModelCall, Run, Transcript, Turn

    engine = connect(db)
    with engine.connect() as conn:
        run_id = conn.execute(select(Run.id).where(Run.name == name)).scalar_one()
        status = conn.execute(select(Run.status).where(Run.id == run_id)).scalar_one()
        t = conn.execute(select(func.count(), func.count(func.distinct(Transcript.item_key))).where(Transcript.run_id == run_id)).one()
        ids = select(Transcript.id).where(Transcript.run_id == run_id)
        turns = conn.execute(select(func.count()).select_from(Turn).where(Turn.transcript_id.in_(ids))).scalar_one()
        judgments = conn.execute(select(func.count()).select_from(Judgment).where(Judgment.transcript_id.in_(ids))).scalar_one()
        calls, attempts = conn.execute(
            select(func.count(), func.coalesce(func.sum(ModelCall.attempts), 0)).where(ModelCall.run_id == run_id)
        ).one()
    engine.dispose()
    expected = {"transcripts": items, "turns": items * turns_per_item, "judgments": 2 * items}
    found = {"transcripts": t[0], "turns": turns, "judgments": judgments}
    return {
        "status": status, "items": items, **{f"{k}_stored": v for k, v in found.items()},
        "rows_lost": sum(max(0, expected[k] - found[k]) for k in expected),
        "rows_duplicated": (t[0] - t[1]) + sum(max(0, found[k] - expected[k]) for k in expected),
        "calls": int(calls), "attempts": int(attempts),
    }  # fmt: skip


def reliability_campaign(
    *, db: str | None = None, judge_items: int = 2000, debate_items: int = 500, rounds: int = 3, kills: int = 5, seed: int = 0
) -> dict[str, Any]:
    rng = random.Random(seed)
    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(target=_chaos_serve, args=(port, seed), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port}/v1"
    out: dict[str, Any] = {"fault_rates": RATES, "client_timeout_s": CLIENT_TIMEOUT}
    try:
        _wait(url)
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            url_db = db or f"sqlite:///{tmp}/reliability.db"
            for label, protocol, items, per_item in (
                ("judge_run", "naive", judge_items, 0),
                ("debate_run", "debate", debate_items, 2 * rounds),
            ):
                before = _stats(url)
                started = time.perf_counter()
                code = run_in_process(_run_args(protocol, _dataset(tmp / f"{label}.jsonl", items), url, url_db, label, rounds))
                seen = {k: v - before[k] for k, v in _stats(url).items()}
                result = _check(url_db, label, items, per_item)
                out[label] = result | {"exit_code": code, "wall_s": round(time.perf_counter() - started, 1), "server_saw": seen,
                                       "attempts_match_server": result["attempts"] == seen["requests"]}  # fmt: skip
            out["kill_campaign"] = _kill_campaign(url, url_db, tmp, debate_items, rounds, kills, rng)
    finally:
        server.terminate()
        server.join(5)
    return out


def _kill_campaign(url: str, db: str, tmp: Path, items: int, rounds: int, kills: int, rng: random.Random) -> dict[str, Any]:
    """SIGKILL a debate run at random moments while it writes, resume after each kill, and check the end state."""
    args = [sys.executable, "-m", "oversight", *_run_args("debate", _dataset(tmp / "kill.jsonl", items), url, db, "kill_run", rounds)]
    env = os.environ | {"OVERSIGHT_LEASE_SECONDS": "2"}  # a killed process's lease lapses in 2 s (30 s by default)
    started = time.perf_counter()
    stored_at_kill: list[int] = []
    step = max(1, items // (10 * kills))
    while len(stored_at_kill) < kills:
        before = _stored(db, items, rounds)
        process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        target = before + rng.randint(1, step)
        while process.poll() is None and _stored(db, items, rounds) < target:
            time.sleep(0.05)
        if process.poll() is not None:
            break  # it finished first: nothing left to interrupt
        time.sleep(rng.uniform(0.0, 0.05))  # a random moment: between writes, or in the middle of one
        process.send_signal(signal.SIGKILL)
        process.wait()
        stored_at_kill.append(_stored(db, items, rounds))
        time.sleep(2.2)  # the dead process's lease lapses
    final = subprocess.run(args, env=env, capture_output=True, text=True, timeout=3600)
    for engine in _STORED_ENGINES.values():
        engine.dispose()
    _STORED_ENGINES.clear()
    result = _check(db, "kill_run", items, 2 * rounds)
    return result | {"kills": len(stored_at_kill), "stored_after_each_kill": stored_at_kill, "final_exit_code": final.returncode,
                     "wall_s": round(time.perf_counter() - started, 1)}  # fmt: skip


def _stored(db: str, items: int, rounds: int) -> int:
    """Transcripts of the kill run stored so far (polled often: one lightweight engine, no migration check)."""
    from sqlalchemy import func, select

    from oversight.db import connect
    from oversight.db.schema import Run, Transcript

    engine = _STORED_ENGINES.get(db) or _STORED_ENGINES.setdefault(db, connect(db, migrate=False))
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Transcript).join(Run).where(Run.name == "kill_run")).scalar_one())


_STORED_ENGINES: dict[str, Any] = {}
