"""`oversight judge`: more judges over stored transcripts, without calling any debater or consultant again.

Judgments already stored for the same transcript, judge, order and judge prompt are skipped, so
re-judging is resumable like a run; new judgments and their model calls are written in batches.
With `by_round`, each transcript is also judged as it stood after each earlier round (accuracy and
calibration by round); the cuts of one transcript are judged one after another, so a local model's
prefix cache carries the shared beginning of the judge's prompt from one cut to the next.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from oversight.db.batches import record_job, run_jobs
from oversight.db.cache import SqlResponseCache
from oversight.db.items import existing_judgments, stored_judgments, write_judgments
from oversight.db.offload import run_db
from oversight.db.queries import load_transcripts, run_row
from oversight.ensemble import EnsembleSpec, combine
from oversight.errors import InputError, OversightError
from oversight.judging import judge_transcript, sample_name
from oversight.models import CacheMode, ModelPool, call_log
from oversight.prompts import PromptSet
from oversight.protocols import Protocol, ProtocolSettings, protocol_for_transcript
from oversight.transcript import Judgment, Order, Transcript
from oversight.work import orders_for

WRITE_BATCH = 256


def cuts(transcript: Transcript) -> list[tuple[int, Transcript]]:
    """The transcript as it stood after each round before its last: (k, the turns of rounds 1..k), without a judge's
    question asked after round k (it opens round k + 1)."""
    last = max((t.round for t in transcript.turns), default=0)
    out = []
    for k in range(1, last):
        turns = [t for t in transcript.turns if t.round < k or (t.round == k and not t.role.startswith("judge"))]
        out.append((k, transcript.model_copy(update={"turns": turns})))
    return out


def cut_version(version: str, after_round: int | None) -> str:
    """The judge prompt version a verdict on a cut transcript is stored under (one verdict per cut, judge and order)."""
    return version if after_round is None else f"{version}@r{after_round}"


def write_ensemble(
    engine: Engine, run_id: int, spec: EnsembleSpec, members: list[str], version: str, done: set[tuple[int, str, str, str]]
) -> int:
    """The ensemble's verdict on every transcript and order its members judged (once: stored ones are skipped)."""
    grouped: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for row in stored_judgments(engine, run_id, members, version):
        grouped.setdefault((row["transcript_id"], row["order"]), []).append(row)
    new = []
    for (tid, order), rows in grouped.items():
        if (tid, spec.judge, order, version) in done:
            continue
        judgments = [
            Judgment(judge=r["judge"], order=order, p_a=r["p_a"], p_b=r["p_b"], valid=r["valid"], method=r["method"],
                     prompt_version=version, correct_side=r["correct"])
            for r in rows
        ]  # fmt: skip
        new.append((tid, combine(spec, judgments, order, rows[0]["correct"], version), []))
    for start in range(0, len(new), WRITE_BATCH):
        write_judgments(engine, run_id, new[start : start + WRITE_BATCH])
    return len(new)


@dataclass
class RejudgeSummary:
    run_name: str
    status: str
    transcripts: int
    judged: int = 0
    skipped: int = 0
    elapsed: float = 0.0
    errors: list[str] = field(default_factory=list)


