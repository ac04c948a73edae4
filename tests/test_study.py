"""Studies: the grid and its cells, tournaments between players, resuming and extending, failed cells, the dry run,
the report's figures, and each shipped recipe end to end on the embedded model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from oversight.models import mock
from oversight.study.pairing import round_robin, swiss_round
from tests.conftest import dead_url, run_cli, write_jsonl

RECIPES = Path(__file__).resolve().parent.parent / "recipes"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`study run` writes its report (and generated datasets) into the working folder: keep them in the test's own."""
    monkeypatch.chdir(tmp_path)


def test_round_robin_plays_both_sides_and_self_play_on_request():
    games = round_robin(["a", "b", "c"], both_sides=True, self_play=False)
    assert len(games) == 6 and len(set(games)) == 6
    assert all((b, a) in games for a, b in games)  # every pairing from both sides
    assert round_robin(["a", "b"], both_sides=False) == [("a", "b")]
    with_self = round_robin(["a", "b"], both_sides=True, self_play=True)
    assert ("a", "a") in with_self and ("b", "b") in with_self and with_self.count(("a", "a")) == 1


def test_swiss_pairs_neighbours_in_rating_and_never_repeats_a_pairing():
    ratings = {"p1": 1200.0, "p2": 1100.0, "p3": 1000.0, "p4": 900.0}
    assert swiss_round(list(ratings), ratings, set()) == [("p1", "p2"), ("p3", "p4")]
    played = {frozenset(("p1", "p2")), frozenset(("p3", "p4"))}
    second = swiss_round(list(ratings), ratings, played)
    assert second == [("p1", "p3"), ("p2", "p4")]
    assert len(swiss_round(["a", "b", "c"], {}, set())) == 1  # the odd player out sits the round out


def _judge(call: mock.MockCall) -> str:
    """Backs whichever shown debater argued "STRONG" (the strong player), 90%; otherwise A at 55%."""
    prompt = call.messages[-1].content
    strong = re.findall(r"^Debater ([AB]): STRONG", prompt, flags=re.M)
    if "confidence" not in prompt.lower():
        return "A"
    return f"{strong[0]} 90%" if len(strong) == 1 else "A 55%"


def _study(tmp_path: Path, **changes: object) -> Path:
    rows = [
        {"id": f"q{i}", "question": f"Question {i}?", "options": [f"right {i}", f"wrong {i}"], "answer": 0,
         "context": f"Story {i}. The answer is right {i}.", "article_id": f"art{i % 3}"}
        for i in range(6)
    ]  # fmt: skip
    write_jsonl(tmp_path / "questions.jsonl", rows)
    mock.script("strong", "STRONG argument for my side.")
    mock.script("weak", "weak argument.")
    mock.script("judge", _judge)
    study = {
        "name": "toy",
        "datasets": ["questions.jsonl"],
        "protocols": ["debate", "consultancy", "naive"],
        "players": {"strong": {"model": "mock/strong"}, "weak": {"model": "mock/weak"}},
        "judges": ["mock/judge"],
        "tournament": {"self_play": True},
        "run": {"rounds": 1},
        **changes,
    }
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(study), encoding="utf-8")
    return path


def _json_out(capsys: pytest.CaptureFixture[str]) -> dict:
    out = capsys.readouterr().out
    return json.loads(out[out.index("{") :])


