"""Campaign logic behind the judge app: assignment, blinding, validation, concurrency."""

from __future__ import annotations

from pathlib import Path

import pytest

from oversight.db.queries import judgment_rows
from oversight.errors import InputError
from oversight.human import accounts, campaigns, items, verdicts
from web_fixtures import GOLD, PASSWORD, SECRET_CONTEXT_WORDS, build


def user(env: dict, name: str) -> dict:
    u = env["users"][name]
    return {"id": u["id"], "name": u["name"], "role": u["role"]}


def form(item: int, p: float = 0.7, why: str = "The quote about eleven nights is verified.") -> dict:
    return {"item_id": item, "p_first": p, "explanation": why, "time_on_task_s": 12.5}


def test_passwords_are_salted_slow_hashes(sqlite_url: str, tmp_path: Path):
    env = build(tmp_path, sqlite_url)
    from sqlalchemy import select

    from oversight.db.schema import User

    with env["engine"].connect() as conn:
        hashes = conn.execute(select(User.password_hash)).scalars().all()
    assert len(set(hashes)) == len(hashes)  # same password, different salts
    assert all(h.startswith("scrypt$16384$") and PASSWORD not in h for h in hashes)
    assert accounts.authenticate(env["engine"], "judge0", PASSWORD)["role"] == "judge"
    assert accounts.authenticate(env["engine"], "judge0", "wrong password") is None
    assert accounts.authenticate(env["engine"], "nobody", PASSWORD) is None
    accounts.set_disabled(env["engine"], "judge0")
    assert accounts.authenticate(env["engine"], "judge0", PASSWORD) is None
    with pytest.raises(InputError, match="at least 8 characters"):
        accounts.add_user(env["engine"], "shorty", "judge", "123")
    with pytest.raises(InputError, match="exists already"):
        accounts.add_user(env["engine"], "judge1", "judge", PASSWORD)
    with pytest.raises(InputError, match="choose judge or admin"):
        accounts.add_user(env["engine"], "root2", "root", PASSWORD)


def test_judge_view_is_blinded(sqlite_url: str, tmp_path: Path):
    env = build(tmp_path, sqlite_url)
    judge = user(env, "judge0")
    item = items.next_item(env["engine"], env["campaign"], judge["id"])
    view = items.judge_view(env["engine"], item, judge["id"])
    dumped = view.model_dump_json()
    assert GOLD in view.answers  # the answers are shown, but nothing says which one is right
    for secret in ("secret-model-x", SECRET_CONTEXT_WORDS, '"answer"', "correct", "p_a", "judge1"):
        assert secret not in dumped
    assert view.context is None
    assert any("<v_quote>the lamp burned for eleven nights</v_quote>" in s.text for s in view.speeches)


def test_expert_campaign_shows_the_context(sqlite_url: str, tmp_path: Path):
    env = build(tmp_path, sqlite_url, show_context=True)
    judge = user(env, "judge0")
    view = items.judge_view(env["engine"], items.next_item(env["engine"], env["campaign"], judge["id"]), judge["id"])
    assert view.context is not None and SECRET_CONTEXT_WORDS in view.context


def test_submission_rules(sqlite_url: str, tmp_path: Path):
    env = build(tmp_path, sqlite_url, feedback=True)
    engine, judge = env["engine"], user(env, "judge0")
    item = items.next_item(engine, env["campaign"], judge["id"])
    for bad, message in [
        (form(item, p=0.99), "between 5% and 95%"),
        (form(item, p=float("nan")), "between 5% and 95%"),
        (form(item, why="short"), "write 10 to 2000 characters"),
        ({**form(item), "time_on_task_s": -1}, "time_on_task_s"),
        (form(99999), "no such item"),
    ]:
        with pytest.raises(InputError, match=message):
            verdicts.submit(engine, judge, bad)
    feedback = verdicts.submit(engine, judge, form(item, p=0.7))
    order = items.order_for(judge["id"], item)
    assert feedback is not None and feedback.correct_answer == GOLD
    rows = [r for r in judgment_rows(engine) if r["judge_kind"] == "human"]
    assert len(rows) == 1 and rows[0]["judge"] == "judge0" and rows[0]["order"] == order
    first_is_gold = items.judge_view(engine, item, judge["id"]).answers[0] == GOLD
    assert rows[0]["p_correct"] == pytest.approx(0.7 if first_is_gold else 0.3)
    with pytest.raises(InputError, match="not open for you"):
        verdicts.submit(engine, judge, form(item))  # twice
    other = user(env, "judge1")
    with pytest.raises(InputError, match="not open for you"):
        verdicts.submit(engine, other, form(item))  # judges_per_item = 1, already full
    outsider_id = accounts.add_user(engine, "outsider", "judge", PASSWORD)
    with pytest.raises(InputError, match="not assigned to you"):
        verdicts.submit(engine, {"id": outsider_id, "name": "outsider", "role": "judge"}, form(item))
    p_gold = 0.7 if first_is_gold else 0.3
    assert campaigns.progress(engine, env["campaign"])[0] == {
        "judge": "judge0", "done": 1, "items": 3, "mean_time_s": 12.5, "accuracy": 1.0 if first_is_gold else 0.0,
        "mean_p_correct": pytest.approx(p_gold), "brier": pytest.approx((1 - p_gold) ** 2), "timed_out": 0, "stage": "main",
        "qualification": "", "catch": "", "flagged": False, "excluded": False,
    }  # fmt: skip
    assert campaigns.progress(engine, env["campaign"])[1]["accuracy"] is None  # judge1 has judged nothing yet


