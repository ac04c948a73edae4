"""`oversight bench prefix`: how much of a debate's prompts the prefix cache serves, shared-first against role-first layout."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any


def debate_prefix_share(
    question: Any, model: str, workdir: Path, *, rounds: int, max_tokens: int, layout: str = "shared-first"
) -> dict[str, Any]:
    """One debate over one question, every role on `model`, and the share of prompt tokens its server
    served from the prefix cache after the article's first call (as the server reports it)."""
    from sqlalchemy import select

    from oversight.config import RunConfig
    from oversight.db import connect
    from oversight.db.schema import ModelCall
    from oversight.engine import Runner

    one = workdir / f"{layout}-{question.id}.jsonl"
    one.write_text(json.dumps(question.model_dump()) + "\n", encoding="utf-8")
    config = RunConfig(
        protocol="debate", dataset=str(one), format="generic", rounds=rounds, debater_max_tokens=max_tokens, debater=model,
        judges=[model], db=f"sqlite:///{workdir}/{layout}-{question.id}.db", run_name=layout, cache="off", prompt_layout=layout,
        progress=False,
    )  # fmt: skip
    runner = Runner(config)
    provider = runner.pool.get(model).provider
    if hasattr(provider, "reset_prefix_cache"):  # llama.cpp: start from an empty KV cache
        provider.reset_prefix_cache()
    start = time.perf_counter()
    summary = asyncio.run(runner.run())
    wall = time.perf_counter() - start
    engine = connect(config.db)
    with engine.connect() as conn:
        calls = conn.execute(select(ModelCall.role, ModelCall.prompt_tokens, ModelCall.cached_prompt_tokens).order_by(ModelCall.id)).all()
    engine.dispose()
    after_first = calls[1:]
    debaters = [c for c in after_first if c.role.startswith("debater")]
    return {
        "status": summary.status,
        "wall_s": round(wall, 1),
        "calls": len(calls),
        "prompt_tokens": sum(c.prompt_tokens for c in calls),
        "cached_share_after_first_call": round(
            sum(c.cached_prompt_tokens for c in after_first) / max(1, sum(c.prompt_tokens for c in after_first)), 3
        ),
        "cached_share_debaters_after_first_call": round(
            sum(c.cached_prompt_tokens for c in debaters) / max(1, sum(c.prompt_tokens for c in debaters)), 3
        ),
    }


def prefix_benchmark(dataset: str, *, rounds: int = 3, max_tokens: int = 48, question: int = 0, model: str | None = None) -> dict[str, Any]:
    """A debate over one QuALITY article in the shared-first prompt layout and in role-first.

    Reports the share of prompt tokens served from the prefix cache after the first call of the
    article, and the wall time of each layout. On the embedded model each layout starts from an
    empty KV cache; a server's cache (vLLM) cannot be emptied from here, but the two layouts share
    no prompt prefix, so neither profits from the other.
    """
    from oversight.data import load_dataset
    from oversight.models import DEFAULT_MODEL

    model = model or DEFAULT_MODEL
    fmt, questions = load_dataset(dataset)
    if not 0 <= question < len(questions):
        from oversight.errors import InputError

        raise InputError(f"--question {question}: the file has {len(questions)} questions")
    chosen = questions[question]
    results: dict[str, Any] = {
        "dataset": dataset,
        "model": model,
        "question": chosen.id,
        "article_chars": len(chosen.context),
        "rounds": rounds,
        "max_tokens_per_turn": max_tokens,
    }
    with tempfile.TemporaryDirectory() as tmp:
        for layout in ("shared-first", "role-first"):
            results[layout] = debate_prefix_share(chosen, model, Path(tmp), rounds=rounds, max_tokens=max_tokens, layout=layout)
    results["speedup"] = round(results["role-first"]["wall_s"] / max(results["shared-first"]["wall_s"], 1e-9), 2)
    results["target_share"] = 0.8
    return results
