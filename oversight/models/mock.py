"""`mock/<name>`: an in-process provider with scripted replies, for tests (ours and users').

A script says what each role answers, so a test states the behaviour it needs ("the judge picks
B at 80%") instead of matching regexes over prompt wording:

    from oversight.models.mock import script
    script("judge", {"judge": "B 80%"})                 # spec mock/judge
    script("debaters", {"debater_a": "A, because <quote>...</quote>", "*": "I concede."})
    script("flaky", lambda call: "A 60%" if call.index % 2 else "???")

A reply is a string, a list (used in turn, the last one repeating) or a function of the `MockCall`
(role, messages, config, model, index). A name without a script answers in a fixed way: the first
of `config.choices` (with logprobs when asked) for constrained calls, "A 75%" when a verdict is
asked for, and a short argument otherwise. Everything is deterministic; nothing leaves the process.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from oversight.models.provider import ModelProvider, current_role
from oversight.models.spec import ModelSpec
from oversight.models.types import Completion, GenerateConfig, Message, TokenLogprob, Usage

Reply = str | list[str] | Callable[["MockCall"], str]


@dataclass(frozen=True)
class MockCall:
    model: str
    role: str
    messages: list[Message]
    config: GenerateConfig
    index: int
    """How many calls this model had before this one (0 for the first)."""


_scripts: dict[str, dict[str, Reply] | Reply] = {}
_versions: dict[str, int] = {}


def script(name: str, replies: dict[str, Reply] | Reply) -> str:
    """Script `mock/<name>`: one reply for every role, or a dict of role -> reply (`"*"` for the rest). Returns the spec."""
    _scripts[name] = replies
    _versions[name] = _versions.get(name, 0) + 1
    return f"mock/{name}"


def clear() -> None:
    _scripts.clear()


def _words(messages: list[Message]) -> int:
    return sum(len(m.content.split()) for m in messages)


class MockProvider(ModelProvider):
    def __init__(self, spec: ModelSpec) -> None:
        super().__init__(spec)
        self.calls: list[MockCall] = []

    @property
    def cache_identity(self) -> str:
        # a re-scripted name must not be answered from the cache of its earlier script
        return f"{self.spec}#{_versions.get(self.spec.model, 0)}"

    @property
    def default_concurrency(self) -> int:
        return 256

    def _reply(self, call: MockCall) -> str | None:
        found = _scripts.get(self.spec.model)
        if found is None:
            return None
        reply: Any = found.get(call.role, found.get("*")) if isinstance(found, dict) else found
        if reply is None:
            return None
        if callable(reply):
            return str(reply(call))
        if isinstance(reply, list):
            seen = sum(1 for c in self.calls[:-1] if c.role == call.role)
            return str(reply[min(seen, len(reply) - 1)]) if reply else ""
        return str(reply)

    async def generate(self, messages: list[Message], config: GenerateConfig) -> Completion:
        call = MockCall(self.spec.name, current_role(), list(messages), config, len(self.calls))
        self.calls.append(call)
        text = self._reply(call)
        if text is None:
            if config.choices:
                text = config.choices[0]
            elif "confidence" in messages[-1].content.lower():
                text = "A 75%"
            else:
                text = f"{self.spec.model} argues its side ({call.role}, call {call.index + 1})."
        logprobs = None
        if config.logprobs and text.strip():
            first = text.strip().split()[0]
            others = [c for c in (config.choices or ("A", "B")) if c != first]
            top = {first: math.log(0.8), **{c: math.log(0.2 / max(1, len(others))) for c in others}}
            logprobs = [TokenLogprob(token=first, logprob=top[first], top=top)]
        words = text.split()
        if len(words) > config.max_tokens:
            text = " ".join(words[: config.max_tokens])
        return Completion(
            text=text,
            logprobs=logprobs,
            usage=Usage(prompt_tokens=_words(messages), completion_tokens=len(text.split())),
            finish_reason="stop",
        )


__all__ = ["MockCall", "MockProvider", "clear", "script"]
