"""Replicas: fewest requests in flight first, a limit per endpoint, failover, probing and recovery (scripted servers)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from conftest import dead_url
from fake_openai import FakeOpenAIServer, Reply, chat_completion
from oversight.errors import ModelError
from oversight.models import Message, Model, ModelPool

MSG = [Message(role="user", content="A or B?")]


def ok(delay: float = 0.0) -> Callable[[dict[str, Any]], Reply]:
    return lambda _: Reply(body=chat_completion("A"), delay=delay)


def down(_: dict[str, Any]) -> Reply:
    return Reply(status=503)


def make_pool(**kw: Any) -> ModelPool:
    kw.setdefault("max_retries", 4)
    kw.setdefault("retry_wait_max", 0.05)
    return ModelPool(**kw)


def fast_probes(model: Model) -> None:
    router = model.provider.router  # type: ignore[attr-defined]
    router.probe_interval = router.probe_max = 0.05


async def stream(model: Model, n: int, workers: int) -> None:
    """`n` requests sent by `workers` concurrent senders, each waiting for its reply before the next."""
    todo = list(range(n))

    async def worker() -> None:
        while todo:
            todo.pop()
            await model.generate(MSG)

    await asyncio.gather(*(worker() for _ in range(workers)))


def test_fewest_in_flight_sends_more_to_the_faster_replica():
    with FakeOpenAIServer(ok(0.25)) as slow, FakeOpenAIServer(ok(0.01)) as fast:

        async def go() -> None:
            pool = make_pool()
            await stream(pool.get(f"vllm/m@{slow.base_url},{fast.base_url}"), 40, 4)
            await pool.aclose()

        asyncio.run(go())
    assert len(slow.requests) + len(fast.requests) == 40
    assert len(fast.requests) >= 30, (len(slow.requests), len(fast.requests))  # round robin would give 20/20


def test_each_replica_has_its_own_concurrency_limit():
    with FakeOpenAIServer(ok(0.1)) as s1, FakeOpenAIServer(ok(0.1)) as s2:

        async def go() -> None:
            pool = make_pool(max_connections=2)
            model = pool.get(f"vllm/m@{s1.base_url},{s2.base_url}")
            await asyncio.gather(*(model.generate(MSG) for _ in range(16)))
            await pool.aclose()

        asyncio.run(go())
    assert s1.max_in_flight == 2 and s2.max_in_flight == 2
    assert len(s1.requests) == len(s2.requests) == 8


def test_a_failing_replica_is_taken_out_probed_and_put_back():
    with FakeOpenAIServer(down) as flaky, FakeOpenAIServer(ok(0.03)) as good:
        flaky.models_status = 503

        async def go() -> tuple[int, int]:
            pool = make_pool()
            model = pool.get(f"vllm/m@{flaky.base_url},{good.base_url}")
            fast_probes(model)
            await stream(model, 20, 2)  # every request succeeds through the good replica
            sent_while_down = len(flaky.requests)
            probes_while_down = flaky.probes
            flaky.default, flaky.models_status = ok(), 200  # it recovers
            deadline = time.monotonic() + 5
            while not all(r.healthy for r in model.provider.router.replicas) and time.monotonic() < deadline:  # type: ignore[attr-defined]
                await asyncio.sleep(0.02)
            await stream(model, 20, 2)
            await pool.aclose()
            return sent_while_down, probes_while_down

        sent_while_down, probes_while_down = asyncio.run(go())
    assert sent_while_down <= 2  # taken out after its first failure (one per concurrent sender at most)
    assert probes_while_down >= 1
    assert len(flaky.requests) - sent_while_down >= 5  # back in rotation after recovering
    assert len(good.requests) >= 20


def test_a_dead_endpoint_beside_a_live_one_costs_nothing():
    with FakeOpenAIServer(ok()) as live:

        async def go() -> list[str]:
            pool = make_pool()
            model = pool.get(f"vllm/m@{dead_url()},{live.base_url}")
            out = [(await model.generate(MSG)).text for _ in range(10)]
            await pool.aclose()
            return out

        assert asyncio.run(go()) == ["A"] * 10
    assert len(live.requests) == 10


def test_all_replicas_down_is_one_clear_error():
    async def go() -> None:
        pool = make_pool(max_retries=3, unreachable_wait=0.5)
        try:
            await pool.get(f"vllm/m@{dead_url()},{dead_url()}").generate(MSG)
        finally:
            await pool.aclose()

    with pytest.raises(ModelError) as err:
        asyncio.run(go())
    assert "could not be reached for" in str(err.value) and "\n" not in str(err.value)


def test_a_single_endpoint_is_never_taken_out(fake_server: FakeOpenAIServer):
    fake_server.push(Reply(status=503), Reply(status=503))

    async def go() -> str:
        pool = make_pool()
        try:
            return (await pool.get(f"vllm/m@{fake_server.base_url}").generate(MSG)).text
        finally:
            await pool.aclose()

    assert asyncio.run(go()) == "A 70%"
    assert len(fake_server.requests) == 3 and fake_server.probes == 0


def test_bad_requests_do_not_take_a_replica_out():
    with FakeOpenAIServer(lambda _: Reply(status=400, body={"error": {"message": "bad", "type": "invalid_request_error"}})) as s1:
        with FakeOpenAIServer(ok()) as s2:

            async def go() -> bool:
                pool = make_pool()
                model = pool.get(f"vllm/m@{s1.base_url},{s2.base_url}")
                with pytest.raises(ModelError, match="HTTP 400"):
                    await model.generate(MSG)
                healthy = all(r.healthy for r in model.provider.router.replicas)  # type: ignore[attr-defined]
                await pool.aclose()
                return healthy

            assert asyncio.run(go())


def test_embedding_batches_take_the_replicas_in_turn(tmp_path):
    from oversight.w2s.features import features

    with FakeOpenAIServer() as s1, FakeOpenAIServer() as s2:
        x = features(f"vllm/enc@{s1.base_url},{s2.base_url}", [f"text {i}" for i in range(150)], cache_dir=tmp_path)
    assert x.shape == (150, 16)
    assert [len(r["input"]) for r in s1.requests] == [64, 22] and [len(r["input"]) for r in s2.requests] == [64]
