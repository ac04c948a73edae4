"""Extending Oversight from outside the package, exactly as a user would: the files in `examples/` run through
the real `oversight` command, an installed package's entry points, and prompt templates overridden by a folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib.resources import files
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import run_cli, write_jsonl
from fake_openai import FakeOpenAIServer, Reply, chat_completion
from oversight.db import connect
from oversight.db.queries import judgment_rows, transcript_rows
from oversight.db.schema import Run

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SAMPLE = str(files("oversight.samples") / "quickstart.jsonl")


def oversight(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed command, in a process of its own, as a user types it."""
    return subprocess.run(
        [sys.executable, "-m", "oversight", *args], cwd=cwd, capture_output=True, text=True, timeout=300,
        env={**os.environ, "OVERSIGHT_PLUGINS": "", **(env or {})},
    )  # fmt: skip


def one_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_user_protocol_runs_from_its_file_with_its_own_setting_role_and_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    db = f"sqlite:///{tmp_path / 'x.db'}"
    ref = "examples/skeptic_debate.py:SkepticDebate"
    common = ("--dataset", SAMPLE, "--debater", "mock/debater", "--judge", "mock/judge", "--db", db, "--rounds", "1", "--no-progress")
    done = oversight("run", "--protocol", ref, "--role", "skeptic=mock/skeptic", "--set", "skeptic_words=12", "--run-name", "sk", *common)
    assert done.returncode == 0, done.stderr
    engine = connect(db)
    [transcript, *_] = transcript_rows(engine, "sk")
    assert [t["role"] for t in transcript["turns"]] == ["debater_a", "debater_b", "skeptic"]
    assert transcript["turns"][-1]["model"] == "mock/skeptic" and transcript["protocol"] == "skeptic-debate"
    outcome = transcript["outcome"]
    assert outcome["type"] == "SkepticOutcome" and outcome["skeptic_words_written"] > 0 and outcome["turn_order"] == "simultaneous"
    assert [r["role"] for r in outcome["rounds"]] == ["debater_a", "debater_b", "skeptic"]
    with engine.connect() as conn:
        run = conn.execute(select(Run).where(Run.name == "sk")).one()
    assert run.config["settings"]["skeptic_words"] == 12 and run.models["skeptic"] == "mock/skeptic"
    assert len(judgment_rows(engine, "sk")) == 12  # 6 questions x both orders

    # registered by name through --plugin; a different setting is a different run (config hash), not a resume
    again = oversight(
        "--plugin", "examples/skeptic_debate.py", "run", "--protocol", "skeptic-debate", "--set", "skeptic_words=30",
        "--role", "skeptic=mock/skeptic", *common,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    # re-judging finds the user's class through the run's stored --protocol reference
    rejudged = oversight("judge", "--run", "sk", "--judge", "mock/second-judge", "--db", db, "--no-progress")
    assert rejudged.returncode == 0, rejudged.stderr
    assert len(judgment_rows(engine, "sk")) == 24
    engine.dispose()

    bad = [
        (("--set", "skeptic_words=many"), "--set skeptic_words: Input should be a valid integer"),
        (("--set", "skeptic_words=2"), "--set skeptic_words: Input should be greater than or equal to 5"),
        (("--set", "colour=red"), "--set colour: protocol 'skeptic-debate' has no such setting (its own settings: skeptic_words)"),
        (("--set", "rounds=2"), "--set rounds: every protocol has this setting; use --rounds"),
        (("--role", "heckler=mock/x"), "--role heckler: protocol 'skeptic-debate' has no such role"),
    ]
    bad += [
        (("--protocol", "examples/nothing.py:X"), "examples/nothing.py: no such file"),
        (("--protocol", "examples/pipe_csv_format.py:load"), "expected a subclass of oversight.protocols.base.Protocol"),
    ]
    monkeypatch.chdir(ROOT)  # the references are relative, as a user in the repository types them
    for extra, message in bad:
        code = run_cli("run", "--protocol", ref, *extra, *common)
        err = capsys.readouterr().err
        assert code == 2 and message in one_line(err), (extra, err)


def test_a_user_provider_and_scripted_mock_models_from_plugin_files(tmp_path: Path):
    """The quote-count judge (examples/) judges debaters scripted with the mock provider in a user's own file."""
    script = tmp_path / "my_mocks.py"
    script.write_text(
        textwrap.dedent(
            """
            from oversight.models.mock import script

            def quote_the_story(call):
                story = call.messages[-1].content.split("<story>")[1].split("</story>")[0].strip()
                first = story.split("\\n\\n")[1].split()[:10]  # ten words after the title
                return "It says <quote>" + " ".join(first) + "</quote>."

            script("quoter", {"debater_a": quote_the_story, "debater_b": "Trust me, it is B."})
            """
        )
    )
    db = f"sqlite:///{tmp_path / 'x.db'}"
    done = oversight(
        "--plugin", "examples/quote_count_provider.py", "--plugin", str(script), "run", "--protocol", "debate", "--dataset", SAMPLE,
        "--debater", "mock/quoter", "--judge", "quotecount/v1", "--rounds", "1", "--db", db, "--run-name", "qc", "--no-progress",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = judgment_rows(connect(db), "qc")
    assert len(rows) == 12 and all(r["p_a"] == pytest.approx(0.6) and r["method"] == "stated_confidence" for r in rows)
    listed = oversight("--plugin", "examples/quote_count_provider.py", "plugins", "--format", "json")
    entry = next(r for r in json.loads(listed.stdout) if r["name"] == "quotecount")
    assert entry["kind"] == "provider" and "QuoteCountJudge" in entry["from"]
    unknown = oversight("run", "--dataset", SAMPLE, "--judge", "quotecount/v1", "--db", db)
    assert unknown.returncode == 2 and "unknown provider 'quotecount'" in one_line(unknown.stderr)


def test_a_user_dataset_format_gets_the_packages_repairs_and_errors(tmp_path: Path):
    data = tmp_path / "hand_made.csv"
    data.write_text(
        "id,question,correct,wrong\n"
        "q1,Which colour is the sky?,blue,green|red\n"
        "q2,How many legs has a spider?,eight,six|eight\n"  # the correct answer repeated among the wrong ones
        "q3,,yes,no\n"  # no question
        "q4,Is ice cold?,yes,no\n",
        encoding="utf-8",
    )
    ref = "examples/pipe_csv_format.py:load"
    failed = oversight("data", "inspect", str(data), "--dataset-format", ref)
    assert failed.returncode == 2 and f"{data}:4: question:" in one_line(failed.stderr)
    done = oversight("data", "inspect", str(data), "--dataset-format", ref, "--skip-bad-rows", "--json")
    summary = json.loads(done.stdout)
    assert summary["questions"] == 3 and summary["repaired"] == 1 and summary["skipped_bad_rows"] == 1
    named = oversight("--plugin", "examples/pipe_csv_format.py", "data", "inspect", str(data), "--format", "pipe-csv", "--skip-bad-rows")
    assert named.returncode == 0, named.stderr
    db = f"sqlite:///{tmp_path / 'x.db'}"
    ran = oversight(
        "run", "--protocol", "naive", "--dataset", str(data), "--dataset-format", ref, "--skip-bad-rows", "--judge", "mock/j",
        "--db", db, "--no-progress",
    )  # fmt: skip
    assert ran.returncode == 0 and len(judgment_rows(connect(db))) == 6, ran.stderr
    broken = tmp_path / "broken_format.py"
    broken.write_text("def load(path):\n    yield {'question': 'q', 'options': ['a', 'b'], 'answer': 0}\n    raise KeyError('column')\n")
    crashed = oversight("data", "inspect", str(data), "--dataset-format", f"{broken}:load")
    assert crashed.returncode == 2 and "the dataset reader" in one_line(crashed.stderr) and "KeyError" in crashed.stderr


def test_installed_packages_extend_through_entry_points(tmp_path: Path):
    site = tmp_path / "site"
    (site / "lab_plugins-0.1.dist-info").mkdir(parents=True)
    (site / "lab_plugins-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: lab-plugins\nVersion: 0.1\n")
    (site / "lab_plugins-0.1.dist-info" / "entry_points.txt").write_text(
        "[oversight.protocols]\nlab-naive = lab_plugins:LabNaive\n\n"
        "[oversight.datasets]\nlab-lines = lab_plugins:read\n\n"
        "[oversight.providers]\nlab = lab_plugins:LabProvider\n"
    )
    (site / "lab_plugins.py").write_text(
        textwrap.dedent(
            """
            from oversight.models.mock import MockProvider
            from oversight.protocols.naive import Naive

            class LabNaive(Naive):
                name = "lab-naive"

            class LabProvider(MockProvider):
                pass

            def read(path):
                for n, line in enumerate(path.read_text().splitlines(), start=1):
                    question, right, wrong = line.split(";")
                    yield n, {"question": question, "options": [right, wrong], "answer": 0}
            """
        )
    )
    data = tmp_path / "lab.txt"
    data.write_text("Is water wet?;yes;no\nIs fire cold?;no;yes\n")
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    listed = json.loads(oversight("plugins", "--format", "json", env=env).stdout)
    origins = {(r["kind"], r["name"]): r["from"] for r in listed}
    assert origins[("protocol", "lab-naive")] == "entry point lab_plugins:LabNaive"
    assert ("dataset format", "lab-lines") in origins and ("provider", "lab") in origins
    db = f"sqlite:///{tmp_path / 'x.db'}"
    ran = oversight(
        "run", "--protocol", "lab-naive", "--dataset", str(data), "--format", "lab-lines", "--judge", "lab/any", "--db", db, "--no-progress",
        env=env,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert {r["protocol"] for r in judgment_rows(connect(db))} == {"lab-naive"}
    helped = oversight("run", "--help", env={**env, "COLUMNS": "400"})
    assert "lab-naive" in helped.stdout and "lab-lines" in helped.stdout


def test_prompt_templates_overridden_by_a_folder_are_versioned_by_what_they_say(tmp_path: Path):
    prompts = tmp_path / "prompts"
    assert run_cli("prompts", "export", str(prompts)) == 0
    packaged = (prompts / "judges" / "v1.j2").read_text()
    for path in list(prompts.rglob("*.j2")):
        path.unlink()  # keep only what is changed: the rest comes from the packaged set
    (prompts / "judges").mkdir(exist_ok=True)
    (prompts / "judges" / "v1.j2").write_text(packaged.replace("Reply with the letter", "Judge strictly. Reply with the letter"))
    (prompts / "judges" / "terse.j2").write_text("{{ question }}\n\nAnswer A or B with a confidence, e.g. A 60%")
    data = write_jsonl(
        tmp_path / "q.jsonl", [{"id": f"q{i}", "question": f"Question {i}?", "options": ["yes", "no"], "answer": 0} for i in range(3)]
    )
    db = f"sqlite:///{tmp_path / 'x.db'}"

    def run(*extra: str) -> int:
        return run_cli(
            "run", "--protocol", "naive", "--dataset", str(data), "--judge", spec, "--db", db, "--no-progress", "--cache", "on", *extra
        )

    with FakeOpenAIServer(default=lambda _: Reply(body=chat_completion("A 70%", logprobs={"A": 0.7, "B": 0.3}))) as server:
        spec = f"openai-compatible/judge@{server.base_url}"
        assert run() == 0 and run() == 0  # the second run is the first one, resumed
        assert len(server.requests) == 6
        assert run("--prompts", str(prompts)) == 0  # new prompts: a new run, and no answer reused from the cache
        assert len(server.requests) == 12
        assert all("Judge strictly." in r["messages"][0]["content"] for r in server.requests[6:])
        assert run("--prompts", str(prompts), "--judge-prompt", "terse") == 0
        assert server.requests[-1]["messages"][0]["content"].endswith("Answer A or B with a confidence, e.g. A 60%")
    engine = connect(db)
    with engine.connect() as conn:
        runs = conn.execute(select(Run.name, Run.prompt_version).order_by(Run.id)).all()
    assert len(runs) == 3 and runs[0].prompt_version == runs[1].prompt_version == runs[2].prompt_version  # naive renders no other template
    versions = {r["prompt_version"] for r in judgment_rows(engine)}
    assert len(versions) == 3 and {v.rsplit("-", 1)[0] for v in versions} == {"v1", "terse"}
    board = json.loads(subprocess.run([sys.executable, "-m", "oversight", "leaderboard", "--db", db, "--by", "prompt_version", "--format", "json"],
                                      capture_output=True, text=True, check=True).stdout)  # fmt: skip
    assert len(board) == 3 and all(r["n"] == 6 for r in board)

    (prompts / "judges" / "broken.j2").write_text("{{ question }\n")
    broken = oversight("run", "--protocol", "naive", "--dataset", str(data), "--judge", "mock/j", "--db", db, "--prompts", str(prompts),
                       "--judge-prompt", "broken")  # fmt: skip
    assert broken.returncode == 2 and "broken.j2:1" in one_line(broken.stderr)
    unknown = oversight("run", "--protocol", "naive", "--dataset", str(data), "--judge", "mock/j", "--db", db, "--judge-prompt", "nope")
    assert unknown.returncode == 2 and "--judge-prompt 'nope': unknown; choose one of v1, v1-cot" in one_line(unknown.stderr)


def test_a_run_file_sets_a_user_protocols_settings_and_roles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(ROOT)
    db = f"sqlite:///{tmp_path / 'x.db'}"
    run_file = tmp_path / "run.yaml"
    run_file.write_text(
        textwrap.dedent(
            f"""
            protocol: examples/skeptic_debate.py:SkepticDebate
            dataset: {SAMPLE}
            limit: 2
            rounds: 1
            debater: mock/debater
            judge: mock/judge
            roles: {{skeptic: mock/skeptic}}
            settings: {{skeptic_words: 7}}
            db: {db}
            run_name: yaml-run
            progress: false
            """
        )
    )
    assert run_cli("run", "--config", str(run_file)) == 0
    engine = connect(db)
    with engine.connect() as conn:
        run = conn.execute(select(Run).where(Run.name == "yaml-run")).one()
    assert run.config["settings"]["skeptic_words"] == 7 and run.models["skeptic"] == "mock/skeptic"
    skeptic_turn = transcript_rows(engine, "yaml-run")[0]["turns"][-1]
    assert skeptic_turn["role"] == "skeptic" and len(skeptic_turn["text"].split()) <= 14  # max_tokens = 2 x skeptic_words
    capsys.readouterr()
    run_file.write_text(run_file.read_text().replace("skeptic_words: 7", "skeptic_words: seven"))
    assert run_cli("run", "--config", str(run_file)) == 2
    assert "--set skeptic_words: Input should be a valid integer" in capsys.readouterr().err


def test_plugin_files_that_cannot_be_used_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OVERSIGHT_PLUGINS", "")  # --plugin in this process hands plugins on through the environment
    broken = tmp_path / "broken_plugin.py"
    broken.write_text("import nothing_of_that_name\n")
    cases = [
        (("--plugin", str(tmp_path / "missing.py"), "plugins"), "missing.py: no such file"),
        (("--plugin", str(broken), "plugins"), "broken_plugin.py: importing it failed: ModuleNotFoundError"),
        (("--plugin", "no_such_module_here", "plugins"), "--plugin 'no_such_module_here': cannot import it"),
        (("prompts", "export", str(tmp_path)), "exists already; choose a new folder"),
    ]
    for args, message in cases:
        code = run_cli(*args)
        err = capsys.readouterr().err
        assert code in (1, 2) and message in one_line(err), (args, err)
    assert not (tmp_path / "judges").exists()  # nothing written into the existing folder
    assert os.environ["OVERSIGHT_PLUGINS"] == ""  # a plugin that failed is not handed on to child processes