def test_a_judge_never_sees_a_question_twice_across_campaigns(sqlite_url: str, tmp_path: Path):
    env = build(tmp_path, sqlite_url, n_questions=2)
    engine, judge = env["engine"], user(env, "judge0")
    seen = []
    while (item := items.next_item(engine, env["campaign"], judge["id"])) is not None:
        verdicts.submit(engine, judge, form(item))
        seen.append(item)
    assert len(seen) == 2
    again = campaigns.create_campaign(engine, campaigns.CampaignSpec(name="again", runs=["web-debate"], judges=["judge0"]))
    assert items.next_item(engine, again, judge["id"]) is None
    repeat = campaigns.create_campaign(
        engine, campaigns.CampaignSpec(name="repeat", runs=["web-debate"], judges=["judge0"], allow_repeat=True)
    )
    assert items.next_item(engine, repeat, judge["id"]) is not None


def test_campaign_spec_errors(sqlite_url: str, tmp_path: Path):
    env = build(tmp_path, sqlite_url)
    engine = env["engine"]
    with pytest.raises(InputError, match="no such run"):
        campaigns.create_campaign(engine, campaigns.CampaignSpec(name="x", runs=["missing"], judges=["judge0"]))
    with pytest.raises(InputError, match="no such user"):
        campaigns.create_campaign(engine, campaigns.CampaignSpec(name="x", runs=["web-debate"], judges=["ghost"]))
    with pytest.raises(InputError, match="exists already"):
        campaigns.create_campaign(engine, campaigns.CampaignSpec(name="study", runs=["web-debate"], judges=["judge0"]))
    only = campaigns.create_campaign(engine, campaigns.CampaignSpec(name="one-q", runs=["web-debate"], questions=["q1"], judges=["judge0"]))
    assert campaigns.progress(engine, only)[0]["items"] == 1
    with pytest.raises(InputError, match="no items"):
        campaigns.create_campaign(
            engine, campaigns.CampaignSpec(name="y", runs=["web-debate"], protocols=["consultancy"], judges=["judge0"])
        )


def test_interactive_question_is_answered_live_and_stored(sqlite_url: str, tmp_path: Path):
    import asyncio

    from fake_openai import FakeOpenAIServer, Reply, chat_completion

    env = build(tmp_path, sqlite_url, feedback=True)
    engine, judge = env["engine"], user(env, "judge0")
    with FakeOpenAIServer(
        default=lambda _: Reply(body=chat_completion("Answer B is backed by <quote>the lamp burned for eleven nights</quote>"))
    ) as server:
        cid = campaigns.create_campaign(
            engine,
            campaigns.CampaignSpec(name="live", runs=["web-debate"], judges=["judge1"], interactive=True,
                                   interactive_model=f"openai-compatible/fake@{server.base_url}", turn_penalty=0.05, feedback=True),
        )  # fmt: skip
        other = user(env, "judge1")
        item = items.next_item(engine, cid, other["id"])
        answer = asyncio.run(verdicts.ask(engine, item, other["id"], "Debater B", "Which line supports you?", []))
        prompt = server.requests[0]["messages"][-1]["content"]
        with pytest.raises(InputError, match="not assigned to you"):
            asyncio.run(verdicts.ask(engine, item, judge["id"], "Debater B", "Sneaky question?", []))
    order = items.order_for(other["id"], item)
    canonical = "B" if order == "AB" else "A"  # the judge's "Debater B" is canonical A when the order is swapped
    assert f"You are Debater {canonical}" in prompt and "Which line supports you?" in prompt.replace("Debater A", "Debater B")
    assert "<v_quote>the lamp burned for eleven nights</v_quote>" in answer
    exchanges = [{"to": "Debater B", "question": "Which line supports you?", "answer": answer}]
    feedback = verdicts.submit(engine, other, {**form(item), "exchanges": exchanges})
    p = feedback.p_correct
    assert feedback.brier == pytest.approx((1 - p) ** 2 + 0.05)
    rows = campaigns.export_rows(engine, cid)
    assert rows[0]["extra_turns"] == 1 and rows[0]["exchanges"][0]["question"] == "Which line supports you?"
    with pytest.raises(InputError, match="not interactive"):
        asyncio.run(verdicts.ask(engine, items.next_item(engine, env["campaign"], judge["id"]), judge["id"], "Debater A", "Why?", []))


