"""Lazy provider registry: a provider's dependencies are imported only when a spec names it."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from oversight.errors import ExtraMissingError
from oversight.models.provider import ModelProvider
from oversight.models.spec import ModelSpec

# provider name -> (module, class, extra that installs its dependencies)
_PROVIDERS: dict[str, tuple[str, str, str]] = {
    "local": ("oversight.models._llama_cpp", "LlamaCppProvider", "core"),
    "openai": ("oversight.models._openai", "OpenAIProvider", "core"),
    "vllm": ("oversight.models._openai", "OpenAIProvider", "core"),
    "openai-compatible": ("oversight.models._openai", "OpenAIProvider", "core"),
}


def provider_factory(spec: ModelSpec) -> Callable[[ModelSpec], ModelProvider]:
    module_name, class_name, extra = _PROVIDERS[spec.provider]
    try:
        module = import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ExtraMissingError(exc.name or module_name, extra) from exc
    return getattr(module, class_name)


def create_provider(spec: ModelSpec) -> ModelProvider:
    return provider_factory(spec)(spec)
