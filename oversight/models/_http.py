"""A lean JSON-over-HTTP client for OpenAI-compatible servers (vLLM, llama.cpp's server, any local endpoint).

The official SDK spends about 1 ms of CPU per request on its own machinery (request options, httpx-style
wrappers over aiohttp, response models) against about 0.1–0.3 ms for a bare aiohttp call. A vLLM server on a
GPU answers thousands of one-token judge calls a second, so the client, not the server, would set the pace.
This client posts the same bodies on one aiohttp session and raises errors the retry logic already reads:
`status_code` (429 rate limit, 5xx transient, other 4xx fatal) and the server's Retry-After headers.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import orjson
from aiohttp.payload import BytesPayload

from oversight.models.errors import register_errors

register_errors(transient=(aiohttp.ClientError,))  # refused, reset, dropped mid-reply, bad chunking: worth another try

CONNECT_TIMEOUT_S = 30.0


class HTTPStatusError(Exception):
    """The server answered with an error status; the message is the server's own where it sent one."""

    def __init__(self, status_code: int, message: str, response: aiohttp.ClientResponse) -> None:
        super().__init__(f"Error code: {status_code} - {message}")
        self.status_code = status_code
        self.message = message
        self.response = response  # `.headers` carries Retry-After for the retry logic


class LeanClient:
    """One aiohttp session per base URL, opened inside the running event loop on first use."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # no connection cap here: the pool's per-replica semaphore already bounds requests in flight
            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_S)
            self._session = aiohttp.ClientSession(connector=connector, timeout=timeout, headers=self._headers)
        return self._session

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        # orjson and a ready payload: the encoding and aiohttp's payload lookup were a fifth of this call's CPU
        payload = BytesPayload(orjson.dumps(body), content_type="application/json")
        async with self._open().post(self.base_url + path, data=payload) as response:
            return _read(response, await response.read())

    async def get(self, path: str, timeout: float | None = None) -> Any:
        async with self._open().get(self.base_url + path, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            return _read(response, await response.read())

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def _read(response: aiohttp.ClientResponse, raw: bytes) -> Any:
    if response.status >= 400:
        raise HTTPStatusError(response.status, _server_message(raw), response)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        # strict JSON failed: a Python server may write NaN or -Infinity (logprobs), which the json module reads;
        # a 200 that is not JSON at all raises JSONDecodeError there: transient, retried
        return json.loads(raw)


def _server_message(raw: bytes) -> str:
    """`{"error": {"message": ...}}` (OpenAI, vLLM), `{"message": ...}` or `{"detail": ...}`, else the body's start."""
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return " ".join(text.split())[:300] or "(empty body)"
    if isinstance(parsed, dict):
        error = parsed.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:300]
        for key in ("message", "detail", "error"):
            if parsed.get(key):
                return str(parsed[key])[:300]
    return " ".join(text.split())[:300]
