"""The engine with the scripted server: storage on SQLite and PostgreSQL, resume, interruption, protocols' visibility."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import write_jsonl
from fake_openai import FakeOpenAIServer, Reply, chat_completion
from oversight.config import RunConfig
from oversight.db import connect
from oversight.db.queries import judgment_rows, transcript_rows
from oversight.db.schema import Judgment, ModelCall, QuestionRow, Quote, Run, Transcript, Turn
from oversight.engine import Runner, run_sync
from oversight.errors import InputError

STORY = "The lighthouse keeper kept the lamp burning for eleven nights while the storm raged over the rock."


def questions(n: int) -> list[dict]:
    return [
        {"id": f"q{i}", "question": f"How long did the lamp burn ({i})?", "options": ["Eleven nights", "Two nights"],
         "answer": 0, "context": STORY, "article_id": f"art{i % 3}"}
        for i in range(n)
    ]  # fmt: skip


def scripted(request: dict) -> Reply:
    """Debaters quote the story (one real quote, one invented); judges answer A with logprobs."""
    prompt = request["messages"][-1]["content"]
    match = re.search(r"You are Debater ([AB])", prompt)
    if match:
        side = match.group(1)
        return Reply(body=chat_completion(
            f"I am Debater {side}; answer {side} is right. <quote>kept the lamp burning for eleven nights</quote> "
            f"and <quote>the keeper slept through the whole storm</quote>"
        ))  # fmt: skip
    return Reply(body=chat_completion("A", logprobs={"A": 0.7, "B": 0.3}))


def config(tmp_path: Path, server: FakeOpenAIServer, db: str, **kw) -> RunConfig:
    dataset = kw.pop("dataset", None) or str(write_jsonl(tmp_path / "d.jsonl", questions(kw.pop("n", 6))))
    spec = f"openai-compatible/fake@{server.base_url}"
    base = dict(protocol="debate", dataset=dataset, debater=spec, judges=[spec], db=db, run_name="r1", rounds=2,
                progress=False, max_retries=1)  # fmt: skip
    base.update(kw)
    return RunConfig(**base)


def counts(db: str) -> dict[str, int]:
    engine = connect(db)
    with engine.connect() as conn:
        out = {
            t.__tablename__: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (Transcript, Turn, Quote, Judgment, ModelCall)
        }
    engine.dispose()
    return out


def test_the_first_requests_do_not_wait_for_the_question_rows(tmp_path: Path, sqlite_url: str):
    # a run of many questions sends its first requests before their rows are stored, and stores them before any item
    stored_at_first_request: list[int] = []

    def reply(request: dict) -> Reply:
        if not stored_at_first_request:
            engine = connect(sqlite_url)
            with engine.connect() as conn:
                stored_at_first_request.append(conn.execute(select(func.count()).select_from(QuestionRow)).scalar_one())
            engine.dispose()
        return scripted(request)

    with FakeOpenAIServer(default=reply) as server:
        summary = run_sync(config(tmp_path, server, sqlite_url, protocol="naive", n=40))
    assert summary.status == "finished" and summary.written == 40
    assert stored_at_first_request == [0]
    engine = connect(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(QuestionRow)).scalar_one() == 40
        orphans = conn.execute(
            select(func.count()).select_from(Transcript).where(~Transcript.question_uid.in_(select(QuestionRow.uid)))
        ).scalar_one()
    engine.dispose()
    assert orphans == 0


def test_debate_run_stores_everything(tmp_path: Path, db_url: str):
    with FakeOpenAIServer(default=scripted) as server:
        summary = run_sync(config(tmp_path, server, db_url))
        judge_prompts = [r["messages"][-1]["content"] for r in server.requests if r.get("logprobs")]
        debater_prompts = [r["messages"][-1]["content"] for r in server.requests if not r.get("logprobs")]
    assert summary.status == "finished" and summary.written == 6
    assert counts(db_url) == {"transcripts": 6, "turns": 24, "quotes": 48, "judgments": 12, "model_calls": 36}
    # visibility: debaters read the story, judges never do
    assert all(STORY in p for p in debater_prompts)
    assert not any(STORY in p for p in judge_prompts)
    # quotes reach the judge marked verified / unverified
    assert all("<v_quote>kept the lamp burning for eleven nights</v_quote>" in p for p in judge_prompts)
    assert all("<u_quote>the keeper slept through the whole storm</u_quote>" in p for p in judge_prompts)
    # round 2 prompts carry round 1, and simultaneous turns: nobody sees the other's turn of the same round
    round2 = [p for p in debater_prompts if "round 2 of 2" in p]
    assert round2 and all("Round 1" in p and "Round 2" not in p.split("You are Debater")[0] for p in round2)
    engine = connect(db_url)
    exported = transcript_rows(engine, "r1")
    rows = judgment_rows(engine, "r1")
    engine.dispose()
    assert {r["order"] for r in rows} == {"AB", "BA"}
    t = exported[0]
    assert [turn["role"] for turn in t["turns"]] == ["debater_a", "debater_b"] * 2
    assert [q["verified"] for q in t["turns"][0]["quotes"]] == [True, False]
    assert len(t["judgments"]) == 2


def test_swapped_order_rewrites_names_and_maps_back(tmp_path: Path, sqlite_url: str):
    with FakeOpenAIServer(default=scripted) as server:
        run_sync(config(tmp_path, server, sqlite_url, n=1, rounds=1))
        judge_prompts = [r["messages"][-1]["content"] for r in server.requests if r.get("logprobs")]
    engine = connect(sqlite_url)
    t = transcript_rows(engine)[0]
    rows = {r["order"]: r for r in judgment_rows(engine)}
    engine.dispose()
    options = t["options"]
    a_text, b_text = options[t["option_a"]], options[t["option_b"]]
    ab, ba = judge_prompts
    assert f"A: {a_text}\nB: {b_text}" in ab and f"A: {b_text}\nB: {a_text}" in ba
    # in the swapped view the debater for canonical A is called B, inside its own words too
    assert "Debater B: I am Debater B; answer B is right." in ba
    assert "Debater A: I am Debater A; answer A is right." in ab
    # the judge said "A" with 0.7 both times: canonical A in AB, canonical B in BA
    assert rows["AB"]["p_a"] == pytest.approx(0.7) and rows["BA"]["p_b"] == pytest.approx(0.7)


def test_naive_and_expert_visibility(tmp_path: Path, sqlite_url: str):
    with FakeOpenAIServer(default=scripted) as server:
        run_sync(config(tmp_path, server, sqlite_url, protocol="naive", run_name="n", n=2))
        naive_prompts = [r["messages"][-1]["content"] for r in server.requests]
        server.requests.clear()
        run_sync(config(tmp_path, server, sqlite_url, protocol="expert", run_name="e", n=2))
        expert_prompts = [r["messages"][-1]["content"] for r in server.requests]
    assert len(naive_prompts) == 4 and not any(STORY in p for p in naive_prompts)
    assert len(expert_prompts) == 4 and all(p.startswith(f"<story>\n{STORY}") for p in expert_prompts)


def test_resume_after_failure_never_duplicates(tmp_path: Path, db_url: str):
    calls = {"n": 0}

    def flaky(request: dict) -> Reply:
        calls["n"] += 1
        if calls["n"] > 10:  # the endpoint starts refusing: a fatal error ends the run
            return Reply(status=401, body={"error": {"message": "key revoked", "type": "auth"}})
        return scripted(request)

    with FakeOpenAIServer(default=flaky) as server:
        cfg = config(tmp_path, server, db_url, protocol="naive", n=20, max_connections=1)
        first = run_sync(cfg)
        assert first.status == "failed" and "HTTP 401" in first.errors[0]
        done = counts(db_url)
        assert done["transcripts"] == 5 and done["judgments"] == 10  # whole items only
        server.default = scripted
        second = run_sync(cfg)
    assert second.status == "finished" and second.skipped == 5 and second.written == 15
    assert counts(db_url)["transcripts"] == 20 and counts(db_url)["judgments"] == 40
    engine = connect(db_url)
    with engine.connect() as conn:
        run = conn.execute(select(Run)).one()
    engine.dispose()
    assert run.status == "finished" and run.prompt_version.startswith("v1-") and run.package_version and run.config_hash
    assert run.models == {"judges": [f"openai-compatible/fake@{server.base_url}"]}


def test_interrupt_leaves_a_consistent_database(tmp_path: Path, sqlite_url: str):
    def slow(request: dict) -> Reply:
        reply = scripted(request)
        reply.delay = 0.05
        return reply

    with FakeOpenAIServer(default=slow) as server:
        cfg = config(tmp_path, server, sqlite_url, protocol="naive", n=40, max_connections=2)

        async def interrupted():
            task = asyncio.create_task(Runner(cfg).run())
            await asyncio.sleep(0.6)
            task.cancel()
            return await task

        summary = asyncio.run(interrupted())
        assert summary.status == "interrupted"
        partial = counts(sqlite_url)
        assert 0 < partial["transcripts"] < 40 and partial["judgments"] == 2 * partial["transcripts"]
        resumed = run_sync(cfg)
    assert resumed.skipped == partial["transcripts"] and resumed.status == "finished"
    assert counts(sqlite_url)["transcripts"] == 40


def test_same_name_different_config_is_refused(tmp_path: Path, sqlite_url: str):
    with FakeOpenAIServer(default=scripted) as server:
        run_sync(config(tmp_path, server, sqlite_url, protocol="naive", n=2))
        with pytest.raises(InputError, match="exists with a different configuration"):
            run_sync(config(tmp_path, server, sqlite_url, protocol="naive", n=2, seed=5))


def test_bad_dataset_stops_before_any_write_or_call(tmp_path: Path, fake_server: FakeOpenAIServer):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "question": "q", "options": ["a", "b"], "answer": 0}\n{"id": 2}\n')
    db_file = tmp_path / "never.db"
    with pytest.raises(InputError, match=r"bad.jsonl:2: question"):
        run_sync(config(tmp_path, fake_server, f"sqlite:///{db_file}", dataset=str(bad)))
    assert not db_file.exists() and fake_server.requests == []


def test_invalid_judge_output_is_stored_and_counted(tmp_path: Path, sqlite_url: str):
    with FakeOpenAIServer(default=lambda _: Reply(body=chat_completion("I refuse to answer."))) as server:
        summary = run_sync(config(tmp_path, server, sqlite_url, protocol="naive", n=3))
    assert summary.status == "finished"
    engine = connect(sqlite_url)
    rows = judgment_rows(engine)
    engine.dispose()
    assert len(rows) == 6 and not any(r["valid"] for r in rows)
    assert {r["method"] for r in rows} == {"invalid"} and rows[0]["raw_output"] == "I refuse to answer."


def test_orders_random_judges_once_per_item(tmp_path: Path, sqlite_url: str):
    with FakeOpenAIServer(default=scripted) as server:
        run_sync(config(tmp_path, server, sqlite_url, protocol="naive", n=30, orders="random"))
    engine = connect(sqlite_url)
    rows = judgment_rows(engine)
    engine.dispose()
    assert len(rows) == 30 and {r["order"] for r in rows} == {"AB", "BA"}


def test_cache_is_shared_across_runs_in_the_database(tmp_path: Path, sqlite_url: str):
    with FakeOpenAIServer(default=scripted) as server:
        run_sync(config(tmp_path, server, sqlite_url, protocol="naive", n=3, run_name="a"))
        before = len(server.requests)
        summary = run_sync(config(tmp_path, server, sqlite_url, protocol="naive", n=3, run_name="b"))
        assert len(server.requests) == before  # every call answered from the DB cache
    assert summary.cache_hits == 6


def test_judge_without_logprobs_falls_back_to_stated_confidence(tmp_path: Path, sqlite_url: str):
    with FakeOpenAIServer(default=lambda _: Reply(body=chat_completion("B 80%"))) as server:
        run_sync(config(tmp_path, server, sqlite_url, protocol="naive", n=1))
    engine = connect(sqlite_url)
    rows = {r["order"]: r for r in judgment_rows(engine)}
    engine.dispose()
    assert {r["method"] for r in rows.values()} == {"stated_confidence"}
    # "B 80%" means canonical B when shown AB, canonical A when shown BA
    assert rows["AB"]["p_b"] == pytest.approx(0.8) and rows["BA"]["p_a"] == pytest.approx(0.8)


def test_usage_accounting_per_role(tmp_path: Path, sqlite_url: str):
    from oversight.db.queries import usage_rows

    with FakeOpenAIServer(default=scripted) as server:
        run_sync(config(tmp_path, server, sqlite_url, n=2, rounds=1))
    engine = connect(sqlite_url)
    rows = {r["role"]: r for r in usage_rows(engine, "r1")}
    engine.dispose()
    assert set(rows) == {"debater_a", "debater_b", "judge"}
    assert rows["judge"]["calls"] == 4 and rows["debater_a"]["calls"] == 2
    assert rows["judge"]["prompt_tokens"] == 40 and rows["debater_b"]["completion_tokens"] == 4


def test_the_collector_is_eased_during_a_run_and_restored_after(tmp_path: Path, sqlite_url: str):
    import gc

    from oversight.engine import GC_THRESHOLDS

    seen: list[tuple[tuple[int, int, int], int]] = []

    def watching(request: dict) -> Reply:
        seen.append((gc.get_threshold(), gc.get_freeze_count()))  # the server runs in this process
        return scripted(request)

    before = gc.get_threshold()
    with FakeOpenAIServer(default=watching) as server:
        summary = run_sync(config(tmp_path, server, sqlite_url, protocol="naive", n=3))
    assert summary.status == "finished" and seen
    assert all(threshold == GC_THRESHOLDS and frozen > 0 for threshold, frozen in seen)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
