"""Against a real vLLM server (the CPU build serving the embedded model), started and stopped by `oversight serve`.

One server is started for the module (1–3 minutes on 2 cores) and shared by every test here; the
last test stops it and checks that no process is left. Needs vLLM's environment (`oversight serve
--install-cpu`, which `.ci/run` builds); elsewhere the module is skipped, saying so, and under CI
it fails instead.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from conftest import dead_url, free_port, run_cli, write_jsonl
from fake_openai import FakeOpenAIServer, Reply
from oversight.models import GenerateConfig, Message, ModelPool
from oversight.serve import find_vllm_python, records
from oversight.serve.processes import group_members

pytestmark = pytest.mark.vllm

NAME = "smollm2-135m"
SPEC = f"vllm/{NAME}"
SAMPLE = str(files("oversight.samples") / "quickstart.jsonl")


@dataclass
class Served:
    url: str
    pgids: list[int]
    state: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if find_vllm_python() is None:
        reason = "needs vLLM's CPU environment: run `oversight serve --install-cpu` (or set OVERSIGHT_VLLM_PYTHON)"
        if os.environ.get("CI"):
            pytest.fail(f"CI builds vLLM's environment, but it is missing: {reason}")
        pytest.skip(reason)
    patch = pytest.MonkeyPatch()
    state = tmp_path_factory.mktemp("serve-state")
    patch.setenv("OVERSIGHT_STATE_DIR", str(state))  # apart from any server the user runs
    patch.delenv("OVERSIGHT_VLLM_BASE_URL", raising=False)
    try:
        code = run_cli("serve", NAME, "--port", str(free_port()), "--cpu-kv-cache-gb", "1", "--device", "cpu")
        assert code == 0, "oversight serve smollm2-135m failed (see the captured stderr)"
        record = records.load(NAME)
        assert record is not None and len(record.urls) == 1
        yield Served(url=record.urls[0], pgids=[r.pid for r in record.replicas], state=state)
    finally:
        run_cli("serve", "--stop")  # whatever the last test left running
        patch.undo()


@pytest.fixture(scope="module")
def debate_db(served: Served, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 2-round debate on one sample question, every role on the served model (named without a URL)."""
    db = f"sqlite:///{tmp_path_factory.mktemp('vllm-db') / 'v.db'}"
    code = run_cli(
        "run", "--protocol", "debate", "--dataset", SAMPLE, "--limit", "1", "--rounds", "2", "--debater", SPEC, "--judge", SPEC,
        "--debater-max-tokens", "40", "--word-limit", "30", "--db", db, "--run-name", "vd", "--no-progress", "--cache", "off",
    )  # fmt: skip
    assert code == 0
    return db


