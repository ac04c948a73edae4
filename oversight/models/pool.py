"""One place that hands out `Model`s for a run: models on the same endpoint (URL) share one concurrency limit."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from oversight.errors import InputError
from oversight.models.cache import CacheMode, ResponseCache
from oversight.models.model import ContextPolicy, Model
from oversight.models.registry import create_provider
from oversight.models.spec import parse_spec


class ModelPool:
    def __init__(
        self,
        *,
        max_connections: int | None = None,
        cache: ResponseCache | None = None,
        cache_mode: CacheMode = "auto",
        max_retries: int = 6,
        timeout: float = 120.0,
        context_policy: ContextPolicy = "error",
        retry_wait_max: float = 30.0,
        unreachable_wait: float = 600.0,
        batch: dict[str, Any] | None = None,
        connection_share: float = 1.0,
    ) -> None:
        self._max_connections = max_connections
        self._cache = cache
        self._cache_mode = cache_mode
        self._max_retries = max_retries
        self._timeout = timeout
        self._context_policy = context_policy
        self._retry_wait_max = retry_wait_max
        self._unreachable_wait = unreachable_wait
        self._batch = batch
        self._share = connection_share
        """This process's part of each endpoint's limit (a Ray actor among N gets 1/N)."""
        self.batched: dict[str, Any] = {}
        """Models whose calls go through a batch API (`--batch`), by spec, with their queues."""
        self._models: dict[str, Model] = {}
        self._semaphores: dict[str, asyncio.Semaphore] = {}

    def get(self, spec: str) -> Model:
        parsed = parse_spec(spec)
        key = str(parsed)
        if key not in self._models:
            provider = create_provider(parsed)
            if self._batch is not None:
                try:
                    self.batched[key] = provider.enable_batch(self._batch)
                except InputError:
                    pass  # a model without a batch API is called directly; the run says which are batched
            limit = max(1, math.ceil((self._max_connections or provider.default_concurrency) * self._share))
            semaphore = provider.use_limits(lambda endpoint: self._semaphores.setdefault(endpoint, asyncio.Semaphore(limit)))
            self._models[key] = Model(
                provider,
                semaphore=semaphore,
                cache=self._cache,
                cache_mode=self._cache_mode,
                max_retries=self._max_retries,
                timeout=self._timeout,
                context_policy=self._context_policy,
                retry_wait_max=self._retry_wait_max,
                unreachable_wait=self._unreachable_wait,
            )
        return self._models[key]

    async def aclose(self) -> None:
        for model in self._models.values():
            await model.aclose()
        self._models.clear()
