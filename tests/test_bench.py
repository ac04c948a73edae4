"""The client benchmark and the set-up script, quickly: shapes and statuses, not timings (those are measured, not asserted)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]


def test_bench_judge_runs_every_client_on_both_workloads(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OVERSIGHT_INSPECT_PYTHON", raising=False)
    code = run_cli(
        "bench", "judge", "--n", "40", "--n", "60", "--debate-items", "5", "--rounds", "2", "--concurrency", "8", "--format", "json"
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    rows = {(r["workload"], r["items"], r["client"]): r for r in result["results"]}
    clients = {"bare aiohttp", "bare openai", "oversight run"}
    assert {c for *_, c in rows} >= clients
    assert all(rows[("judge", 40, c)]["calls"] == 40 and rows[("judge", 60, c)]["calls"] == 60 for c in clients)
    assert all(rows[("debate", 5, c)]["calls"] == 5 * 6 for c in clients)
    for r in result["results"]:
        if r["client"] in clients:  # whole processes: start-up is what lies between the process and its requests
            assert r["status"] == "finished" and r["cpu_ms_per_call"] > 0, r
            assert 0 < r["requests_s"] < r["wall_s"] and r["startup_s"] == pytest.approx(r["wall_s"] - r["requests_s"], abs=0.02)
            assert 0 < r["first_request_s"] < r["wall_s"], r  # the server saw its first request during the process
    assert rows[("judge", 40, "bare openai")]["vs_bare_openai"] == 1.0 and rows[("judge", 40, "bare aiohttp")]["cpu_vs_aiohttp"] == 1.0


@pytest.mark.skipif(
    not os.environ.get("OVERSIGHT_INSPECT_PYTHON"), reason="needs an interpreter with inspect_ai (OVERSIGHT_INSPECT_PYTHON)"
)
def test_bench_judge_includes_inspect_ai(capsys: pytest.CaptureFixture[str]):
    code = run_cli("bench", "judge", "--n", "20", "--debate-items", "3", "--rounds", "1", "--concurrency", "4", "--format", "json")
    out, err = capsys.readouterr()
    assert code == 0, err
    inspect_rows = [r for r in json.loads(out)["results"] if r["client"] == "inspect ai"]
    assert [r["status"] for r in inspect_rows] == ["success", "success"]


def test_install_script_refuses_unknown_options_in_one_line():
    done = subprocess.run(["bash", str(ROOT / "install.sh"), "--bogus"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.strip() == "install.sh: unknown option --bogus (see ./install.sh --help)"
    helped = subprocess.run(["bash", str(ROOT / "install.sh"), "--help"], capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "--with-vllm" in helped.stdout and "./install.sh --here" in helped.stdout
