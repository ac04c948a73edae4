"""`--executor ray` on a local Ray instance with the local PostgreSQL: the same rows as a local run, and nothing lost
or doubled when an actor or the driver is killed. Skipped, saying so, only where the `ray` extra is missing (CI has it)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from importlib.resources import files
from pathlib import Path

import pytest

from conftest import run_cli, write_jsonl
from fake_openai import FakeOpenAIServer, Reply, chat_completion
from oversight.config import RunConfig
from oversight.db import connect
from oversight.db.queries import judgment_rows, transcript_rows
from oversight.engine import Runner

SAMPLE = str(files("oversight.samples") / "quickstart.jsonl")


def _need_ray() -> None:
    try:
        import ray  # noqa: F401
    except ModuleNotFoundError:
        if os.environ.get("CI"):
            pytest.fail("CI installs the ray extra, but ray is missing")
        pytest.skip('needs the ray extra: pip install -e ".[ray]"')


pytestmark = pytest.mark.usefixtures("ray_available")


@pytest.fixture
def ray_available() -> None:
    _need_ray()


def scripted(delay: float = 0.0):
    def reply(body: dict) -> Reply:
        prompt = body["messages"][-1]["content"]
        if "You are Debater" in prompt:
            side = "A" if "You are Debater A" in prompt else "B"
            return Reply(
                body=chat_completion(f"Debater {side} argues. <quote>Mara Hollis kept the lighthouse on Gull Rock</quote>"), delay=delay
            )
        return Reply(body=chat_completion("A 70%", logprobs={"A": 0.7, "B": 0.3}), delay=delay)

    return reply


def rows(db: str, run: str) -> tuple[list, list]:
    engine = connect(db)
    transcripts = sorted(
        (t["question_id"], [(turn["role"], turn["text"]) for turn in t["turns"]], t["outcome"]["models"])
        for t in transcript_rows(engine, run)
    )
    judgments = sorted((r["question_id"], r["judge"], r["order"], r["p_a"], r["p_b"], r["valid"]) for r in judgment_rows(engine, run))
    engine.dispose()
    return transcripts, judgments


def test_a_debate_on_two_actors_stores_exactly_the_rows_of_a_local_run(postgres_url: str):
    with FakeOpenAIServer(default=scripted()) as server:
        spec = f"openai-compatible/m@{server.base_url}"
        common = ["run", "--protocol", "debate", "--dataset", SAMPLE, "--debater", spec, "--judge", spec, "--rounds", "2",
                  "--db", postgres_url, "--no-progress", "--seed", "3"]  # fmt: skip
        assert run_cli(*common, "--run-name", "local") == 0
        # --cache off: the actors make every call themselves (with the cache on, they answer from the local run's entries)
        assert run_cli(*common, "--run-name", "ray", "--executor", "ray", "--workers", "2", "--ray-address", "local", "--cache", "off") == 0
        assert run_cli(*common, "--run-name", "ray", "--executor", "ray", "--workers", "2", "--cache", "off") == 0  # resumed: nothing to do
        assert len(server.requests) == 2 * 6 * (4 + 2)
    local, ray_made = rows(postgres_url, "local"), rows(postgres_url, "ray")
    assert local == ray_made and len(local[0]) == 6 and len(local[1]) == 12


@pytest.mark.slow
def test_a_killed_actor_loses_and_doubles_nothing(postgres_url: str):
    with FakeOpenAIServer(default=scripted(delay=0.15)) as server:
        spec = f"openai-compatible/m@{server.base_url}"
        config = RunConfig(protocol="debate", dataset=SAMPLE, debater=spec, judges=[spec], rounds=2, db=postgres_url, run_name="kill",
                           progress=False, executor="ray", workers=2)  # fmt: skip

        async def run_and_kill() -> object:
            task = asyncio.create_task(Runner(config).run())
            while len(server.requests) < 8:  # items are in flight on both actors
                await asyncio.sleep(0.05)
            pids = subprocess.run(["pgrep", "-f", "ray::ItemWorker"], capture_output=True, text=True).stdout.split()
            assert pids, "no Ray worker process found"
            os.kill(int(pids[0]), signal.SIGKILL)
            return await task

        summary = asyncio.run(run_and_kill())
    assert summary.status == "finished" and summary.written == 6, summary.errors  # type: ignore[attr-defined]
    transcripts, judgments = rows(postgres_url, "kill")
    assert len(transcripts) == 6 and len({t[0] for t in transcripts}) == 6
    assert len(judgments) == 12 and len(set(judgments)) == 12
    assert all(len(t[1]) == 4 for t in transcripts)


@pytest.mark.slow
def test_a_killed_driver_resumes_without_duplicates(postgres_url: str, tmp_path: Path):
    questions = [{"id": f"q{i}", "question": f"Question number {i}?", "options": ["yes", "no"], "answer": 0} for i in range(12)]
    data = write_jsonl(tmp_path / "q.jsonl", questions)

    def slow_by_question(body: dict) -> Reply:  # question i takes 0.4 i seconds: items finish one after another
        number = int(re.search(r"Question number (\d+)", body["messages"][-1]["content"]).group(1))
        return Reply(body=chat_completion("A 70%", logprobs={"A": 0.7, "B": 0.3}), delay=0.4 * number)

    with FakeOpenAIServer(default=slow_by_question) as server:
        spec = f"openai-compatible/m@{server.base_url}"
        args = [sys.executable, "-m", "oversight", "run", "--protocol", "naive", "--dataset", str(data), "--judge", spec, "--db", postgres_url,
                "--no-progress", "--run-name", "driver", "--executor", "ray", "--workers", "2"]  # fmt: skip
        driver = subprocess.Popen(args, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while len(transcript_rows(connect(postgres_url), "driver")) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        os.killpg(driver.pid, signal.SIGKILL)  # the driver and the Ray instance it started
        driver.wait(30)
        stored = len(transcript_rows(connect(postgres_url), "driver"))
        assert 2 <= stored < 12
        env = {**os.environ, "OVERSIGHT_LEASE_SECONDS": "1"}  # the dead driver's lease runs out at once
        time.sleep(1.5)
        resumed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr
    transcripts, judgments = rows(postgres_url, "driver")
    assert len(transcripts) == 12 and len({t[0] for t in transcripts}) == 12 and len(set(judgments)) == len(judgments) == 24


@pytest.mark.slow
def test_the_embedded_model_on_two_actors(tmp_path: Path):
    db = f"sqlite:///{tmp_path / 'e.db'}"
    code = run_cli("run", "--protocol", "naive", "--dataset", SAMPLE, "--limit", "4", "--db", db, "--no-progress", "--run-name", "emb",
                   "--executor", "ray", "--workers", "2")  # fmt: skip
    assert code == 0
    engine = connect(db)
    judged = judgment_rows(engine, "emb")
    assert len(judged) == 8 and all(r["judge"] == "local/smollm2-135m" for r in judged) and sum(r["valid"] for r in judged) >= 6


def test_rejudging_on_ray_adds_the_same_judgments_as_locally(postgres_url: str):
    with FakeOpenAIServer(default=scripted()) as server:
        spec = f"openai-compatible/m@{server.base_url}"
        assert run_cli("run", "--protocol", "debate", "--dataset", SAMPLE, "--debater", spec, "--judge", spec, "--rounds", "1",
                       "--db", postgres_url, "--no-progress", "--run-name", "d") == 0  # fmt: skip
        local, ray_judge = f"openai-compatible/local-judge@{server.base_url}", f"openai-compatible/ray-judge@{server.base_url}"
        assert run_cli("judge", "--run", "d", "--judge", local, "--db", postgres_url, "--no-progress") == 0
        assert run_cli("judge", "--run", "d", "--judge", ray_judge, "--db", postgres_url, "--no-progress", "--executor", "ray",
                       "--workers", "2") == 0  # fmt: skip
        assert run_cli("judge", "--run", "d", "--judge", ray_judge, "--db", postgres_url, "--no-progress", "--executor", "ray") == 0
    judged = judgment_rows(connect(postgres_url), "d")
    by_judge = {j: sorted((r["question_id"], r["order"], r["p_a"]) for r in judged if r["judge"] == j)
                for j in ("openai-compatible/local-judge", "openai-compatible/ray-judge")}  # fmt: skip
    assert (
        len(by_judge["openai-compatible/ray-judge"]) == 12
        and by_judge["openai-compatible/ray-judge"] == by_judge["openai-compatible/local-judge"]
    )


def test_weak_to_strong_seeds_as_ray_tasks_give_the_local_figures(postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from conftest import TRUTHFULQA

    def w2s(*extra: str) -> dict:
        code = run_cli("w2s", "--dataset", str(TRUTHFULQA), "--weak", "bow", "--strong", "bow", "--n", "60", "--seeds", "3",
                       "--cache-dir", str(tmp_path), "--db", postgres_url, "--json", *extra)  # fmt: skip
        out = capsys.readouterr().out
        assert code == 0
        return json.loads(out)

    local, on_ray = w2s("--run-name", "local"), w2s("--run-name", "ray", "--executor", "ray")
    for role in ("weak", "student", "ceiling"):
        assert on_ray[role]["accuracy"] == local[role]["accuracy"]
    assert on_ray["pgr"] == local["pgr"]