def test_study_runs_its_grid_resumes_and_extends_only_with_new_cells(tmp_path: Path, capsys: pytest.CaptureFixture[str], db_url: str):
    from oversight.db import connect
    from oversight.db.queries import judgment_rows

    db = db_url
    study = _study(tmp_path)
    assert run_cli("study", "run", str(study), "--db", db, "--json", "--no-report") == 0
    first = _json_out(capsys)
    # debate: strong-weak both sides + two self-plays; consultancy: one per player; naive: one
    assert first["ran"] == 7 and first["already_finished"] == 0 and first["failed"] == {}
    rows = judgment_rows(connect(db))
    debates = [r for r in rows if r["protocol"] == "debate"]
    assert {tuple(sorted(r["players"].items())) for r in debates} >= {(("A", "strong"), ("B", "weak")), (("A", "weak"), ("B", "strong"))}
    assert all(r["players"] for r in rows if r["protocol"] == "consultancy")

    assert run_cli("study", "run", str(study), "--db", db, "--json", "--no-report") == 0
    again = _json_out(capsys)
    assert again["ran"] == 0 and again["already_finished"] == 7

    # a new player and a new judge: only the cells they add are run
    mock.script("judge2", _judge)
    extended = _study(tmp_path, players={"strong": {"model": "mock/strong"}, "weak": {"model": "mock/weak"},
                                         "strong-bo2": {"model": "mock/strong", "best_of": 2}})  # fmt: skip
    assert run_cli("study", "run", str(extended), "--db", db, "--json", "--no-report") == 0
    grown = _json_out(capsys)
    # strong-bo2 against each of the two others from both sides (4), its self-play (1), its consultancy (1)
    assert grown["ran"] == 6 and grown["already_finished"] == 7
    assert run_cli("study", "run", str(extended), "--db", db, "--set", "judges=[mock/judge, mock/judge2]", "--json", "--no-report") == 0
    assert _json_out(capsys)["ran"] == 13  # every cell again, for the second judge only

    best_of = [r for r in judgment_rows(connect(db)) if r["protocol"] == "debate" and "strong-bo2" in (r["players"] or {}).values()]
    assert best_of, "the best-of-2 player's debates are stored under its name"


