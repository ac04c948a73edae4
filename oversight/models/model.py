"""`Model`: the one wrapper every provider is used through.

Retries, the per-request timeout, the concurrency limit per endpoint, the response cache, the
context-window policy and token/cost accounting are written here once, so a provider only has
to turn messages into a completion.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any, Literal

from tenacity import AsyncRetrying, retry_if_exception, wait_random_exponential

from oversight.errors import ModelError, redact
from oversight.models.accounting import CallRecord, cost_usd, note_call
from oversight.models.cache import CacheMode, ResponseCache, cache_key, should_cache
from oversight.models.errors import ErrorKind, PromptTooLongError, classify, is_unreachable, retry_after_seconds
from oversight.models.provider import ModelProvider, role_scope
from oversight.models.types import Completion, GenerateConfig, Message

log = logging.getLogger(__name__)

ContextPolicy = Literal["error", "truncate"]
"""What happens to a prompt longer than the context window: a clear error before any call
(the engine checks every question before the run), or truncation of the longest message,
marked on the completion and stored with the call."""

TRUNCATION_MARK = "\n[... truncated to fit the context window ...]\n"
MAX_RETRY_AFTER = 120.0


class Model:
    def __init__(
        self,
        provider: ModelProvider,
        *,
        semaphore: asyncio.Semaphore | None,
        cache: ResponseCache | None = None,
        cache_mode: CacheMode = "auto",
        max_retries: int = 6,
        timeout: float = 120.0,
        context_policy: ContextPolicy = "error",
        retry_wait_max: float = 30.0,
        unreachable_wait: float = 600.0,
    ) -> None:
        self.provider = provider
        self.name = provider.spec.name
        self._semaphore = semaphore
        self._cache = cache
        self._cache_mode = cache_mode
        self.max_retries = max_retries
        self.unreachable_wait = unreachable_wait
        self._outage = False
        self._timeout = timeout
        self._context_policy = context_policy
        self._backoff = wait_random_exponential(multiplier=0.5, max=retry_wait_max)

    @property
    def context_window(self) -> int | None:
        return self.provider.context_window

    def count_tokens(self, messages: list[Message]) -> int | None:
        return self.provider.count_tokens(messages)

    async def generate(
        self,
        messages: list[Message],
        config: GenerateConfig | None = None,
        *,
        role: str = "model",
        **overrides: Any,
    ) -> Completion:
        config = (config or GenerateConfig()).model_copy(update=overrides) if overrides else (config or GenerateConfig())
        messages, truncated = self._fit_context(messages, config)
        use_cache = self._cache is not None and should_cache(self._cache_mode, config)
        key = cache_key(self.provider.cache_identity, messages, config) if use_cache else ""
        if use_cache:
            assert self._cache is not None
            hit = await self._cache.get(key)
            if hit is not None:
                completion = hit.model_copy(update={"cached": True, "latency": 0.0})
                self._note(role, completion, truncated, attempts=0)
                return completion
        with role_scope(role):
            completion, attempts = await self._call_with_retries(messages, config)
        if truncated:
            completion = completion.model_copy(update={"truncated_prompt": True})
        if use_cache:
            assert self._cache is not None
            await self._cache.put(key, self.name, completion)
        self._note(role, completion, truncated, attempts=attempts)
        return completion

    def _note(self, role: str, completion: Completion, truncated: bool, *, attempts: int) -> None:
        usage = completion.usage
        note_call(
            CallRecord(
                model=self.name,
                role=role,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                cached_prompt_tokens=usage.cached_prompt_tokens,
                cost_usd=0.0 if completion.cached else cost_usd(self.name, usage.prompt_tokens, usage.completion_tokens),
                latency=completion.latency,
                cache_hit=completion.cached,
                truncated_prompt=truncated,
                attempts=attempts,
            )
        )

    def note_unreachable(self, exc: BaseException) -> None:
        """Say once per outage that calls are waiting for the endpoint, not failing."""
        if not self._outage:
            self._outage = True
            log.warning(
                "%s: the endpoint cannot be reached (%s); waiting up to %.0f s for it to come back (Ctrl-C stops the run)",
                self.name, _one_line(exc), self.unreachable_wait,
            )  # fmt: skip

    def note_reachable(self) -> None:
        if self._outage:
            self._outage = False
            log.warning("%s: the endpoint answers again; the run goes on", self.name)

    def pause_after(self, exc: BaseException | None, failed_attempts: int) -> float:
        """Seconds before the next attempt: the server's Retry-After on a rate limit, else random exponential backoff."""
        if exc is not None and classify(exc) is ErrorKind.RATE_LIMIT:
            after = retry_after_seconds(exc)
            if after is not None:
                return min(max(after, 0.0), MAX_RETRY_AFTER)
        return float(self._backoff(_Attempts(max(1, failed_attempts))))

    async def _attempt(self, messages: list[Message], config: GenerateConfig) -> Completion:
        async with self._semaphore or contextlib.nullcontext():
            async with asyncio.timeout(self.provider.attempt_timeout(self._timeout)):
                return await self.provider.generate(messages, config)

    async def _call_with_retries(self, messages: list[Message], config: GenerateConfig) -> tuple[Completion, int]:
        """The completion and how many attempts it took.

        Failed attempts count against `max_retries`; attempts on an endpoint that cannot be reached at all
        (connection refused, every replica down) do not: the call waits for it to come back, up to
        `unreachable_wait` seconds from the first such failure, probing with growing pauses, and says so once.
        """
        # the first attempt runs bare: the common case pays nothing for the retry machinery
        budget = _RetryBudget(self)
        try:
            return await self._attempt(messages, config), 1
        except Exception as exc:
            if budget.failed(exc):
                raise self._failure(exc, 1) from exc
            await asyncio.sleep(budget.pause(exc))
        retrying = AsyncRetrying(
            stop=lambda state: budget.failed(state.outcome.exception() if state.outcome else None),
            wait=lambda state: budget.pause(state.outcome.exception() if state.outcome else None),
            retry=retry_if_exception(lambda e: classify(e) is not ErrorKind.FATAL),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    completion = await self._attempt(messages, config)
                    self.note_reachable()
                    return completion, 1 + attempt.retry_state.attempt_number
        except Exception as exc:
            if budget.unreachable_since is not None:
                waited = time.monotonic() - budget.unreachable_since
                raise ModelError(
                    f"{self.name}: could not be reached for {waited:.0f} s ({budget.attempts} attempts): {_one_line(exc)}"
                ) from exc
            raise self._failure(exc, budget.attempts) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _failure(self, exc: BaseException, attempts: int) -> ModelError:
        detail = _one_line(exc)
        if classify(exc) is ErrorKind.FATAL:
            return ModelError(f"{self.name}: {detail}")
        return ModelError(f"{self.name}: gave up after {attempts} attempts: {detail}")

    def _fit_context(self, messages: list[Message], config: GenerateConfig) -> tuple[list[Message], bool]:
        window = self.provider.context_window
        if window is None:
            return messages, False
        n = self.provider.count_tokens(messages)
        if n is None or n + config.max_tokens <= window:
            return messages, False
        if self._context_policy == "error":
            raise ModelError(
                f"{self.name}: prompt of {n} tokens + {config.max_tokens} to generate exceeds the "
                f"{window}-token context window (use --context-policy truncate to cut it)"
            ) from PromptTooLongError()
        fitted = list(messages)
        for _ in range(8):
            longest = max(range(len(fitted)), key=lambda i: len(fitted[i].content))
            excess = n + config.max_tokens - window
            text = fitted[longest].content
            # ~4 characters a token; cut a little more than needed so the loop ends quickly
            keep = max(0, len(text) - int(excess * 4.5) - len(TRUNCATION_MARK) - 16)
            fitted[longest] = Message(role=fitted[longest].role, content=text[:keep] + TRUNCATION_MARK)
            n = self.provider.count_tokens(fitted) or 0
            if n + config.max_tokens <= window:
                return fitted, True
        raise ModelError(f"{self.name}: could not truncate the prompt to fit the {window}-token context window")

    async def aclose(self) -> None:
        await self.provider.aclose()


class _RetryBudget:
    """One call's retries: failures count against `max_retries`, time unreachable against `unreachable_wait`."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.attempts = 0
        self.counted = 0
        self.unreachable_since: float | None = None

    def failed(self, exc: BaseException | None) -> bool:
        """Note a failed attempt; True when the call should give up."""
        self.attempts += 1
        if exc is None or classify(exc) is ErrorKind.FATAL or self.model.max_retries == 0:
            return True
        if is_unreachable(exc):
            if self.unreachable_since is None:
                self.unreachable_since = time.monotonic()
                self.model.note_unreachable(exc)
            return time.monotonic() - self.unreachable_since >= self.model.unreachable_wait
        self.unreachable_since = None
        self.counted += 1
        return self.counted > self.model.max_retries

    def pause(self, exc: BaseException | None) -> float:
        if exc is not None and is_unreachable(exc):
            return min(10.0, 0.25 * 2 ** min(self.attempts, 6))
        return self.model.pause_after(exc, self.counted)


@dataclass(frozen=True)
class _Attempts:
    """What tenacity's wait strategies read of a retry state: how many attempts have failed."""

    attempt_number: int


def _one_line(exc: BaseException) -> str:
    """The error in one line, with its root cause where that says more (the SDK reports a refused connection as a
    timeout), and anything key-shaped masked (servers echo request headers in error bodies)."""
    status = getattr(exc, "status_code", None)
    text = " ".join(str(exc).split()) or type(exc).__name__
    root = exc
    for _ in range(5):
        if root.__cause__ is None:
            break
        root = root.__cause__
    cause = " ".join(str(root).split())
    if root is not exc and cause and cause not in text:
        text = f"{text} ({type(root).__name__}: {cause})"
    if len(text) > 300:
        text = text[:300] + "..."
    return redact(f"HTTP {status}: {text}" if status else f"{type(exc).__name__}: {text}")
