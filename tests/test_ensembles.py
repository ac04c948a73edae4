"""Judge ensembles: several judges or several samples of one, combined by mean or majority, stored with every member."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli, write_jsonl
from oversight.db import connect
from oversight.db.queries import judgment_rows
from oversight.ensemble import EnsembleSpec, combine
from oversight.models import mock
from oversight.transcript import Judgment


def _member(name: str, p_a: float | None) -> Judgment:
    return Judgment(judge=name, order="AB", p_a=p_a, p_b=None if p_a is None else 1 - p_a, valid=p_a is not None, method="x",
                    prompt_version="v", correct_side="A")  # fmt: skip


def test_mean_and_majority_by_hand():
    members = [_member("a", 0.9), _member("b", 0.4), _member("c", 0.35), _member("d", None)]
    mean = combine(EnsembleSpec(name="e", members=["a"]), members, "AB", "A", "v")
    assert mean.p_a == pytest.approx((0.9 + 0.4 + 0.35) / 3) and mean.judge == "ensemble:e" and mean.method == "ensemble-mean"
    majority = combine(EnsembleSpec(name="e", members=["a"], combine="majority"), members, "AB", "A", "v")
    assert majority.p_a == pytest.approx(1 / 3) and majority.correct is False  # two of three valid members back B
    tie = combine(EnsembleSpec(name="e", members=["a"], combine="majority"), [_member("a", 0.5), _member("b", 0.8)], "AB", "A", "v")
    assert tie.p_a == pytest.approx(0.75)
    assert [m["judge"] for m in json.loads(mean.raw_output)["members"]] == ["a", "b", "c", "d"]
    assert not combine(EnsembleSpec(name="e", members=["a"]), [_member("a", None)], "AB", "A", "v").valid


@pytest.fixture
def run_db(tmp_path: Path) -> str:
    rows = [{"id": f"q{i}", "question": f"Q{i}?", "options": [f"right {i}", f"wrong {i}"], "answer": 0, "article_id": f"a{i}"}
            for i in range(5)]  # fmt: skip
    write_jsonl(tmp_path / "q.jsonl", rows)
    db = f"sqlite:///{tmp_path / 'e.db'}"
    assert run_cli("run", "-p", "naive", "-d", str(tmp_path / "q.jsonl"), "--judge", "mock/base", "--db", db, "--run-name", "n") == 0
    return db


def test_ensemble_of_judges_is_stored_with_its_members(run_db: str, capsys: pytest.CaptureFixture[str]):
    mock.script("yes-a", "A 90%")
    mock.script("yes-b", "B 70%")
    mock.script("lean-a", "A 60%")
    code = run_cli("judge", "--run", "n", "--db", run_db, "-j", "mock/yes-a", "-j", "mock/yes-b", "-j", "mock/lean-a",
                   "--ensemble", "trio", "--combine", "majority", "--json")  # fmt: skip
    assert code == 0
    rows = judgment_rows(connect(run_db))
    ensemble = [r for r in rows if r["judge"] == "ensemble:trio"]
    assert len(ensemble) == 10 and {r["method"] for r in ensemble} == {"ensemble-majority"}
    for r in ensemble:  # members answer by shown letter: two back the first-shown answer, one the second
        first_shown = "A" if r["order"] == "AB" else "B"
        assert (r["p_a"] if first_shown == "A" else r["p_b"]) == pytest.approx(2 / 3)
    assert {"mock/yes-a", "mock/yes-b", "mock/lean-a"} <= {r["judge"] for r in rows}  # members kept
    capsys.readouterr()
    assert run_cli("judge", "--run", "n", "--db", run_db, "-j", "mock/yes-a", "-j", "mock/yes-b", "-j", "mock/lean-a",
                   "--ensemble", "trio", "--combine", "majority", "--json") == 0  # fmt: skip
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{") :])["judged"] == 0  # nothing twice
    assert run_cli("leaderboard", "--db", run_db, "--format", "json") == 0
    out = capsys.readouterr().out
    board = {r["judge"]: r for r in json.loads(out[out.index("[") :])}
    assert board["ensemble:trio"]["n"] == 10 and board["ensemble:trio"]["debiased_accuracy"] is not None


def test_ensemble_of_samples_of_one_judge(run_db: str):
    mock.script("sampler", lambda call: "A 80%" if (call.config.seed or 0) % 2 == 0 else "B 80%")
    assert run_cli("judge", "--run", "n", "--db", run_db, "-j", "mock/sampler", "--ensemble", "s3", "--samples", "3") == 0
    rows = judgment_rows(connect(run_db))
    members = {r["judge"] for r in rows if r["judge"].startswith("mock/sampler")}
    assert members == {"mock/sampler#s0", "mock/sampler#s1", "mock/sampler#s2"}
    ensemble = [r for r in rows if r["judge"] == "ensemble:s3"]
    assert len(ensemble) == 10
    for r in ensemble:  # seeds 0 and 2 back the first-shown answer at 80%, seed 1 the second: mean 0.6
        first_shown = "A" if r["order"] == "AB" else "B"
        assert (r["p_a"] if first_shown == "A" else r["p_b"]) == pytest.approx((0.8 + 0.2 + 0.8) / 3)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--ensemble", "bad name"], "--ensemble: use a name without spaces"),
        (["--samples", "3"], "--samples and --combine go with --ensemble NAME"),
        (["--ensemble", "e", "--combine", "median"], "--combine"),
    ],
)
def test_bad_ensemble_options_stop_in_one_line(run_db: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str):
    assert run_cli("judge", "--run", "n", "--db", run_db, "-j", "mock/base", *args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