def test_list_shows_the_server_ready(served: Served, capsys: pytest.CaptureFixture[str]):
    capsys.readouterr()
    assert run_cli("serve", "--list", "--format", "json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["url"], r["state"], r["device"]) for r in rows] == [(NAME, served.url, "ready", "cpu")]


def test_logprob_judge_with_the_choice_constraint(served: Served):
    async def go():
        pool = ModelPool(max_retries=2)
        try:
            model = pool.get(SPEC)
            prompt = [Message(role="user", content="Is fire hot? Reply A for yes or B for no.")]
            return await model.generate(prompt, GenerateConfig(max_tokens=1, logprobs=True, top_logprobs=5, choices=("A", "B")))
        finally:
            await pool.aclose()

    completion = asyncio.run(go())
    assert completion.text in ("A", "B")
    dist = completion.first_token_distribution()
    assert dist["A"] + dist["B"] == pytest.approx(1.0, abs=1e-3)  # the constraint leaves no mass elsewhere
    assert completion.usage.prompt_tokens > 0


def test_naive_run_judges_by_logprobs(served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    db = f"sqlite:///{tmp_path / 'n.db'}"
    assert run_cli("run", "--protocol", "naive", "--dataset", SAMPLE, "--judge", SPEC, "--db", db, "--run-name", "vn", "--no-progress") == 0
    capsys.readouterr()
    assert run_cli("export", "judgments", "--db", db) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 12 and all(r["valid"] and r["method"] == "logprobs" for r in rows)
    assert all(r["p_a"] + r["p_b"] == pytest.approx(1.0) for r in rows)


def test_debate_later_calls_hit_vllms_prefix_cache(debate_db: str):
    from oversight.db import connect
    from oversight.db.schema import ModelCall

    engine = connect(debate_db)
    with engine.connect() as conn:
        calls = conn.execute(select(ModelCall.role, ModelCall.prompt_tokens, ModelCall.cached_prompt_tokens).order_by(ModelCall.id)).all()
    engine.dispose()
    debaters = [c for c in calls if c.role.startswith("debater")]
    assert len(debaters) == 4 and len(calls) == 6  # 2 rounds × 2 debaters, 2 judge orders
    # round 1's two turns are sent at once (simultaneous turns), so only round 2 is sure to find the story cached
    later = debaters[2:]
    assert all(c.cached_prompt_tokens > 0 for c in later)  # reported by vLLM (--enable-prompt-tokens-details)
    # the sample's stories are short, so the turns and instructions that differ are a large part of each prompt
    # (long articles reach 80% and more: `oversight bench vllm`); vLLM caches in blocks of 128 tokens on CPU
    share = sum(c.cached_prompt_tokens for c in later) / sum(c.prompt_tokens for c in later)
    assert share >= 0.3, [tuple(c) for c in calls]


def test_rejudging_calls_only_the_new_judge(debate_db: str, capsys: pytest.CaptureFixture[str]):
    assert run_cli("judge", "--run", "vd", "--judge", SPEC, "--judge-prompt", "v1-cot", "--db", debate_db, "--no-progress", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["judged"] == 2 and summary["status"] == "finished"
    assert run_cli("usage", "--db", debate_db, "--format", "json") == 0
    usage = {r["role"]: r["calls"] for r in json.loads(capsys.readouterr().out)}
    assert usage["debater_a"] == 2 and usage["debater_b"] == 2  # no debater was called again


def test_weak_to_strong_prompt_method(served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    rows = [{"id": i, "question": f"Is {i} an even number?", "options": ["yes", "no"], "answer": i % 2} for i in range(8)]
    data = write_jsonl(tmp_path / "even.jsonl", rows)
    code = run_cli(
        "w2s", "--dataset", str(data), "--method", "prompt", "--weak", SPEC, "--strong", SPEC, "--seeds", "1", "--k-shot", "2",
        "--db", f"sqlite:///{tmp_path / 'w.db'}", "--json",
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = json.loads(out)
    assert summary["invalid"] == 0  # every reply read from logprobs under the True/False constraint
    assert summary["student"]["accuracy"]["n"] == 1 and 0.0 <= summary["student"]["accuracy"]["mean"] <= 1.0


def test_failover_between_the_real_server_and_a_dead_one(served: Served):
    with FakeOpenAIServer() as flaky:
        flaky.default = lambda _: Reply(status=503)
        flaky.models_status = 503  # its probe fails too, so it stays out

        async def go():
            pool = ModelPool(max_retries=3, retry_wait_max=0.05)
            try:
                model = pool.get(f"vllm/{NAME}@{served.url},{dead_url()},{flaky.base_url}")
                prompt = [Message(role="user", content="Say A or B.")]
                out = await asyncio.gather(*(model.generate(prompt, GenerateConfig(max_tokens=1, choices=("A", "B"))) for _ in range(6)))
                replicas = model.provider.router.replicas  # type: ignore[attr-defined]
                return [c.text for c in out], [(r.url, r.healthy) for r in replicas]
            finally:
                await pool.aclose()

        texts, health = asyncio.run(go())
    assert all(t in ("A", "B") for t in texts)
    assert health[0] == (served.url, True) and not health[1][1] and not health[2][1]


def test_bench_vllm_reports_both_figures(served: Served, capsys: pytest.CaptureFixture[str]):
    code = run_cli("bench", "vllm", "--model", SPEC, "--n", "6", "--concurrency", "4", "--dataset", SAMPLE, "--articles", "2",
                   "--rounds", "1", "--max-tokens", "16")  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    judge = result["judge_calls"]
    assert judge["status"] == "finished" and judge["written"] == 6 and judge["ratio"] > 0
    assert [d["status"] for d in result["debates"]] == ["finished", "finished"]
    assert all(d["calls"] == 4 and d["cached_share_after_first_call"] > 0 for d in result["debates"])


def test_embeddings_endpoint_as_a_weak_to_strong_feature_source(served: Served, tmp_path: Path):
    """A second server, in vLLM's pooling mode, gives embeddings to the probe pipeline; stopped afterwards."""
    from oversight.w2s.features import features

    port = free_port()
    assert run_cli("serve", NAME, "--task", "embed", "--name", "smollm2-embed", "--port", str(port), "--cpu-kv-cache-gb", "1",
                   "--max-model-len", "512", "--device", "cpu") == 0  # fmt: skip
    record = records.load("smollm2-embed")
    assert record is not None
    try:
        texts = ["Is the sky blue?\nAnswer: yes", "Is the sky blue?\nAnswer: no", "Is the sky blue?\nAnswer: yes"]
        x = features("vllm/smollm2-embed", texts, cache_dir=tmp_path)
        assert x.shape == (3, 576) and np.allclose(x[0], x[2]) and not np.allclose(x[0], x[1])
    finally:
        assert run_cli("serve", "--stop", "smollm2-embed") == 0
    assert all(group_members(r.pid) == [] for r in record.replicas)


def test_a_model_that_fails_to_load_is_one_line_and_leaves_nothing(served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"architectures": ["NoSuchForCausalLM"], "model_type": "nosuch"}))
    capsys.readouterr()
    assert run_cli("serve", str(broken), "--port", str(free_port()), "--device", "cpu") == 1
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if x.startswith("error:"))
    assert "exited before it was ready" in line and "nosuch" in line
    assert records.load("broken-model") is None


def test_stop_leaves_no_process_behind(served: Served, capsys: pytest.CaptureFixture[str]):
    assert all(group_members(g) for g in served.pgids)
    assert run_cli("serve", "--stop", NAME) == 0
    assert all(group_members(g) == [] for g in served.pgids)
    capsys.readouterr()
    assert run_cli("serve", "--list", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out) == []
