"""Every protocol from the CLI on the shared QuALITY set with the embedded model (one question, short turns)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import QUALITY_DEBATE, run_cli

QUALITY = str(QUALITY_DEBATE)
PROTOCOLS = {
    "naive": [],
    "expert": [],
    "debate": ["--rounds", "1"],
    "open-debate": ["--rounds", "1", "--turns", "sequential"],
    "interactive-debate": ["--rounds", "2"],
    "consultancy": ["--rounds", "1"],
    "open-consultancy": ["--rounds", "1"],
    "interactive-consultancy": ["--rounds", "2"],
    "human-arguments": [],
}
TRANSCRIPTS = {"consultancy": 2, "interactive-consultancy": 2, "human-arguments": 3}


cli = run_cli


@pytest.mark.slow
def test_every_protocol_on_quality_with_the_embedded_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    db = f"sqlite:///{tmp_path / 'local.db'}"
    for protocol, extra in PROTOCOLS.items():
        code = cli("run", "--protocol", protocol, "--dataset", QUALITY, "--limit", "1", "--orders", "random", "--debater-max-tokens", "16",
                   "--word-limit", "20", "--db", db, "--run-name", protocol, "--no-progress", *extra)  # fmt: skip
        assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    assert cli("export", "transcripts", "--db", db) == 0
    transcripts = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_run: dict[str, list[dict]] = {}
    for t in transcripts:
        by_run.setdefault(t["run"], []).append(t)
    for protocol in PROTOCOLS:
        assert len(by_run[protocol]) == TRANSCRIPTS.get(protocol, 1), protocol
        for t in by_run[protocol]:
            assert len(t["judgments"]) == 1
    assert [turn["role"] for turn in by_run["interactive-debate"][0]["turns"]] == [
        "debater_a",
        "debater_b",
        "judge",
        "debater_a",
        "debater_b",
    ]
    assert all(turn["text"] for t in transcripts for turn in t["turns"] if turn["role"] != "judge")
    assert cli("leaderboard", "--db", db, "--format", "json") == 0
    board = json.loads(capsys.readouterr().out)
    assert {r["protocol"] for r in board} == set(PROTOCOLS) - {"human-arguments"} | {"human-debate", "human-consultancy"}


@pytest.mark.slow
def test_every_protocol_on_generic_jsonl_with_the_embedded_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from importlib.resources import files

    sample = str(files("oversight.samples") / "quickstart.jsonl")
    db = f"sqlite:///{tmp_path / 'generic.db'}"
    for protocol, extra in PROTOCOLS.items():
        if protocol == "human-arguments":
            continue
        code = cli("run", "--protocol", protocol, "--dataset", sample, "--limit", "1", "--debater-max-tokens", "16", "--word-limit", "20",
                   "--db", db, "--run-name", protocol, "--no-progress", "--best-of", "2", *extra)  # fmt: skip
        assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    assert cli("leaderboard", "--db", db, "--format", "json") == 0
    board = {r["protocol"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(board) == set(PROTOCOLS) - {"human-arguments"}
    assert all(r["n"] + r["invalid"] == 2 * TRANSCRIPTS.get(p, 1) for p, r in board.items())
