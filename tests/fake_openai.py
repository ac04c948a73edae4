"""A scripted OpenAI-compatible HTTP server for tests: exact replies, faults and timing on demand.

Replies are taken from a queue (`push`) and fall back to `default`, a function of the request
body. Every request body is recorded in `requests`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict -> JSON; str -> raw text
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without answering


def chat_completion(text: str, *, logprobs: dict[str, float] | None = None, model: str = "fake", prompt_tokens: int = 10) -> dict[str, Any]:
    """A chat.completion body; `logprobs` maps candidate first tokens to probabilities."""
    choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop", "logprobs": None}
    if logprobs is not None:
        first = text[:1] or "A"
        top = [{"token": t, "logprob": math.log(p), "bytes": None} for t, p in logprobs.items()]
        choice["logprobs"] = {
            "content": [{"token": first, "logprob": math.log(logprobs.get(first, 1e-9)), "bytes": None, "top_logprobs": top}]
        }
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [choice],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 2, "total_tokens": prompt_tokens + 2},
    }


def anthropic_message(text: str, *, input_tokens: int = 10, cached: int = 0) -> dict[str, Any]:
    """A Messages API reply (POST /v1/messages), as Anthropic's API sends it."""
    return {
        "id": "msg_fake", "type": "message", "role": "assistant", "model": "claude-fake",
        "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": 3, "cache_read_input_tokens": cached, "cache_creation_input_tokens": 0},
    }  # fmt: skip


def anthropic_reply(_request: dict[str, Any]) -> Reply:
    return Reply(body=anthropic_message("A 70%"))


def judge_reply(_request: dict[str, Any]) -> Reply:
    return Reply(body=chat_completion("A 70%", logprobs={"A": 0.7, "B": 0.3}))


def embedding_vector(text: str, dim: int = 16) -> list[float]:
    """A deterministic pseudo-embedding of a text."""
    seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
    rng = random.Random(seed)
    return [rng.gauss(0.0, 1.0) for _ in range(dim)]


def embeddings_reply(request: dict[str, Any]) -> Reply:
    inputs = request["input"] if isinstance(request["input"], list) else [request["input"]]
    data = [{"object": "embedding", "index": i, "embedding": embedding_vector(t)} for i, t in enumerate(inputs)]
    return Reply(
        body={"object": "list", "data": data, "model": request.get("model", "fake"), "usage": {"prompt_tokens": 1, "total_tokens": 1}}
    )


class FakeOpenAIServer:
    def __init__(
        self,
        default: Callable[[dict[str, Any]], Reply] = judge_reply,
        embeddings: Callable[[dict[str, Any]], Reply] = embeddings_reply,
        port: int = 0,
        anthropic: Callable[[dict[str, Any]], Reply] = anthropic_reply,
    ) -> None:
        self.default = default
        self.embeddings = embeddings
        self.anthropic = anthropic
        self.script: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.port = port
        self.in_flight = 0
        self.max_in_flight = 0
        self.models_status = 200  # what GET /v1/models answers (replica probes)
        self.probes = 0
        # the Batch API (files and batches routes): a batch ends after `batch_polls` retrieves, as `batch_end` says
        self.files: dict[str, str] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.batch_polls = 2
        self.batch_end = "completed"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def push(self, *replies: Reply) -> None:
        self.script.extend(replies)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        fallback = (
            self.embeddings
            if request.path.endswith("/embeddings")
            else self.anthropic
            if request.path.endswith("/messages")
            else self.default
        )
        reply = self.script.popleft() if self.script else fallback(body)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(request, reply)
        finally:
            self.in_flight -= 1

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form["file"]
        content = upload.file.read().decode() if hasattr(upload, "file") else str(upload)
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = content
        return web.json_response(
            {"id": file_id, "object": "file", "bytes": len(content), "created_at": 0, "filename": "batch.jsonl",
             "purpose": str(form.get("purpose")), "status": "processed"}
        )  # fmt: skip

    def _batch_object(self, batch: dict[str, Any]) -> dict[str, Any]:
        keys = ("id", "status", "input_file_id", "output_file_id", "error_file_id", "request_counts", "errors")
        return {"object": "batch", "endpoint": "/v1/chat/completions", "completion_window": "24h", "created_at": 0} | {
            k: batch.get(k) for k in keys
        }

    async def _create_batch(self, request: web.Request) -> web.Response:
        body = await request.json()
        lines = [json.loads(line) for line in self.files[body["input_file_id"]].splitlines() if line.strip()]
        batch_id = f"batch_{len(self.batches) + 1}"
        self.batches[batch_id] = {
            "id": batch_id, "status": "validating", "input_file_id": body["input_file_id"], "lines": lines, "polls": 0,
            "output_file_id": None, "error_file_id": None, "errors": None,
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
        }  # fmt: skip
        return web.json_response(self._batch_object(self.batches[batch_id]))

    async def _retrieve_batch(self, request: web.Request) -> web.Response:
        batch = self.batches[request.match_info["batch_id"]]
        batch["polls"] += 1
        if batch["status"] in ("validating", "in_progress") and batch["polls"] >= self.batch_polls:
            self._finish_batch(batch)
        elif batch["status"] == "validating":
            batch["status"] = "in_progress"
        return web.json_response(self._batch_object(batch))

    def _finish_batch(self, batch: dict[str, Any]) -> None:
        if self.batch_end == "failed":
            batch["status"] = "failed"
            batch["errors"] = {"object": "list", "data": [{"code": "invalid_request", "message": "the file is not valid JSONL", "line": 1}]}
            return
        outputs, errors = [], []
        done_lines = [] if self.batch_end == "expired" else batch["lines"]
        for line in done_lines:
            self.requests.append(line["body"])
            reply = self.script.popleft() if self.script else self.default(line["body"])
            body = reply.body if isinstance(reply.body, dict) else {"error": {"message": "scripted error", "type": "server_error"}}
            entry = {"id": f"resp-{line['custom_id']}", "custom_id": line["custom_id"], "error": None,
                     "response": {"status_code": reply.status, "request_id": "req", "body": body}}  # fmt: skip
            (outputs if reply.status == 200 else errors).append(entry)
        for name, entries in (("output_file_id", outputs), ("error_file_id", errors)):
            if entries:
                file_id = f"file-{len(self.files) + 1}"
                self.files[file_id] = "".join(json.dumps(e) + "\n" for e in entries)
                batch[name] = file_id
        batch["status"] = self.batch_end
        batch["request_counts"] = {"total": len(batch["lines"]), "completed": len(outputs), "failed": len(errors)}

    async def _file_content(self, request: web.Request) -> web.Response:
        return web.Response(text=self.files[request.match_info["file_id"]], content_type="application/jsonl")

    async def _models(self, _request: web.Request) -> web.Response:
        self.probes += 1
        return web.json_response({"object": "list", "data": [{"id": "fake", "object": "model"}]}, status=self.models_status)

    async def _answer(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.drop:
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=200)
        if isinstance(reply.body, str):
            return web.Response(status=reply.status, text=reply.body, headers=reply.headers, content_type="text/html")
        return web.json_response(
            reply.body or {"error": {"message": "scripted error", "type": "server_error"}}, status=reply.status, headers=reply.headers
        )

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        app.router.add_post("/v1/embeddings", self._handle)
        app.router.add_post("/v1/messages", self._handle)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/files", self._upload)
        app.router.add_post("/v1/batches", self._create_batch)
        app.router.add_get("/v1/batches/{batch_id}", self._retrieve_batch)
        app.router.add_get("/v1/files/{file_id}/content", self._file_content)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
