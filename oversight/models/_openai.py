"""OpenAI, vLLM, Gemini (Google's OpenAI-compatible endpoint) and any OpenAI-compatible server.

OpenAI's and Google's own APIs go through the official `openai` client, which earns its place there
(their auth, organisation headers, the Batch API). vLLM and other OpenAI-compatible servers get the lean
aiohttp client of `oversight.models._http`: the same request bodies for far less CPU per call than the SDK,
which matters when a GPU server answers thousands of judge calls a second. Either way the SDK's own retries
are off: retrying is the wrapper's job, so that rate limits, transient faults and fatal errors are told apart
in one place for every provider.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any

from oversight.errors import InputError
from oversight.models.batch import BatchQueue
from oversight.models.errors import TransientResponseError
from oversight.models.provider import ModelProvider
from oversight.models.routing import Replica, ReplicaRouter
from oversight.models.spec import ModelSpec
from oversight.models.types import Completion, GenerateConfig, Message, TokenLogprob, Usage

OPENAI_BASE_URL = "https://api.openai.com/v1"
GEMINI_BASE_URL = "https://generativelanguage.googleapis.com/v1beta/openai"


SDK_PROVIDERS = ("openai", "gemini")
"""Providers whose own API the official client speaks best; every other endpoint gets the lean client."""


class SDKClient:
    """The official client behind the lean client's three calls, so the provider treats both alike."""

    def __init__(self, base_url: str, api_key: str) -> None:
        openai = _sdk()
        try:
            transport = openai.DefaultAioHttpClient()  # about half the CPU per call of the default httpx transport
        except Exception:  # openai[aiohttp] missing: the SDK's default transport
            transport = None
        self.sdk = openai.AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=0, http_client=transport)

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        # the documented low-level `post`: same auth, errors and transport as `chat.completions.create`,
        # without the per-call typed transforms and model construction that cost ~1 ms of CPU a call
        return await self.sdk.post(path, body=body, cast_to=dict)

    async def get(self, path: str, timeout: float | None = None) -> Any:
        return await self.sdk.get(path, cast_to=dict, options={"timeout": timeout})

    async def close(self) -> None:
        await self.sdk.close()


def _sdk() -> Any:
    """The openai module, its exceptions taught to the retry logic on first use."""
    import openai

    from oversight.models.errors import register_errors

    register_errors(
        rate_limit=(openai.RateLimitError,),
        transient=(openai.APITimeoutError, openai.APIConnectionError, openai.APIResponseValidationError),
    )
    return openai


def make_client(spec: ModelSpec, base_url: str, api_key: str) -> Any:
    """The official client for OpenAI and Gemini, the lean one elsewhere; OVERSIGHT_OPENAI_TRANSPORT=sdk|lean overrides
    the choice for OpenAI-compatible endpoints."""
    transport = os.environ.get("OVERSIGHT_OPENAI_TRANSPORT", "").strip().lower()
    if transport not in ("", "sdk", "lean"):
        raise InputError(f"OVERSIGHT_OPENAI_TRANSPORT={transport!r}: choose sdk or lean (or leave it unset)")
    if spec.provider in SDK_PROVIDERS or transport == "sdk":
        return SDKClient(base_url, api_key)
    from oversight.models._http import LeanClient

    return LeanClient(base_url, api_key)


def endpoint_settings(spec: ModelSpec) -> tuple[tuple[str, ...], str]:
    """Base URLs and API key of an OpenAI, vLLM or OpenAI-compatible spec, from the spec and the environment."""
    if spec.provider == "openai":
        api_key = os.environ.get("OPENAI_API_KEY")
        if not api_key:
            raise InputError(f"{spec.name}: set OPENAI_API_KEY to use the OpenAI API")
        return spec.base_urls or (os.environ.get("OPENAI_BASE_URL", OPENAI_BASE_URL),), api_key
    if spec.provider == "gemini":  # Google's OpenAI-compatible endpoint
        api_key = os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY")
        if not api_key:
            raise InputError(f"{spec.name}: set GEMINI_API_KEY to use Gemini")
        return spec.base_urls or (os.environ.get("GEMINI_BASE_URL", GEMINI_BASE_URL),), api_key
    urls = spec.base_urls or tuple(u.strip().rstrip("/") for u in os.environ.get("OVERSIGHT_VLLM_BASE_URL", "").split(",") if u.strip())
    if not urls and spec.provider == "vllm":
        from oversight.serve.records import served_urls

        urls = served_urls(spec.model)
    if not urls:
        hint = f", or start it here with `oversight serve {spec.model}`" if spec.provider == "vllm" else ""
        raise InputError(f"{spec}: needs a base URL, e.g. {spec.name}@http://localhost:8000/v1{hint}")
    return urls, os.environ.get("OVERSIGHT_API_KEY") or os.environ.get("OPENAI_API_KEY") or "EMPTY"


PROBE_TIMEOUT = 5.0


