"""Backups taken while the database is in use, restores, and an upgrade from the first schema release that loses nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, func, select, text
from test_engine import config, counts, scripted

from conftest import run_cli
from fake_openai import FakeOpenAIServer
from oversight.db import connect
from oversight.db.connect import _alembic_config, current_revision
from oversight.db.queries import judgment_rows, load_transcripts, run_summaries
from oversight.db.schema import Judgment, ModelCall, Run, Transcript
from oversight.engine import run_sync


def test_sqlite_backup_while_a_run_writes_then_restore(tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]):
    with FakeOpenAIServer(default=scripted) as server:
        run_sync(config(tmp_path, server, sqlite_url, protocol="naive", n=20, run_name="first"))
        busy = threading.Thread(target=run_sync, args=(config(tmp_path, server, sqlite_url, protocol="naive", n=200, run_name="second"),))
        busy.start()  # another run writes while the backup is taken
        assert run_cli("db", "backup", str(tmp_path / "b.db"), "--db", sqlite_url) == 0
        busy.join(120)
    restored = f"sqlite:///{tmp_path / 'restored.db'}"
    assert run_cli("db", "restore", str(tmp_path / "b.db"), "--db", restored) == 0
    err = capsys.readouterr().err
    assert "backed up" in err and "now at revision" in err
    got = counts(restored)
    assert got["transcripts"] >= 20 and got["judgments"] == 2 * got["transcripts"]  # a consistent snapshot: whole items only
    assert run_cli("db", "restore", str(tmp_path / "b.db"), "--db", restored) == 2  # never over an existing database by accident
    assert "exists already" in capsys.readouterr().err
    assert run_cli("db", "backup", str(tmp_path / "b.db"), "--db", sqlite_url) == 2  # nor over an existing backup


def test_postgres_backup_and_restore(tmp_path: Path, postgres_url: str):
    import psycopg

    from conftest import PG_ADMIN_URL

    with FakeOpenAIServer(default=scripted) as server:
        run_sync(config(tmp_path, server, postgres_url, protocol="naive", n=10))
    assert run_cli("db", "backup", str(tmp_path / "pg.dump"), "--db", postgres_url) == 0
    name = postgres_url.rsplit("/", 1)[1] + "_restored"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    target = postgres_url.rsplit("/", 1)[0] + "/" + name
    try:
        assert run_cli("db", "restore", str(tmp_path / "pg.dump"), "--db", target) == 0
        assert counts(target) == counts(postgres_url)
        connect(target).dispose()
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_database_of_the_first_schema_release_upgrades_without_losing_a_row(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    command.upgrade(_alembic_config(engine), "0001")  # the schema the first release created
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO contexts (hash, text, n_chars) VALUES ('h1', 'The lamp burned for eleven nights.', 34)"))
        conn.execute(text(
            "INSERT INTO runs (id, name, protocol, dataset, dataset_path, dataset_format, config, config_hash, prompt_version, models, seed,"
            " package_version, status, n_items, elapsed_s) VALUES (1, 'old-run', 'naive', 'd', 'd.jsonl', 'generic', '{}', 'h', 'v1', '{}', 0,"
            " '0.0.1', 'finished', 2, 1.5)"
        ))  # fmt: skip
        for i in range(2):
            conn.execute(text(
                "INSERT INTO questions (uid, source, external_id, question, options, answer, distractor, context_hash, article_id, meta)"
                f" VALUES ('u{i}', 'd', 'q{i}', 'How long?', '[\"Eleven nights\", \"Two nights\"]', 0, 1, 'h1', 'art', '{{}}')"
            ))  # fmt: skip
            conn.execute(text(
                "INSERT INTO transcripts (id, run_id, question_uid, item_key, protocol, option_a, option_b, correct, prompt_version, meta)"
                f" VALUES ({i + 1}, 1, 'u{i}', 'q{i}', 'naive', 0, 1, 'A', 'v1', '{{}}')"
            ))  # fmt: skip
            for order, p_a in (("AB", 0.8), ("BA", 0.3)):
                conn.execute(text(
                    "INSERT INTO judgments (transcript_id, judge, judge_kind, \"order\", p_a, p_b, p_correct, correct, valid, method,"
                    f" raw_output, prompt_version) VALUES ({i + 1}, 'local/smollm2-135m', 'model', '{order}', {p_a}, {1 - p_a}, {p_a},"
                    f" {int(p_a > 0.5)}, 1, 'logprobs', 'A', 'v1')"
                ))  # fmt: skip
            conn.execute(text(
                "INSERT INTO model_calls (run_id, transcript_id, role, model, prompt_tokens, completion_tokens, cached_prompt_tokens, cost_usd,"
                f" latency, cache_hit, truncated_prompt) VALUES (1, {i + 1}, 'judge', 'local/smollm2-135m', 40, 1, 0, 0.0, 0.1, 0, 0)"
            ))  # fmt: skip
    engine.dispose()
    upgraded = connect(url)  # what any command does on opening an old database
    assert current_revision(upgraded) == "0010"
    with upgraded.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Transcript)).scalar_one() == 2
        assert conn.execute(select(func.count()).select_from(Judgment)).scalar_one() == 4
        assert conn.execute(select(func.sum(ModelCall.attempts))).scalar_one() == 2  # new column: one attempt each
        assert conn.execute(select(Run.lease_owner, Run.status)).one() == (None, "finished")
    rows = judgment_rows(upgraded)
    assert len(rows) == 4 and sorted(r["p_correct"] for r in rows) == pytest.approx([0.3, 0.3, 0.8, 0.8])
    assert [r["status"] for r in run_summaries(upgraded)] == ["finished"]
    assert run_cli("leaderboard", "--db", url, "--format", "json") == 0


def test_backup_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert run_cli("db", "backup", str(tmp_path / "x.db"), "--db", f"sqlite:///{tmp_path / 'missing.db'}") == 2
    assert run_cli("db", "restore", str(tmp_path / "nothing.db"), "--db", f"sqlite:///{tmp_path / 'new.db'}") == 2
    err = capsys.readouterr().err
    assert "no such database" in err and "no such backup" in err and "Traceback" not in err


def test_what_earlier_versions_kept_in_transcript_meta_moves_to_the_typed_outcome(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    command.upgrade(_alembic_config(engine), "0006")  # the last schema before typed outcomes
    meta = '{"consultant_side": "B", "consultant_correct": false, "models": "m1", "variant": "incorrect", "turns": "sequential", "source": "kept"}'
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO runs (id, name, protocol, dataset, dataset_path, dataset_format, config, config_hash, prompt_version, models, seed,"
            " package_version, status, n_items, elapsed_s) VALUES (1, 'old', 'consultancy', 'd', 'd.jsonl', 'generic', '{}', 'h', 'v1', '{}', 0,"
            " '0.0.1', 'finished', 1, 1.0)"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO questions (uid, source, external_id, question, options, answer, meta)"
            " VALUES ('u0', 'd', 'q0', 'How long?', '[\"Eleven nights\", \"Two nights\"]', 0, '{}')"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO transcripts (id, run_id, question_uid, item_key, protocol, option_a, option_b, correct, prompt_version, meta)"
            f" VALUES (1, 1, 'u0', 'q0#incorrect', 'consultancy', 0, 1, 'A', 'v1', '{meta}')"
        ))  # fmt: skip
    engine.dispose()
    upgraded = connect(url)
    with upgraded.connect() as conn:
        row = conn.execute(select(Transcript.variant, Transcript.models, Transcript.consultant_correct, Transcript.meta)).one()
    assert (row.variant, row.models, row.consultant_correct, row.meta) == ("incorrect", "m1", False, {"source": "kept"})
    [(_, transcript)] = load_transcripts(upgraded, run_id=1)
    assert transcript.outcome.consultant_side == "B" and transcript.outcome.turn_order == "sequential"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_human_verdicts_stored_before_study_designs_keep_their_scores(tmp_path: Path, backend: str, request: pytest.FixtureRequest):
    """A campaign and its verdicts written under revision 0009 upgrade to study designs: the verdicts' probabilities
    are copied beside them, the campaign reads as a one-condition design, and its judges are in the main stage."""
    from oversight.human import campaigns

    url = f"sqlite:///{tmp_path / 'campaign.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    command.upgrade(_alembic_config(engine), "0009")
    true = "1" if backend == "sqlite" else "true"
    false = "0" if backend == "sqlite" else "false"
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO runs (id, name, protocol, dataset, dataset_path, dataset_format, config, config_hash, prompt_version, models, seed,"
            " package_version, status, n_items, elapsed_s) VALUES (1, 'r', 'naive', 'd', 'd.jsonl', 'generic', '{}', 'h', 'v1', '{}', 0,"
            " '0.1.0', 'finished', 1, 1.0)"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO questions (uid, source, external_id, question, options, answer, distractor, context_hash, article_id, meta)"
            " VALUES ('u0', 'd', 'q0', 'How long?', '[\"Eleven nights\", \"Two nights\"]', 0, 1, NULL, 'art', '{}')"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO transcripts (id, run_id, question_uid, item_key, protocol, option_a, option_b, correct, prompt_version, meta)"
            " VALUES (1, 1, 'u0', 'q0', 'naive', 0, 1, 'A', 'v1', '{}')"
        ))  # fmt: skip
        conn.execute(text(f"INSERT INTO users (id, name, role, password_hash, disabled) VALUES (1, 'ana', 'judge', 'x', {false})"))
        conn.execute(text(
            "INSERT INTO campaigns (id, name, runs, protocols, judges_per_item, show_context, interactive, turn_penalty, feedback, allow_repeat)"
            f" VALUES (1, 'old', '[\"r\"]', '[]', 1, {false}, {false}, 0.0, {true}, {false})"
        ))  # fmt: skip
        conn.execute(text("INSERT INTO campaign_judges (campaign_id, user_id) VALUES (1, 1)"))
        conn.execute(text("INSERT INTO campaign_items (id, campaign_id, transcript_id) VALUES (1, 1, 1)"))
        conn.execute(text(
            "INSERT INTO judgments (id, transcript_id, judge, judge_kind, \"order\", p_a, p_b, p_correct, correct, valid, method, raw_output,"
            f" prompt_version) VALUES (1, 1, 'ana', 'human', 'AB', 0.8, 0.2, 0.8, {true}, {true}, 'human', 'because', 'human:c1')"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO human_judgments (item_id, user_id, judgment_id, \"order\", explanation, time_on_task_s, extra_turns, exchanges)"
            " VALUES (1, 1, 1, 'AB', 'because', 12.0, 0, '[]')"
        ))  # fmt: skip
    engine.dispose()
    upgraded = connect(url)
    assert current_revision(upgraded) == "0010"
    (stats,) = campaigns.progress(upgraded, 1)
    assert (stats["done"], stats["accuracy"], stats["stage"], stats["excluded"]) == (1, 1.0, "main", False)
    assert stats["mean_p_correct"] == pytest.approx(0.8)
    assert campaigns.export_rows(upgraded, 1)[0]["p_correct"] == pytest.approx(0.8)
    assert [r["judge"] for r in judgment_rows(upgraded)] == ["ana"]  # not excluded by the new column's default
    upgraded.dispose()
