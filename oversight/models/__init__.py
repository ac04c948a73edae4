"""Model access: one async `generate` for every provider, behind a wrapper that retries, limits, caches and counts.

Spec strings name a model: `local/smollm2-135m` (embedded default), `openai/gpt-4o-mini`,
`vllm/<hf-id>@http://host:8000/v1[,http://host2:8000/v1]`, `openai-compatible/<name>@<base_url>`.
"""

from oversight.models.accounting import CallRecord, call_log
from oversight.models.cache import CacheMode, MemoryCache, ResponseCache
from oversight.models.model import ContextPolicy, Model
from oversight.models.pool import ModelPool
from oversight.models.spec import ModelSpec, parse_spec
from oversight.models.types import Completion, GenerateConfig, Message, TokenLogprob, Usage

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
