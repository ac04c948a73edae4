"""What every provider implements: one `generate`. Retries, caching, limits and accounting live in `Model`, not here."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from oversight.errors import InputError
from oversight.models.spec import ModelSpec
from oversight.models.types import Completion, GenerateConfig, Message

_ROLE: ContextVar[str] = ContextVar("oversight_call_role", default="model")


def current_role() -> str:
    """The role the current call is made for (debater_a, judge, ...): set by the `Model` wrapper around each call."""
    return _ROLE.get()


@contextmanager
def role_scope(role: str) -> Iterator[None]:
    """Calls made inside are for `role` (the wrapper opens one around each call)."""
    token = _ROLE.set(role)
    try:
        yield
    finally:
        _ROLE.reset(token)


class ModelProvider(ABC):
    """Subclass this to add a provider: implement `generate`; register it with `@provider("name")` from
    `oversight.plugins` (in a file given to `--plugin`) or an `oversight.providers` entry point."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec

    @property
    def endpoint(self) -> str:
        """Key of the concurrency limit: requests to one endpoint share one limit."""
        return str(self.spec)

    @property
    def cache_identity(self) -> str:
        """What the response cache keys on besides the request: which model behind which endpoint answered.
        Two servers that both call their model "default" must never share answers."""
        return str(self.spec)

    @property
    def context_window(self) -> int | None:
        """Tokens the model accepts (prompt + completion), where known."""
        return None

    def count_tokens(self, messages: list[Message]) -> int | None:
        """Exact prompt length in tokens where the provider can tell without a call."""
        return None

    @property
    def default_concurrency(self) -> int:
        """Requests at a time per endpoint when --max-connections is not given."""
        return 32

    def use_limits(self, limit_for: Callable[[str], asyncio.Semaphore]) -> asyncio.Semaphore | None:
        """Take the shared per-endpoint limits (`limit_for(endpoint)`); return the one the wrapper holds around
        each call, or None when the provider holds a limit per request itself (one per replica)."""
        return limit_for(self.endpoint)

    def attempt_timeout(self, default: float) -> float | None:
        """Seconds one attempt may take (None: no limit, e.g. a call answered by a batch within its window)."""
        return default

    def enable_batch(self, options: dict[str, Any]) -> Any:
        """Send calls through the provider's batch API (`--batch`); providers without one refuse."""
        raise InputError(f"--batch: {self.spec.name} has no batch API (batches go to openai and openai-compatible models)")

    @abstractmethod
    async def generate(self, messages: list[Message], config: GenerateConfig) -> Completion: ...

    async def aclose(self) -> None:  # noqa: B027 - most providers hold nothing
        pass
