"""Each protocol's turn structure and visibility, with the scripted server standing in for every model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import QUALITY_DEBATE, run_cli, write_jsonl
from fake_openai import FakeOpenAIServer, Reply, chat_completion
from oversight.config import RunConfig
from oversight.db import connect
from oversight.db.queries import judgment_rows, transcript_rows, usage_rows
from oversight.engine import run_sync
from oversight.errors import InputError
from oversight.metrics import leaderboard

STORY = "The lighthouse keeper kept the lamp burning for eleven nights while the storm raged over the rock."
QUOTE = "kept the lamp burning for eleven nights"


def dataset(tmp_path: Path, n: int = 2) -> str:
    rows = [
        {
            "id": f"q{i}",
            "question": f"How long did the lamp burn ({i})?",
            "options": ["Eleven nights", "Two nights"],
            "answer": 0,
            "context": STORY,
        }
        for i in range(n)
    ]
    return str(write_jsonl(tmp_path / "d.jsonl", rows))


def prompt_of(request: dict) -> str:
    return request["messages"][-1]["content"]


def scripted(request: dict) -> Reply:
    """One server plays every role, recognised by its prompt."""
    prompt, seed = prompt_of(request), request.get("seed")
    if "Which answer is correct according to the story?" in prompt:
        return Reply(body=chat_completion("B", logprobs={"B": 0.8, "A": 0.2}))
    if "you may ask one debater" in prompt:
        return Reply(body=chat_completion("Debater B: Which line proves your answer?"))
    if "ask the consultant one short question" in prompt:
        return Reply(body=chat_completion("Where does the story say so?"))
    if "You are a critic" in prompt:
        return Reply(body=chat_completion("Quote the line about the nights."))
    if len(request["messages"]) > 1:  # a revision request: prompt, draft, critique
        side = re.search(r"You (?:are Debater|argue that the answer is) ([AB])", request["messages"][0]["content"]).group(1)
        return Reply(body=chat_completion(f"I am {side}, revised. <quote>{QUOTE}</quote>"))
    match = re.search(r"You are Debater ([AB])", prompt) or re.search(r"You argue that the answer is ([AB])", prompt)
    if match:
        side = match.group(1)
        tag = f" candidate {seed}" if seed is not None else ""
        return Reply(body=chat_completion(f"I am {side}.{tag} <quote>{QUOTE}</quote>"))
    # a judge: it prefers whatever argument is marked as candidate 2 or revised; otherwise 60/40 for A
    for side in "AB":
        if f"I am {side}. candidate 2" in prompt or f"I am {side}, revised" in prompt:
            return Reply(body=chat_completion(side, logprobs={side: 0.9, "B" if side == "A" else "A": 0.1}))
    return Reply(body=chat_completion("A", logprobs={"A": 0.6, "B": 0.4}))


def run(tmp_path: Path, server: FakeOpenAIServer, protocol: str, **kw) -> tuple[list[dict], list[dict], list[dict]]:
    spec = f"openai-compatible/fake@{server.base_url}"
    db = f"sqlite:///{tmp_path / 'p.db'}"
    cfg = dict(protocol=protocol, dataset=kw.pop("dataset", None) or dataset(tmp_path), debater=spec, consultant=spec, judges=[spec], db=db,
               run_name=kw.pop("run_name", protocol), rounds=2, progress=False, max_retries=0)  # fmt: skip
    cfg.update(kw)
    summary = run_sync(RunConfig(**cfg))
    assert summary.status == "finished", summary.errors
    engine = connect(db)
    out = transcript_rows(engine, cfg["run_name"]), judgment_rows(engine, cfg["run_name"]), usage_rows(engine, cfg["run_name"])
    engine.dispose()
    return out


def test_sequential_debate_shows_b_the_turn_of_a(tmp_path: Path):
    with FakeOpenAIServer(default=scripted) as server:
        transcripts, _, _ = run(tmp_path, server, "debate", turns="sequential", dataset=dataset(tmp_path, 1))
        prompts = [prompt_of(r) for r in server.requests if not r.get("logprobs")]
    b_round1 = next(p for p in prompts if "You are Debater B" in p and "round 1 of 2" in p)
    a_round1 = next(p for p in prompts if "You are Debater A" in p and "round 1 of 2" in p)
    assert "Debater A: I am A." in b_round1 and "Transcript so far" not in a_round1
    a_round2 = next(p for p in prompts if "You are Debater A" in p and "round 2 of 2" in p)
    assert "Debater B: I am B." in a_round2  # A sees B's round-1 turn in round 2
    assert [t["role"] for t in transcripts[0]["turns"]] == ["debater_a", "debater_b"] * 2


def test_simultaneous_debate_hides_the_current_round(tmp_path: Path):
    with FakeOpenAIServer(default=scripted) as server:
        run(tmp_path, server, "debate", dataset=dataset(tmp_path, 1))
        prompts = [prompt_of(r) for r in server.requests if not r.get("logprobs")]
    b_round1 = next(p for p in prompts if "You are Debater B" in p and "round 1 of 2" in p)
    assert "Transcript so far" not in b_round1


def test_consultancy_runs_both_assignments_and_splits_the_leaderboard(tmp_path: Path):
    with FakeOpenAIServer(default=scripted) as server:
        transcripts, judgments, _ = run(tmp_path, server, "consultancy")
        consultant_prompts = [prompt_of(r) for r in server.requests if "You are a consultant" in prompt_of(r)]
        judge_prompts = [prompt_of(r) for r in server.requests if r.get("logprobs")]
    assert len(transcripts) == 4  # 2 questions x (correct, incorrect)
    assert all(STORY in p for p in consultant_prompts) and not any(STORY in p for p in judge_prompts)
    assert all("Consultant: I am" in p for p in judge_prompts)
    sides = {(t["question_id"], t["turns"][0]["side"]) for t in transcripts}
    assert len(sides) == 4  # each question argued once for each side
    assert all(len(t["turns"]) == 2 and {turn["role"] for turn in t["turns"]} == {"consultant"} for t in transcripts)
    board = leaderboard(judgments)[0]
    assert board["protocol"] == "consultancy" and board["n"] == 8
    # the judge answers A at 60% whatever it reads: right exactly when the correct option is shown as A
    assert board["acc_consultant_correct"] == pytest.approx(0.5) and board["acc_consultant_incorrect"] == pytest.approx(0.5)
    assert board["acc_consultancy_mean"] == pytest.approx(0.5)
    assert board["swap_consistency"] == 0.0  # always "the first answer": flips with the order


def test_open_consultancy_records_the_choice(tmp_path: Path):
    with FakeOpenAIServer(default=scripted) as server:
        transcripts, judgments, _ = run(tmp_path, server, "open-consultancy")
    assert len(transcripts) == 2
    exported = {t["question_id"]: t for t in transcripts}
    for t in exported.values():
        assert t["turns"][0]["side"] == "B"  # the model chose B
        assert t["outcome"]["chosen_side"] == "B" and t["outcome"]["chose_correct"] == (t["correct"] == "B")
    board = leaderboard(judgments)[0]
    chose_correct = [t["correct"] == "B" for t in transcripts]
    assert board["open_chose_correct"] == pytest.approx(sum(chose_correct) / 2)


def test_open_debate_gives_the_chooser_its_pick(tmp_path: Path):
    with FakeOpenAIServer(default=scripted) as server:
        strong, weak = f"openai-compatible/strong@{server.base_url}", f"openai-compatible/weak@{server.base_url}"
        transcripts, _, usage = run(tmp_path, server, "open-debate", debater=None, debater_a=strong, debater_b=weak, rounds=1)
    for t in transcripts:
        by_side = {turn["side"]: turn["model"] for turn in t["turns"]}
        assert by_side == {"B": "openai-compatible/strong", "A": "openai-compatible/weak"}
    assert any(r["role"] == "chooser" and r["model"] == "openai-compatible/strong" for r in usage)


def test_interactive_debate_question_reaches_the_addressed_debater(tmp_path: Path):
    with FakeOpenAIServer(default=scripted) as server:
        transcripts, _, usage = run(tmp_path, server, "interactive-debate", dataset=dataset(tmp_path, 1))
        prompts = [prompt_of(r) for r in server.requests if not r.get("logprobs")]
    turns = transcripts[0]["turns"]
    assert [t["role"] for t in turns] == ["debater_a", "debater_b", "judge", "debater_a", "debater_b"]
    assert turns[2]["text"] == "Which line proves your answer?" and not turns[2]["saw_context"]
    b2 = next(p for p in prompts if "You are Debater B" in p and "round 2 of 2" in p)
    a2 = next(p for p in prompts if "You are Debater A" in p and "round 2 of 2" in p)
    assert "First answer the judge's question to you: Which line proves your answer?" in b2
    assert "First answer the judge's question" not in a2
    assert {"interactive_judge", "judge", "debater_a", "debater_b"} <= {r["role"] for r in usage}


def test_interactive_consultancy(tmp_path: Path):
    with FakeOpenAIServer(default=scripted) as server:
        transcripts, _, _ = run(tmp_path, server, "interactive-consultancy", dataset=dataset(tmp_path, 1))
    roles = [t["role"] for t in transcripts[0]["turns"]]
    assert roles == ["consultant", "judge", "consultant"]
    assert transcripts[0]["turns"][1]["text"] == "Where does the story say so?"


def test_swapped_view_renames_the_judge_question_target(tmp_path: Path):
    with FakeOpenAIServer(default=scripted) as server:
        run(tmp_path, server, "interactive-debate", dataset=dataset(tmp_path, 1))
        judge_prompts = [prompt_of(r) for r in server.requests if r.get("logprobs")]
    ab, ba = judge_prompts
    assert "Judge (to Debater B): Which line proves your answer?" in ab
    assert "Judge (to Debater A): Which line proves your answer?" in ba


def test_best_of_n_keeps_the_preferred_candidate_and_stores_all(tmp_path: Path):
    with FakeOpenAIServer(default=scripted) as server:
        transcripts, _, usage = run(tmp_path, server, "debate", best_of=3, rounds=1, dataset=dataset(tmp_path, 1))
    engine = connect(f"sqlite:///{tmp_path / 'p.db'}")
    from sqlalchemy import select

    from oversight.db.schema import Turn

    with engine.connect() as conn:
        metas = [r.meta for r in conn.execute(select(Turn).order_by(Turn.idx))]
    engine.dispose()
    for turn, meta in zip(transcripts[0]["turns"], metas, strict=True):
        assert "candidate 2" in turn["text"] and turn["meta"] == meta  # exported with the transcript
        assert len(meta["candidates"]) == 3 and meta["chosen"] == 2
        scores = [c["score"] for c in meta["candidates"]]
        assert scores[2] == pytest.approx(0.9) and max(scores) == scores[2]
    assert sum(r["calls"] for r in usage if r["role"] == "preference_judge") == 6


def test_refine_asks_the_critic_and_keeps_the_better_version(tmp_path: Path):
    with FakeOpenAIServer(default=scripted) as server:
        transcripts, _, usage = run(tmp_path, server, "consultancy", refine=True, rounds=1, dataset=dataset(tmp_path, 1))
    for t in transcripts:
        assert t["turns"][0]["text"].endswith(f"revised. <quote>{QUOTE}</quote>")
    roles = {r["role"] for r in usage}
    assert {"critic", "preference_judge", "consultant"} <= roles


def test_human_arguments_on_the_shared_quality_set(tmp_path: Path):
    with FakeOpenAIServer(default=scripted) as server:
        transcripts, judgments, usage = run(tmp_path, server, "human-arguments", dataset=str(QUALITY_DEBATE), limit=3, rounds=1)
        judge_prompts = [prompt_of(r) for r in server.requests]
    assert len(transcripts) == 9  # 3 questions x (debate, consultancy for each side)
    assert {t["protocol"] for t in transcripts} == {"human-debate", "human-consultancy"}
    assert {r["role"] for r in usage} == {"judge"}  # no debater model was called
    debate = next(t for t in transcripts if t["protocol"] == "human-debate")
    quotes = [q for turn in debate["turns"] for q in turn["quotes"]]
    assert quotes and all(q["verified"] for q in quotes if len(q["text"].split()) >= 5)
    assert any("<v_quote>" in p for p in judge_prompts)
    assert {r["protocol"] for r in leaderboard(judgments)} == {"human-debate", "human-consultancy"}


def test_human_arguments_need_arguments(tmp_path: Path, fake_server: FakeOpenAIServer):
    with pytest.raises(InputError, match="human-arguments needs an argument for each side"):
        run(tmp_path, fake_server, "human-arguments")
    assert fake_server.requests == []


def test_rejudging_calls_no_debater_and_skips_what_is_stored(tmp_path: Path, capsys):
    with FakeOpenAIServer(default=scripted) as server:
        run(tmp_path, server, "debate", rounds=1)
        before = len(server.requests)
        db = f"sqlite:///{tmp_path / 'p.db'}"
        other = f"openai-compatible/other-judge@{server.base_url}"

        cli = run_cli
        assert cli("judge", "--run", "debate", "--judge", other, "--db", db, "--no-progress") == 0
        new = server.requests[before:]
        assert len(new) == 4 and all(r.get("logprobs") and r["model"] == "other-judge" for r in new)
        assert cli("judge", "--run", "debate", "--judge", other, "--db", db, "--no-progress") == 0
        assert len(server.requests) == before + 4  # nothing left to judge

        # a reasoning judge prompt is a different judgment of the same transcripts
        server.default = lambda _: Reply(body=chat_completion("The quotes support A.\nAnswer: A 80%"))
        assert cli("judge", "--run", "debate", "--judge", other, "--judge-prompt", "v1-cot", "--db", db, "--no-progress") == 0
        cot = server.requests[before + 4 :]
        assert len(cot) == 4 and all("Think it through" in prompt_of(r) for r in cot)
    engine = connect(db)
    rows = judgment_rows(engine, "debate")
    engine.dispose()
    assert len(rows) == 12
    cot_rows = [r for r in rows if r["prompt_version"].startswith("v1-cot-")]  # the judge template, versioned by its hash
    assert {r["method"] for r in cot_rows} == {"stated_confidence"}
    assert all(r["p_a"] == pytest.approx(0.8) for r in cot_rows if r["order"] == "AB")
    assert run_cli("judge", "--run", "nope", "--judge", other, "--db", db) == 2
    assert "no such run" in capsys.readouterr().err


@pytest.mark.parametrize(
    "protocol",
    ["naive", "expert", "debate", "open-debate", "interactive-debate", "consultancy", "open-consultancy", "interactive-consultancy"],
)
def test_every_protocol_on_the_shared_quality_set_with_the_scripted_server(tmp_path: Path, protocol: str):
    with FakeOpenAIServer(default=scripted) as server:
        transcripts, judgments, _ = run(tmp_path, server, protocol, dataset=str(QUALITY_DEBATE), limit=1)
        judge_prompts = [prompt_of(r) for r in server.requests if r.get("logprobs") and "Which answer is correct" not in prompt_of(r)]
    assert transcripts and len(judgments) == 2 * len(transcripts)
    article_start = "DOUBLECROSS"
    assert all((article_start in p) == (protocol == "expert") for p in judge_prompts)


def test_consultancy_resumes_per_assignment(tmp_path: Path):
    with FakeOpenAIServer(default=scripted) as server:
        first, _, _ = run(tmp_path, server, "consultancy", dataset=dataset(tmp_path, 3), limit=1)
        second, _, _ = run(tmp_path, server, "consultancy", dataset=dataset(tmp_path, 3), limit=3)
    assert len(first) == 2 and len(second) == 6
    assert len({(t["question_id"], t["turns"][0]["side"]) for t in second}) == 6