def test_study_report_rates_players_and_draws_accuracy_against_elo(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    db = f"sqlite:///{tmp_path / 'study.db'}"
    study = _study(tmp_path)
    assert run_cli("study", "run", str(study), "--db", db, "--no-report") == 0
    out = tmp_path / "report" / "toy.html"
    assert run_cli("study", "report", str(study), "--db", db, "--out", str(out)) == 0
    markdown = out.with_suffix(".md").read_text(encoding="utf-8")
    elo = markdown[markdown.index("## Player Elo") :]
    table = [line.split("|") for line in elo.splitlines() if line.startswith("| strong") or line.startswith("| weak")]
    ratings = {cells[1].strip(): float(cells[2]) for cells in table[:2]}
    assert ratings["strong"] > ratings["weak"] + 100  # the judge always backs the strong player
    assert "Judge accuracy against debater Elo" in markdown and (out.parent / "toy_charts" / "accuracy_vs_elo.svg").exists()
    assert "debiased_accuracy" in markdown
    assert "| naive |" in markdown and "Dashed lines: naive" in markdown


def test_failed_cell_is_recorded_and_the_others_still_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    db = f"sqlite:///{tmp_path / 'study.db'}"
    study = _study(tmp_path, protocols=["consultancy"], players={"ok": {"model": "mock/weak"},
                   "down": {"model": f"openai-compatible/m@{dead_url()}"}}, run={"rounds": 1, "unreachable_wait": 0, "max_retries": 0})  # fmt: skip
    assert run_cli("study", "run", str(study), "--db", db, "--json", "--no-report") == 1
    result = _json_out(capsys)
    assert result["ran"] == 1 and len(result["failed"]) == 1
    ((failed_run, why),) = result["failed"].items()
    assert "consultancy/questions/down" in failed_run and why
    assert run_cli("study", "status", str(study), "--db", db, "--format", "json") == 0
    states = {r["players"]: r["status"] for r in _json_out_list(capsys)}
    assert states == {"ok": "finished", "down": "failed"}


def _json_out_list(capsys: pytest.CaptureFixture[str]) -> list:
    out = capsys.readouterr().out
    return json.loads(out[out.index("[") :])


def test_dry_run_lists_cells_calls_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from oversight.db import connect
    from oversight.db.queries import run_summaries

    db = f"sqlite:///{tmp_path / 'study.db'}"
    study = _study(tmp_path)
    assert run_cli("study", "run", str(study), "--db", db, "--dry-run", "--json") == 0
    plan = _json_out(capsys)
    assert plan["pending"] == 7 and len(plan["cells"]) == 7
    naive = next(c for c in plan["cells"] if c["cell"].startswith("naive/"))
    assert naive["calls"] == 6 * 2  # six questions, both answer orders, one judge
    assert plan["calls"] == sum(c["calls"] for c in plan["cells"]) and plan["prompt_tokens"] > 0
    assert run_summaries(connect(db)) == []


def test_swiss_tournament_pairs_later_rounds_from_earlier_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    db = f"sqlite:///{tmp_path / 'study.db'}"
    names = ("a-strong", "b-weak", "c-strong", "d-weak")  # unrated, round 1 pairs them in this order
    players = {name: {"model": f"mock/{name.split('-')[1]}"} for name in names}
    study = _study(tmp_path, protocols=["debate"], players=players, tournament={"pairing": "swiss", "swiss_rounds": 2})
    assert run_cli("study", "run", str(study), "--db", db, "--json", "--no-report") == 0
    assert _json_out(capsys)["ran"] == 8  # two rounds of two pairings, both sides
    assert run_cli("study", "status", str(study), "--db", db, "--format", "json") == 0
    cells = _json_out_list(capsys)
    rounds = {stage: {frozenset(c["players"].split(" vs ")) for c in cells if c["stage"] == stage} for stage in (1, 2)}
    assert rounds[1] == {frozenset({"a-strong", "b-weak"}), frozenset({"c-strong", "d-weak"})}
    # the judge backs the strong players, so round 2 pairs the two winners and the two losers
    assert rounds[2] == {frozenset({"a-strong", "c-strong"}), frozenset({"b-weak", "d-weak"})}


@pytest.mark.parametrize(
    "text, message",
    [
        ("name: x\nprotocols: [debate]\n", "datasets: a study with protocols needs at least one dataset"),
        ("name: x\nprotocols: [naive]\ndatasets: [q.jsonl]\njudges: [local/smollm2-135m]\nbogus: 1\n", "bogus: unknown key"),
        ("name: 'bad name'\nw2s: {dataset: q.jsonl, ladder: [bow, minilm]}\n", "name: use 1-40 letters"),
        ("name: x\nprotocols: [debate]\ndatasets: [q.jsonl]\njudges: [nope]\n", "judges: model spec 'nope'"),
        (
            "name: x\nprotocols: [naive]\ndatasets: [q.jsonl]\njudges: [local/smollm2-135m]\nrun: {debater: a/b}\n",
            "run: debater: not a run option",
        ),
        ("name: x\nw2s: {dataset: q.jsonl, ladder: [bow, minilm], options: {seeds: 0}}\n", "w2s.options.seeds"),
        ("name: x\nprotocols: [naive]\ndatasets: [missing.jsonl]\njudges: [local/smollm2-135m]\n", "datasets.0: "),
        ("name: x\nprotocols: [nope]\ndatasets: [q.jsonl]\njudges: [local/smollm2-135m]\n", "protocols: "),
        ("name: x\nprotocols: [naive]\ndatasets: [q.jsonl]\njudges: [local/smollm2-135m]\nseeds: abc\n", "seeds: "),
    ],
)
def test_bad_study_files_stop_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str):
    (tmp_path / "q.jsonl").write_text('{"id": 1, "question": "Q?", "options": ["a", "b"], "answer": 0}\n', encoding="utf-8")
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    assert run_cli("study", "run", str(path), "--dry-run") == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_set_overrides_reach_nested_keys_and_list_items(tmp_path: Path):
    from oversight.errors import InputError
    from oversight.study import load_study

    path = _study(tmp_path)
    spec = load_study(path, ["run.rounds=2", "datasets.0.limit=3", "players.weak.best_of=4"])
    assert spec.run["rounds"] == 2 and spec.datasets[0].limit == 3 and spec.players["weak"].best_of == 4
    assert spec.datasets[0].path == str(tmp_path / "questions.jsonl")  # relative to the study file
    with pytest.raises(InputError, match="has no item 5"):
        load_study(path, ["datasets.5.limit=3"])
    with pytest.raises(InputError, match="expected KEY=VALUE"):
        load_study(path, ["rounds"])


def test_generated_datasets_are_the_same_file_every_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from oversight.data import load_dataset
    from oversight.data.prontoqa import generate
    from oversight.data.references import generated_path
    from oversight.errors import InputError

    monkeypatch.chdir(tmp_path)
    first = Path(generated_path("generated:prontoqa?n=20&hops=2&seed=1")).read_bytes()
    Path(generated_path("generated:prontoqa?n=20&hops=2&seed=1")).unlink()
    assert Path(generated_path("generated:prontoqa?n=20&hops=2&seed=1")).read_bytes() == first
    _, questions = load_dataset(generated_path("generated:prontoqa?n=20&hops=2&seed=1"))
    assert len(questions) == 20 and {q.options[q.answer] for q in questions} <= {"True", "False"}
    answers = [q.options[q.answer] for q in questions]
    assert 0 < answers.count("True") < 20  # both answers occur
    for row in generate(30, hops=3, seed=2):  # every step of the proof follows from a stated rule
        entity = row["meta"]["proof"][0].split()[0]
        assert f"{row['meta']['proof'][0]}" in row["context"] and entity in row["question"]
        assert len(row["meta"]["proof"]) == 3 + 2
    with pytest.raises(InputError, match="unknown option 'x'"):
        generated_path("generated:prontoqa?x=1")