class OpenAIProvider(ModelProvider):
    """One client per base URL; with several URLs (replicas) a router picks one per request."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__(spec)
        self.urls, self._api_key = endpoint_settings(spec)
        self._clients = [make_client(spec, url, self._api_key) for url in self.urls]
        self.router: ReplicaRouter | None = None
        self.batch: BatchQueue | None = None

    @property
    def endpoint(self) -> str:
        return ",".join(self.urls)

    @property
    def cache_identity(self) -> str:
        # replicas of one model answer alike, so the set of URLs (not which one served) is the identity
        return f"{self.spec.name}@{','.join(sorted(self.urls))}"

    @property
    def default_concurrency(self) -> int:
        return 64

    def use_limits(self, limit_for: Callable[[str], asyncio.Semaphore]) -> asyncio.Semaphore | None:
        replicas = [Replica(url, client, limit_for(url)) for url, client in zip(self.urls, self._clients, strict=True)]
        self.router = ReplicaRouter(self.spec.name, replicas, _probe)
        return None

    def _router(self) -> ReplicaRouter:
        if self.router is None:  # used without a pool: each URL gets a limit of its own
            self.use_limits(lambda _: asyncio.Semaphore(self.default_concurrency))
        assert self.router is not None
        return self.router

    def _extra_body(self, config: GenerateConfig) -> dict[str, Any] | None:
        if not config.choices or self.spec.provider != "vllm":
            return None
        if os.environ.get("OVERSIGHT_VLLM_GUIDED") == "legacy":  # vLLM < 0.10
            return {"guided_choice": list(config.choices)}
        return {"structured_outputs": {"choice": list(config.choices)}}

    def enable_batch(self, options: dict[str, Any]) -> BatchQueue:
        """Send this model's calls through OpenAI's Batch API (`--batch`) instead of one request each."""
        if self.spec.provider not in ("openai", "openai-compatible"):
            return super().enable_batch(options)
        if len(self._clients) != 1:
            raise InputError(f"--batch: {self.spec} has several base URLs; batches go to one endpoint")
        client = self._clients[0]
        sdk = (
            client.sdk if isinstance(client, SDKClient) else SDKClient(self.urls[0], self._api_key).sdk
        )  # batches need the SDK's files API
        self.batch = BatchQueue(sdk, self.endpoint, **options)
        return self.batch

    def attempt_timeout(self, default: float) -> float | None:
        return None if self.batch is not None else default  # a batch answers within its window, polled meanwhile

    async def generate(self, messages: list[Message], config: GenerateConfig) -> Completion:
        if self.batch is not None:
            start = time.perf_counter()
            return self._completion(await self.batch.submit(self._body(messages, config)), time.perf_counter() - start)
        async with self._router().slot() as replica:
            return await self._generate(replica.client, messages, config)

    def _body(self, messages: list[Message], config: GenerateConfig) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.spec.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": config.max_tokens,
            "temperature": config.temperature,
        }
        if config.seed is not None:
            params["seed"] = config.seed
        if config.stop:
            params["stop"] = list(config.stop)
        if config.logprobs:
            params["logprobs"] = True
            if config.top_logprobs:
                params["top_logprobs"] = config.top_logprobs
        params.update(self._extra_body(config) or {})
        return params

    async def _generate(self, client: Any, messages: list[Message], config: GenerateConfig) -> Completion:
        start = time.perf_counter()
        response = await client.post("/chat/completions", self._body(messages, config))
        return self._completion(response, time.perf_counter() - start)

    def _completion(self, response: Any, latency: float) -> Completion:
        choices = response.get("choices") if isinstance(response, dict) else None
        if not choices or not isinstance(choices[0], dict) or not isinstance(choices[0].get("message"), dict):
            raise TransientResponseError(f"{self.spec.name}: unreadable reply (body: {str(response)[:120]!r})")
        choice = choices[0]
        raw_usage = response.get("usage") or {}
        details = raw_usage.get("prompt_tokens_details") or {}
        usage = Usage(
            prompt_tokens=raw_usage.get("prompt_tokens") or 0,
            completion_tokens=raw_usage.get("completion_tokens") or 0,
            cached_prompt_tokens=details.get("cached_tokens") or 0,
        )
        return Completion(
            text=choice["message"].get("content") or "",
            logprobs=_normalise_logprobs(choice.get("logprobs")),
            usage=usage,
            latency=latency,
            finish_reason=choice.get("finish_reason"),
        )

    async def aclose(self) -> None:
        if self.batch is not None:
            await self.batch.aclose()
        if self.router is not None:
            await self.router.aclose()
        for client in self._clients:
            await client.close()


async def _probe(replica: Replica) -> bool:
    """A replica is back when it lists its models (every OpenAI-compatible server answers GET /models)."""
    await replica.client.get("/models", timeout=PROBE_TIMEOUT)
    return True


def _normalise_logprobs(raw: Any) -> list[TokenLogprob] | None:
    """OpenAI and vLLM both return `logprobs.content[i].{token, logprob, top_logprobs}`; absent means none."""
    content = raw.get("content") if isinstance(raw, dict) else None
    if not content:
        return None
    out = []
    try:
        for entry in content:
            top = {t["token"]: float(t["logprob"]) for t in (entry.get("top_logprobs") or [])}
            out.append(TokenLogprob(token=entry["token"], logprob=float(entry["logprob"]), top=top))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # malformed logprobs are treated as absent: the judge falls back to the text
    return out
