"""Human studies as the papers ran them: counterbalanced conditions, windows and time limits, qualification and catch
trials, judge-paced round-by-round reveal with per-round beliefs, and live sessions generated while the judge reads."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from study_fixtures import GOLD, answer, article_of, judges, make_runs

from fake_openai import FakeOpenAIServer, Reply, chat_completion
from oversight.db import connect
from oversight.db.queries import judgment_rows
from oversight.db.schema import ItemSession, Turn
from oversight.errors import InputError
from oversight.human import campaigns, items, verdicts
from oversight.human.design import CampaignDesign, condition_order, latin_square
from oversight.metrics.leaderboard import stored_leaderboard
from oversight.metrics.rounds import round_table, stopping_table


def test_williams_latin_square_balances_positions_and_carryover():
    for k in (2, 3, 4, 5):
        square = latin_square(k)
        assert all(sorted(row) == list(range(k)) for row in square)
        for position in range(k):  # every condition in every position equally often
            assert len(set(Counter(row[position] for row in square).values())) == 1
        pairs = Counter((row[i], row[i + 1]) for row in square for i in range(k - 1))
        assert len(pairs) == k * (k - 1) and len(set(pairs.values())) == 1  # every ordered pair follows equally often
    assert condition_order(["debate", "consultancy", "naive"], 0) != condition_order(["debate", "consultancy", "naive"], 1)


def test_conditions_are_counterbalanced_and_no_article_is_seen_under_two(sqlite_url: str, tmp_path: Path):
    make_runs(tmp_path, sqlite_url, articles=6, per_article=2)
    engine = connect(sqlite_url)
    people = judges(engine, 4)
    spec = campaigns.CampaignSpec(
        name="arms", judges=[p["name"] for p in people], judges_per_item=4,
        conditions=[{"name": "debate", "runs": ["debate"]}, {"name": "naive", "runs": ["naive"]}],
    )  # fmt: skip
    cid = campaigns.create_campaign(engine, spec)
    seen: dict[str, list[tuple[str, str]]] = {}
    orders = {}
    for person in people:
        sequence = []
        while (item := items.next_item(engine, cid, person["id"])) is not None:
            sequence.append(article_of(engine, item))
            answer(engine, person, item)
        seen[person["name"]] = sequence
        orders[person["name"]] = [c for c, _ in sequence]
    for name, sequence in seen.items():
        conditions_by_article: dict[str, set[str]] = {}
        for condition, article in sequence:
            conditions_by_article.setdefault(article, set()).add(condition)
        assert all(len(c) == 1 for c in conditions_by_article.values()), name  # never one article under two conditions
        assert len(sequence) == 12  # every question once, each article under one condition only...
    # ...alternating as their Latin-square row says: judge 0 starts with debate, judge 1 with naive
    assert orders["j0"][:2] == ["debate", "naive"] and orders["j1"][:2] == ["naive", "debate"]
    assert all(Counter(o).most_common()[0][1] - Counter(o).most_common()[-1][1] <= 2 for o in orders.values())
    assert len({tuple(a for _, a in s) for s in seen.values()}) > 1  # each judge has their own random order


def test_one_per_article_and_items_per_judge(sqlite_url: str, tmp_path: Path):
    make_runs(tmp_path, sqlite_url, articles=3, per_article=2, protocols=("naive",))
    engine = connect(sqlite_url)
    (person,) = judges(engine, 1)
    cid = campaigns.create_campaign(
        engine, campaigns.CampaignSpec(name="once", runs=["naive"], judges=["j0"], design=CampaignDesign(one_per_article=True))
    )
    done = []
    while (item := items.next_item(engine, cid, person["id"])) is not None:
        done.append(article_of(engine, item)[1])
        answer(engine, person, item)
    assert sorted(done) == ["art0", "art1", "art2"]  # one question per article, never two
    capped = campaigns.create_campaign(
        engine, campaigns.CampaignSpec(name="capped", runs=["naive"], judges=["j0"], allow_repeat=True, design={"items_per_judge": 2})
    )
    n = 0
    while (item := items.next_item(engine, capped, person["id"])) is not None:
        answer(engine, person, item)
        n += 1
    assert n == 2


def test_window_and_time_limit(sqlite_url: str, tmp_path: Path):
    make_runs(tmp_path, sqlite_url, articles=3, protocols=("naive",))
    engine = connect(sqlite_url)
    a, b = judges(engine, 2)
    later = campaigns.create_campaign(
        engine,
        campaigns.CampaignSpec(name="later", runs=["naive"], judges=["j0"], design={"starts_at": datetime.now(UTC) + timedelta(days=1)}),
    )
    assert items.next_item(engine, later, a["id"]) is None
    with pytest.raises(InputError, match="opens at"):
        answer(engine, a, 1)
    with pytest.raises(ValueError, match="end after it starts"):
        CampaignDesign(starts_at=datetime(2026, 1, 2), ends_at=datetime(2026, 1, 1))
    timed = campaigns.create_campaign(
        engine, campaigns.CampaignSpec(name="timed", runs=["naive"], judges=["j1"], feedback=True, design={"item_time_limit_s": 60})
    )
    item = items.next_item(engine, timed, b["id"])
    assert 55 < items.judge_view(engine, item, b["id"]).time_left_s <= 60
    with pytest.raises(InputError, match="there is time left"):
        verdicts.time_out(engine, b, item)
    with engine.begin() as conn:  # the judge walked away for two minutes
        conn.execute(update(ItemSession.__table__).values(started_at=datetime.now(UTC) - timedelta(seconds=120)))
    assert items.next_item(engine, timed, b["id"]) == item  # reloading does not give a fresh clock
    with pytest.raises(InputError, match="recorded as timed out"):
        answer(engine, b, item)
    (row,) = [r for r in judgment_rows(engine) if r["judge_kind"] == "human"]
    assert row["valid"] is False and row["p_correct"] is None  # an invalid verdict, counted as such
    stats = campaigns.progress(engine, timed)[0]
    assert stats["timed_out"] == 1 and stats["accuracy"] is None
    nxt = items.next_item(engine, timed, b["id"])
    assert nxt is not None and nxt != item


def test_qualification_promotes_or_stops_judges(sqlite_url: str, tmp_path: Path):
    make_runs(tmp_path, sqlite_url, articles=3, protocols=("naive",))
    engine = connect(sqlite_url)
    good, bad = judges(engine, 2)
    spec = campaigns.CampaignSpec(name="qual", runs=["naive"], judges=["j0", "j1"], judges_per_item=2, qualification_runs=["easy"],
                                  design={"qualification_items": 2, "pass_threshold": 1.0})  # fmt: skip
    cid = campaigns.create_campaign(engine, spec)
    for person, right in ((good, True), (bad, False)):
        for _ in range(2):
            item = items.next_item(engine, cid, person["id"])
            assert items.judge_view(engine, item, person["id"]).stage == "qualification"
            feedback = answer(engine, person, item, right=right)
            assert feedback is not None and feedback.correct_answer.isdigit()  # gold items always show the answer
        assert ("qualified" if right else "did not reach") in feedback.qualification
    assert items.judge_view(engine, items.next_item(engine, cid, good["id"]), good["id"]).stage == "main"
    assert items.next_item(engine, cid, bad["id"]) is None
    stages = {p["judge"]: (p["stage"], p["qualification"]) for p in campaigns.progress(engine, cid)}
    assert stages == {"j0": ("main", "2/2"), "j1": ("failed", "0/2")}
    assert [r for r in judgment_rows(engine) if r["judge_kind"] == "human"] == []  # gold verdicts are not results


def test_catch_trials_flag_and_exclusion(sqlite_url: str, tmp_path: Path):
    make_runs(tmp_path, sqlite_url, articles=4, protocols=("naive",))
    engine = connect(sqlite_url)
    careful, careless = judges(engine, 2)
    spec = campaigns.CampaignSpec(name="catch", runs=["naive"], judges=["j0", "j1"], judges_per_item=2, catch_runs=["easy"],
                                  design={"catch_every": 2})  # fmt: skip
    cid = campaigns.create_campaign(engine, spec)
    stages = {}
    for person, right in ((careful, True), (careless, False)):
        seen = []
        while (item := items.next_item(engine, cid, person["id"])) is not None:
            stage = items.judge_view(engine, item, person["id"]).stage
            seen.append(stage)
            answer(engine, person, item, right=right or stage == "main")
        stages[person["name"]] = seen
    assert stages["j0"][:3] == ["main", "main", "catch"] and stages["j0"].count("catch") == 2
    flags = {p["judge"]: (p["catch"], p["flagged"]) for p in campaigns.progress(engine, cid)}
    assert flags == {"j0": ("2/2", False), "j1": ("0/2", True)}
    assert len([r for r in judgment_rows(engine) if r["judge_kind"] == "human"]) == 8  # catch verdicts are not results
    before = {r["judge"] for r in stored_leaderboard(engine)}
    assert campaigns.set_excluded(engine, cid, "j1") == 4
    assert {r["judge"] for r in judgment_rows(engine) if r["judge_kind"] == "human"} == {"j0"}
    assert {r["judge"] for r in stored_leaderboard(engine)} == before - {"j1"}
    assert campaigns.progress(engine, cid)[1]["excluded"] is True
    campaigns.set_excluded(engine, cid, "j1", False)
    assert {r["judge"] for r in stored_leaderboard(engine)} == before
    with pytest.raises(InputError, match="does not judge"):
        campaigns.set_excluded(engine, cid, "nobody")


def test_judge_paced_reveal_stores_a_belief_per_round(sqlite_url: str, tmp_path: Path):
    make_runs(tmp_path, sqlite_url, articles=2, rounds=3, protocols=("debate",))
    engine = connect(sqlite_url)
    (person,) = judges(engine, 1)
    cid = campaigns.create_campaign(
        engine,
        campaigns.CampaignSpec(name="paced", runs=["debate"], judges=["j0"], feedback=True,
                               design={"paced": True, "min_rounds": 2, "round_cost": 0.05}),
    )  # fmt: skip
    item = items.next_item(engine, cid, person["id"])
    verdicts.first_round(engine, item, person["id"])
    view = items.judge_view(engine, item, person["id"])
    assert view.paced and view.round_shown == 1 and {s.round for s in view.speeches} == {1}
    assert view.can_continue and not view.can_stop and view.max_rounds == 3
    with pytest.raises(InputError, match="read at least 2 round"):
        answer(engine, person, item, round=1)
    gold_first = view.answers[0] == GOLD
    p1 = 0.6 if gold_first else 0.4
    assert verdicts.advance(engine, person, {"item_id": item, "p_first": p1, "round": 1}) == 2
    with pytest.raises(InputError, match="not the round you are on"):
        verdicts.advance(engine, person, {"item_id": item, "p_first": p1, "round": 1})  # a double click
    with pytest.raises(InputError, match="Unsure"):
        verdicts.advance(engine, person, {"item_id": item, "p_first": 0.5, "round": 2})
    view = items.judge_view(engine, item, person["id"])
    assert {s.round for s in view.speeches} == {1, 2} and view.can_stop and view.beliefs == [p1]
    feedback = answer(engine, person, item, round=2)
    assert feedback.rounds_read == 2 and feedback.round_cost == 0.0  # the minimum costs nothing
    item2 = items.next_item(engine, cid, person["id"])
    verdicts.first_round(engine, item2, person["id"])
    for k in (1, 2):
        verdicts.advance(engine, person, {"item_id": item2, "p_first": 0.7, "round": k})
    with pytest.raises(InputError, match="last round"):
        verdicts.advance(engine, person, {"item_id": item2, "p_first": 0.7, "round": 3})
    feedback = answer(engine, person, item2, round=3)
    assert feedback.round_cost == pytest.approx(0.05) and feedback.brier == pytest.approx((1 - feedback.p_correct) ** 2 + 0.05)
    by_round = [r for r in round_table(judgment_rows(engine, cuts=True)) if r["judge_kind"] == "human"]
    assert [(r["round"], r["n"]) for r in by_round] == [(1, 2), (2, 2), (3, 1)]
    stops = stopping_table(judgment_rows(engine))
    assert [(s["stopped_after_round"], s["n"]) for s in stops] == [(2, 1), (3, 1)]
    exported = campaigns.export_rows(engine, cid)
    assert [len(r["p_correct_by_round"]) for r in exported] == [2, 3] and exported[0]["stopped_after_round"] == 2


def test_live_session_generates_each_round_once(sqlite_url: str, tmp_path: Path):
    make_runs(tmp_path, sqlite_url, articles=2, rounds=1, protocols=("debate", "consultancy"))
    engine = connect(sqlite_url)
    a, b = judges(engine, 2)

    def live_reply(request: dict) -> Reply:
        prompt = request["messages"][-1]["content"]
        return Reply(body=chat_completion(f"Live turn {prompt.count('Round')}: <quote>the lamp burned for eleven nights</quote>"))

    with FakeOpenAIServer(default=live_reply) as server:
        spec = campaigns.CampaignSpec(
            name="live", runs=["debate"], judges=["j0", "j1"], judges_per_item=2,
            design={"live": True, "max_rounds": 3, "live_model": f"openai-compatible/live@{server.base_url}"},
        )  # fmt: skip
        cid = campaigns.create_campaign(engine, spec)
        item = items.next_item(engine, cid, a["id"])
        assert items.judge_view(engine, item, a["id"]).speeches == []  # nothing generated before the judge starts
        verdicts.first_round(engine, item, a["id"])
        assert len(server.requests) == 2  # both debaters' first turns
        view = items.judge_view(engine, item, a["id"])
        assert view.round_shown == 1 and len(view.speeches) == 2 and view.max_rounds == 3
        assert all("<v_quote>" in s.text for s in view.speeches)
        verdicts.advance(engine, a, {"item_id": item, "p_first": 0.7, "round": 1})
        assert len(server.requests) == 4
        answer(engine, a, item, round=2)
        # the second judge of the item reads the stored rounds: nothing is generated again
        assert items.next_item(engine, cid, b["id"]) == item
        verdicts.first_round(engine, item, b["id"])
        verdicts.advance(engine, b, {"item_id": item, "p_first": 0.7, "round": 1})
        assert len(server.requests) == 4
        verdicts.advance(engine, b, {"item_id": item, "p_first": 0.7, "round": 2})
        assert len(server.requests) == 6
        answer(engine, b, item, round=3)
    with engine.connect() as conn:
        turns = conn.execute(select(Turn.round, Turn.idx).where(Turn.transcript_id == _transcript_of(engine, item))).all()
    assert sorted(t.idx for t in turns) == list(range(6)) and Counter(t.round for t in turns) == {1: 2, 2: 2, 3: 2}
    rows = [r for r in judgment_rows(engine) if r["judge_kind"] == "human"]
    assert {r["run"] for r in rows} == {"live:live/debate"} and len(rows) == 2


def _transcript_of(engine, item: int) -> int:
    from oversight.db.schema import CampaignItem

    with engine.connect() as conn:
        return conn.execute(select(CampaignItem.transcript_id).where(CampaignItem.id == item)).scalar_one()


def test_design_errors_are_one_line(sqlite_url: str, tmp_path: Path):
    make_runs(tmp_path, sqlite_url, articles=1, protocols=("naive",))
    engine = connect(sqlite_url)
    judges(engine, 1)
    for kw, message in [
        ({"runs": ["naive"], "design": {"live": True}}, "needs max_rounds"),
        ({"runs": ["naive"], "design": {"min_rounds": 3, "max_rounds": 2}}, "below min_rounds"),
        ({"runs": ["naive"], "conditions": [{"name": "x", "runs": ["naive"]}]}, "either runs or conditions"),
        ({"runs": ["naive"], "design": {"qualification_items": 2}}, "needs qualification_runs"),
        ({"runs": ["naive"], "design": {"catch_every": 2}}, "need catch_runs"),
        ({"runs": ["naive"], "design": {"pacedd": True}}, "Extra inputs are not permitted"),
        ({"conditions": [{"name": "x", "runs": ["naive"], "protocol": "naive"}]}, "Extra inputs are not permitted"),
    ]:
        with pytest.raises(ValueError, match=message):
            campaigns.CampaignSpec(name="bad", judges=["j0"], **kw)
    with pytest.raises(InputError, match="live campaigns take"):
        campaigns.create_campaign(
            engine, campaigns.CampaignSpec(name="bad", runs=["naive"], judges=["j0"], design={"live": True, "max_rounds": 2})
        )


@pytest.mark.slow
def test_thirty_judges_in_a_live_campaign_on_postgres(postgres_url: str, tmp_path: Path):
    """Thirty judges at once, each taking items round by round while the rounds are generated: every verdict stored
    once, no item over its quota, no judge given an article twice, every round generated once."""
    from concurrent.futures import ThreadPoolExecutor

    make_runs(tmp_path, postgres_url, articles=20, rounds=1, protocols=("debate",))
    engine = connect(postgres_url)
    people = judges(engine, 30)
    with FakeOpenAIServer(
        default=lambda _: Reply(body=chat_completion("Live: <quote>the lamp burned for eleven nights</quote>"))
    ) as server:
        spec = campaigns.CampaignSpec(
            name="crowd", runs=["debate"], judges=[p["name"] for p in people], judges_per_item=3,
            design={"live": True, "max_rounds": 2, "live_model": f"openai-compatible/live@{server.base_url}"},
        )  # fmt: skip
        cid = campaigns.create_campaign(engine, spec)

        def work(person: dict) -> list[int]:
            mine = []
            for _ in range(3):
                item = items.next_item(engine, cid, person["id"])
                if item is None:
                    break
                verdicts.first_round(engine, item, person["id"])
                try:
                    verdicts.advance(engine, person, {"item_id": item, "p_first": 0.7, "round": 1})
                    verdicts.submit(engine, person, {"item_id": item, "p_first": 0.7, "round": 2, "explanation": "Quote verified here.",
                                                     "time_on_task_s": 1.0})  # fmt: skip
                    mine.append(item)
                except InputError as exc:
                    assert "completed by other judges" in str(exc)
            return mine

        with ThreadPoolExecutor(max_workers=30) as pool:
            accepted = list(itertools.chain.from_iterable(pool.map(work, people)))
    rows = campaigns.export_rows(engine, cid)
    assert len(rows) == len(accepted) == 60  # 20 items × 3 judges, none lost, none doubled
    assert max(Counter(accepted).values()) <= 3
    per_judge: dict[str, list[str]] = {}
    for r in rows:
        per_judge.setdefault(r["judge"], []).append(r["question_id"])
    assert all(len(q) == len(set(q)) for q in per_judge.values())
    with engine.connect() as conn:
        turns = conn.execute(select(Turn.transcript_id, Turn.idx)).all()
    assert len(turns) == len(set(turns))
    live_turns = Counter(t.transcript_id for t in turns if t.transcript_id in {_transcript_of(engine, i) for i in accepted})
    assert set(live_turns.values()) == {4}  # two debaters × two rounds, generated once however many judges read them


def test_widest_allocation_sends_the_next_item_where_the_interval_is_widest(sqlite_url: str, tmp_path: Path):
    make_runs(tmp_path, sqlite_url, articles=6)
    engine = connect(sqlite_url)
    people = judges(engine, 3)
    spec = campaigns.CampaignSpec(
        name="adaptive", judges=[p["name"] for p in people], judges_per_item=3,
        conditions=[{"name": "debate", "runs": ["debate"]}, {"name": "naive", "runs": ["naive"]}], design={"allocation": "widest"},
    )  # fmt: skip
    cid = campaigns.create_campaign(engine, spec)
    # the first verdicts go to debate (a tie between two empty conditions); once debate has an interval, naive,
    # with none, is the widest, so the newcomer (whose Latin-square row starts with debate) gets naive
    for person in people[:2]:
        for _ in range(3):
            item = items.next_item(engine, cid, person["id"])
            if article_of(engine, item)[0] != "debate":
                break
            answer(engine, person, item)
    newcomer = people[2]
    assert article_of(engine, items.next_item(engine, cid, newcomer["id"]))[0] == "naive"


def test_live_session_on_the_embedded_model(sqlite_url: str, tmp_path: Path):
    """The live rounds really come from the embedded model (few tokens, one question)."""
    make_runs(tmp_path, sqlite_url, articles=1, rounds=1, protocols=("consultancy",))
    engine = connect(sqlite_url)
    (person,) = judges(engine, 1)
    spec = campaigns.CampaignSpec(
        name="embedded", runs=["consultancy"], judges=["j0"], protocols=["consultancy"],
        design={"live": True, "max_rounds": 2, "live_model": "local/smollm2-135m"},
    )  # fmt: skip
    cid = campaigns.create_campaign(engine, spec)
    item = items.next_item(engine, cid, person["id"])
    verdicts.first_round(engine, item, person["id"])
    view = items.judge_view(engine, item, person["id"])
    assert [s.speaker for s in view.speeches] == ["Consultant"] and view.speeches[0].text.strip()
    with engine.connect() as conn:
        models = conn.execute(select(Turn.model).where(Turn.transcript_id == _transcript_of(engine, item))).scalars().all()
    assert models == ["local/smollm2-135m"]


def test_value_curves_put_humans_and_model_judges_on_the_same_live_debates(sqlite_url: str, tmp_path: Path):
    """Humans read a live debate round by round; a model judge then re-judges the same stored transcripts cut after
    each round: the value curves compare the two on exactly those debates."""
    from conftest import run_cli
    from oversight.metrics.tables import metric_table
    from web_fixtures import scripted

    make_runs(tmp_path, sqlite_url, articles=3, rounds=1, protocols=("debate",))
    engine = connect(sqlite_url)
    (person,) = judges(engine, 1)
    with FakeOpenAIServer(default=scripted(lambda side: f"Debater {side}: <quote>the lamp burned for eleven nights</quote>")) as server:
        spec = f"openai-compatible/m@{server.base_url}"
        cid = campaigns.create_campaign(
            engine,
            campaigns.CampaignSpec(
                name="curves", runs=["debate"], judges=["j0"], design={"live": True, "max_rounds": 2, "live_model": spec}
            ),
        )
        for _ in range(2):
            item = items.next_item(engine, cid, person["id"])
            verdicts.first_round(engine, item, person["id"])
            verdicts.advance(engine, person, {"item_id": item, "p_first": 0.7, "round": 1})
            answer(engine, person, item, round=2)
        assert run_cli("judge", "--run", "live:curves/debate", "-j", spec, "--by-round", "--db", sqlite_url) == 0
    curves = metric_table("value-curves", judgment_rows(engine, cuts=True))
    kinds = {(r["judge_kind"], r["round"]): r["n"] for r in curves}
    assert kinds[("human", 1)] == kinds[("human", 2)] == 2  # the two debates the judge read, after each round
    assert kinds[("model", 1)] == kinds[("model", 2)] == 4  # the model judge on the same two debates, both answer orders


def test_campaign_designs_from_the_command_line(sqlite_url: str, tmp_path: Path, capsys):
    from conftest import run_cli

    make_runs(tmp_path, sqlite_url, articles=3)
    engine = connect(sqlite_url)
    person, _ = judges(engine, 2)
    code = run_cli("campaigns", "create", "cli", "--judge", "j0", "--judge", "j1", "--condition", "debate=debate",
                   "--condition", "naive=naive/naive", "--catch", "easy", "--catch-every", "2", "--paced", "--min-rounds", "2",
                   "--round-cost", "0.05", "--opens", "2026-01-01T09:00", "--time-limit", "600", "--show-stats", "--db", sqlite_url)  # fmt: skip
    assert code == 0, capsys.readouterr().err
    (made,) = campaigns.all_campaigns(engine)
    design = made["design"]
    assert design["conditions"] == ["debate", "naive"] and design["paced"] and design["min_rounds"] == 2
    assert design["item_time_limit_s"] == 600 and design["starts_at"].startswith("2026-01-01T09:00")
    capsys.readouterr()
    for args, message in [
        (["--run", "naive", "--opens", "tomorrow"], "--opens:"),
        (["--run", "naive", "--allocate", "sideways"], "--allocate:"),
        (["--run", "naive", "--min-rounds", "3", "--max-rounds", "2"], "below min_rounds"),
        (["--condition", "nothing"], "--condition 'nothing': write NAME=RUN"),
        ([], "give the runs"),
    ]:
        assert run_cli("campaigns", "create", "bad", "--judge", "j0", *args, "--db", sqlite_url) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
    item = items.next_item(engine, made["id"], person["id"])
    verdicts.first_round(engine, item, person["id"])
    verdicts.advance(engine, person, {"item_id": item, "p_first": 0.7, "round": 1})
    answer(engine, person, item, round=2)
    assert run_cli("campaigns", "exclude", "cli", "j0", "--db", sqlite_url) == 0
    assert [r for r in judgment_rows(engine, cuts=True) if r["judge"] == "j0"] == []
    assert run_cli("campaigns", "exclude", "cli", "j0", "--include", "--db", sqlite_url) == 0
    assert len([r for r in judgment_rows(engine, cuts=True) if r["judge"] == "j0"]) == 3  # beliefs after rounds 1, 2 and the verdict


def test_a_live_model_that_cannot_be_reached_is_one_line_soon_and_stores_nothing(sqlite_url: str, tmp_path: Path):
    import time

    from conftest import dead_url
    from oversight.errors import OversightError

    make_runs(tmp_path, sqlite_url, articles=1, rounds=1, protocols=("debate",))
    engine = connect(sqlite_url)
    (person,) = judges(engine, 1)
    spec = campaigns.CampaignSpec(name="down", runs=["debate"], judges=["j0"],
                                  design={"live": True, "max_rounds": 2, "live_model": f"openai-compatible/m@{dead_url()}"})  # fmt: skip
    cid = campaigns.create_campaign(engine, spec)
    item = items.next_item(engine, cid, person["id"])
    started = time.monotonic()
    with pytest.raises(OversightError, match="could not be reached") as caught:
        verdicts.first_round(engine, item, person["id"])
    assert time.monotonic() - started < 60 and "\n" not in str(caught.value)  # the judge is not kept waiting ten minutes
    view = items.judge_view(engine, item, person["id"])
    assert view.round_shown == 0 and view.speeches == []  # nothing half-generated, nothing revealed
    with engine.connect() as conn:
        assert conn.execute(select(Turn.id).where(Turn.transcript_id == _transcript_of(engine, item))).first() is None