@pytest.mark.slow
@pytest.mark.parametrize("recipe", ["khan2024", "kenton2024", "michael2023", "burns2023"])
def test_each_recipe_runs_end_to_end_on_the_embedded_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recipe: str):
    """Each shipped recipe, scaled down to one question and a few tokens, runs and its report draws the paper's figure."""
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'r.db'}"
    small = ["--set", "run.debater_max_tokens=12", "--set", "run.word_limit=10", "--limit", "1"]
    if recipe == "burns2023":
        small = ["--set", "w2s.options.seeds=2"]
    if recipe == "michael2023":
        from oversight.db import connect
        from oversight.human.accounts import add_user

        for name in ("judge1", "judge2"):
            add_user(connect(db), name, "judge", "correct horse battery")
        small += ["--set", "run.rounds=1"]
    out = tmp_path / "report.html"
    assert run_cli("study", "run", str(RECIPES / f"{recipe}.yaml"), "--db", db, *small, "--report", str(out)) == 0  # one command
    markdown = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "What the paper reports" in markdown and " pending |" not in markdown
    expected = {
        "khan2024": ["## Player Elo", "Judge accuracy against debater Elo", "| consultancy |", "| naive |", "| expert |"],
        "kenton2024": ["| open-debate |", "| open-consultancy |", "prontoqa", "extractive", "debiased_accuracy"],
        "michael2023": ["| interactive-debate |", "| interactive-consultancy |"],
        "burns2023": ["Weak-to-strong ladder", "| bow | local/smollm2-135m |", "| local/smollm2-135m | minilm |"],
    }[recipe]
    for text in expected:
        assert text in markdown, text
    if recipe == "michael2023":
        from oversight.db import connect
        from oversight.human.campaigns import all_campaigns

        assert [c["name"] for c in all_campaigns(connect(db))] == ["michael2023-humans"]


def test_runs_stored_before_studies_keep_their_config_hash():
    """Keys added for studies (players, per-role search, dataset filters) leave the hash of a run without them unchanged,
    so runs stored by an earlier version resume instead of clashing with a 'different configuration'."""
    from oversight.config import RunConfig

    plain = RunConfig(dataset="q.jsonl").fingerprint("sha")
    assert not {"role_search", "players", "filters"} & set(plain)
    searched = RunConfig(dataset="q.jsonl", role_search={"debater_b": {"best_of": 4}}, players={"debater_b": "p"}).fingerprint("sha")
    assert searched["role_search"] == {"debater_b": {"best_of": 4}} and searched["players"] == {"debater_b": "p"}
    filtered = RunConfig(dataset="q.jsonl", filters={"max_per_article": 3}).fingerprint("sha")
    assert filtered["filters"] == {"max_per_article": 3}


