"""Providers by name, through the provider registry (`oversight.plugins.PROVIDERS`): built-in ones are imported
only when a spec names them, and a missing optional SDK is one error naming the extra to install."""

from __future__ import annotations

from collections.abc import Callable

from oversight.errors import ExtraMissingError
from oversight.models.provider import ModelProvider
from oversight.models.spec import ModelSpec

EXTRAS = {"anthropic": "anthropic"}
"""Built-in providers whose SDK is an optional extra (pip install 'oversight[anthropic]')."""


def provider_factory(spec: ModelSpec) -> Callable[[ModelSpec], ModelProvider]:
    from oversight.plugins import PROVIDERS

    try:
        return PROVIDERS.get(spec.provider)
    except ModuleNotFoundError as exc:
        raise ExtraMissingError(exc.name or spec.provider, EXTRAS.get(spec.provider, "core")) from exc


def create_provider(spec: ModelSpec) -> ModelProvider:
    return provider_factory(spec)(spec)
