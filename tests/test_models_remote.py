"""The OpenAI-compatible provider and the wrapper, against the scripted server: retries, faults, limits, logprobs."""

from __future__ import annotations

import asyncio
import json
import math
import time

import pytest

from fake_openai import FakeOpenAIServer, Reply, chat_completion
from oversight.errors import InputError, ModelError
from oversight.models import GenerateConfig, MemoryCache, Message, ModelPool, call_log, parse_spec

MSG = [Message(role="user", content="Which? A or B")]
OK = Reply(body=chat_completion("B 60%", logprobs={"B": 0.6, "A": 0.4}))


def pool(**kw) -> ModelPool:
    kw.setdefault("max_retries", 3)
    kw.setdefault("retry_wait_max", 0.05)
    return ModelPool(**kw)


def generate(server: FakeOpenAIServer, config: GenerateConfig | None = None, **kw):
    async def go():
        p = pool(**kw)
        try:
            return await p.get(f"openai-compatible/fake@{server.base_url}").generate(MSG, config)
        finally:
            await p.aclose()

    return asyncio.run(go())


def test_plain_completion_and_logprobs(fake_server: FakeOpenAIServer):
    fake_server.push(OK)
    c = generate(fake_server, GenerateConfig(logprobs=True, top_logprobs=2, max_tokens=4))
    assert c.text == "B 60%"
    assert c.first_token_distribution() == pytest.approx({"B": 0.6, "A": 0.4})
    sent = fake_server.requests[0]
    assert sent["logprobs"] is True and sent["top_logprobs"] == 2 and sent["max_tokens"] == 4
    assert sent["model"] == "fake"


def test_a_reply_with_non_finite_logprobs_is_read_not_retried(fake_server: FakeOpenAIServer):
    # Python servers write -Infinity for an impossible token; strict JSON parsers refuse it, the client must not
    body = chat_completion("B", logprobs={"B": 1.0, "A": 0.5})
    body["choices"][0]["logprobs"]["content"][0]["top_logprobs"][1]["logprob"] = -math.inf
    fake_server.push(Reply(body=json.dumps(body)))
    c = generate(fake_server, GenerateConfig(logprobs=True, top_logprobs=2, max_tokens=1))
    assert "-Infinity" in json.dumps(body)
    assert c.first_token_distribution() == pytest.approx({"B": 1.0, "A": 0.0})
    assert len(fake_server.requests) == 1


@pytest.mark.parametrize(
    "fault",
    [
        Reply(status=500),
        Reply(status=503),
        Reply(body="<html>bad gateway</html>"),  # non-JSON body
        Reply(body={"unexpected": True}),  # JSON without choices
        Reply(drop=True),  # connection dropped
    ],
    ids=["500", "503", "non-json", "no-choices", "dropped"],
)
def test_transient_faults_are_retried(fake_server: FakeOpenAIServer, fault: Reply):
    fake_server.push(fault, fault, OK)
    c = generate(fake_server)
    assert c.text == "B 60%"
    assert len(fake_server.requests) == 3


def test_timeout_is_retried(fake_server: FakeOpenAIServer):
    fake_server.push(Reply(body=chat_completion("late"), delay=2.0), OK)
    start = time.perf_counter()
    c = generate(fake_server, timeout=0.3)
    assert c.text == "B 60%"
    assert time.perf_counter() - start < 1.9


def test_rate_limit_honours_retry_after(fake_server: FakeOpenAIServer):
    fake_server.push(Reply(status=429, headers={"Retry-After": "0.6"}), OK)
    start = time.perf_counter()
    c = generate(fake_server)  # backoff alone would wait at most 0.05 s
    assert c.text == "B 60%"
    assert time.perf_counter() - start >= 0.6


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_fatal_errors_are_not_retried(fake_server: FakeOpenAIServer, status: int):
    fake_server.push(Reply(status=status, body={"error": {"message": "nope", "type": "invalid_request_error"}}))
    with pytest.raises(ModelError) as err:
        generate(fake_server)
    assert len(fake_server.requests) == 1
    assert f"HTTP {status}" in str(err.value) and "\n" not in str(err.value)


def test_retries_exhausted(fake_server: FakeOpenAIServer):
    fake_server.default = lambda _: Reply(status=500)
    with pytest.raises(ModelError, match="gave up after 4 attempts"):
        generate(fake_server)
    assert len(fake_server.requests) == 4


def test_missing_logprobs_leave_distribution_empty(fake_server: FakeOpenAIServer):
    fake_server.push(Reply(body=chat_completion("A 80%")))
    c = generate(fake_server, GenerateConfig(logprobs=True, top_logprobs=5))
    assert c.logprobs is None and c.first_token_distribution() == {}


def test_malformed_logprobs_are_treated_as_missing(fake_server: FakeOpenAIServer):
    body = chat_completion("A")
    body["choices"][0]["logprobs"] = {"content": [{"token": "A"}]}
    fake_server.push(Reply(body=body))
    assert generate(fake_server, GenerateConfig(logprobs=True)).logprobs is None


def test_concurrency_limit_per_endpoint(fake_server: FakeOpenAIServer):
    fake_server.default = lambda _: Reply(body=chat_completion("A"), delay=0.05)

    async def go():
        p = pool(max_connections=3)
        # two specs on one endpoint share the one limit
        a = p.get(f"openai-compatible/m1@{fake_server.base_url}")
        b = p.get(f"openai-compatible/m2@{fake_server.base_url}")
        await asyncio.gather(*(m.generate(MSG) for m in (a, b) for _ in range(10)))
        await p.aclose()

    asyncio.run(go())
    assert len(fake_server.requests) == 20
    assert fake_server.max_in_flight == 3


