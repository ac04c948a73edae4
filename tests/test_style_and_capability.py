"""Style-controlled debater ratings and the one capability axis for human and model judges, on rows whose answer is known."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from oversight.metrics.capability import POOLED_HUMANS, capability_table
from oversight.metrics.style import COVARIATES, style_elo


def debate_row(i: int, a: str, b: str, a_won: bool, words: tuple[int, int], quotes=((2, 2), (2, 2)), order: str = "AB") -> dict:
    (qa, va), (qb, vb) = quotes
    return {
        "valid": True, "p_a": 0.8 if a_won else 0.2, "p_b": 0.2 if a_won else 0.8, "order": order, "cluster": f"art{i % 40}",
        "debaters": {"A": a, "B": b},
        "side_stats": {"A": {"words": words[0], "quotes": qa, "verified": va}, "B": {"words": words[1], "quotes": qb, "verified": vb}},
    }  # fmt: skip


def test_a_debater_that_wins_by_length_loses_its_lead_under_style_control():
    rng = random.Random(0)
    rows = []
    for i in range(400):
        x_is_a = i % 2 == 0
        x_longer = rng.random() < 0.85  # "verbose" usually writes more ...
        long, short = (150, 50)
        words = (long, short) if x_longer == x_is_a else (short, long)
        a_longer = words[0] > words[1]
        a_won = rng.random() < (0.85 if a_longer else 0.15)  # ... and the judge rewards length, not the debater
        a, b = ("verbose", "terse") if x_is_a else ("terse", "verbose")
        rows.append(debate_row(i, a, b, a_won, words, order="AB" if rng.random() < 0.5 else "BA"))
    result = style_elo(rows)
    ratings = {r["debater"]: r for r in result["ratings"]}
    raw_gap = ratings["verbose"]["elo"] - ratings["terse"]["elo"]
    controlled_gap = ratings["verbose"]["elo_style_controlled"] - ratings["terse"]["elo_style_controlled"]
    assert raw_gap > 150 and abs(controlled_gap) < 60
    assert ratings["verbose"]["controlled_ci_low"] < ratings["terse"]["controlled_ci_high"]  # no longer separable
    coefficients = {c["covariate"]: c for c in result["coefficients"]}
    assert list(coefficients) == list(COVARIATES)
    assert coefficients["length"]["ci_low"] > 100  # length buys wins, and the interval says so
    assert coefficients["quotes"]["elo_per_sd"] is None  # never varied: not estimated, not made up
    assert coefficients["position"]["ci_low"] < 0 < coefficients["position"]["ci_high"]


def test_invented_quotes_show_up_as_a_covariate():
    rng = random.Random(1)
    rows = []
    for i in range(300):
        a_invents = rng.random() < 0.5
        quotes = ((4, 1), (4, 4)) if a_invents else ((4, 4), (4, 1))
        a_won = rng.random() < (0.8 if a_invents else 0.2)  # a credulous judge rewards invented quotes
        rows.append(
            debate_row(i, "liar", "honest", a_won, (100, 100), quotes)
            if i % 2
            else debate_row(i, "honest", "liar", a_won, (100, 100), quotes)
        )
    coefficients = {c["covariate"]: c for c in style_elo(rows)["coefficients"]}
    assert coefficients["verified_share"]["ci_high"] < 0  # a lower share of verified quotes wins more often
    assert style_elo([]) == {"ratings": [], "coefficients": []}


def verdicts(judge: str, kind: str, protocol: str, hits: int, n: int) -> list[dict]:
    return [
        {"judge": judge, "judge_kind": kind, "protocol": protocol, "valid": True, "correct": i < hits, "cluster": f"a{i % 10}",
         "after_round": None}
        for i in range(n)
    ]  # fmt: skip


def test_capability_axis_puts_humans_and_models_on_one_chart():
    rows = (
        verdicts("small", "model", "naive", 12, 20) + verdicts("small", "model", "debate", 16, 20)
        + verdicts("big", "model", "naive", 18, 20) + verdicts("big", "model", "debate", 19, 20) + verdicts("big", "model", "consultancy", 15, 20)
        + verdicts("ana", "human", "naive", 10, 20) + verdicts("ana", "human", "debate", 17, 20)
        + verdicts("ben", "human", "naive", 14, 20) + verdicts("ben", "human", "debate", 16, 20)
        + verdicts("no-baseline", "model", "debate", 20, 20)  # no naive verdicts: no place on the axis
    )  # fmt: skip
    table = capability_table(rows)
    points = {(r["judge"], r["protocol"]): r for r in table}
    assert set(points) == {("small", "debate"), ("big", "debate"), ("big", "consultancy"), ("ana", "debate"), ("ben", "debate"),
                           (POOLED_HUMANS, "debate")}  # fmt: skip
    assert points[("small", "debate")]["naive_accuracy"] == pytest.approx(0.6) and points[("small", "debate")]["gain"] == pytest.approx(0.2)
    pooled = points[(POOLED_HUMANS, "debate")]
    assert pooled["naive_accuracy"] == pytest.approx(0.6) and pooled["accuracy"] == pytest.approx(0.825) and pooled["n"] == 40
    assert pooled["judge_kind"] == "humans (pooled)" and points[("ana", "debate")]["judge_kind"] == "human"
    assert all(
        r["ci_low"] <= r["accuracy"] <= r["ci_high"] and r["naive_ci_low"] <= r["naive_accuracy"] <= r["naive_ci_high"] for r in table
    )
    from oversight.charts import capability_chart

    assert capability_chart(table) is not None and capability_chart([]) is None


def test_style_elo_and_capability_end_to_end_on_the_embedded_judge(sqlite_url: str, tmp_path: Path, capsys):
    """A long-winded scripted debater against the embedded model, judged by the embedded model; its naive verdicts
    give it a place on the capability axis. Both tables come out of the CLI and the report."""
    from conftest import run_cli, write_jsonl
    from fake_openai import FakeOpenAIServer, Reply, chat_completion
    from oversight.config import RunConfig
    from oversight.db import connect
    from oversight.engine import run_sync
    from oversight.report import build_report

    rows = [{"id": f"q{i}", "question": f"What is the capital of country {i}?", "options": ["Paris", "Lyon"], "answer": i % 2,
             "context": "Paris is the capital.", "article_id": f"a{i}"} for i in range(4)]  # fmt: skip
    data = write_jsonl(tmp_path / "caps.jsonl", rows)
    long_turn = "I argue at length. " * 8 + "<quote>Paris is the capital</quote>"
    with FakeOpenAIServer(default=lambda _: Reply(body=chat_completion(long_turn))) as server:
        for protocol in ("naive", "debate"):
            cfg = RunConfig(protocol=protocol, dataset=str(data), debater_a=f"openai-compatible/long@{server.base_url}",
                            debater_b="local/smollm2-135m", judges=["local/smollm2-135m"], rounds=1, debater_max_tokens=24,
                            orders="random", db=sqlite_url, run_name=protocol, progress=False)  # fmt: skip
            assert run_sync(cfg).status == "finished"
    assert run_cli("leaderboard", "--metric", "style-elo", "--db", sqlite_url) == 0
    out = capsys.readouterr().out
    assert "elo_style_controlled" in out and "verified_share" in out and "openai-compatible/long" in out
    assert run_cli("leaderboard", "--metric", "capability", "--db", sqlite_url, "--format", "json") == 0
    (point,) = json.loads(capsys.readouterr().out)
    assert point["judge"] == "local/smollm2-135m" and point["protocol"] == "debate" and point["naive_n"] == 4
    html, _ = build_report(connect(sqlite_url), tmp_path / "report.html")
    page = html.read_text()
    assert "raw and style-controlled" in page and "One capability axis" in page