def test_a_study_can_judge_every_transcript_after_each_round(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from oversight.db import connect
    from oversight.db.queries import judgment_rows

    db = f"sqlite:///{tmp_path / 'study.db'}"
    study = _study(tmp_path, protocols=["debate"], run={"rounds": 2}, judge_by_round=True)
    assert run_cli("study", "run", str(study), "--db", db, "--json", "--no-report") == 0
    rows = judgment_rows(connect(db), cuts=True)
    cut = [r for r in rows if r["after_round"] == 1]
    assert len(cut) == len([r for r in rows if r["after_round"] is None]) > 0
    assert run_cli("study", "run", str(study), "--db", db, "--json", "--no-report") == 0  # nothing left to judge: no duplicates
    assert len(judgment_rows(connect(db), cuts=True)) == len(rows)
    out = tmp_path / "r.html"
    assert run_cli("study", "report", str(study), "--db", db, "--out", str(out)) == 0
    assert "## Accuracy and calibration by round" in out.with_suffix(".md").read_text(encoding="utf-8")


def test_a_players_search_settings_apply_to_its_side_only(tmp_path: Path):
    """best-of-2 for debater A's player only: A's turns keep two scored candidates, B's turns are single samples."""
    from oversight.config import RunConfig
    from oversight.db import connect
    from oversight.db.queries import load_transcripts
    from oversight.engine import run_sync

    _study(tmp_path)  # writes questions.jsonl and scripts the mock models
    db = f"sqlite:///{tmp_path / 'side.db'}"
    config = RunConfig(protocol="debate", dataset=str(tmp_path / "questions.jsonl"), debater_a="mock/strong", debater_b="mock/weak",
                       judges=["mock/judge"], rounds=1, role_search={"debater_a": {"best_of": 2}}, players={"debater_a": "s", "debater_b": "w"},
                       db=db, run_name="sides", progress=False)  # fmt: skip
    assert run_sync(config).status == "finished"
    for _, transcript in load_transcripts(connect(db)):
        a = [t for t in transcript.turns if t.side == "A"]
        b = [t for t in transcript.turns if t.side == "B"]
        assert all(len(t.meta["candidates"]) == 2 for t in a) and all("candidates" not in t.meta for t in b)
        assert transcript.outcome.players == {"A": "s", "B": "w"}


def test_a_studys_ensemble_judges_the_first_judges_cells(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from oversight.db import connect
    from oversight.db.queries import judgment_rows

    db = f"sqlite:///{tmp_path / 'study.db'}"
    mock.script("member-a", "A 80%")
    mock.script("member-b", "B 60%")
    ensemble = {"name": "pair", "members": ["mock/member-a", "mock/member-b"], "combine": "mean"}
    study = _study(tmp_path, protocols=["naive"], ensembles=[ensemble])
    assert run_cli("study", "run", str(study), "--db", db, "--json", "--no-report") == 0
    rows = judgment_rows(connect(db))
    by_judge = {j: [r for r in rows if r["judge"] == j] for j in ("mock/judge", "mock/member-a", "mock/member-b", "ensemble:pair")}
    assert all(len(v) == 12 for v in by_judge.values())  # six questions, both orders, for the judge, each member and the ensemble
    for row in by_judge["ensemble:pair"]:  # the mean of its members' probabilities on the same transcript and order
        members = [r["p_a"] for j in ("mock/member-a", "mock/member-b") for r in by_judge[j]
                   if (r["transcript_id"], r["order"]) == (row["transcript_id"], row["order"])]  # fmt: skip
        assert len(members) == 2 and row["p_a"] == pytest.approx(sum(members) / 2)
    assert run_cli("study", "run", str(study), "--db", db, "--json", "--no-report") == 0
    assert len(judgment_rows(connect(db))) == len(rows)  # nothing judged twice
    bad = tmp_path / "bad.yaml"
    bad.write_text(study.read_text(encoding="utf-8").replace("name: pair", "name: 'two words'"), encoding="utf-8")
    assert run_cli("study", "run", str(bad), "--dry-run") == 2
    assert "ensembles.0.name" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["data", "generate", "sudoku", "-o", "x.jsonl"], "unknown kind 'sudoku'"),
        (["data", "generate", "prontoqa", "-o", "x.jsonl", "--hops", "0"], "--hops"),
        (["study", "run", "STUDY", "--limit", "0", "--dry-run"], "--limit: give a number of questions"),
        (["study", "run", "STUDY", "--set", "rounds", "--dry-run"], "expected KEY=VALUE"),
        (["study", "run", "missing.yaml", "--dry-run"], "missing.yaml: cannot read"),
        (["plan", "--a", "bogus=1", "--b", "protocol=naive", "--width", "0.1"], "--a 'bogus=1': use KEY=VALUE"),  # exit 1, as compare
    ],
)
def test_bad_options_of_the_new_commands_stop_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
):
    study = str(_study(tmp_path))
    code = run_cli(*[study if a == "STUDY" else a for a in args])
    err = capsys.readouterr().err
    assert code == (1 if args[0] == "plan" else 2) and message in err and "Traceback" not in err, err
    assert not (tmp_path / "x.jsonl").exists()  # nothing half-written
    if "--hops" not in args:  # (a value out of an option's range gets Typer's usage box instead)
        assert len(err.strip().splitlines()) == 1
