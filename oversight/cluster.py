"""Runs on a Ray cluster (`--executor ray`): actors make items, the driver stores them.

Why the driver writes: the engine's guarantees (one transaction per item, one writer holding the
run's lease, a rerun that skips what is stored) stay exactly as they are for a local run; actors
only compute. An item is a few kilobytes, so sending it back costs nothing next to its model
calls. Each actor builds its own model pool (the embedded model loads once per actor) with its
share of every endpoint's connection limit, so the cluster as a whole keeps `--max-connections`.

An actor that dies is restarted by Ray and the items it held are sent again (to whichever actor
is free); nothing it made was stored, so nothing is doubled, and nothing is lost because the
driver only counts an item done once it has its result.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

from oversight.config import RunConfig, parse_worker_resources
from oversight.data import Question
from oversight.errors import ExtraMissingError, InputError, OversightError
from oversight.transcript import ItemResult

log = logging.getLogger(__name__)
MAX_RESUBMITS = 5
"""Times one item is sent again after the actor holding it died."""


def _ray() -> Any:
    try:
        import ray
    except ModuleNotFoundError as exc:
        raise ExtraMissingError("ray", "ray") from exc
    return ray


def connect_ray(address: str | None, workers: int) -> bool:
    """Join or start Ray; True when this process started it (and should stop it).

    `local` (the default) starts a private instance sized for `workers`; `auto` joins the cluster
    this machine belongs to (RAY_ADDRESS or a running head); `ray://HOST:10001` joins through Ray Client.
    """
    ray = _ray()
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
    if address in (None, "", "local"):
        import os

        options["num_cpus"] = max(workers, os.cpu_count() or 1)
    else:
        options["address"] = address
    try:
        ray.init(**options)
    except Exception as exc:  # noqa: BLE001 - no cluster at that address, a version mismatch: one line
        raise OversightError(
            f"--ray-address {address!r}: cannot join Ray: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
        ) from None
    return address in (None, "", "local")


def worker_resources(value: str | dict[str, Any] | None) -> dict[str, Any]:
    """`--worker-resources` as Ray options; a bad value is one line naming the option."""
    try:
        return parse_worker_resources(value)
    except ValueError as exc:
        raise InputError(f"--worker-resources: {exc}") from None


class ItemWorker:
    """The actor: one `ItemMaker` with its own models, making the items the driver sends."""

    def __init__(self, config: dict[str, Any], prompt_version: str, share: float) -> None:
        from oversight.db import connect
        from oversight.db.cache import SqlResponseCache
        from oversight.models import ModelPool
        from oversight.plugins import load_env_plugins
        from oversight.work import ItemMaker, build_models, one_call_at_a_time, protocol_for_run

        load_env_plugins()
        cfg = RunConfig.model_validate(config)
        self.cache = SqlResponseCache(connect(cfg.db)) if cfg.cache != "off" else None
        self.pool = ModelPool(
            max_connections=cfg.max_connections, cache=self.cache, cache_mode=cfg.cache, max_retries=cfg.max_retries,
            unreachable_wait=cfg.unreachable_wait, timeout=cfg.timeout, context_policy=cfg.context_policy, connection_share=share,
        )  # fmt: skip
        protocol = protocol_for_run(cfg)
        participants, judges = build_models(cfg, protocol, self.pool.get)
        self.maker = ItemMaker(cfg, protocol, participants, judges, prompt_version)
        self.limit = asyncio.Semaphore(1 if one_call_at_a_time([*participants.speakers(), *judges]) else 10_000)

    def ready(self) -> bool:
        return True

    async def make(self, question: Question, variant: str, uid: str) -> ItemResult:
        async with self.limit:  # the embedded model makes one call at a time: items in sequence keep its prefix cache warm
            return await self.maker.make(question, variant, uid)

    async def flush(self) -> None:
        if self.cache is not None:
            await self.cache.aflush()

    async def close(self) -> None:
        await self.flush()
        await self.pool.aclose()


class JudgeWorker:
    """The actor of `oversight judge --executor ray`: judges stored transcripts with its own models."""

    def __init__(self, options: dict[str, Any], db: str, settings: dict[str, Any], reference: str | None, share: float) -> None:
        from oversight.db import connect
        from oversight.db.cache import SqlResponseCache
        from oversight.models import ModelPool
        from oversight.plugins import load_env_plugins
        from oversight.protocols import ProtocolSettings

        load_env_plugins()
        self.cache = SqlResponseCache(connect(db)) if options.get("cache_mode") != "off" else None
        self.pool = ModelPool(**options, cache=self.cache, connection_share=share)
        self.settings, self.reference = ProtocolSettings(**settings), reference
        self.protocols: dict[str, Any] = {}

    def ready(self) -> bool:
        return True

    async def judge(self, transcript: Any, spec: str, order: str, judge_prompt: str) -> tuple[Any, list[Any]]:
        from oversight.judging import judge_transcript
        from oversight.models import call_log
        from oversight.protocols import protocol_for_transcript

        if transcript.protocol not in self.protocols:
            self.protocols[transcript.protocol] = protocol_for_transcript(transcript.protocol, self.settings, self.reference)
        protocol = self.protocols[transcript.protocol]
        with call_log() as calls:
            judgment = await judge_transcript(self.pool.get(spec), protocol, transcript, order, judge_prompt)  # type: ignore[arg-type]
        return judgment, list(calls)

    async def close(self) -> None:
        if self.cache is not None:
            await self.cache.aflush()
        await self.pool.aclose()


def start_actors(cls: type, workers: int, resources: str | dict[str, Any] | None, *args: Any) -> list[Any]:
    """`workers` actors of `cls`, each given `*args` and its share of the connection limits, ready to use."""
    ray = _ray()
    actor = ray.remote(max_restarts=-1, max_task_retries=0, max_concurrency=10_000)(cls)
    actors = [actor.options(**worker_resources(resources)).remote(*args, 1.0 / workers) for _ in range(workers)]
    try:
        ray.get([a.ready.remote() for a in actors], timeout=600)
    except Exception as exc:  # noqa: BLE001 - an actor that cannot build its models: the first reason, one line
        for a in actors:
            ray.kill(a)
        cause = getattr(exc, "cause", None) or exc
        raise OversightError(f"Ray workers could not start: {type(cause).__name__}: {' '.join(str(cause).split())[:300]}") from None
    return actors


async def call_resending(actors: list[Any], turn: Any, method: str, *args: Any, what: str) -> Any:
    """Call `method` on the next actor; resend to another if the actor dies; a failure inside it is the same error as locally."""
    ray = _ray()
    errors = ray.exceptions
    for attempt in itertools.count():
        actor = actors[next(turn)]
        try:
            return await getattr(actor, method).remote(*args)
        except (errors.RayActorError, errors.ActorUnavailableError) as exc:
            if attempt >= MAX_RESUBMITS:
                raise OversightError(f"{what}: its Ray worker died {attempt + 1} times: {type(exc).__name__}") from None
            log.warning("a Ray worker died holding %s; sending it again", what)
            await asyncio.sleep(min(5.0, 0.2 * 2**attempt))
        except errors.RayTaskError as exc:
            cause = exc.cause if isinstance(getattr(exc, "cause", None), BaseException) else exc
            if isinstance(cause, OversightError):
                raise cause from None
            raise OversightError(f"{type(cause).__name__}: {cause}") from None
    raise AssertionError("unreachable")  # pragma: no cover


class RayItems:
    """The driver's side: `make` sends an item to an actor and waits for its result, resending it if the actor dies."""

    def __init__(self, config: RunConfig, prompt_version: str) -> None:
        self.ray = _ray()
        self.started = connect_ray(config.ray_address, config.workers)
        try:
            self.actors = start_actors(ItemWorker, config.workers, config.worker_resources, config.model_dump(), prompt_version)
        except OversightError:
            self.close_now()
            raise
        self._turn = itertools.cycle(range(len(self.actors)))

    @property
    def concurrency(self) -> int:
        """Items in flight across the cluster: enough to keep every actor busy, not so many that a dead one holds much."""
        return 64 * len(self.actors)

    async def make(self, question: Question, variant: str, uid: str) -> ItemResult:
        return await call_resending(self.actors, self._turn, "make", question, variant, uid, what=f"item {question.id}")

    async def close(self) -> None:
        try:
            await asyncio.gather(*(a.close.remote() for a in self.actors), return_exceptions=True)
        finally:
            self.close_now()

    def close_now(self) -> None:
        for a in getattr(self, "actors", []):
            try:
                self.ray.kill(a)
            except Exception:  # noqa: BLE001 - already gone
                pass
        if self.started:
            self.ray.shutdown()


def run_tasks(fn: Any, calls: list[dict[str, Any]], *, address: str | None, resources: Any, gpu: bool) -> list[Any]:
    """`fn(**call)` for every call as Ray tasks (one GPU each when `gpu`), results in order (weak-to-strong seeds)."""
    ray = _ray()
    started = connect_ray(address, len(calls))
    try:
        options = worker_resources(resources) | ({"num_gpus": 1} if gpu else {})
        task = ray.remote(max_retries=2)(fn).options(**options)
        shared: dict[int, Any] = {}  # learners are shared by every seed: into the object store once
        refs = []
        for call in calls:
            args = {k: (shared.setdefault(id(v), ray.put(v)) if k in ("weak", "strong", "intermediates") else v) for k, v in call.items()}
            refs.append(task.remote(**args))
        try:
            return list(ray.get(refs))
        except ray.exceptions.RayTaskError as exc:
            cause = exc.cause if isinstance(getattr(exc, "cause", None), BaseException) else exc
            if isinstance(cause, OversightError):
                raise cause from None
            raise OversightError(f"a weak-to-strong seed failed on Ray: {type(cause).__name__}: {cause}") from None
    finally:
        if started:
            ray.shutdown()
