"""Keys never reach the database, the logs, the exports or the screen; errors name their real cause; retries are counted."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from conftest import dead_url, run_cli, write_jsonl
from fake_openai import FakeOpenAIServer, Reply, chat_completion

KEY = "sk-planted-SECRET-0123456789abcdef"


def _everything_stored(db_file: Path) -> str:
    """Every value of every table, as text."""
    conn = sqlite3.connect(db_file)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return "\n".join(repr(row) for t in tables for row in conn.execute(f'SELECT * FROM "{t}"'))
    finally:
        conn.close()


def test_a_planted_key_reaches_no_table_log_export_or_screen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"OVERSIGHT_API_KEY={KEY}\n")  # read from a .env file, as users keep keys
    for name in ("OVERSIGHT_API_KEY", "OPENAI_API_KEY"):  # absent now, and restored afterwards (the .env load sets one)
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": i, "question": f"q{i}?", "options": ["x", "y"], "answer": 0} for i in range(4)])
    db_file = tmp_path / "s.db"
    with FakeOpenAIServer() as good, FakeOpenAIServer() as echoing:
        # a server that echoes the request's headers in its error body, as some proxies do
        echoing.default = lambda _: Reply(status=401, body={"error": {"message": f"invalid key; headers: Authorization: Bearer {KEY}"}})

        def run(server: FakeOpenAIServer, name: str) -> int:
            spec = f"openai-compatible/m@{server.base_url}"
            return run_cli("--log-level", "debug", "run", "--protocol", "naive", "--judge", spec, "--run-name", name,
                           "--dataset", str(data), "--db", f"sqlite:///{db_file}", "--no-progress")  # fmt: skip

        assert run(good, "ok") == 0
        assert run(echoing, "bad") == 1
        seen_keys = [h.get("Authorization") for h in good.headers]
    out, err = capsys.readouterr()
    assert seen_keys and all(h == f"Bearer {KEY}" for h in seen_keys)  # the key was used
    assert "invalid key" in err and "***" in err
    for cmd in (("export", "judgments"), ("export", "transcripts"), ("runs", "--format", "json"), ("usage", "--format", "json")):
        assert run_cli(*cmd, "--db", f"sqlite:///{db_file}") == 0
    exported, more_err = capsys.readouterr()
    stored = _everything_stored(db_file)
    assert "invalid key" in stored  # the error was stored, masked
    for place, text in (("screen and logs", out + err + more_err), ("exports", exported), ("database", stored)):
        assert KEY not in text and KEY[3:] not in text, place


def test_a_refused_connection_says_so(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": 1, "question": "q?", "options": ["x", "y"], "answer": 0}])
    code = run_cli("run", "--protocol", "naive", "--dataset", str(data), "--judge", f"openai-compatible/m@{dead_url()}", "--db",
                   f"sqlite:///{tmp_path / 'r.db'}", "--no-progress", "--max-retries", "0")  # fmt: skip
    assert code == 1
    assert "Connect call failed" in capsys.readouterr().err  # not just "Request timed out"


def test_retried_attempts_are_counted_in_the_summary_and_usage(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": i, "question": f"q{i}?", "options": ["x", "y"], "answer": 0} for i in range(3)])
    db = f"sqlite:///{tmp_path / 'r.db'}"
    with FakeOpenAIServer() as server:
        server.push(Reply(status=500), Reply(status=503), Reply(body=chat_completion("A", logprobs={"A": 0.6, "B": 0.4})))
        code = run_cli("run", "--protocol", "naive", "--dataset", str(data), "--judge", f"openai-compatible/m@{server.base_url}", "--db", db,
                       "--no-progress", "--orders", "random", "--max-connections", "1", "--json")  # fmt: skip
        assert code == 0
        summary = json.loads(capsys.readouterr().out)
        sent = len(server.requests)
    assert summary["calls"] == 3 and summary["attempts"] == 5 == sent
    assert run_cli("usage", "--db", db, "--format", "json") == 0
    (usage,) = json.loads(capsys.readouterr().out)
    assert usage["calls"] == 3 and usage["attempts"] == 5


def test_an_endpoint_down_for_a_while_pauses_the_run_which_then_finishes(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    import threading

    from conftest import free_port
    from oversight.config import RunConfig
    from oversight.engine import run_sync

    port = free_port()
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": i, "question": f"q{i}?", "options": ["x", "y"], "answer": 0} for i in range(6)])
    cfg = RunConfig(protocol="naive", dataset=str(data), judges=[f"openai-compatible/m@http://127.0.0.1:{port}/v1"], db=f"sqlite:///{tmp_path / 'p.db'}",
                    run_name="p", progress=False, max_retries=2, unreachable_wait=60)  # fmt: skip
    outcome: dict = {}
    runner = threading.Thread(target=lambda: outcome.setdefault("summary", run_sync(cfg)))
    runner.start()
    time.sleep(2.0)  # the server is down: the run waits instead of failing its items (2 retries would be long spent)
    assert runner.is_alive()
    with FakeOpenAIServer(port=port) as server:
        runner.join(60)
        served = len(server.requests)
    summary = outcome["summary"]
    assert summary.status == "finished" and summary.written == 6 and served == 12
    assert caplog.text.count("cannot be reached") == 1 and "answers again" in caplog.text
