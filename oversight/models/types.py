"""The values that cross the model boundary: messages in, a completion out."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant"]


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Role
    content: str


class TokenLogprob(BaseModel):
    """One generated token with its log-probability and the most likely alternatives at that step."""

    token: str
    logprob: float
    top: dict[str, float] = Field(default_factory=dict)


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class GenerateConfig(BaseModel):
    """Sampling parameters; part of the response-cache key, so every field must change the output."""

    model_config = ConfigDict(frozen=True)

    max_tokens: int = Field(default=256, ge=1)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    logprobs: bool = False
    top_logprobs: int = Field(default=0, ge=0, le=20)
    seed: int | None = None
    stop: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    """Constrain the answer to one of these strings where the backend can (llama.cpp grammar, vLLM guided choice)."""


class Completion(BaseModel):
    text: str
    logprobs: list[TokenLogprob] | None = None
    usage: Usage = Field(default_factory=Usage)
    latency: float = 0.0
    cached: bool = False
    finish_reason: str | None = None
    truncated_prompt: bool = False

    def first_token_distribution(self) -> dict[str, float]:
        """Probabilities of the candidates for the first generated token (the judge reads its answer here)."""
        if not self.logprobs:
            return {}
        first = self.logprobs[0]
        dist = {tok: math.exp(lp) for tok, lp in first.top.items()}
        dist.setdefault(first.token, math.exp(first.logprob))
        return dist
