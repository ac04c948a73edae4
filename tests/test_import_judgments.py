"""`oversight import human-judgments`: verdicts collected elsewhere become human judgments on the matching
transcripts, round-trip through the export, and compare with model judges; bad files import nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from conftest import FIXTURES, run_cli, write_jsonl
from oversight.data import load_dataset
from oversight.db import connect
from oversight.db.queries import judgment_rows


@pytest.fixture
def stored(tmp_path: Path, db_url: str) -> dict:
    """Four questions of the QuALITY debate excerpt under human-arguments and consultancy, judged by a mock model
    (on SQLite and on PostgreSQL)."""
    db = db_url
    for protocol in ("human-arguments", "consultancy"):
        code = run_cli("run", "-p", protocol, "-d", str(FIXTURES / "quality_debate.jsonl"), "--limit", "4", "--judge", "mock/j",
                       "--consultant", "mock/c", "--rounds", "1", "--db", db, "--run-name", protocol)  # fmt: skip
        assert code == 0
    _, questions = load_dataset(FIXTURES / "quality_debate.jsonl")
    return {"db": db, "questions": questions[:4]}


def _human(questions: list, judge: str, right: bool, **extra: object) -> list[dict]:
    rows = []
    for q in questions:
        chosen = q.options[q.answer] if right else q.options[1 - q.answer]
        rows.append({"question_id": q.id, "judge_id": judge, "chosen": chosen, "confidence": 80, "condition": "human-debate",
                     "order": "BA", "time_s": 95.5, **extra})  # fmt: skip
    return rows


def test_imported_verdicts_round_trip_through_the_export(stored: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    qs = stored["questions"]
    path = write_jsonl(tmp_path / "humans.jsonl", _human(qs, "ana", right=True) + _human(qs[:2], "ben", right=False))
    assert run_cli("import", "human-judgments", str(path), "--db", stored["db"], "--json") == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{") :]) == {"imported": 6, "already_there": 0, "by_condition": {"human-debate": 6}}

    export = tmp_path / "judgments.jsonl"
    assert run_cli("export", "judgments", "--db", stored["db"], "--format", "jsonl", "--out", str(export)) == 0
    exported = [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines()]
    humans = {(r["question_id"], r["judge"]): r for r in exported if r["judge_kind"] == "human"}
    assert len(humans) == 6
    for q in qs:
        ana = humans[(q.id, "human:ana")]
        assert ana["protocol"] == "human-debate" and ana["order"] == "BA"
        assert ana["p_correct"] == pytest.approx(0.8) and ana["correct"] is True and ana["method"] == "imported"
        assert json.loads(ana["raw_output"])["time_s"] == 95.5
    assert humans[(qs[0].id, "human:ben")]["p_correct"] == pytest.approx(0.2)

    # the same file again adds nothing
    assert run_cli("import", "human-judgments", str(path), "--db", stored["db"], "--json") == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{") :])["already_there"] == 6

    # compared with the model judge on the same transcripts, per condition
    assert run_cli("leaderboard", "--metric", "agreement", "--db", stored["db"], "--format", "json") == 0
    out = capsys.readouterr().out
    table = json.loads(out[out.index("[") :])
    row = next(r for r in table if r["protocol"] == "human-debate" and r["model_judge"] == "mock/j")
    assert row["humans"] == 2 and row["n"] >= 4 and row["human_accuracy_all"] == pytest.approx(4 / 6)

    # and the humans among themselves: ana and ben disagree on both transcripts they share
    assert run_cli("leaderboard", "--metric", "human-agreement", "--db", stored["db"], "--format", "json") == 0
    out = capsys.readouterr().out
    (among,) = json.loads(out[out.index("[") :])
    assert among["protocol"] == "human-debate" and among["units"] == 2 and among["judges"] == 2
    assert among["fleiss_kappa"] == pytest.approx(-1.0) and among["krippendorff_alpha"] < 0


def test_csv_with_p_correct_and_variants(stored: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    q = stored["questions"][0]
    path = tmp_path / "humans.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["question_id", "judge_id", "p_correct", "condition", "variant", "order"])
        writer.writeheader()
        writer.writerow(
            {"question_id": q.id, "judge_id": 7, "p_correct": "0.9", "condition": "consultancy", "variant": "correct", "order": "AB"}
        )
        writer.writerow(
            {"question_id": q.id, "judge_id": 7, "p_correct": "0.3", "condition": "consultancy", "variant": "incorrect", "order": "AB"}
        )
    assert run_cli("import", "human-judgments", str(path), "--db", stored["db"]) == 0
    rows = [r for r in judgment_rows(connect(stored["db"])) if r["judge"] == "human:7"]
    assert sorted((r["variant"], round(r["p_correct"], 2)) for r in rows) == [("correct", 0.9), ("incorrect", 0.3)]


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(stored: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    qs = stored["questions"]
    good = _human(qs[:1], "ana", right=True)
    lines = [
        json.dumps(good[0]),
        json.dumps({**good[0], "question_id": "no-such-question"}),
        json.dumps({**good[0], "judge_id": "cy", "confidence": 30}),
        json.dumps({**good[0], "judge_id": "di", "chosen": "an answer nobody gave"}),
        json.dumps({**good[0], "judge_id": "ed", "condition": None}),  # human-debate, human-consultancy and consultancy all match
        "{not json",
        json.dumps({"question_id": qs[1].id, "judge_id": "fay"}),
        json.dumps({**good[0]}),  # the same judge, transcript and order twice
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = len(judgment_rows(connect(stored["db"])))
    assert run_cli("import", "human-judgments", str(path), "--db", stored["db"]) == 2
    err = capsys.readouterr().err
    assert "7 problem(s); nothing was imported" in err and "Traceback" not in err
    for line, text in [(2, "no stored question has this id"), (3, "confidence"), (4, "is neither of the transcript's answers"),
                       (5, "transcripts match"), (6, "json"), (7, "give either chosen"), (8, "already (line 1)")]:  # fmt: skip
        assert f"bad.jsonl:{line}: " in err and text in err, (line, text)
    assert len(judgment_rows(connect(stored["db"]))) == before
    assert run_cli("import", "human-judgments", str(path), "--db", stored["db"], "--run", "nope") == 2
    assert "--run 'nope': no such run" in capsys.readouterr().err
