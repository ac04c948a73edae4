"""Storage that fails under a run: a full disk, a read-only database. The run stops cleanly, keeping what was committed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event
from test_engine import config, counts, scripted

from conftest import run_cli, write_jsonl
from fake_openai import FakeOpenAIServer
from oversight.data import load_dataset
from oversight.db import connect
from oversight.db.items import store_questions
from oversight.engine import run_sync


def test_a_full_disk_stops_the_run_and_keeps_whole_items(tmp_path: Path, sqlite_url: str):
    with FakeOpenAIServer(default=scripted) as server:
        cfg = config(tmp_path, server, sqlite_url, protocol="debate", n=120, rounds=1, max_connections=4)
        engine = connect(sqlite_url)
        store_questions(engine, load_dataset(cfg.dataset)[1])
        with engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        engine.dispose()
        # SQLite's page cap stands in for a full disk: a few pages more than the questions take, then
        # writes fail with "database or disk is full"
        event.listen(engine, "connect", lambda conn, _: conn.execute(f"PRAGMA max_page_count = {pages + 6}"))
        summary = run_sync(cfg, engine=engine)
        assert summary.status == "failed" and "database or disk is full" in summary.errors[0] and "\n" not in summary.errors[0]
        partial = counts(sqlite_url)
        assert partial["transcripts"] < 120 and partial["judgments"] == 2 * partial["transcripts"]
        assert partial["turns"] == 2 * partial["transcripts"]  # no half-written item
        resumed = run_sync(cfg)  # space again: the rerun finishes what was missing
    assert resumed.status == "finished" and resumed.skipped == partial["transcripts"]
    assert counts(sqlite_url)["transcripts"] == 120


def test_a_read_only_database_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    db_file = tmp_path / "ro.db"
    connect(f"sqlite:///{db_file}").dispose()  # created and migrated
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": 1, "question": "q?", "options": ["x", "y"], "answer": 0}])
    with FakeOpenAIServer() as server:
        code = run_cli("run", "--protocol", "naive", "--dataset", str(data), "--judge", f"openai-compatible/m@{server.base_url}",
                       "--db", f"sqlite:///file:{db_file}?mode=ro&uri=true", "--no-progress")  # fmt: skip
        assert server.requests == []  # nothing was asked before the write failed
    err = capsys.readouterr().err
    assert code == 1 and "database error: OperationalError: attempt to write a readonly database" in err and "Traceback" not in err