async def rejudge(
    engine: Engine,
    run_name: str,
    judges: list[str],
    *,
    judge_prompt: str = "v1",
    prompts: str | None = None,
    orders: str | None = None,
    max_connections: int | None = None,
    cache_mode: CacheMode = "auto",
    timeout: float = 120.0,
    max_retries: int = 6,
    progress: bool = True,
    console: Console | None = None,
    batch: bool = False,
    batch_poll: float = 30.0,
    executor: str = "local",
    ray_address: str | None = None,
    workers: int = 2,
    worker_resources: str | None = None,
    by_round: bool = False,
    ensemble: EnsembleSpec | None = None,
) -> RejudgeSummary:
    if not judges:
        raise InputError("--judge: name at least one judge")
    if orders not in (None, "both", "random"):
        raise InputError(f"--orders {orders!r}: choose both or random")
    run = run_row(engine, run_name)
    stored = load_transcripts(engine, run["id"])
    if not stored:
        raise InputError(f"--run {run_name!r}: the run has no stored transcripts")
    done = existing_judgments(engine, run["id"])
    settings = ProtocolSettings(judge_prompt=judge_prompt, prompts=prompts)
    version = PromptSet.named(prompts).judge_version(judge_prompt)  # an unknown judge prompt fails here, before any call
    reference = run["config"].get("protocol")
    protocols: dict[str, Protocol] = {}
    cache = SqlResponseCache(engine) if cache_mode != "off" else None
    batching = {"poll_interval": batch_poll, "on_job": lambda job: record_job(engine, run["id"], job)} if batch else None
    pool = ModelPool(
        max_connections=max_connections, cache=cache, cache_mode=cache_mode, timeout=timeout, max_retries=max_retries, batch=batching
    )
    models = [pool.get(spec) for spec in judges]
    if batch and not pool.batched:
        raise InputError("--batch: none of these judges has a batch API (batches go to openai and openai-compatible models)")
    samples: list[int | None] = list(range(ensemble.samples)) if ensemble is not None and ensemble.samples > 1 else [None]
    jobs = []
    possible = 0
    for tid, transcript in stored:
        protocol = protocols.setdefault(transcript.protocol, protocol_for_transcript(transcript.protocol, settings, reference))
        views = [(None, transcript)] + (cuts(transcript) if by_round else [])
        for model in models:
            for order in orders_for(orders or run["config"].get("orders", "both"), run["config"].get("seed", 0), transcript.question):
                for after_round, view in views:
                    for sample in samples:
                        possible += 1
                        name = model.name if sample is None else sample_name(model.name, sample)
                        if (tid, name, order, cut_version(version, after_round)) not in done:
                            jobs.append((tid, protocol, view, model, order, after_round, sample))
    summary = RejudgeSummary(run_name, "running", len(stored), skipped=possible - len(jobs))
    local_only = all(m.provider.spec.provider == "local" for m in models)
    limit = asyncio.Semaphore(max(1, len(jobs)) if pool.batched else 1 if local_only else (max_connections or 256))
    pending: list[tuple[int, Judgment, list[Any]]] = []
    start = time.perf_counter()

    actors: list[Any] = []
    started_ray = False
    if executor == "ray" and jobs:
        from oversight.cluster import JudgeWorker, connect_ray, start_actors
        from oversight.cluster import worker_resources as check_resources

        if batch:
            raise InputError("--batch and --executor ray: a batch is one queue in one process; use one or the other")
        if samples != [None]:
            raise InputError("--samples with --executor ray: sampled ensemble members are judged in this process; drop --executor ray")
        check_resources(worker_resources)  # a bad value fails before Ray starts
        started_ray = connect_ray(ray_address, workers)
        options = {"max_connections": max_connections, "cache_mode": cache_mode, "timeout": timeout, "max_retries": max_retries}
        url = engine.url.render_as_string(hide_password=False)
        actors = start_actors(JudgeWorker, workers, worker_resources, options, url, settings.model_dump(), reference)
        limit = asyncio.Semaphore(64 * workers)
    turn = itertools.cycle(range(max(1, len(actors))))

    async def one(
        tid: int, protocol: Protocol, transcript: Transcript, model: Any, order: Order, after_round: int | None, sample: int | None
    ) -> None:
        async with limit:
            if actors:
                from oversight.cluster import call_resending

                judgment, calls = await call_resending(
                    actors, turn, "judge", transcript, str(model.provider.spec), order, judge_prompt, what=f"transcript {tid}"
                )
            else:
                with call_log() as calls:
                    judgment = await judge_transcript(model, protocol, transcript, order, judge_prompt, sample=sample)
        if after_round is not None:
            judgment = judgment.model_copy(
                update={"after_round": after_round, "prompt_version": cut_version(judgment.prompt_version, after_round)}
            )
        pending.append((tid, judgment, list(calls)))
        bar.advance(task)
        if len(pending) >= WRITE_BATCH:
            batch = pending[:]
            pending.clear()
            await run_db(engine, write_judgments, engine, run["id"], batch)
            summary.judged += len(batch)

    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not progress,
    )
    try:
        earlier = run_jobs(engine, run["id"]) if pool.batched and jobs else []
        for queue in pool.batched.values():
            if ids := [j.batch_id for j in earlier if j.endpoint == queue.endpoint]:
                await queue.recover(ids)
        with bar:
            task = bar.add_task(f"judging · {run_name}", total=len(jobs))
            async with asyncio.TaskGroup() as group:
                for job in jobs:
                    group.create_task(one(*job))
        if ensemble is not None:
            if pending:
                await run_db(engine, write_judgments, engine, run["id"], pending[:])
                summary.judged += len(pending)
                pending.clear()
            summary.judged += await run_db(
                engine, write_ensemble, engine, run["id"], ensemble, ensemble.member_names([m.name for m in models]), version, done
            )
        summary.status = "finished"
    except* OversightError as eg:
        summary.status, summary.errors = "failed", [str(eg.exceptions[0])]
    except* (asyncio.CancelledError, KeyboardInterrupt):
        summary.status = "interrupted"
    finally:
        if pending:
            await run_db(engine, write_judgments, engine, run["id"], pending[:])
            summary.judged += len(pending)
            pending.clear()
        if actors:
            import ray

            await asyncio.gather(*(a.close.remote() for a in actors), return_exceptions=True)
            for a in actors:
                ray.kill(a)
            if started_ray:
                ray.shutdown()
        if cache is not None:
            await cache.aflush()
        await pool.aclose()
        summary.elapsed = time.perf_counter() - start
    return summary
