"""`--batch`: a run's calls go through the Batch API (files and batches routes of the scripted server), are
polled, stored as usual, and a run stopped while its batch was out resumes without submitting it again."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import run_cli, write_jsonl
from fake_openai import FakeOpenAIServer, Reply, chat_completion
from oversight.config import RunConfig
from oversight.db import connect
from oversight.db.queries import judgment_rows, transcript_rows
from oversight.db.schema import BatchJobRow
from oversight.engine import Runner

QUESTIONS = [{"id": f"q{i}", "question": f"Is {i} even?", "options": ["yes", "no"], "answer": i % 2} for i in range(5)]


def judge(body: dict) -> Reply:
    return Reply(body=chat_completion("A 70%", logprobs={"A": 0.7, "B": 0.3}))


def args(server: FakeOpenAIServer, data: Path, db: str, *extra: str) -> list[str]:
    spec = f"openai-compatible/judge@{server.base_url}"
    return ["run", "--protocol", "naive", "--dataset", str(data), "--judge", spec, "--db", db, "--batch", "--batch-poll", "0.05",
            "--no-progress", "--run-name", "b", *extra]  # fmt: skip


def test_a_judge_run_is_one_batch_stored_as_usual(tmp_path: Path):
    data, db = write_jsonl(tmp_path / "q.jsonl", QUESTIONS), f"sqlite:///{tmp_path / 'b.db'}"
    with FakeOpenAIServer(default=judge) as server:
        assert run_cli(*args(server, data, db)) == 0
        assert len(server.batches) == 1 and len(server.requests) == 10  # 5 questions x 2 orders, in one file
        [batch] = server.batches.values()
        assert all(line["url"] == "/v1/chat/completions" and line["body"]["logprobs"] for line in batch["lines"])
    rows = judgment_rows(connect(db), "b")
    assert len(rows) == 10 and all(r["valid"] and r["method"] == "logprobs" for r in rows)
    with connect(db).connect() as conn:
        job = conn.execute(select(BatchJobRow)).one()
    assert job.status == "completed" and job.requests == 10 and job.output_file_id
    with FakeOpenAIServer(default=judge) as other:  # re-judging with another judge: one more batch
        assert run_cli("judge", "--run", "b", "--judge", f"openai-compatible/other@{other.base_url}", "--db", db, "--batch",
                       "--batch-poll", "0.05", "--no-progress") == 0  # fmt: skip
        assert len(other.batches) == 1 and len(other.requests) == 10
    assert len(judgment_rows(connect(db), "b")) == 20


def test_a_debate_sends_one_batch_per_round_and_failed_lines_are_retried(tmp_path: Path):
    data, db = write_jsonl(tmp_path / "q.jsonl", QUESTIONS[:2]), f"sqlite:///{tmp_path / 'b.db'}"
    with FakeOpenAIServer(default=lambda b: Reply(body=chat_completion("I argue my side." if "Debater" in str(b) else "A 60%"))) as server:
        server.push(Reply(status=500))  # the first line of the first batch fails: retried in a later batch
        spec = f"openai-compatible/m@{server.base_url}"
        code = run_cli("run", "--protocol", "debate", "--dataset", str(data), "--debater", spec, "--judge", spec, "--rounds", "2",
                       "--db", db, "--batch", "--batch-poll", "0.05", "--no-progress", "--run-name", "d")  # fmt: skip
        assert code == 0
        assert len(server.batches) >= 3  # round 1, round 2, judges (the retried line rides along with a later one)
    [t, _] = transcript_rows(connect(db), "d")
    assert [turn["round"] for turn in t["turns"]] == [1, 1, 2, 2] and len(judgment_rows(connect(db), "d")) == 4


def test_a_run_stopped_while_its_batch_was_out_resumes_from_it(tmp_path: Path):
    data, db = write_jsonl(tmp_path / "q.jsonl", QUESTIONS), f"sqlite:///{tmp_path / 'b.db'}"
    with FakeOpenAIServer(default=judge) as server:
        server.batch_polls = 10**6  # the batch never ends while the first attempt waits

        async def first_attempt() -> None:
            cli = args(server, data, db)
            config = RunConfig(protocol="naive", dataset=str(data), judges=[cli[cli.index("--judge") + 1]], db=db, batch=True,
                               batch_poll=0.05, progress=False, run_name="b")  # fmt: skip
            task = asyncio.create_task(Runner(config).run())
            while not server.batches:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            task.cancel()  # Ctrl-C while the batch is out
            summary = await task
            assert summary.status == "interrupted" and summary.written == 0

        asyncio.run(first_attempt())
        assert len(server.batches) == 1
        server.batch_polls = 3  # the provider finishes it
        assert run_cli(*args(server, data, db)) == 0
        assert len(server.batches) == 1  # read back, not submitted again
        assert len(server.requests) == 10
    assert len(judgment_rows(connect(db), "b")) == 10


def test_batch_needs_a_model_with_a_batch_api(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    data = write_jsonl(tmp_path / "q.jsonl", QUESTIONS)
    code = run_cli("run", "--protocol", "naive", "--dataset", str(data), "--judge", "mock/j", "--db", f"sqlite:///{tmp_path / 'x.db'}",
                   "--batch")  # fmt: skip
    assert code == 2 and "--batch: none of this run's models has a batch API" in capsys.readouterr().err


def test_a_failed_batch_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    data, db = write_jsonl(tmp_path / "q.jsonl", QUESTIONS[:1]), f"sqlite:///{tmp_path / 'b.db'}"
    with FakeOpenAIServer(default=judge) as server:
        server.batch_end = "failed"
        code = run_cli(*args(server, data, db, "--max-retries", "0"))
    err = capsys.readouterr().err
    assert code == 1 and "the file is not valid JSONL" in err and "Traceback" not in err
    assert json.loads(json.dumps(judgment_rows(connect(db), "b"))) == []


def test_ray_options_that_cannot_work_stop_before_anything_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    data, db = write_jsonl(tmp_path / "q.jsonl", QUESTIONS), tmp_path / "b.db"
    base = ["run", "--protocol", "naive", "--dataset", str(data), "--judge", "mock/j", "--db", f"sqlite:///{db}", "--no-progress"]
    assert run_cli(*base, "--executor", "ray", "--worker-resources", '{"gpus": 1}') == 2
    assert "worker-resources: give a JSON object with any of memory, num_cpus, num_gpus, resources" in capsys.readouterr().err
    assert run_cli(*base, "--executor", "ray", "--worker-resources", "{num_gpus") == 2
    assert "worker-resources: not JSON" in capsys.readouterr().err
    assert not db.exists()  # refused while reading the options
    with FakeOpenAIServer(default=judge) as server:
        spec = f"openai-compatible/j@{server.base_url}"
        code = run_cli("run", "--protocol", "naive", "--dataset", str(data), "--judge", spec, "--db", f"sqlite:///{db}", "--executor", "ray",
                       "--batch")  # fmt: skip
        assert code == 2 and "--batch and --executor ray" in capsys.readouterr().err and server.requests == []
    assert judgment_rows(connect(f"sqlite:///{db}")) == []
