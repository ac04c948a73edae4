"""The response-cache contract. The SQL implementation lives in `oversight.db.cache`."""

from __future__ import annotations

import hashlib
import json
from typing import Literal, Protocol

from oversight.models.types import Completion, GenerateConfig, Message

CacheMode = Literal["auto", "on", "off"]
"""`auto` caches deterministic calls only (temperature 0); `on` caches every call; `off` none."""


class ResponseCache(Protocol):
    async def get(self, key: str) -> Completion | None: ...

    async def put(self, key: str, model: str, completion: Completion) -> None: ...


def cache_key(model: str, messages: list[Message], config: GenerateConfig) -> str:
    """sha256 over the model, every message and every sampling parameter (hot path: no JSON of pydantic dumps)."""
    digest = hashlib.sha256(model.encode())
    for m in messages:
        digest.update(b"\x1e" + m.role.encode() + b"\x1f" + m.content.encode())
    digest.update(b"\x1d" + json.dumps(list(config.__dict__.values())).encode())
    return digest.hexdigest()


def should_cache(mode: CacheMode, config: GenerateConfig) -> bool:
    if mode == "off":
        return False
    return mode == "on" or config.temperature == 0.0


class MemoryCache:
    """A dict-backed cache for one process: used when no database is at hand (scripts, notebooks)."""

    def __init__(self) -> None:
        self._items: dict[str, Completion] = {}

    async def get(self, key: str) -> Completion | None:
        return self._items.get(key)

    async def put(self, key: str, model: str, completion: Completion) -> None:
        self._items[key] = completion
