"""The judge app's human-study pages through AppTest: round-by-round judging, time limits, windows, qualification,
the judge's own record, and the admin's campaign designs and exclusions."""

from __future__ import annotations

import html
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from streamlit.testing.v1 import AppTest
from study_fixtures import answer, judges, make_runs
from test_web_app import button, goto, page_text

from oversight.db import connect
from oversight.db.queries import judgment_rows
from oversight.db.schema import ItemSession
from oversight.human import campaigns, items, verdicts

APP = "../web/app.py"


@pytest.fixture
def study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    monkeypatch.setenv("OVERSIGHT_DB", url)
    make_runs(tmp_path, url, articles=3, rounds=2, protocols=("debate", "naive"))
    engine = connect(url)
    people = judges(engine, 2)
    from oversight.human import accounts

    accounts.add_user(engine, "boss", "admin", "correct horse battery")
    return {"url": url, "engine": engine, "people": people}


def as_user(person: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["user"] = person
    at.session_state["login_at"] = time.time()
    return at.run()


def create(study: dict, name: str, **kw) -> int:
    kw.setdefault("judges", ["j0", "j1"])
    return campaigns.create_campaign(study["engine"], campaigns.CampaignSpec(name=name, **kw))


def test_judge_reads_round_by_round_gives_beliefs_and_stops(study: dict):
    cid = create(study, "paced", runs=["debate"], feedback=True, design={"paced": True, "round_cost": 0.1})
    j0 = study["people"][0]
    at = as_user(j0)
    assert not at.exception
    text = page_text(at)
    assert "Round 1" in text and "Round 2" not in text and "Your belief after round 1" in text
    item = items.next_item(study["engine"], cid, j0["id"])
    at.slider(key=f"p:{item}:1").set_value(70)
    button(at, "Continue to round 2").click().run()
    assert not at.exception and not at.error
    text = page_text(at)
    assert "Round 2" in text and "Your belief after round 2" in text
    assert any("round 1: 70% on A" in c.value for c in at.caption)
    assert button(at, "No more rounds").disabled
    at.slider(key=f"p:{item}:2").set_value(80)
    at.text_area(key=f"why:{item}:2").input("Both debaters quoted the eleven nights line.")
    button(at, "Stop and submit verdict").click().run()
    assert not at.exception and not at.error
    assert "You read 2 round(s), costing 0.10" in page_text(at)
    beliefs = [r for r in judgment_rows(study["engine"], cuts=True) if r["judge"] == "j0"]
    assert sorted((r["after_round"] or 0) for r in beliefs) == [0, 1, 2]


def test_minimum_rounds_and_the_double_click(study: dict):
    cid = create(study, "min2", runs=["debate"], design={"paced": True, "min_rounds": 2})
    j0 = study["people"][0]
    at = as_user(j0)
    item = items.next_item(study["engine"], cid, j0["id"])
    assert button(at, "Stop and submit verdict").disabled and "Read at least 2 rounds" in " ".join(c.value for c in at.caption)
    at.slider(key=f"p:{item}:1").set_value(30)
    button(at, "Continue to round 2").click().run()
    # the same form sent again (a second click on a stale page) is refused, not stored twice
    with pytest.raises(Exception, match="not the round you are on"):
        verdicts.advance(study["engine"], j0, {"item_id": item, "p_first": 0.3, "round": 1})
    assert not button(at, "Stop and submit verdict").disabled


def test_time_limit_moves_the_judge_on(study: dict):
    cid = create(study, "timed", runs=["naive"], design={"item_time_limit_s": 90})
    j0 = study["people"][0]
    at = as_user(j0)
    assert any("Time left on this item: 1:" in c.value for c in at.caption)
    item = items.next_item(study["engine"], cid, j0["id"])
    with study["engine"].begin() as conn:
        conn.execute(update(ItemSession.__table__).values(started_at=datetime.now(UTC) - timedelta(minutes=5)))
    at.run()
    assert "Time is up for this item." in [w.value for w in at.warning]
    button(at, "Next item").click().run()
    assert not at.exception and not at.error
    assert items.next_item(study["engine"], cid, j0["id"]) != item
    assert campaigns.progress(study["engine"], cid)[0]["timed_out"] == 1


def test_closed_window_and_failed_qualification(study: dict):
    create(study, "later", runs=["naive"], judges=["j0"], design={"starts_at": datetime.now(UTC) + timedelta(days=2)})
    at = as_user(study["people"][0])
    assert "This campaign opens at" in page_text(at)
    cid = create(study, "qual", runs=["naive"], judges=["j1"], qualification_runs=["easy"],
                 design={"qualification_items": 1, "pass_threshold": 1.0, "judge_sees_stats": True})  # fmt: skip
    j1 = study["people"][1]
    at = as_user(j1)
    assert any("Qualification item" in c.value for c in at.caption)
    answer(study["engine"], j1, items.next_item(study["engine"], cid, j1["id"]), right=False)
    at.run()
    assert "did not reach the pass mark" in page_text(at)


def test_judge_sees_their_own_record(study: dict):
    cid = create(study, "record", runs=["naive"], judges=["j0"], design={"judge_sees_stats": True})
    j0 = study["people"][0]
    answer(study["engine"], j0, items.next_item(study["engine"], cid, j0["id"]))
    at = as_user(j0)
    assert any(c.value.startswith("Your record: 1 judged, accuracy 100%") for c in at.caption)


def test_admin_creates_a_counterbalanced_campaign_and_excludes_a_judge(study: dict):
    from oversight.human import accounts

    boss = {"id": next(u["id"] for u in accounts.list_users(study["engine"]) if u["name"] == "boss"), "name": "boss", "role": "admin"}
    at = goto(as_user(boss), "Campaigns")
    at.text_input(key="c_name").input("arms")
    at.multiselect(key="c_judges").set_value(["j0", "j1"])
    at.text_input(key="c_conditions").input("debate=debate, naive=naive/naive")
    at.multiselect(key="c_catch_runs").set_value(["easy"])
    at.number_input(key="c_catch_every").set_value(1)
    button(at, "Create campaign").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (made,) = [c for c in campaigns.all_campaigns(study["engine"]) if c["name"] == "arms"]
    assert made["design"]["conditions"] == ["debate", "naive"] and made["design"]["catch_every"] == 1
    at.text_input(key="c_name").input("broken")
    at.text_input(key="c_conditions").input("nothing-here")
    button(at, "Create campaign").click().run()
    assert "write NAME=RUN" in page_text(at)
    at.number_input(key="c_min_rounds").set_value(3)
    at.number_input(key="c_max_rounds").set_value(2)
    at.text_input(key="c_conditions").input("")
    at.multiselect(key="c_runs").set_value(["naive"])
    button(at, "Create campaign").click().run()
    assert "below min_rounds" in page_text(at) and "validation error" not in page_text(at)
    j1 = study["people"][1]
    item = items.next_item(study["engine"], made["id"], j1["id"])
    answer(study["engine"], j1, item)
    catch = items.next_item(study["engine"], made["id"], j1["id"])
    answer(study["engine"], j1, catch, right=False)
    at.run()
    assert any("Missed a catch trial: j1" in html.unescape(w.value) for w in at.warning)
    at.selectbox(key=f"ex_who:{made['id']}").set_value("j1")
    button(at, "Exclude from results").click().run()
    assert not at.exception and "Excluded j1 (1 verdicts)" in page_text(at)
    assert [r for r in judgment_rows(study["engine"]) if r["judge"] == "j1"] == []


def test_leaderboard_page_shows_human_beliefs_by_round_and_stopping_rounds(study: dict):
    from oversight.human import accounts

    cid = create(study, "paced", runs=["debate"], judges=["j0"], design={"paced": True})
    j0 = study["people"][0]
    item = items.next_item(study["engine"], cid, j0["id"])
    verdicts.first_round(study["engine"], item, j0["id"])
    verdicts.advance(study["engine"], j0, {"item_id": item, "p_first": 0.7, "round": 1})
    answer(study["engine"], j0, item, round=2)
    boss = next(u for u in accounts.list_users(study["engine"]) if u["name"] == "boss")
    at = goto(as_user({"id": boss["id"], "name": "boss", "role": "admin"}), "Leaderboard")
    assert not at.exception
    headings = [s.value for s in at.subheader]
    assert "Accuracy and calibration by round" in headings and "Judge-paced campaigns: the round judges stopped after" in headings
    tables = [df.value for df in at.dataframe]
    assert any("stopped_after_round" in t.columns and list(t["stopped_after_round"]) == [2] for t in tables)
    assert any("round" in t.columns and set(t[t["judge"] == "j0"]["round"]) == {1, 2} for t in tables if "judge" in t.columns)


def test_leaderboard_page_puts_humans_and_models_on_one_capability_axis(study: dict):
    from oversight.human import accounts

    cid = create(study, "axis", conditions=[{"name": "naive", "runs": ["naive"]}, {"name": "debate", "runs": ["debate"]}], judges=["j0"])
    j0 = study["people"][0]
    while (item := items.next_item(study["engine"], cid, j0["id"])) is not None:
        answer(study["engine"], j0, item)
    boss = next(u for u in accounts.list_users(study["engine"]) if u["name"] == "boss")
    at = goto(as_user({"id": boss["id"], "name": "boss", "role": "admin"}), "Leaderboard")
    assert not at.exception and "One capability axis: humans and models" in [s.value for s in at.subheader]
    (table,) = [df.value for df in at.dataframe if "naive_accuracy" in df.value.columns]
    assert {"j0", "humans (pooled)"} <= set(table["judge"]) and set(table["protocol"]) == {"debate"}
