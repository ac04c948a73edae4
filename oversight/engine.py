"""The run engine: dataset -> protocol -> judges -> SQL, concurrent, resumable, and consistent if stopped.

Each item (one question) runs its protocol and every judge in every answer order, then goes to a
single writer task that stores finished items in batched transactions, each item whole. A rerun
with the same run name and settings skips the items already stored; Ctrl-C cancels the items in
flight, writes the finished ones and marks the run `interrupted`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import logging
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from oversight import __version__
from oversight.config import ADDED_KEYS, RunConfig, config_hash
from oversight.data import LoadReport, Question, load_dataset
from oversight.db import connect
from oversight.db.batches import record_job, run_jobs
from oversight.db.cache import SqlResponseCache
from oversight.db.items import question_uids, store_questions, write_items
from oversight.db.offload import run_db
from oversight.db.runs import HEARTBEAT_SECONDS, finish_run, heartbeat, lease_owner, start_run
from oversight.errors import InputError, OversightError
from oversight.models import Model, ModelPool
from oversight.models.batch import BatchJob
from oversight.plugins import is_reference
from oversight.protocols import Participants
from oversight.transcript import ItemResult
from oversight.work import ItemMaker, build_models, item_key, one_call_at_a_time, protocol_for_run, role_spec

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

log = logging.getLogger(__name__)
WRITE_BATCH = 256
GC_THRESHOLDS = (50_000, 20, 100)
"""The collector's thresholds while a run's items are in flight (Python's defaults: 700, 10, 10)."""


@dataclass
class RunSummary:
    run_name: str
    run_id: int
    status: str
    total: int
    skipped: int
    written: int
    elapsed: float
    calls: int = 0
    attempts: int = 0
    """HTTP attempts behind the calls, retries included (a call answered from the cache makes none)."""
    cache_hits: int = 0
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    cost_usd: float = 0.0
    errors: list[str] = field(default_factory=list)


def git_revision() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Runner:
    def __init__(self, config: RunConfig, *, engine: Engine | None = None, console: Console | None = None) -> None:
        self.config = config
        self._console = console
        self.protocol = protocol_for_run(config)
        protocol_cls = type(self.protocol)
        self.prompt_version = self.protocol.prompts.version(self.protocol.prompt_templates(self.protocol.prompts))
        self.judge_prompt_version = self.protocol.prompts.judge_version(config.judge_prompt)
        # everything that can be wrong with the input is found here, before any DB write or model call
        self.load_report = LoadReport()
        self.dataset_format, self.questions = load_dataset(
            config.dataset,
            config.format,
            hard=config.hard,
            limit=config.limit,
            skip_bad_rows=config.skip_bad_rows,
            report=self.load_report,
            filters=config.filters,
        )
        if (note := self.load_report.summary()) is not None:
            self.console.print(f"[yellow]{config.dataset}: {note}[/]", highlight=False, markup=True, soft_wrap=True)
        self.dataset_path = Path(config.dataset)
        # (question, variant) work items; a protocol that cannot use a question says so here, before the run
        self.items = [(q, v) for q in self.questions for v in self.protocol.variants(q)]
        self.dataset_hash = file_sha256(self.dataset_path)
        self.engine = engine or connect(config.db)
        self.fingerprint = config.fingerprint(self.dataset_hash) | {
            "protocol_class": f"{protocol_cls.__module__}.{protocol_cls.__qualname__}" if is_reference(config.protocol) else None,
            "settings": {k: v for k, v in self.protocol.settings.model_dump().items() if k not in ADDED_KEYS or v},
            "prompt_version": self.prompt_version,
            "judge_prompt_version": self.judge_prompt_version,
        }
        self.config_hash = config_hash(self.fingerprint)
        default_name = f"{self.protocol.name}-{self.dataset_path.stem}-{self.config_hash[:8]}"
        self.run_name = config.run_name or default_name
        self.cache = SqlResponseCache(self.engine) if config.cache != "off" else None
        self.run_id: int | None = None
        self.pool = ModelPool(
            batch={"poll_interval": config.batch_poll, "on_job": self._record_job} if config.batch else None,
            max_connections=config.max_connections,
            cache=self.cache,
            cache_mode=config.cache,
            max_retries=config.max_retries,
            unreachable_wait=config.unreachable_wait,
            timeout=config.timeout,
            context_policy=config.context_policy,
        )

    @property
    def console(self) -> Console:
        """Made when first printed to: a run without a progress bar or notes sends its first request without Rich."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True, soft_wrap=True)
        return self._console

    def _progress(self) -> Progress | None:
        if not self.config.progress:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
        return Progress(*columns, console=self.console, transient=False)

    def role_spec(self, role: str) -> str:
        return role_spec(self.config, role)

    def _models(self) -> tuple[Participants, list[Model]]:
        return build_models(self.config, self.protocol, self.pool.get)

    def model_ids(self) -> dict[str, object]:
        cfg, roles = self.config, self.protocol.roles
        ids: dict[str, object] = {"judges": cfg.judges}
        if "debater_a" in roles or "debater_b" in roles:
            ids["debaters"] = list(cfg.debater_specs)
        for role in roles:
            if role not in ("debater_a", "debater_b"):
                ids[role] = self.role_spec(role)
        participants, _ = build_models(cfg, self.protocol, lambda spec: spec)  # type: ignore[arg-type,return-value]
        if participants.preference_judge is not None:
            ids["preference_judge"] = participants.preference_judge
        if participants.critic is not None:
            ids["critic"] = participants.critic
        return ids

    def _check_context_windows(self, participants: Participants, judges: list[Model]) -> None:
        """Fail before the run, naming the questions, if a prompt cannot fit a model's context window."""
        if self.config.context_policy != "error":
            return
        models = participants.speakers()
        checks: list[tuple[Model, int]] = [(m, self.protocol.reserved_tokens()) for m in models]
        if not models:
            checks = [(j, 8) for j in judges]
        for model, reserve in checks:
            window = model.context_window
            if window is None:
                continue
            too_long = []
            for q in self.questions:
                n = model.count_tokens(self.protocol.longest_first_prompt(q, q.two_options(self.config.seed)))
                if n is not None and n + reserve > window:
                    too_long.append((q.id, n))
            if too_long:
                first_id, first_n = too_long[0]
                raise InputError(
                    f"{len(too_long)} question(s) do not fit {model.name}'s {window}-token context window "
                    f"(e.g. {first_id}: {first_n} prompt tokens + {reserve} for the turns); use fewer --rounds, "
                    "a model with a longer context, or --context-policy truncate"
                )

    def _record_job(self, job: BatchJob) -> None:
        if self.run_id is not None:
            record_job(self.engine, self.run_id, job)

    async def _recover_batches(self) -> None:
        """Read back the batches an earlier attempt at this run submitted, so their answers are not paid for twice."""
        assert self.run_id is not None
        jobs = run_jobs(self.engine, self.run_id)
        for queue in self.pool.batched.values():
            ids = [j.batch_id for j in jobs if j.endpoint == queue.endpoint]
            if ids:
                found = await queue.recover(ids)
                self.console.print(
                    f"[dim]{queue.endpoint}: {found} answer(s) read back from {len(ids)} earlier batch(es)[/]", highlight=False
                )

    def _item_concurrency(self, participants: Participants, judges: list[Model]) -> int:
        if self.pool.batched:
            return max(1, len(self.items))  # every item's calls wait in the batch together
        if one_call_at_a_time([*participants.speakers(), *judges]):
            return 1
        return self.config.max_connections or 256

    async def run(self) -> RunSummary:
        with _fewer_collections():
            return await self._run()

    async def _run(self) -> RunSummary:
        participants, judges = self._models()
        if self.config.executor == "ray" and self.config.batch:
            raise InputError("--batch and --executor ray: a batch is one queue in one process; use one or the other")
        if self.config.batch and not self.pool.batched:
            raise InputError("--batch: none of this run's models has a batch API (batches go to openai and openai-compatible models)")
        self._check_context_windows(participants, judges)
        uids = question_uids(self.questions)  # the rows themselves are stored by the writer, while the first requests are out
        owner = lease_owner()
        run_id, done = start_run(
            self.engine,
            name=self.run_name,
            owner=owner,
            config_hash=self.config_hash,
            protocol=self.protocol.name,
            dataset=self.questions[0].source,
            dataset_path=str(self.dataset_path),
            dataset_format=self.dataset_format,
            config=self.fingerprint
            | {"load_report": {"repaired": len(self.load_report.repaired), "skipped": len(self.load_report.skipped)}},
            prompt_version=self.prompt_version,
            models=self.model_ids(),
            seed=self.config.seed,
            package_version=__version__,
            git_revision=git_revision(),
            n_items=len(self.items),
        )
        self.run_id = run_id
        todo = [(q, v) for q, v in self.items if item_key(q, v) not in done]
        summary = RunSummary(self.run_name, run_id, "running", len(self.items), len(self.items) - len(todo), 0, 0.0)
        start = time.perf_counter()
        queue: asyncio.Queue[ItemResult | None] = asyncio.Queue()
        writer = asyncio.create_task(self._writer(queue, run_id, summary, uids))
        status, error = "finished", None
        progress = self._progress()
        cluster = None
        try:
            if self.pool.batched and todo:
                await self._recover_batches()
            make = ItemMaker(self.config, self.protocol, participants, judges, self.prompt_version).make
            concurrency = self._item_concurrency(participants, judges)
            if self.config.executor == "ray" and todo:
                from oversight.cluster import RayItems

                cluster = RayItems(self.config, self.prompt_version)  # Ray starts from the main thread (its signal handlers)
                make, concurrency = cluster.make, cluster.concurrency
            with progress or contextlib.nullcontext():
                if progress is not None:
                    task = progress.add_task(f"{self.protocol.name} · {self.run_name}", total=len(self.items), completed=summary.skipped)
                limit = asyncio.Semaphore(concurrency)

                all_done = asyncio.Event()
                remaining = len(todo)

                async def one(question: Question, variant: str) -> None:
                    nonlocal remaining
                    async with limit:
                        result = await make(question, variant, uids[question.id])
                    queue.put_nowait(result)
                    if progress is not None:
                        progress.advance(task)
                    remaining -= 1
                    if remaining == 0:
                        all_done.set()

                async with asyncio.TaskGroup() as group:
                    if todo:
                        group.create_task(self._guard(writer, run_id, owner, all_done))
                    for question, variant in todo:
                        group.create_task(one(question, variant))
        except* OversightError as group_error:
            status, error = "failed", str(group_error.exceptions[0])
        except* (asyncio.CancelledError, KeyboardInterrupt):
            status, error = "interrupted", "stopped before all items finished"
        except* Exception as group_error:
            status, error = "failed", f"{type(group_error.exceptions[0]).__name__}: {group_error.exceptions[0]}"
            raise
        finally:
            if cluster is not None:
                await cluster.close()
            queue.put_nowait(None)
            try:
                await asyncio.shield(writer)
            except Exception as exc:  # noqa: BLE001 - one line, never a traceback; what was written stays
                status, error = "failed", _storing_failed(exc)
            if self.cache is not None:
                await self.cache.aflush()
            await self.pool.aclose()
            summary.elapsed = time.perf_counter() - start
            summary.status = status
            if error:
                summary.errors.append(error)
            finish_run(self.engine, run_id, status, summary.elapsed, error, owner=owner)
        return summary

    async def _guard(self, writer: asyncio.Task[None], run_id: int, owner: str, all_done: asyncio.Event) -> None:
        """While items run: renew the run's lease, and stop the run at once if the writer fails or the lease is lost
        (no model calls for results that cannot be stored)."""
        last_beat = time.monotonic()
        while not all_done.is_set():
            waiter = asyncio.ensure_future(all_done.wait())
            await asyncio.wait({waiter, writer}, timeout=HEARTBEAT_SECONDS, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if writer.done() and not writer.cancelled() and writer.exception() is not None:
                raise OversightError(_storing_failed(writer.exception()))  # type: ignore[arg-type]
            if not all_done.is_set() and time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                if not await asyncio.to_thread(heartbeat, self.engine, run_id, owner):
                    raise OversightError(f"run {self.run_name!r} was taken over by another process; this one stops")
                last_beat = time.monotonic()

    async def _writer(self, queue: asyncio.Queue[ItemResult | None], run_id: int, summary: RunSummary, uids: dict[str, str]) -> None:
        """Store the questions, then finished items in batches.

        The questions go in when the first item has finished (or when the run ends before one has): a run's first
        requests do not wait for thousands of question rows, and no item is written before its question.
        """
        finished, questions_stored = False, False
        while not finished:
            batch = [await queue.get()]
            while not queue.empty() and len(batch) < WRITE_BATCH:
                batch.append(queue.get_nowait())
            if batch[-1] is None or None in batch:
                finished = True
            if not questions_stored:
                await run_db(self.engine, store_questions, self.engine, self.questions, uids)
                questions_stored = True
            items = [b for b in batch if b is not None]
            if items:
                await run_db(self.engine, write_items, self.engine, run_id, items)
                summary.written += len(items)
                for item in items:
                    for call in item.calls:
                        summary.calls += 1
                        summary.attempts += call.attempts
                        summary.cache_hits += call.cache_hit
                        summary.prompt_tokens += call.prompt_tokens
                        summary.cached_prompt_tokens += call.cached_prompt_tokens
                        summary.cost_usd += call.cost_usd


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """While items are in flight, keep the cycle collector off what was loaded before them and collect less often.

    Thousands of items in flight each hold a task, a transcript and a response; with the default thresholds the
    collector walks that whole heap again and again (about a third of the engine's CPU at 10,000 judge calls).
    Freezing moves the modules, the dataset and the models into a generation the collector never scans; the
    higher thresholds let short-lived request objects die by reference counting before a collection sees them.
    Both are undone when the run ends.
    """
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _storing_failed(exc: BaseException) -> str:
    text = " ".join(str(getattr(exc, "orig", None) or exc).split())
    return f"storing results failed ({type(exc).__name__}): {text[:240]}"


def run_sync(config: RunConfig, *, engine: Engine | None = None, console: Console | None = None) -> RunSummary:
    runner = Runner(config, engine=engine, console=console)
    return asyncio.run(runner.run())
