"""Model spec strings: `provider/model[@base_url[,base_url...]]`, e.g. `vllm/meta-llama/Llama-3.1-8B-Instruct@http://gpu1:8000/v1`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from oversight.errors import InputError

MAX_NAME = 200
"""Model names are stored with every call and judgment; longer ones would not fit PostgreSQL's columns."""


class ModelSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    provider: str
    model: str
    base_urls: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The id stored with results: provider and model, without the endpoint (endpoints move, models don't)."""
        return f"{self.provider}/{self.model}"

    def __str__(self) -> str:
        return self.name + (f"@{','.join(self.base_urls)}" if self.base_urls else "")


def parse_spec(spec: str) -> ModelSpec:
    text = spec.strip()
    if "/" not in text:
        raise InputError(f"model spec {spec!r}: expected provider/model[@base_url], e.g. local/smollm2-135m")
    provider, rest = text.split("/", 1)
    model, _, urls = rest.partition("@")
    from oversight.plugins import PROVIDERS

    known = PROVIDERS.names()
    if provider not in known:
        raise InputError(f"model spec {spec!r}: unknown provider {provider!r}; known: {', '.join(known)} (or register one with --plugin)")
    if not model:
        raise InputError(f"model spec {spec!r}: the model name is empty")
    if len(f"{provider}/{model}") > MAX_NAME:
        raise InputError(f"model spec {spec[:60]!r}...: provider/model is longer than {MAX_NAME} characters")
    base_urls = tuple(u.strip().rstrip("/") for u in urls.split(",") if u.strip())
    for url in base_urls:
        if not url.startswith(("http://", "https://")):
            raise InputError(f"model spec {spec!r}: base URL {url!r} must start with http:// or https://")
    if provider == "openai-compatible" and not base_urls:
        raise InputError(f"model spec {spec!r}: openai-compatible needs a base URL: openai-compatible/<model>@http://host:port/v1")
    if provider in ("local", "mock") and base_urls:
        raise InputError(f"model spec {spec!r}: the {provider} provider takes no base URL")
    return ModelSpec(provider=provider, model=model, base_urls=base_urls)
