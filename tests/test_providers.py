"""Providers beyond OpenAI's: Anthropic through its SDK, Gemini's OpenAI-compatible endpoint, the scripted mock,
and error classification that reads every SDK's errors alike (a 429 waits for its Retry-After)."""

from __future__ import annotations

import asyncio
import time

import pytest

from fake_openai import FakeOpenAIServer, Reply, anthropic_message, chat_completion
from oversight.errors import InputError, ModelError
from oversight.models import GenerateConfig, Message, ModelPool, call_log
from oversight.models.errors import ErrorKind, classify
from oversight.models.mock import script

MSG = [Message(role="system", content="Be brief."), Message(role="user", content="Which? A or B")]


def generate(spec: str, config: GenerateConfig | None = None, *, role: str = "judge", **kw):
    async def go():
        kw.setdefault("max_retries", 3)
        kw.setdefault("retry_wait_max", 0.05)
        pool = ModelPool(**kw)
        try:
            with call_log() as calls:
                reply = await pool.get(spec).generate(MSG, config, role=role)
            return reply, calls
        finally:
            await pool.aclose()

    return asyncio.run(go())


def test_anthropic_messages_through_the_official_sdk(fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key-123456")
    fake_server.anthropic = lambda _: Reply(body=anthropic_message("B 65%", input_tokens=12, cached=30))
    base = fake_server.base_url.removesuffix("/v1")
    reply, calls = generate(f"anthropic/claude-test@{base}", GenerateConfig(max_tokens=7, temperature=0.3, stop=("\n\n",)))
    assert reply.text == "B 65%" and reply.logprobs is None and reply.finish_reason == "end_turn"
    assert reply.usage.prompt_tokens == 42 and reply.usage.cached_prompt_tokens == 30
    sent = fake_server.requests[0]
    assert sent["model"] == "claude-test" and sent["max_tokens"] == 7 and sent["temperature"] == 0.3
    assert sent["system"] == "Be brief." and sent["messages"] == [{"role": "user", "content": "Which? A or B"}]
    assert sent["stop_sequences"] == ["\n\n"]
    assert any("sk-ant-test-key-123456" in v for v in fake_server.headers[0].values())  # the SDK's own auth header
    assert calls[0].role == "judge" and calls[0].attempts == 1


def test_anthropic_rate_limits_wait_for_retry_after_and_overload_is_retried(fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key-123456")
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    limited = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    fake_server.push(Reply(status=429, body=limited, headers={"retry-after": "0.6"}), Reply(status=529, body=overloaded))
    fake_server.push(Reply(body=anthropic_message("A 90%")))
    start = time.perf_counter()
    reply, calls = generate(f"anthropic/claude-test@{fake_server.base_url.removesuffix('/v1')}")
    assert reply.text == "A 90%" and calls[0].attempts == 3
    assert time.perf_counter() - start >= 0.6  # backoff alone waits at most 0.05 s
    bad = {"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: too large"}}
    fake_server.push(Reply(status=400, body=bad))
    with pytest.raises(ModelError, match="max_tokens: too large"):
        generate(f"anthropic/claude-test@{fake_server.base_url.removesuffix('/v1')}")
    assert len(fake_server.requests) == 4  # a 400 is not retried


def test_anthropic_needs_its_key(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(InputError, match="ANTHROPIC_API_KEY"):
        generate("anthropic/claude-test")


def test_gemini_through_its_openai_compatible_endpoint(fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-test-key-123456")
    monkeypatch.setenv("GEMINI_BASE_URL", fake_server.base_url)
    fake_server.push(Reply(status=429, headers={"Retry-After": "0.4"}), Reply(body=chat_completion("A 55%")))
    start = time.perf_counter()
    reply, calls = generate("gemini/gemini-2.0-flash")
    assert reply.text == "A 55%" and calls[0].attempts == 2 and time.perf_counter() - start >= 0.4
    assert fake_server.requests[-1]["model"] == "gemini-2.0-flash"
    assert {k.lower(): v for k, v in fake_server.headers[-1].items()}["authorization"] == "Bearer gemini-test-key-123456"
    monkeypatch.delenv("GEMINI_API_KEY")
    with pytest.raises(InputError, match="GEMINI_API_KEY"):
        generate("gemini/gemini-2.0-flash")


def test_any_exception_with_an_http_status_is_classified_like_the_sdks():
    class PluginError(Exception):
        def __init__(self, status_code: int) -> None:
            super().__init__(f"status {status_code}")
            self.status_code = status_code

    assert classify(PluginError(429)) is ErrorKind.RATE_LIMIT
    assert classify(PluginError(503)) is ErrorKind.TRANSIENT and classify(PluginError(529)) is ErrorKind.TRANSIENT
    assert classify(PluginError(404)) is ErrorKind.FATAL and classify(ValueError("x")) is ErrorKind.FATAL


def test_mock_replies_are_scripted_by_role_not_by_prompt_wording():
    spec = script("scripted", {"judge": "B 80%", "debater_a": ["first", "second"], "*": lambda call: f"{call.role}#{call.index}"})
    assert generate(spec, role="judge")[0].text == "B 80%"

    async def several() -> list[str]:
        pool = ModelPool()
        model = pool.get(spec)
        out = [(await model.generate(MSG, role="debater_a")).text for _ in range(3)]
        out.append((await model.generate(MSG, role="critic")).text)
        await pool.aclose()
        return out

    assert asyncio.run(several()) == ["first", "second", "second", "critic#3"]
    unscripted, _ = generate("mock/anything", GenerateConfig(logprobs=True, top_logprobs=2, choices=("A", "B")))
    assert unscripted.text == "A" and unscripted.first_token_distribution() == pytest.approx({"A": 0.8, "B": 0.2})
    with pytest.raises(InputError, match="takes no base URL"):
        generate("mock/x@http://localhost:1/v1")
