"""OpenAI's Batch API as a way to send a run's calls: half the price, answers within the batch window.

Calls are queued instead of sent. When no new call has arrived for `linger` seconds (or
`max_requests` are waiting) the queue is written as one JSONL file, uploaded, and submitted as a
batch; the batch is polled until it ends and each call gets its own line of the output. For a
judge run that is one batch; a debate sends one batch per round, since each round needs the last.

Each request's `custom_id` is a hash of its body, and every batch is reported to `on_job` (the
engine stores it with the run). A run stopped while batches were out resumes by `recover`ing
them: finished batches are read back instead of being paid for twice, unfinished ones polled.
A line that failed becomes an error with its HTTP status (so 429/5xx are retried by the wrapper,
in a later batch, and 4xx are not); a batch that expired or was cancelled makes its calls retry.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from oversight.models.errors import TransientResponseError

log = logging.getLogger(__name__)

ENDPOINT = "/v1/chat/completions"
TERMINAL = ("completed", "failed", "expired", "cancelled")
MAX_REQUESTS = 50_000
"""OpenAI's limit on requests per batch."""


class BatchJob(BaseModel):
    """One submitted batch, as the engine stores it."""

    batch_id: str
    endpoint: str
    status: str
    requests: int
    output_file_id: str | None = None
    error_file_id: str | None = None


class BatchRequestError(Exception):
    """One request of a batch failed; `status_code` says how (the retry logic reads it like any HTTP error)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(f"batch request failed ({status_code}): {message}")
        self.status_code = status_code


class BatchFailedError(Exception):
    """The batch itself was refused (e.g. its file did not validate): retrying the same requests will not help."""


def request_key(body: dict[str, Any]) -> str:
    return "req-" + hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:40]


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


class BatchQueue:
    def __init__(
        self,
        client: Any,
        endpoint: str,
        *,
        poll_interval: float = 30.0,
        linger: float = 2.0,
        max_requests: int = MAX_REQUESTS,
        on_job: Callable[[BatchJob], None] | None = None,
    ) -> None:
        self.client = client
        self.endpoint = endpoint
        self.poll_interval = poll_interval
        self.linger = linger
        self.max_requests = max_requests
        self.on_job = on_job
        self.recovered: dict[str, dict[str, Any]] = {}
        self._waiting: dict[str, tuple[dict[str, Any], list[asyncio.Future[dict[str, Any]]]]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        """The chat.completion body the batch returns for this request."""
        key = request_key(body)
        if key in self.recovered:  # answered by a batch of an earlier attempt at this run
            return _result(self.recovered.pop(key))
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, (body, []))[1].append(future)
        if len(self._waiting) >= self.max_requests:
            self._flush()
        else:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = asyncio.get_running_loop().call_later(self.linger, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._waiting:
            return
        requests, self._waiting = self._waiting, {}
        task = asyncio.get_running_loop().create_task(self._run_batch(requests))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_batch(self, requests: dict[str, tuple[dict[str, Any], list[asyncio.Future[dict[str, Any]]]]]) -> None:
        try:
            lines = await self._send(requests)
        except Exception as exc:  # upload, create or poll failed: every call of the batch fails the same way
            for _, futures in requests.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        for key, (_, futures) in requests.items():
            line = lines.get(key)
            for future in futures:
                if future.done():
                    continue
                if line is None:
                    future.set_exception(TransientResponseError(f"the batch returned no line for {key}"))
                else:
                    try:
                        future.set_result(_result(line))
                    except Exception as exc:  # noqa: BLE001 - handed to the caller, who retries or gives up
                        future.set_exception(exc)

    async def _send(self, requests: dict[str, tuple[dict[str, Any], list[Any]]]) -> dict[str, dict[str, Any]]:
        payload = "".join(
            json.dumps({"custom_id": key, "method": "POST", "url": ENDPOINT, "body": body}, ensure_ascii=False) + "\n"
            for key, (body, _) in requests.items()
        ).encode()
        uploaded = await self.client.files.create(file=("oversight-batch.jsonl", payload), purpose="batch")
        batch = await self.client.batches.create(input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window="24h")
        log.info("%s: batch %s submitted with %d requests", self.endpoint, batch.id, len(requests))
        return await self._collect(batch, len(requests))

    async def _collect(self, batch: Any, n_requests: int) -> dict[str, dict[str, Any]]:
        """Poll a batch until it ends; its output and error lines by custom_id."""
        started = time.monotonic()
        self._report(batch, n_requests)
        while batch.status not in TERMINAL:
            await asyncio.sleep(self.poll_interval)
            batch = await self.client.batches.retrieve(batch.id)
            self._report(batch, n_requests)
        if batch.status == "failed":
            errors = _field(batch, "errors")
            data = _field(errors, "data") or []
            detail = "; ".join(str(_field(e, "message")) for e in data[:3]) or "no reason given"
            raise BatchFailedError(f"batch {batch.id} failed: {detail}")
        lines: dict[str, dict[str, Any]] = {}
        for file_id in (batch.output_file_id, batch.error_file_id):
            if file_id:
                content = await self.client.files.content(file_id)
                for raw in content.text.splitlines():
                    if raw.strip():
                        line = json.loads(raw)
                        lines[str(line.get("custom_id"))] = line
        if batch.status in ("expired", "cancelled"):
            log.warning("%s: batch %s %s after %.0f s; its unanswered calls go to the next batch", self.endpoint, batch.id, batch.status,
                        time.monotonic() - started)  # fmt: skip
        return lines

    def _report(self, batch: Any, n_requests: int) -> None:
        if self.on_job is not None:
            self.on_job(
                BatchJob(
                    batch_id=batch.id, endpoint=self.endpoint, status=batch.status, requests=n_requests,
                    output_file_id=batch.output_file_id, error_file_id=batch.error_file_id,
                )
            )  # fmt: skip

    async def recover(self, batch_ids: list[str]) -> int:
        """Read back batches an earlier attempt at this run submitted (waiting for those still running); their
        answers serve the matching calls of this attempt. Returns how many answers were recovered."""
        for batch_id in batch_ids:
            batch = await self.client.batches.retrieve(batch_id)
            try:
                lines = await self._collect(batch, _field(_field(batch, "request_counts"), "total") or 0)
            except BatchFailedError:
                continue
            for key, line in lines.items():
                if _ok(line):
                    self.recovered[key] = line
        return len(self.recovered)

    async def aclose(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for task in list(self._tasks):
            task.cancel()


def _ok(line: dict[str, Any]) -> bool:
    response = line.get("response") or {}
    return not line.get("error") and response.get("status_code") == 200


def _result(line: dict[str, Any]) -> dict[str, Any]:
    error = line.get("error")
    response = line.get("response") or {}
    status = int(response.get("status_code") or 0)
    body = response.get("body")
    if error or status != 200:
        message = _field(error, "message") if error else _field(_field(body, "error") or {}, "message")
        raise BatchRequestError(status or 500, str(message or error or body)[:300])
    if not isinstance(body, dict):
        raise TransientResponseError("a batch line without a response body")
    return body
