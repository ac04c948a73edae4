"""The command line: real entry point, bad options give one line and a non-zero exit, outputs parse."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import GSM8K, QUALITY_DEBATE, TRUTHFULQA, write_jsonl
from fake_openai import FakeOpenAIServer, Reply, chat_completion
from oversight.cli import main


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    old = sys.argv
    sys.argv = ["oversight", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = old
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_data_inspect_json(capsys):
    code, out, _ = cli(capsys, "data", "inspect", str(QUALITY_DEBATE), "--json")
    assert code == 0
    info = json.loads(out)
    assert info["questions"] == 38 and info["articles"] == 3 and info["format"] == "quality-debate"
    assert info["context_chars"]["max"] > info["context_chars"]["min"] > 0


def test_data_inspect_table(capsys):
    code, out, _ = cli(capsys, "data", "inspect", str(TRUTHFULQA))
    assert code == 0 and "truthfulqa" in out and "80" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data", "inspect", "/nonexistent.jsonl"], "no such file"),
        (["data", "inspect", str(GSM8K), "--format", "bogus"], "--format 'bogus': unknown"),
        (["run", "--protocol", "naive"], "dataset: required"),
        (["run", "--dataset", "x.jsonl", "--protocol", "chess"], "--protocol 'chess': unknown"),
        (["run", "--dataset", "x.jsonl", "--judge", "gpt4"], "expected provider/model"),
        (["run", "--dataset", "x.jsonl", "--rounds", "0"], "rounds: Input should be greater than or equal to 1"),
        (["run", "--dataset", "x.jsonl", "--orders", "sideways"], "orders: Input should be 'both' or 'random'"),
        (["run", "--dataset", "x.jsonl", "--cache", "maybe"], "cache: Input should be"),
        (["run", "--dataset", "x.jsonl", "--max-connections", "0"], "max-connections: Input should be greater"),
        (["run", "--dataset", "/nonexistent.jsonl"], "no such file"),
        (["leaderboard", "--format", "xml"], "--format 'xml': choose one of"),
        (["export", "judgments", "--format", "xml"], "--format 'xml': choose one of"),
        (["--log-level", "loud", "runs"], "--log-level 'loud'"),
        (["leaderboard", "--db", "notaurl"], "not a database URL"),
        (["leaderboard", "--db", "postgresql://nobody@127.0.0.1:1/x"], "cannot open database"),
        (["leaderboard", "--db", "postgresql://u:secret@host:abc/db"], "not a database URL"),
        (["leaderboard", "--db", "mysql://root@localhost/test"], "mysql is not supported"),
        (["run", "--dataset", "x.jsonl", "--seed", "1099511627776"], "seed: Input should be less than or equal to 2147483647"),
        (["run", "--dataset", "x.jsonl", "--run-name", "r" * 300], "run-name: String should have at most 200 characters"),
        (["run", "--dataset", "x.jsonl", "--judge", "openai-compatible/" + "m" * 300 + "@http://h/v1"], "longer than 200 characters"),
    ],
)
def test_bad_options_give_one_line(capsys, tmp_path: Path, monkeypatch, args: list[str], message: str):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, *args)
    assert code == 2 or code == 1
    assert code != 0
    assert message in one_line_error(err)


def test_typer_level_bad_values_exit_2(capsys):
    code, _, err = cli(capsys, "run", "--limit", "many")
    assert code == 2 and "Traceback" not in err


def test_config_file_errors(capsys, tmp_path: Path):
    bad_yaml = tmp_path / "run.yaml"
    bad_yaml.write_text("protocol: [unclosed\n")
    code, _, err = cli(capsys, "run", "--config", str(bad_yaml))
    assert code == 2 and f"{bad_yaml}:" in one_line_error(err)
    unknown = tmp_path / "u.yaml"
    unknown.write_text("dataset: x.jsonl\ncolour: blue\n")
    code, _, err = cli(capsys, "run", "--config", str(unknown))
    assert code == 2 and "colour: unknown option" in one_line_error(err)


def test_run_from_yaml_env_and_cli_priority(capsys, tmp_path: Path, monkeypatch):
    dataset = write_jsonl(tmp_path / "d.jsonl", [{"id": i, "question": f"q{i}?", "options": ["a", "b"], "answer": 0} for i in range(4)])
    db = f"sqlite:///{tmp_path / 'o.db'}"
    with FakeOpenAIServer() as server:
        spec = f"openai-compatible/fake@{server.base_url}"
        cfg = tmp_path / "run.yaml"
        cfg.write_text(f"protocol: naive\ndataset: {dataset}\njudge: {spec}\nlimit: 1\nrun-name: from-yaml\n")
        monkeypatch.setenv("OVERSIGHT_LIMIT", "2")  # environment beats the file
        code, out, err = cli(capsys, "run", "--config", str(cfg), "--db", db, "--run-name", "from-cli", "--json", "--no-progress")
        assert code == 0, err
        summary = json.loads(out)
        assert summary["run_name"] == "from-cli" and summary["written"] == 2 and summary["status"] == "finished"
        assert len(server.requests) == 4  # 2 items x 2 orders

        code, out, _ = cli(capsys, "leaderboard", "--db", db, "--format", "json")
        board = json.loads(out)
        assert code == 0 and board[0]["n"] == 4 and board[0]["judge"] == "openai-compatible/fake"
        assert {"protocol", "judge", "dataset", "n", "accuracy", "ci_low", "ci_high"} <= set(board[0])

        code, out, _ = cli(capsys, "export", "judgments", "--db", db, "--format", "jsonl")
        rows = [json.loads(line) for line in out.splitlines()]
        assert len(rows) == 4
        for key in ("run", "protocol", "dataset", "question_id", "judge", "order", "p_correct", "correct", "valid"):
            assert key in rows[0]
        # every leaderboard number can be recomputed from the export
        assert board[0]["accuracy"] == pytest.approx(sum(r["correct"] for r in rows) / 4)

        code, out, _ = cli(capsys, "export", "transcripts", "--db", db, "--format", "csv")
        assert code == 0 and out.splitlines()[0].startswith("run,protocol,dataset") and len(out.splitlines()) == 3

        for fmt, probe in (("csv", "protocol,judge,dataset,n,accuracy"), ("markdown", "| protocol | judge |")):
            code, out, _ = cli(capsys, "leaderboard", "--db", db, "--format", fmt)
            assert code == 0 and probe in out

        code, out, _ = cli(capsys, "usage", "--db", db, "--format", "json")
        assert code == 0 and json.loads(out)[0]["calls"] == 4 and json.loads(out)[0]["role"] == "judge"

        code, out, _ = cli(capsys, "runs", "--db", db, "--format", "json")
        assert json.loads(out)[0]["name"] == "from-cli"


def test_console_script_is_installed():
    out = subprocess.run(["oversight", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for command in ("run", "quickstart", "leaderboard", "export", "data", "db", "bench"):
        assert command in out.stdout


def test_db_upgrade(capsys, tmp_path: Path):
    code, _, err = cli(capsys, "db", "upgrade", "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert code == 0 and "revision 0010" in err


def test_users_and_campaigns_from_the_cli(capsys, tmp_path: Path):
    from web_fixtures import build

    db = f"sqlite:///{tmp_path / 'c.db'}"
    build(tmp_path, db)
    old_stdin = sys.stdin
    try:
        import io

        sys.stdin = io.StringIO("a fine long password\n")
        code, _, err = cli(capsys, "users", "add", "carol", "--role", "judge", "--db", db)
        assert code == 0 and "added judge carol" in err
        sys.stdin = io.StringIO("short\n")
        code, _, err = cli(capsys, "users", "add", "dave", "--db", db)
        assert code == 2 and "at least 8 characters" in one_line_error(err)
    finally:
        sys.stdin = old_stdin
    code, out, _ = cli(capsys, "users", "list", "--db", db, "--format", "json")
    users = json.loads(out)
    assert "carol" in {u["name"] for u in users} and all("password" not in json.dumps(u) for u in users)
    code, _, err = cli(capsys, "users", "disable", "carol", "--db", db)
    assert code == 0
    code, _, err = cli(capsys, "users", "disable", "nobody", "--db", db)
    assert code == 2 and "no user named 'nobody'" in one_line_error(err)
    code, _, err = cli(
        capsys,
        "campaigns",
        "create",
        "pilot",
        "--run",
        "web-debate",
        "--judge",
        "judge0",
        "--judge",
        "judge1",
        "--per-item",
        "2",
        "--db",
        db,
    )
    assert code == 0, err
    code, out, _ = cli(capsys, "campaigns", "list", "--db", db, "--format", "json")
    assert {(r["campaign"], r["judge"], r["done"]) for r in json.loads(out)} >= {("pilot", "judge0", 0), ("pilot", "judge1", 0)}
    code, _, err = cli(capsys, "campaigns", "create", "bad", "--run", "nope", "--judge", "judge0", "--db", db)
    assert code == 2 and "no such run" in one_line_error(err)
    code, out, _ = cli(capsys, "campaigns", "export", "pilot", "--db", db)
    assert code == 0 and out.strip() == ""


def test_leaderboard_metrics_and_compare(capsys, tmp_path: Path):
    import re as _re

    dataset = write_jsonl(
        tmp_path / "d.jsonl",
        [{"id": i, "question": f"q{i}?", "options": ["a", "b"], "answer": i % 2, "context": f"story {i}"} for i in range(6)],
    )
    db = f"sqlite:///{tmp_path / 'm.db'}"

    def reply(request):
        prompt = request["messages"][-1]["content"]
        side = _re.search(r"You are Debater ([AB])", prompt)
        if side:
            return Reply(body=chat_completion(f"Debater {side.group(1)} argues."))
        return Reply(body=chat_completion("A", logprobs={"A": 0.7, "B": 0.3}))

    with FakeOpenAIServer(default=reply) as server:
        strong, weak = f"openai-compatible/strong@{server.base_url}", f"openai-compatible/weak@{server.base_url}"
        for name, extra in (("d1", ["--debater-a", strong, "--debater-b", weak]), ("n1", ["--protocol", "naive"])):
            code, _, err = cli(
                capsys,
                "run",
                "--dataset",
                str(dataset),
                "--judge",
                strong,
                "--rounds",
                "1",
                "--db",
                db,
                "--run-name",
                name,
                "--no-progress",
                *extra,
            )
            assert code == 0, err
    code, out, _ = cli(capsys, "leaderboard", "--db", db, "--metric", "elo", "--format", "json")
    elo = {r["debater"]: r for r in json.loads(out)}
    assert set(elo) == {"openai-compatible/strong", "openai-compatible/weak"}
    code, out, _ = cli(capsys, "leaderboard", "--db", db, "--by", "protocol,models", "--format", "json")
    assert {r["models"] for r in json.loads(out)} == {"openai-compatible/strong vs openai-compatible/weak", ""}
    code, out, _ = cli(capsys, "leaderboard", "--db", db, "--metric", "position", "--format", "json")
    position = {r["protocol"]: r for r in json.loads(out)}
    assert position["naive"]["acc_correct_first"] == 1.0 and position["naive"]["acc_correct_second"] == 0.0
    code, out, _ = cli(capsys, "leaderboard", "--db", db, "--metric", "calibration", "--by", "run", "--format", "json")
    assert {r["run"] for r in json.loads(out)} == {"d1", "n1"} and all(r["brier"] is not None for r in json.loads(out))
    code, out, _ = cli(capsys, "leaderboard", "--db", db, "--by", "judge_kind", "--format", "json")
    assert json.loads(out)[0]["judge_kind"] == "model" and json.loads(out)[0]["n"] == 24
    code, out, _ = cli(capsys, "compare", "d1", "n1", "--db", db, "--json")
    result = json.loads(out)
    assert code == 0 and result["n_questions"] == 6 and result["diff"] == pytest.approx(0.0)
    code, out, _ = cli(capsys, "compare", "--a", "protocol=debate", "--b", "protocol=naive", "--db", db, "--json")
    assert code == 0 and json.loads(out)["n_questions"] == 6 and json.loads(out)["a"] == "protocol=debate"
    code, _, err = cli(capsys, "compare", "--a", "colour=red", "--b", "protocol=naive", "--db", db)
    assert code == 1 and "--a 'colour=red'" in one_line_error(err)
    code, _, err = cli(capsys, "compare", "--db", db)
    assert code == 1 and "name two runs" in one_line_error(err)
    code, _, err = cli(capsys, "leaderboard", "--db", db, "--metric", "vibes")
    assert code == 1 and "--metric 'vibes'" in one_line_error(err)
    code, _, err = cli(capsys, "leaderboard", "--db", db, "--by", "colour")
    assert code == 1 and "--by 'colour'" in one_line_error(err)
    code, _, err = cli(capsys, "compare", "d1", "nope", "--db", db)
    assert code == 2 and "no such run" in one_line_error(err)


def test_sql_aggregates_and_row_dicts_give_the_same_leaderboard(tmp_path: Path):
    from test_protocols import run, scripted

    from oversight.db import connect
    from oversight.db.queries import judgment_rows
    from oversight.metrics.leaderboard import leaderboard

    with FakeOpenAIServer(default=scripted) as server:
        run(tmp_path, server, "consultancy", rounds=1)
        run(tmp_path, server, "open-consultancy", rounds=1)
        run(tmp_path, server, "naive")
    engine = connect(f"sqlite:///{tmp_path / 'p.db'}")
    from oversight.db.leaderboard import leaderboard_aggregates
    from oversight.metrics.leaderboard import leaderboard_from_aggregates

    for by in (("protocol", "judge", "dataset"), ("run", "variant"), ("judge_kind",), ("protocol", "models")):
        expected = leaderboard(judgment_rows(engine), by=by)
        assert _approx_rows(leaderboard_from_aggregates(leaderboard_aggregates(engine, by), by=by)) == _approx_rows(expected)
    assert _approx_rows(
        leaderboard_from_aggregates(leaderboard_aggregates(engine, ("protocol",), run="naive"), by=("protocol",))
    ) == _approx_rows(leaderboard(judgment_rows(engine, "naive"), by=("protocol",)))
    engine.dispose()


def _approx_rows(rows):
    return [{k: (pytest.approx(v) if isinstance(v, float) else v) for k, v in r.items()} for r in rows]


def test_report_and_leaderboard_recomputed_from_the_export(capsys, tmp_path: Path):
    from test_protocols import run, scripted

    from oversight.metrics import leaderboard

    with FakeOpenAIServer(default=scripted) as server:
        strong, weak = f"openai-compatible/strong@{server.base_url}", f"openai-compatible/weak@{server.base_url}"
        run(tmp_path, server, "debate", debater=None, debater_a=strong, debater_b=weak, rounds=1, run_name="d-sw")
        run(tmp_path, server, "debate", debater=None, debater_a=weak, debater_b=strong, rounds=1, run_name="d-ws")
        run(tmp_path, server, "consultancy", rounds=1)
    db = f"sqlite:///{tmp_path / 'p.db'}"
    code, out, _ = cli(capsys, "leaderboard", "--db", db, "--format", "json")
    board = json.loads(out)
    code, out, _ = cli(capsys, "export", "judgments", "--db", db)
    exported = [json.loads(line) for line in out.splitlines()]
    assert _approx_rows(leaderboard(exported)) == _approx_rows(board)  # every number, from the exported rows alone
    report = tmp_path / "out" / "report.html"
    code, _, err = cli(capsys, "report", "--db", db, "--out", str(report))
    assert code == 0, err
    page = report.read_text()
    assert "<svg" in page and "Judge accuracy" in page and "Debater Elo" in page and "openai-compatible/strong" in page
    assert "<script" not in page  # self-contained, no JavaScript or network
    markdown = report.with_suffix(".md").read_text()
    assert "| protocol | judge |" in markdown and "report_charts/accuracy.svg" in markdown
    assert (tmp_path / "out" / "report_charts" / "accuracy.svg").exists()


def test_w2s_command(capsys, tmp_path: Path):
    db = f"sqlite:///{tmp_path / 'w.db'}"
    code, out, err = cli(capsys, "w2s", "--dataset", str(TRUTHFULQA), "--weak", "bow", "--strong", "bow",
                         "--n", "60", "--seeds", "2", "--cache-dir", str(tmp_path), "--db", db, "--run-name", "w1", "--json")  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert summary["questions"] == 60 and summary["seeds"] == 2 and summary["run_name"] == "w1"
    code, out, _ = cli(capsys, "leaderboard", "--metric", "pgr", "--db", db, "--format", "json")
    table = json.loads(out)
    assert len(table) == 1 and table[0]["run"] == "w1" and table[0]["seeds"] == 2
    assert table[0]["weak_acc"] == pytest.approx(summary["weak"]["accuracy"]["mean"])
    code, out, _ = cli(capsys, "leaderboard", "--metric", "pgr", "--db", db, "--format", "json", "--run", "elsewhere")
    assert code == 0 and json.loads(out) == []
    from sqlalchemy import func, select

    from oversight.db import connect
    from oversight.db.schema import W2SExample

    engine = connect(db)
    with engine.connect() as conn:
        per_split = dict(conn.execute(select(W2SExample.split, func.count()).where(W2SExample.seed == 0).group_by(W2SExample.split)).all())
        weak_labelled = conn.execute(select(func.count()).select_from(W2SExample).where(W2SExample.weak_label.is_not(None))).scalar_one()
    engine.dispose()
    assert sum(per_split.values()) == 120 and weak_labelled == 2 * per_split["transfer"]
    code, _, err = cli(capsys, "w2s", "--dataset", str(TRUTHFULQA), "--weak", "bow", "--strong", "bow",
                       "--n", "20", "--cache-dir", str(tmp_path), "--db", db, "--run-name", "w1")  # fmt: skip
    assert code == 2 and "exists" in one_line_error(err)
    for role in ("weak", "student", "ceiling"):
        assert 0.0 <= summary[role]["accuracy"]["mean"] <= 1.0
    code, _, err = cli(capsys, "w2s", "--dataset", str(TRUTHFULQA), "--weak", "gpt2", "--n", "20")
    assert code == 2 and "feature source 'gpt2'" in one_line_error(err)
    code, _, err = cli(capsys, "w2s", "--dataset", str(TRUTHFULQA), "--loss", "hinge")
    assert code == 2 and "loss: Input should be 'xent' or 'logconf'" in one_line_error(err)


def test_values_postgresql_would_refuse_are_refused_up_front_on_both_backends(capsys, tmp_path: Path, db_url: str):
    """A 300-character question id used to crash PostgreSQL with a traceback (SQLite took it): now one line, nothing written."""
    data = write_jsonl(tmp_path / "long.jsonl", [{"id": "q" * 300, "question": "q?", "options": ["a", "b"], "answer": 0}])
    code, _, err = cli(
        capsys, "run", "--protocol", "naive", "--dataset", str(data), "--db", db_url, "--judge", "openai-compatible/m@http://127.0.0.1:9/v1"
    )
    assert code == 2 and "long.jsonl:1: id: String should have at most 180 characters" in one_line_error(err)
    code, out, _ = cli(capsys, "runs", "--db", db_url, "--format", "json")
    assert code == 0 and json.loads(out) == []


def test_run_takes_a_shipped_sample(sqlite_url: str, capsys):
    from oversight.db import connect
    from oversight.db.queries import judgment_rows

    with FakeOpenAIServer(default=lambda _: Reply(body=chat_completion("A", logprobs={"A": 0.7, "B": 0.3}))) as server:
        code, _, _ = cli(capsys, "run", "--protocol", "naive", "--dataset", "sample:capitals", "--limit", "3", "--judge",
                         f"openai-compatible/j@{server.base_url}", "--db", sqlite_url, "--run-name", "caps", "--no-progress")  # fmt: skip
    assert code == 0
    assert len(judgment_rows(connect(sqlite_url), "caps")) == 6
    code, _, err = cli(capsys, "run", "--protocol", "naive", "--dataset", "sample:nothing", "--db", sqlite_url)
    assert code == 2 and "no such shipped sample" in err


def test_the_command_line_starts_without_heavy_imports():
    # every `oversight ...` (and `--help`) imports oversight.cli, so a module-level import of any of these there would
    # cost every command its import time (Rich included: only output and errors need it)
    heavy = ["rich", "openai", "aiohttp", "httpx", "sqlalchemy", "alembic", "pydantic", "pandas", "numpy", "scipy", "altair",
             "streamlit", "torch", "ray", "llama_cpp", "jinja2", "yaml"]  # fmt: skip
    code = f"import sys, oversight.cli; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"


def test_a_run_imports_only_what_it_uses(tmp_path: Path) -> None:
    # the libraries a run on SQLite against an OpenAI-compatible server never needs: each would add its import time
    # to the run's start-up (the web app's, the statistics', training's and the cluster's, PostgreSQL's, YAML's)
    unused = ["streamlit", "pandas", "altair", "scipy", "torch", "ray", "llama_cpp", "transformers", "alembic", "yaml",
              "sqlalchemy.dialects.postgresql", "psycopg", "openai", "httpx"]  # fmt: skip
    with FakeOpenAIServer(default=lambda _: Reply(body=chat_completion("A", logprobs={"A": 0.7, "B": 0.3}))) as server:
        # and Rich, which prints the summary, only after the first request has gone (the first socket it connects)
        code = (
            "import atexit, sys\n"
            f"atexit.register(lambda: print('LOADED', [m for m in {unused!r} if m in sys.modules]))\n"
            "seen = []\n"
            "def hook(event, args):\n"
            "    if event == 'socket.connect' and not seen:\n"
            "        seen.append(1); print('BEFORE FIRST REQUEST', [m for m in ('rich',) if m in sys.modules])\n"
            "sys.addaudithook(hook)\n"
            "from oversight.cli import main\n"
            "main()\n"
        )
        args = ["run", "--protocol", "naive", "--dataset", "sample:capitals", "--limit", "3", "--judge",
                f"openai-compatible/j@{server.base_url}", "--db", f"sqlite:///{tmp_path / 'r.db'}", "--no-progress"]  # fmt: skip
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert server.requests, "the run sent no request"
    assert "LOADED []" in done.stdout
    assert "BEFORE FIRST REQUEST []" in done.stdout
