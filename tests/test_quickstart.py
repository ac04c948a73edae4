"""`oversight quickstart` end to end on the embedded model, as a newcomer runs it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest


@pytest.mark.slow
def test_quickstart_runs_all_three_protocols(tmp_path: Path):
    db = f"sqlite:///{tmp_path / 'oversight.db'}"
    done = subprocess.run(["oversight", "quickstart", "--db", db], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Judge accuracy" in done.stdout and "debiased accuracy" in done.stdout and "How to read this" in done.stderr
    board = json.loads(
        subprocess.run(["oversight", "leaderboard", "--db", db, "--format", "json"], capture_output=True, text=True, check=True).stdout
    )
    assert {r["protocol"] for r in board} == {"naive", "expert", "debate"}
    assert all(r["n"] + r["invalid"] == 12 and r["judge"] == "local/smollm2-135m" for r in board)
    transcripts = [
        json.loads(line)
        for line in subprocess.run(
            ["oversight", "export", "transcripts", "--db", db, "--run", "quickstart-debate"], capture_output=True, text=True, check=True
        ).stdout.splitlines()
    ]
    assert len(transcripts) == 6
    assert all(len(t["turns"]) == 4 and all(turn["text"] for turn in t["turns"]) for t in transcripts)
    # a second quickstart resumes: nothing is recomputed or duplicated
    again = subprocess.run(["oversight", "quickstart", "--db", db], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert again.returncode == 0
    board2 = json.loads(
        subprocess.run(["oversight", "leaderboard", "--db", db, "--format", "json"], capture_output=True, text=True, check=True).stdout
    )
    assert board2 == board
