"""Debate verdicts as weak labels: `oversight w2s --weak-from-run`, on the scripted server and on the embedded model."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli, write_jsonl
from fake_openai import FakeOpenAIServer, Reply, chat_completion
from oversight.config import RunConfig, W2SConfig
from oversight.db import connect
from oversight.db.w2s import w2s_rows
from oversight.engine import run_sync
from oversight.errors import InputError
from oversight.metrics.pgr import weak_source_table
from oversight.w2s.from_verdicts import VerdictSupervisor, run_weak_from_runs, verdict_labels

GOLD, WRONG = "Eleven nights", "Two nights"


def dataset(tmp_path: Path, n: int = 16) -> Path:
    rows = [
        {"id": f"q{i:02d}", "question": f"How long did lamp {i} burn?", "options": [GOLD, WRONG], "answer": 0,
         "context": f"Lamp {i} burned for eleven nights.", "article_id": f"a{i}"}
        for i in range(n)
    ]  # fmt: skip
    return write_jsonl(tmp_path / "lamps.jsonl", rows)


def judge_reply(request: dict) -> Reply:
    """Debaters quote the story; the judge is a coin toss on the question alone and right after four debates in five."""
    prompt = request["messages"][-1]["content"]
    if match := re.search(r"You are Debater ([AB])", prompt):
        return Reply(body=chat_completion(f"Debater {match.group(1)}: <quote>burned for eleven nights</quote>"))
    gold_first = prompt.find(GOLD) < prompt.find(WRONG)
    if "Debater" in prompt:
        misled = int(re.search(r"lamp (\d+)", prompt).group(1)) % 5 == 0  # one debate in five misleads the judge
        p_first = 0.85 if gold_first != misled else 0.15
    else:
        p_first = 0.7 if int(hashlib.sha256(prompt.encode()).hexdigest(), 16) % 2 else 0.3
    return Reply(body=chat_completion("A", logprobs={"A": p_first, "B": 1 - p_first}))


def make_runs(tmp_path: Path, db: str, judge: str | None = None, n: int = 16, orders: str = "both") -> None:
    data = dataset(tmp_path, n)
    with FakeOpenAIServer(default=judge_reply) as server:
        spec = f"openai-compatible/judge@{server.base_url}"
        for protocol in ("naive", "debate"):
            cfg = RunConfig(protocol=protocol, dataset=str(data), debater=spec, judges=[judge or spec], db=db, run_name=protocol, rounds=1,
                            debater_max_tokens=16, orders=orders, progress=False)  # fmt: skip
            assert run_sync(cfg).status == "finished"


def test_verdicts_become_soft_labels_without_ground_truth():
    p = np.array([0.9, 0.1, 0.3, 0.7])
    weak = VerdictSupervisor("verdicts:x", p)
    predict = weak.fit(np.array([0, 1]), np.array([123.0, -5.0]), val_rows=None, val_targets=None, loss="xent", seed=0)
    assert predict(np.array([2, 3])).tolist() == [0.3, 0.7]  # the stored verdicts, whatever targets it was shown


def test_debate_verdicts_supervise_a_student_and_the_report_compares_sources(sqlite_url: str, tmp_path: Path, capsys):
    make_runs(tmp_path, sqlite_url, n=40)
    engine = connect(sqlite_url)
    questions, labels, info = verdict_labels(engine, ["naive", "debate"], None)
    assert len(questions) == 40 and info["left_out"] == {"naive": 0, "debate": 0}
    assert np.mean(labels["debate"] > 0.5) == 0.8 and np.mean(labels["naive"] > 0.5) < 0.6  # order-debiased means
    code = run_cli("w2s", "--weak-from-run", "naive", "--weak-from-run", "debate", "--strong", "bow", "--seeds", "3", "--db", sqlite_url,
                   "--run-name", "lang", "--cache-dir", str(tmp_path / "cache"), "--json")  # fmt: skip
    assert code == 0
    summaries = json.loads(capsys.readouterr().out)
    assert [s["run_name"] for s in summaries] == ["lang:naive", "lang:debate"]
    by_source = {s["weak_labels"].split("#")[0]: s for s in summaries}
    debate, naive = by_source["verdicts:debate"], by_source["verdicts:naive"]
    assert debate["weak"]["accuracy"]["mean"] > naive["weak"]["accuracy"]["mean"]
    assert debate["ceiling"]["accuracy"]["mean"] == naive["ceiling"]["accuracy"]["mean"] == 1.0  # one student, one ceiling, same splits
    table = weak_source_table(w2s_rows(engine))
    assert [r["weak_labels_from"] for r in table] == ["naive", "debate"]
    assert table[0]["pgr_minus_first"] is None and table[1]["pgr_minus_first"] is not None
    stored = {r["name"]: r for r in w2s_rows(engine)}
    assert stored["lang:debate"]["config"]["judge"] == "openai-compatible/judge"  # judges are stored without their address
    assert run_cli("leaderboard", "--metric", "weak-sources", "--db", sqlite_url) == 0
    assert "debate" in capsys.readouterr().out
    from oversight.report import build_report

    html_path, _ = build_report(engine, tmp_path / "report.html")
    page = html_path.read_text()
    assert "Debate verdicts as weak labels" in page and "Weak-to-strong: performance gap recovered" in page


def test_bad_weak_from_run_requests_stop_in_one_line(sqlite_url: str, tmp_path: Path, capsys):
    make_runs(tmp_path, sqlite_url, n=10)
    engine = connect(sqlite_url)
    with pytest.raises(InputError, match="no such run"):
        verdict_labels(engine, ["missing"], None)
    with pytest.raises(InputError, match="no verdicts by it"):
        verdict_labels(engine, ["naive"], "someone-else")
    assert run_cli("w2s", "--weak-from-run", "naive", "--dataset", "x.jsonl", "--db", sqlite_url) == 2
    assert "leave out --dataset" in capsys.readouterr().err
    cfg = W2SConfig(dataset="run:naive", strong="bow", seeds=1, db=sqlite_url, run_name="once", cache_dir=str(tmp_path / "c"))
    run_weak_from_runs(cfg, ["naive"], None)
    with pytest.raises(InputError, match="exists"):
        run_weak_from_runs(cfg, ["naive"], None)


def test_weak_labels_from_the_embedded_judge(sqlite_url: str, tmp_path: Path):
    """The same pipeline with the embedded model as the judge of both runs (debaters scripted, few tokens)."""
    make_runs(tmp_path, sqlite_url, judge="local/smollm2-135m", n=8, orders="random")
    cfg = W2SConfig(dataset="run:naive", strong="bow", seeds=2, db=sqlite_url, run_name="tiny", cache_dir=str(tmp_path / "c"))
    summaries = run_weak_from_runs(cfg, ["naive", "debate"], None)
    assert [s["weak_labels"] for s in summaries] == ["verdicts:naive#local/smollm2-135m", "verdicts:debate#local/smollm2-135m"]
    assert all(s["questions"] == 8 and s["weak"]["accuracy"]["mean"] is not None for s in summaries)
