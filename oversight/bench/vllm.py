"""`oversight bench vllm`: the engine against a real vLLM server, and vLLM's prefix-cache share in debates.

Two figures in one run. (1) Judge calls: the same naive-protocol judge requests (same prompts,
parameters and answer orders) sent once by a bare aiohttp loop and once through the whole engine
(wrapper, routing, judging, SQL writes); after an untimed warm-up pass, so both meet the same
warm prefix cache. (2) A debate per article, every role on the served model: the share of prompt
tokens vLLM reports serving from its prefix cache after each article's first call (target ≥ 80%).
A model given by name that is not served yet is started for the run and stopped afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from oversight.bench import peak_rss_mib
from oversight.bench.engine import _bare_loop, judge_request_bodies
from oversight.bench.prefix import debate_prefix_share
from oversight.errors import InputError

DEFAULT_DATASET = "../shared/data/quality_debate/train.jsonl"


@contextlib.contextmanager
def _endpoint(model: str, log: Callable[[str], None]) -> Iterator[tuple[str, str]]:
    """(spec pinned to one URL, that URL) for `model`, starting the embedded model with vLLM if nothing serves it."""
    from oversight.models import parse_spec
    from oversight.serve import ServeOptions, served_urls, start, stop
    from oversight.serve.export import EXPORTABLE

    spec = parse_spec(model)
    if spec.provider not in ("vllm", "openai-compatible"):
        raise InputError(f"--model {model!r}: name a vLLM model, e.g. vllm/smollm2-135m or vllm/NAME@http://host:8000/v1")
    urls = spec.base_urls or served_urls(spec.model)
    if urls:
        yield f"{spec.name}@{urls[0]}", urls[0]
        return
    if spec.model not in EXPORTABLE:
        raise InputError(f"{spec.model} is not served here: start it with `oversight serve MODEL --name {spec.model}`, or give its URL")
    from oversight.bench.engine import _free_port

    record = start(ServeOptions(model=spec.model, port=_free_port(), device="cpu"), log=log)
    try:
        yield f"{spec.name}@{record.urls[0]}", record.urls[0]
    finally:
        stop(record.name)


def _judge_calls(spec: str, url: str, n: int, concurrency: int, workdir: Path) -> dict[str, Any]:
    from oversight.config import RunConfig
    from oversight.data import load_dataset
    from oversight.engine import Runner

    dataset = workdir / "judge.jsonl"
    with dataset.open("w") as handle:
        for i in range(n):
            handle.write(
                json.dumps({"id": f"q{i}", "question": f"Is {i} an even number?", "options": ["yes", "no"], "answer": i % 2}) + "\n"
            )
    _, questions = load_dataset(dataset)
    bodies = judge_request_bodies(spec, questions, seed=0)
    endpoint = url + "/chat/completions"
    asyncio.run(_bare_loop(endpoint, bodies, concurrency))  # warm-up: both timed passes meet a warm prefix cache
    bare = asyncio.run(_bare_loop(endpoint, bodies, concurrency))
    config = RunConfig(
        protocol="naive", dataset=str(dataset), judges=[spec], orders="random", db=f"sqlite:///{workdir}/judge.db",
        run_name="bench-vllm-judge", max_connections=concurrency, progress=False, seed=0,
    )  # fmt: skip
    start = time.perf_counter()
    summary = asyncio.run(Runner(config).run())
    engine_s = time.perf_counter() - start
    return {
        "items": n,
        "concurrency": concurrency,
        "bare_aiohttp_s": round(bare, 2),
        "engine_s": round(engine_s, 2),
        "ratio": round(engine_s / bare, 2),
        "target_ratio": 3.0,
        "requests_per_s_engine": round(n / engine_s, 1),
        "status": summary.status,
        "written": summary.written,
    }


def vllm_benchmark(
    model: str = "vllm/smollm2-135m",
    *,
    n: int = 200,
    concurrency: int = 32,
    dataset: str = DEFAULT_DATASET,
    articles: int = 2,
    rounds: int = 3,
    max_tokens: int = 48,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    from oversight.data import load_dataset

    _, questions = load_dataset(dataset)
    per_article: dict[str, Any] = {}
    for q in questions:
        per_article.setdefault(q.cluster, q)
    chosen = list(per_article.values())[:articles]
    if not chosen or not chosen[0].context:
        raise InputError(f"--dataset {dataset}: the prefix-cache part needs questions with articles (a QuALITY-style file)")
    started = time.perf_counter()
    with _endpoint(model, log) as (spec, url), tempfile.TemporaryDirectory() as tmp:
        log(f"judge calls: {n} items through a bare aiohttp loop and through the engine ({spec})")
        judge = _judge_calls(spec, url, n, concurrency, Path(tmp))
        debates = []
        for q in chosen:
            log(f"{rounds}-round debate on {q.id} ({len(q.context)} characters of article)")
            debates.append(
                {"question": q.id, "article_chars": len(q.context)}
                | debate_prefix_share(q, spec, Path(tmp), rounds=rounds, max_tokens=max_tokens)
            )
    shares = [d["cached_share_after_first_call"] for d in debates]
    return {
        "model": model,
        "judge_calls": judge,
        "debates": debates,
        "prefix_cached_share_min": min(shares),
        "prefix_cached_share_mean": round(sum(shares) / len(shares), 3),
        "target_share": 0.8,
        "total_s": round(time.perf_counter() - started, 1),
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }
