"""Accuracy and calibration by round: `oversight judge --by-round` judges each transcript cut after each earlier
round; `--metric rounds` reports them; the main leaderboard is unchanged by them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import run_cli, write_jsonl
from oversight.models import mock


def _judge(call: mock.MockCall) -> str:
    """Finds the right answer only once round 2 is in the transcript; before that it backs the first answer, 55%."""
    prompt = call.messages[-1].content
    if "Round 2" not in prompt:
        return "A 55%"
    first = re.search(r"^A: (.*)$", prompt, flags=re.M)
    return "A 90%" if first and first.group(1).startswith("right") else "B 90%"


def _run(tmp_path: Path, db: str) -> None:
    rows = [{"id": f"q{i}", "question": f"Question {i}?", "options": [f"right {i}", f"wrong {i}"], "answer": 0,
             "context": f"Story {i}.", "article_id": f"art{i}"} for i in range(8)]  # fmt: skip
    write_jsonl(tmp_path / "q.jsonl", rows)
    mock.script("rounds-judge", _judge)
    code = run_cli("run", "-p", "debate", "-d", str(tmp_path / "q.jsonl"), "--debater", "mock/d", "--judge", "mock/rounds-judge",
                   "--rounds", "3", "--db", db, "--run-name", "three-rounds")  # fmt: skip
    assert code == 0


def test_by_round_judging_reports_accuracy_per_round_and_leaves_the_leaderboard_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], db_url: str
):
    db = db_url
    _run(tmp_path, db)
    assert run_cli("leaderboard", "--db", db, "--format", "json") == 0
    out = capsys.readouterr().out
    before = json.loads(out[out.index("[") :])

    assert run_cli("judge", "--run", "three-rounds", "--judge", "mock/rounds-judge", "--by-round", "--db", db, "--json") == 0
    out = capsys.readouterr().out
    summary = json.loads(out[out.index("{") :])
    assert summary["judged"] == 8 * 2 * 2 and summary["skipped"] == 8 * 2  # rounds 1 and 2 added; the whole transcripts were there
    assert run_cli("judge", "--run", "three-rounds", "--judge", "mock/rounds-judge", "--by-round", "--db", db, "--json") == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{") :])["judged"] == 0  # resumable: nothing twice

    assert run_cli("leaderboard", "--metric", "rounds", "--db", db, "--format", "json") == 0
    out = capsys.readouterr().out
    table = {r["round"]: r for r in json.loads(out[out.index("[") :])}
    assert sorted(table) == [1, 2, 3] and all(r["n"] == 16 for r in table.values())
    assert table[1]["accuracy"] == pytest.approx(0.5) and table[1]["debiased_accuracy"] == pytest.approx(0.5)
    assert table[2]["accuracy"] == 1.0 and table[3]["accuracy"] == 1.0
    assert table[1]["brier"] > table[3]["brier"]

    assert run_cli("leaderboard", "--db", db, "--format", "json") == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("[") :]) == before  # cut verdicts stay out of the leaderboard

    export = tmp_path / "j.jsonl"
    assert run_cli("export", "judgments", "--db", db, "--out", str(export)) == 0
    rows = [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines()]
    assert sorted({r["after_round"] for r in rows}, key=str) == [1, 2, None]
    from oversight.metrics.leaderboard import leaderboard

    recomputed = leaderboard(rows)
    assert [r["accuracy"] for r in recomputed] == [r["accuracy"] for r in before]  # the export recomputes the same leaderboard


def test_cuts_drop_later_rounds_and_the_judge_question_that_opens_the_next():
    from oversight.data.question import Question
    from oversight.rejudge import cuts
    from oversight.transcript import Transcript, Turn

    q = Question(id="1", question="Q?", options=["x", "y"], answer=0, source="s")
    t = Transcript(question=q, protocol="interactive-debate", option_a=0, option_b=1)
    t.turns = [Turn(round=1, role="debater_a", side="A", text="a1"), Turn(round=1, role="debater_b", side="B", text="b1"),
               Turn(round=1, role="judge", text="why?"), Turn(round=2, role="debater_a", side="A", text="a2"),
               Turn(round=2, role="debater_b", side="B", text="b2")]  # fmt: skip
    ((k, first),) = cuts(t)
    assert k == 1 and [turn.text for turn in first.turns] == ["a1", "b1"]
    assert len(t.turns) == 5  # the stored transcript is untouched


def test_report_shows_accuracy_by_round(tmp_path: Path):
    db = f"sqlite:///{tmp_path / 'r.db'}"
    _run(tmp_path, db)
    assert run_cli("judge", "--run", "three-rounds", "--judge", "mock/rounds-judge", "--by-round", "--db", db) == 0
    assert run_cli("report", "--db", db, "--out", str(tmp_path / "report.html")) == 0
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## Accuracy and calibration by round" in markdown and (tmp_path / "report_charts" / "rounds.svg").exists()


@pytest.mark.slow
def test_cuts_reuse_the_embedded_models_prefix_cache(tmp_path: Path):
    """On the embedded model, a later cut of a transcript is judged right after an earlier one and reuses its prefix."""
    from sqlalchemy import select

    from oversight.db import connect
    from oversight.db.schema import CALLS
    from oversight.samples import __file__ as samples

    db = f"sqlite:///{tmp_path / 'p.db'}"
    dataset = str(Path(samples).parent / "quickstart.jsonl")
    assert run_cli("run", "-p", "debate", "-d", dataset, "--limit", "1", "--rounds", "3", "--debater-max-tokens", "12", "--word-limit", "10",
                   "--db", db, "--run-name", "p", "--no-progress", "--orders", "random") == 0  # fmt: skip
    engine = connect(db)
    with engine.connect() as conn:
        before = conn.execute(select(CALLS.c.id).order_by(CALLS.c.id.desc())).scalars().first()
    assert run_cli("judge", "--run", "p", "-j", "local/smollm2-135m", "--by-round", "--db", db, "--no-progress") == 0
    with engine.connect() as conn:
        cut_calls = conn.execute(
            select(CALLS.c.prompt_tokens, CALLS.c.cached_prompt_tokens).where(CALLS.c.id > before).order_by(CALLS.c.id)
        ).all()
    assert len(cut_calls) == 2  # after round 1, after round 2 (one order)
    second = cut_calls[1]
    assert second.cached_prompt_tokens >= 0.3 * second.prompt_tokens  # the round-2 cut starts as the round-1 cut did