@pytest.mark.slow
def test_thirty_judges_submit_a_thousand_verdicts_on_postgres(postgres_url: str):
    from oversight.bench.judges import judges_load

    result = judges_load(postgres_url, judges=30, judgments=1000)
    assert result["backend"] == "postgresql" and result["judgments_accepted"] >= 1000
    assert result["judgments_stored"] == result["judgments_accepted"]  # none lost, none doubled
    assert result["judge_twice_on_an_item"] == 0 and result["items_over_quota"] == 0


def test_forged_and_hostile_submissions_are_refused_or_neutralised(sqlite_url: str, tmp_path: Path):
    env = build(tmp_path, sqlite_url)
    engine, judge = env["engine"], user(env, "judge0")
    item = items.next_item(engine, env["campaign"], judge["id"])
    with pytest.raises(InputError, match="write 10 to 2000 characters"):
        verdicts.submit(engine, judge, form(item, why="x" * 2001))  # oversized
    with pytest.raises(InputError, match="between 5% and 95%"):
        verdicts.submit(engine, judge, form(item, p=-3.0))
    with pytest.raises(InputError):
        verdicts.submit(engine, judge, {**form(item), "item_id": "1 OR 1=1"})
    # fields a forged request adds are ignored: who judged and how are the server's facts
    script = "<script>alert('x')</script> the verified quote supports A"
    forged = {**form(item, p=0.7, why=script), "judge": "admin", "judge_kind": "model", "p_correct": 1.0, "user_id": 1}
    verdicts.submit(engine, judge, forged)
    (row,) = [r for r in judgment_rows(engine) if r["judge_kind"] == "human"]
    assert row["judge"] == "judge0" and row["raw_output"] == script  # stored as written; every page renders it inert
    with pytest.raises(InputError, match="not open for you"):
        verdicts.submit(engine, judge, forged)  # a replay


@pytest.mark.parametrize("name", ["admin' OR '1'='1", "'; DROP TABLE users; --", "admin\x00", "a" * 5000, "<script>x</script>"])
def test_hostile_login_names_are_just_wrong(sqlite_url: str, tmp_path: Path, name: str):
    env = build(tmp_path, sqlite_url, n_questions=1)
    assert accounts.authenticate(env["engine"], name, PASSWORD, "10.1.1.1") is None
    assert {u["name"] for u in accounts.list_users(env["engine"])} >= {"admin", "judge0"}  # nothing dropped or bypassed


def test_sessions_end_when_idle(sqlite_url: str, tmp_path: Path):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from oversight.db.schema import WebSession
    from oversight.human import logins

    env = build(tmp_path, sqlite_url, n_questions=1)
    token = logins.create_session(env["engine"], user(env, "judge0")["id"], "10.0.0.1")
    assert logins.session_user(env["engine"], token)["name"] == "judge0"
    with env["engine"].begin() as conn:
        conn.execute(update(WebSession.__table__).values(last_seen_at=datetime.now(UTC) - logins.IDLE - timedelta(minutes=1)))
    assert logins.session_user(env["engine"], token) is None and logins.session_user(env["engine"], token) is None


def test_a_submission_interrupted_mid_request_leaves_nothing_half_written(sqlite_url: str, tmp_path: Path):
    from sqlalchemy import event

    env = build(tmp_path, sqlite_url)
    engine, judge = env["engine"], user(env, "judge0")
    item = items.next_item(engine, env["campaign"], judge["id"])

    def die(conn, cursor, statement, *_):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT INTO HUMAN"):
            raise ConnectionError("connection lost after the judgment row was sent")

    event.listen(engine, "before_cursor_execute", die)
    with pytest.raises(ConnectionError):
        verdicts.submit(engine, judge, form(item))
    event.remove(engine, "before_cursor_execute", die)
    assert [r for r in judgment_rows(engine) if r["judge_kind"] == "human"] == []  # the judgment row went with the transaction
    assert items.next_item(engine, env["campaign"], judge["id"]) == item  # still open for this judge
    verdicts.submit(engine, judge, form(item))
    assert len([r for r in judgment_rows(engine) if r["judge_kind"] == "human"]) == 1
