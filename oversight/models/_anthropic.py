"""Anthropic's models through the official `anthropic` SDK (the `anthropic` extra).

The SDK's own retries are off (`max_retries=0`): the wrapper retries, and it reads Anthropic's
errors like any other (429 with its Retry-After, 529 "overloaded" and other 5xx as transient).
Anthropic gives no token logprobs, so judges read their verdict from the text.
"""

from __future__ import annotations

import os
import time
from typing import Any

import anthropic

from oversight.errors import InputError
from oversight.models.errors import TransientResponseError, register_errors
from oversight.models.provider import ModelProvider
from oversight.models.spec import ModelSpec
from oversight.models.types import Completion, GenerateConfig, Message, Usage

register_errors(
    rate_limit=(anthropic.RateLimitError,),
    transient=(anthropic.APIConnectionError, anthropic.APITimeoutError, anthropic.APIResponseValidationError),
)


class AnthropicProvider(ModelProvider):
    """`anthropic/<model>[@base_url]`; the key comes from ANTHROPIC_API_KEY (or a .env file), never from the spec."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__(spec)
        api_key = os.environ.get("ANTHROPIC_API_KEY")
        if not api_key:
            raise InputError(f"{spec.name}: set ANTHROPIC_API_KEY to use Anthropic's API")
        base_url = spec.base_urls[0] if spec.base_urls else os.environ.get("ANTHROPIC_BASE_URL")
        self.base_url = base_url or "https://api.anthropic.com"
        self.client = anthropic.AsyncAnthropic(api_key=api_key, base_url=self.base_url, max_retries=0)

    @property
    def endpoint(self) -> str:
        return self.base_url

    @property
    def cache_identity(self) -> str:
        return f"{self.spec.name}@{self.base_url}"

    @property
    def default_concurrency(self) -> int:
        return 16

    async def generate(self, messages: list[Message], config: GenerateConfig) -> Completion:
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        params: dict[str, Any] = {
            "model": self.spec.model,
            "max_tokens": config.max_tokens,
            "messages": [{"role": m.role, "content": m.content} for m in messages if m.role != "system"],
            "extra_body": {"temperature": config.temperature},
        }
        if system:
            params["system"] = system
        if config.stop:
            params["stop_sequences"] = list(config.stop)
        start = time.perf_counter()
        reply = await self.client.messages.create(**params)
        latency = time.perf_counter() - start
        blocks = getattr(reply, "content", None)
        if blocks is None:
            raise TransientResponseError(f"{self.spec.name}: unreadable reply")
        text = "".join(getattr(b, "text", "") for b in blocks if getattr(b, "type", "") == "text")
        usage = getattr(reply, "usage", None)
        return Completion(
            text=text,
            usage=Usage(
                prompt_tokens=int(getattr(usage, "input_tokens", 0) or 0) + int(getattr(usage, "cache_read_input_tokens", 0) or 0),
                completion_tokens=int(getattr(usage, "output_tokens", 0) or 0),
                cached_prompt_tokens=int(getattr(usage, "cache_read_input_tokens", 0) or 0),
            ),
            latency=latency,
            finish_reason=getattr(reply, "stop_reason", None),
        )

    async def aclose(self) -> None:
        await self.client.close()
