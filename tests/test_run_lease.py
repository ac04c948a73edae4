"""One process per run: leases, heartbeats, stale runs, concurrent starts and migrations, and a writer that fails."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from test_engine import config, counts, questions, scripted

from conftest import run_cli, write_jsonl
from fake_openai import FakeOpenAIServer, Reply, chat_completion
from oversight.db import connect
from oversight.db.queries import run_summaries
from oversight.db.runs import RunBusyError, start_run
from oversight.db.schema import Run
from oversight.engine import run_sync

RUN_FIELDS = dict(protocol="naive", dataset="d", dataset_path="d", dataset_format="generic", config={}, prompt_version="v1",
                  models={}, seed=0, package_version="0", n_items=1)  # fmt: skip


def oversight(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "oversight", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_second_process_on_the_same_run_stops_at_once_with_one_line(tmp_path: Path, db_url: str):
    def slow(request: dict) -> Reply:
        time.sleep(0.02)
        return Reply(body=chat_completion("A", logprobs={"A": 0.7, "B": 0.3}), delay=0.2)

    dataset = write_jsonl(tmp_path / "d.jsonl", questions(30))
    with FakeOpenAIServer(default=slow) as server:
        args = ("run", "--protocol", "naive", "--dataset", str(dataset), "--judge", f"openai-compatible/m@{server.base_url}",
                "--db", db_url, "--run-name", "shared", "--no-progress", "--max-connections", "2")  # fmt: skip
        first = oversight(*args)
        deadline = time.monotonic() + 60
        while len(server.requests) < 3 and time.monotonic() < deadline:  # the first one is under way
            time.sleep(0.1)
        second = oversight(*args)
        _, err = second.communicate(timeout=120)
        requests_when_refused = len(server.requests)
        first.communicate(timeout=300)
    assert second.returncode == 1
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "is being run by another process" in lines[0] and "Traceback" not in err
    assert first.returncode == 0
    assert counts(db_url)["transcripts"] == 30 and counts(db_url)["judgments"] == 60  # nothing doubled
    assert len(server.requests) == 60 and requests_when_refused < 60  # the second process called no model


def test_a_dead_process_leaves_a_stale_run_that_the_next_one_takes_over(tmp_path: Path, sqlite_url: str):
    engine = connect(sqlite_url)
    run_id, _ = start_run(engine, name="r1", config_hash="h", owner="elsewhere:4242:x", **RUN_FIELDS)
    with pytest.raises(RunBusyError, match=r"pid 4242 on elsewhere"):  # its heartbeat is fresh: it is alive
        start_run(engine, name="r1", config_hash="h", owner="here:1:y", **RUN_FIELDS)
    with engine.begin() as conn:  # the process was SIGKILLed a while ago: no heartbeat since
        conn.execute(
            update(Run.__table__).where(Run.__table__.c.id == run_id).values(heartbeat_at=datetime.now(UTC) - timedelta(minutes=5))
        )
    assert [r["status"] for r in run_summaries(engine)] == ["stale"]
    again, _ = start_run(engine, name="r1", config_hash="h", owner="here:1:y", **RUN_FIELDS)
    assert again == run_id and [r["status"] for r in run_summaries(engine)] == ["running"]


def test_a_finished_run_gives_its_lease_back(tmp_path: Path, sqlite_url: str):
    with FakeOpenAIServer(default=scripted) as server:
        cfg = config(tmp_path, server, sqlite_url, protocol="naive", n=3)
        assert run_sync(cfg).status == "finished"
        assert run_sync(cfg).status == "finished"  # the same process (or another) may rerun it at once
    (row,) = run_summaries(connect(sqlite_url))
    assert row["lease_owner"] is None and row["status"] == "finished"


def test_processes_opening_a_new_database_at_once_take_turns_migrating(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    procs = [oversight("db", "upgrade", "--db", url) for _ in range(4)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [e for _, e in results]
    assert all("revision 0010" in e for _, e in results)


def test_a_failing_writer_stops_the_run_and_its_model_calls(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch):
    import oversight.engine as engine_module

    calls = {"n": 0}
    real = engine_module.write_items

    def failing(engine, run_id, items):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > 1:
            raise RuntimeError("disk I/O error")
        return real(engine, run_id, items)

    monkeypatch.setattr(engine_module, "write_items", failing)

    def slow(request: dict) -> Reply:
        reply = scripted(request)
        reply.delay = 0.05
        return reply

    with FakeOpenAIServer(default=slow) as server:
        summary = run_sync(config(tmp_path, server, sqlite_url, protocol="naive", n=200, max_connections=4))
        sent = len(server.requests)
    assert summary.status == "failed" and summary.errors == ["storing results failed (RuntimeError): disk I/O error"]
    assert sent < 400  # the run stopped instead of judging all 200 items in both orders
    stored = counts(sqlite_url)
    assert stored["judgments"] == 2 * stored["transcripts"]  # what was committed is whole
    assert run_cli("runs", "--db", sqlite_url, "--format", "json") == 0
