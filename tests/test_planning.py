"""Planning from a pilot: the interval on a difference between conditions and the judgments a target width needs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli, write_jsonl
from oversight.metrics.planning import difference_interval, plan_study, widest_condition


def _rows(accuracy: float, articles: int, per_article: int, seed: int, tag: str) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(articles):
        article_skill = np.clip(accuracy + rng.normal(0, 0.1), 0, 1)  # articles differ: judgments within one are correlated
        for _ in range(per_article):
            rows.append({"valid": True, "correct": bool(rng.random() < article_skill), "cluster": f"{tag}{a}"})
    return rows


def test_the_plan_scales_articles_with_the_squared_width_ratio():
    a, b = _rows(0.8, 20, 5, 0, "a"), _rows(0.6, 20, 5, 1, "b")
    pilot = difference_interval(a, b)
    assert pilot["articles_a"] == 20 and pilot["judgments_b"] == 100 and pilot["ci_low"] < pilot["diff"] < pilot["ci_high"]
    plan = plan_study(a, b, pilot["width"] / 2)
    assert plan["articles_needed_a"] == 80 and plan["judgments_needed_a"] == 400 and plan["more_judgments_a"] == 300
    assert plan_study(a, b, 1.0)["more_judgments_b"] == 0  # already narrow enough
    # the prediction holds: a study four times the size has about half the width
    big = difference_interval(_rows(0.8, 80, 5, 2, "a"), _rows(0.6, 80, 5, 3, "b"))
    assert big["width"] == pytest.approx(pilot["width"] / 2, rel=0.25)
    with pytest.raises(ValueError, match="at least two articles"):
        difference_interval(a, _rows(0.6, 1, 5, 4, "b"))


def test_the_next_item_goes_to_the_condition_with_the_widest_interval():
    conditions = {"debate": _rows(0.8, 30, 5, 0, "d"), "consultancy": _rows(0.6, 6, 5, 1, "c")}
    assert widest_condition(conditions) == "consultancy"
    assert widest_condition({**conditions, "naive": _rows(0.5, 1, 3, 2, "n")}) == "naive"  # unmeasured comes first


def test_plan_command_reads_the_pilot_from_the_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from oversight.models import mock

    rows = [{"id": f"q{i}", "question": f"Q{i}?", "options": [f"right {i}", f"wrong {i}"], "answer": 0, "article_id": f"a{i % 6}",
             "context": f"Story {i}."} for i in range(24)]  # fmt: skip
    write_jsonl(tmp_path / "q.jsonl", rows)
    mock.script("planner", lambda call: "A 70%" if "Story" in call.messages[-1].content or call.index % 3 else "B 70%")
    db = f"sqlite:///{tmp_path / 'p.db'}"
    for protocol in ("naive", "expert"):
        assert run_cli("run", "-p", protocol, "-d", str(tmp_path / "q.jsonl"), "--judge", "mock/planner", "--db", db) == 0
    capsys.readouterr()
    assert run_cli("plan", "--a", "protocol=expert", "--b", "protocol=naive", "--width", "0.05", "--db", db, "--json") == 0
    out = capsys.readouterr().out
    plan = json.loads(out[out.index("{") :])
    assert plan["a"] == "protocol=expert" and plan["articles_a"] == 6 and plan["judgments_a"] == 48
    assert plan["judgments_needed_a"] >= plan["judgments_a"] and plan["target_width"] == 0.05
    assert run_cli("plan", "--a", "protocol=debate", "--b", "protocol=naive", "--width", "0.1", "--db", db) == 1
    assert "at least two articles" in capsys.readouterr().err