def test_cache_hits_and_accounting(fake_server: FakeOpenAIServer):
    fake_server.default = lambda _: OK
    cache = MemoryCache()

    async def go():
        p = pool(cache=cache)
        m = p.get(f"openai-compatible/fake@{fake_server.base_url}")
        with call_log() as calls:
            first = await m.generate(MSG, role="judge")
            second = await m.generate(MSG, role="judge")
            warm = await m.generate(MSG, GenerateConfig(temperature=0.7))  # sampled: not cached in auto mode
            warm2 = await m.generate(MSG, GenerateConfig(temperature=0.7))
        await p.aclose()
        return first, second, warm, warm2, calls

    first, second, _, _, calls = asyncio.run(go())
    assert not first.cached and second.cached and second.text == first.text
    assert len(fake_server.requests) == 3
    assert [c.cache_hit for c in calls] == [False, True, False, False]
    assert calls[0].role == "judge" and calls[0].prompt_tokens == 10


def test_cache_off_and_on(fake_server: FakeOpenAIServer):
    fake_server.default = lambda _: OK

    async def go(mode):
        p = pool(cache=MemoryCache(), cache_mode=mode)
        m = p.get(f"openai-compatible/fake@{fake_server.base_url}")
        config = GenerateConfig(temperature=0.9, seed=1)
        out = [await m.generate(MSG, config) for _ in range(2)]
        await p.aclose()
        return out

    assert [c.cached for c in asyncio.run(go("off"))] == [False, False]
    assert [c.cached for c in asyncio.run(go("on"))] == [False, True]


def test_vllm_spec_round_robin_and_guided_choice():
    with FakeOpenAIServer() as s1, FakeOpenAIServer() as s2:

        async def go():
            p = pool()
            m = p.get(f"vllm/org/model@{s1.base_url},{s2.base_url}")
            for _ in range(4):
                await m.generate(MSG, GenerateConfig(choices=("A", "B"), temperature=0.5))
            await p.aclose()

        asyncio.run(go())
        assert len(s1.requests) == 2 and len(s2.requests) == 2
        assert s1.requests[0]["structured_outputs"] == {"choice": ["A", "B"]}
        assert s1.requests[0]["model"] == "org/model"


def test_spec_errors(monkeypatch: pytest.MonkeyPatch):
    for bad, message in [
        ("gpt-4o", "expected provider/model"),
        ("nope/model", "unknown provider"),
        ("openai-compatible/x", "needs a base URL"),
        ("vllm/x@ftp://host", "must start with http"),
        ("local/", "model name is empty"),
    ]:
        with pytest.raises(InputError, match=message):
            parse_spec(bad)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(InputError, match="set OPENAI_API_KEY"):
        ModelPool().get("openai/gpt-4o-mini")
    monkeypatch.delenv("OVERSIGHT_VLLM_BASE_URL", raising=False)
    with pytest.raises(InputError, match="needs a base URL"):
        ModelPool().get("vllm/some-model")


def test_the_response_cache_keys_on_the_endpoint_not_just_the_model_name():
    """Two servers that both call their model "default" answer differently; neither answer is served for the other."""
    with (
        FakeOpenAIServer(lambda _: Reply(body=chat_completion("from one"))) as one,
        FakeOpenAIServer(lambda _: Reply(body=chat_completion("from two"))) as two,
    ):
        cache = MemoryCache()

        async def ask(url: str) -> str:
            p = pool(cache=cache, max_retries=0)
            try:
                return (await p.get(f"openai-compatible/default@{url}").generate(MSG)).text
            finally:
                await p.aclose()

        assert asyncio.run(ask(one.base_url)) == "from one"
        assert asyncio.run(ask(two.base_url)) == "from two"
        assert asyncio.run(ask(one.base_url)) == "from one" and len(one.requests) == 1  # a hit for the same endpoint
        dead = one.base_url.replace(str(one.port), "9")
    with pytest.raises(ModelError):  # nothing answers there: no other server's cached answer either
        asyncio.run(ask(dead))


@pytest.mark.parametrize("transport", ["lean", "sdk"])
def test_both_transports_send_the_same_body_and_read_faults_alike(
    fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, transport: str
):
    from oversight.models._http import LeanClient
    from oversight.models._openai import SDKClient, make_client

    if transport == "sdk":
        monkeypatch.setenv("OVERSIGHT_OPENAI_TRANSPORT", "sdk")
    client = make_client(parse_spec(f"openai-compatible/fake@{fake_server.base_url}"), fake_server.base_url, "EMPTY")
    assert isinstance(client, SDKClient if transport == "sdk" else LeanClient)
    fake_server.push(Reply(drop=True), Reply(status=429, headers={"Retry-After": "0.3"}), OK)
    start = time.perf_counter()
    assert generate(fake_server, GenerateConfig(max_tokens=4, seed=7)).text == "B 60%"  # a dropped connection, then a rate limit
    assert time.perf_counter() - start >= 0.3 and len(fake_server.requests) == 3
    body = fake_server.requests[-1]
    assert body["messages"] == [{"role": "user", "content": "Which? A or B"}] and body["max_tokens"] == 4 and body["seed"] == 7
    fake_server.push(Reply(status=400, body={"error": {"message": "maximum context length is 2048 tokens"}}))
    with pytest.raises(ModelError, match=r"HTTP 400: .*maximum context length is 2048 tokens"):
        generate(fake_server)


def test_an_unknown_transport_is_one_clear_error(fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OVERSIGHT_OPENAI_TRANSPORT", "httpx")
    with pytest.raises(InputError, match=r"^OVERSIGHT_OPENAI_TRANSPORT='httpx': choose sdk or lean"):
        generate(fake_server)
    assert fake_server.requests == []
