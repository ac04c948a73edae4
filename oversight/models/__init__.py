"""Model access: one async `generate` for every provider, behind a wrapper that retries, limits, caches and counts.

Spec strings name a model: `local/smollm2-135m` (embedded default), `openai/gpt-4o-mini`,
`vllm/<hf-id>@http://host:8000/v1[,http://host2:8000/v1]`, `openai-compatible/<name>@<base_url>`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oversight.models.accounting import CallRecord, call_log
    from oversight.models.cache import CacheMode, MemoryCache, ResponseCache
    from oversight.models.model import ContextPolicy, Model
    from oversight.models.pool import ModelPool
    from oversight.models.spec import ModelSpec, parse_spec
    from oversight.models.types import Completion, GenerateConfig, Message, TokenLogprob, Usage

# where each public name lives: imported on first use, so `oversight --help` and a command's parsing of a spec
# never pay for the openai SDK, aiohttp or a provider's runtime
_HOMES = {
    "CallRecord": "accounting", "call_log": "accounting",
    "CacheMode": "cache", "MemoryCache": "cache", "ResponseCache": "cache",
    "ContextPolicy": "model", "Model": "model",
    "ModelPool": "pool",
    "ModelSpec": "spec", "parse_spec": "spec",
    "Completion": "types", "GenerateConfig": "types", "Message": "types", "TokenLogprob": "types", "Usage": "types",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'oversight.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"oversight.models.{home}"), name)
    globals()[name] = value
    return value


DEFAULT_MODEL = "local/smollm2-135m"

__all__ = [
    "DEFAULT_MODEL",
    "CacheMode",
    "CallRecord",
    "Completion",
    "ContextPolicy",
    "GenerateConfig",
    "MemoryCache",
    "Message",
    "Model",
    "ModelPool",
    "ModelSpec",
    "ResponseCache",
    "TokenLogprob",
    "Usage",
    "call_log",
    "parse_spec",
]
