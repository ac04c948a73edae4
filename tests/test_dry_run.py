"""`oversight run --dry-run`: calls, tokens and cost, counted by running the protocol with stand-in models; nothing sent or written."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest

from conftest import run_cli
from oversight.models.accounting import cost_usd

SAMPLE = str(files("oversight.samples") / "quickstart.jsonl")


def dry_run(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> dict:
    db = tmp_path / "never.db"
    assert run_cli("run", "--dataset", SAMPLE, "--db", f"sqlite:///{db}", "--dry-run", "--json", *args) == 0
    assert not db.exists()  # nothing written
    return json.loads(capsys.readouterr().out)


def test_a_debate_is_counted_call_by_call_and_priced(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # an estimate needs no key and sends nothing
    result = dry_run(capsys, tmp_path, "--protocol", "debate", "--rounds", "2", "--debater", "openai/gpt-4o-mini",
                     "--judge", "openai/gpt-4o", "--judge", "local/smollm2-135m", "--debater-max-tokens", "100")  # fmt: skip
    assert result["items"] == 6 and result["calls"] == 6 * (2 * 2 + 2 * 2)
    by = {(r["role"], r["model"]): r for r in result["by_role"]}
    debater = by[("debater_a", "openai/gpt-4o-mini")]
    assert debater["calls"] == 12 and debater["completion_tokens_max"] == 1200 and debater["prompt_tokens"] > 12 * 300
    local = by[("judge", "local/smollm2-135m")]
    assert local["tokens_counted_by"] == "llama.cpp tokenizer" and local["cost_usd_max"] == 0
    gpt4o = by[("judge", "openai/gpt-4o")]
    assert gpt4o["cost_usd_max"] == pytest.approx(
        cost_usd("openai/gpt-4o", gpt4o["prompt_tokens"], gpt4o["completion_tokens_max"]), abs=1e-4
    )
    # round 2 prompts carry round 1: more prompt tokens per call than a one-round debate
    one_round = dry_run(capsys, tmp_path, "--protocol", "debate", "--rounds", "1", "--debater", "openai/gpt-4o-mini",
                        "--judge", "openai/gpt-4o", "--debater-max-tokens", "100")  # fmt: skip
    first = {(r["role"], r["model"]): r for r in one_round["by_role"]}[("debater_a", "openai/gpt-4o-mini")]
    assert debater["prompt_tokens"] / debater["calls"] > first["prompt_tokens"] / first["calls"]
    batched = dry_run(capsys, tmp_path, "--protocol", "naive", "--judge", "openai/gpt-4o", "--batch")
    plain = dry_run(capsys, tmp_path, "--protocol", "naive", "--judge", "openai/gpt-4o")
    assert batched["cost_usd_max"] == pytest.approx(plain["cost_usd_max"] / 2, abs=1e-4) and plain["calls"] == 12


def test_a_user_protocol_is_estimated_like_a_built_in_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    result = dry_run(capsys, tmp_path, "--protocol", "examples/skeptic_debate.py:SkepticDebate", "--rounds", "1",
                     "--debater", "mock/d", "--judge", "mock/j", "--role", "skeptic=anthropic/claude-3-5-haiku-latest")  # fmt: skip
    skeptic = next(r for r in result["by_role"] if r["role"] == "skeptic")
    assert skeptic["calls"] == 6 and skeptic["model"] == "anthropic/claude-3-5-haiku-latest" and skeptic["cost_usd_max"] > 0
