"""Token and cost accounting: each model call is noted in the log of the work item that made it.

The engine opens a log per item (a context variable, so concurrent items never mix) and stores
the notes in the same transaction as the item; providers and protocols never see it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pydantic import BaseModel

# USD per million tokens (prompt, completion); models not listed cost 0 (local and self-hosted).
PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "openai/gpt-4o": (2.50, 10.00),
    "openai/gpt-4o-mini": (0.15, 0.60),
    "openai/gpt-4.1": (2.00, 8.00),
    "openai/gpt-4.1-mini": (0.40, 1.60),
    "openai/gpt-4.1-nano": (0.10, 0.40),
    "openai/gpt-3.5-turbo": (0.50, 1.50),
    "anthropic/claude-3-5-haiku-latest": (0.80, 4.00),
    "anthropic/claude-3-5-sonnet-latest": (3.00, 15.00),
    "anthropic/claude-sonnet-4-0": (3.00, 15.00),
    "gemini/gemini-2.0-flash": (0.10, 0.40),
    "gemini/gemini-1.5-flash": (0.075, 0.30),
}


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    prompt_price, completion_price = PRICES_PER_MTOK.get(model, (0.0, 0.0))
    return (prompt_tokens * prompt_price + completion_tokens * completion_price) / 1_000_000


class CallRecord(BaseModel):
    model: str
    role: str
    prompt_tokens: int
    completion_tokens: int
    cached_prompt_tokens: int
    cost_usd: float
    latency: float
    cache_hit: bool
    truncated_prompt: bool = False
    attempts: int = 1
    """HTTP attempts the call took (retries included); 0 for an answer from the response cache."""


_current_log: ContextVar[list[CallRecord] | None] = ContextVar("oversight_call_log", default=None)


@contextmanager
def call_log() -> Iterator[list[CallRecord]]:
    records: list[CallRecord] = []
    token = _current_log.set(records)
    try:
        yield records
    finally:
        _current_log.reset(token)


def note_call(record: CallRecord) -> None:
    records = _current_log.get()
    if records is not None:
        records.append(record)
