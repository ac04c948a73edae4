"""`oversight bench leaderboard`: the full leaderboard over a million synthetic judgments."""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from typing import Any

from oversight.bench import peak_rss_mib


def _fill_synthetic(url: str, n: int, seed: int) -> None:
    """Write `n` synthetic judgments (2 orders per transcript, 10 questions per article) in bulk."""
    import numpy as np
    from sqlalchemy import insert

    from oversight.db import connect
    from oversight.db.schema import Context, Judgment, QuestionRow, Run, Transcript

    rng = np.random.default_rng(seed)
    engine = connect(url)
    n_transcripts = max(1, n // 2)
    n_questions = max(1, min(n_transcripts, 20000))
    protocols = ["naive", "expert", "debate", "consultancy"]
    judges = ["local/smollm2-135m", "openai/gpt-4o-mini"]
    with engine.begin() as conn:
        conn.execute(
            insert(Context.__table__), [{"hash": f"ctx{a:06d}", "text": f"article {a}", "n_chars": 9} for a in range(n_questions // 10 + 1)]
        )
        conn.execute(
            insert(QuestionRow.__table__),
            [
                {"uid": f"q{q:07d}", "source": "synthetic", "external_id": f"q{q}", "question": "?", "options": ["a", "b"], "answer": 0,
                 "distractor": 1, "context_hash": f"ctx{q // 10:06d}", "article_id": f"art{q // 10}", "meta": {}}
                for q in range(n_questions)
            ],
        )  # fmt: skip
        conn.execute(
            insert(Run.__table__),
            [
                {"id": i + 1, "name": f"synthetic-{p}", "protocol": p, "dataset": "synthetic", "dataset_path": "-", "dataset_format": "generic",
                 "config": {}, "config_hash": "-", "prompt_version": "v1", "models": {}, "seed": seed, "package_version": "-", "status": "finished"}
                for i, p in enumerate(protocols)
            ],
        )  # fmt: skip
        run_of = rng.integers(0, len(protocols), n_transcripts)
        question_of = rng.integers(0, n_questions, n_transcripts)
        correct_side = np.where(rng.random(n_transcripts) < 0.5, "A", "B")
        for start in range(0, n_transcripts, 100_000):
            stop = min(n_transcripts, start + 100_000)
            conn.execute(
                insert(Transcript.__table__),
                [
                    {"id": t + 1, "run_id": int(run_of[t]) + 1, "question_uid": f"q{int(question_of[t]):07d}", "item_key": f"i{t}",
                     "protocol": protocols[int(run_of[t])], "option_a": 0 if correct_side[t] == "A" else 1, "option_b": 1 if correct_side[t] == "A" else 0,
                     "correct": str(correct_side[t]), "prompt_version": "v1", "meta": {}}
                    for t in range(start, stop)
                ],
            )  # fmt: skip
        skill = {"naive": 0.6, "expert": 0.9, "debate": 0.75, "consultancy": 0.65}
        for start in range(0, n, 200_000):
            stop = min(n, start + 200_000)
            rows = []
            for j in range(start, stop):
                t = j // 2
                protocol = protocols[int(run_of[t % n_transcripts])]
                p_correct = float(np.clip(rng.normal(skill[protocol], 0.2), 0.01, 0.99))
                valid = rng.random() > 0.01
                p_a = p_correct if correct_side[t % n_transcripts] == "A" else 1 - p_correct
                rows.append(
                    {"transcript_id": t % n_transcripts + 1, "judge": judges[j % 4 // 2], "judge_kind": "model", "order": "AB" if j % 2 == 0 else "BA",
                     "p_a": p_a if valid else None, "p_b": 1 - p_a if valid else None, "p_correct": p_correct if valid else None,
                     "correct": p_correct > 0.5 if valid else None, "valid": valid, "method": "logprobs", "raw_output": "", "prompt_version": f"v1-{j % 4}"}
                )  # fmt: skip
            conn.execute(insert(Judgment.__table__), rows)
    engine.dispose()


def leaderboard_benchmark(n: int = 1_000_000, db: str | None = None, seed: int = 0) -> dict[str, Any]:
    """Fill a database with `n` synthetic judgments, then time loading them and computing the leaderboard."""
    from oversight.db import connect
    from oversight.db.leaderboard import leaderboard_aggregates
    from oversight.metrics.leaderboard import DEFAULT_BY, leaderboard_from_aggregates

    with tempfile.TemporaryDirectory() as tmp:
        url = db or f"sqlite:///{tmp}/leaderboard.db"
        start = time.perf_counter()
        filler = multiprocessing.get_context("spawn").Process(target=_fill_synthetic, args=(url, n, seed))
        filler.start()
        filler.join()
        if filler.exitcode != 0:
            raise RuntimeError("filling the benchmark database failed")
        fill_s = time.perf_counter() - start
        engine = connect(url)
        rss_before = peak_rss_mib()
        start = time.perf_counter()
        aggregates = leaderboard_aggregates(engine, DEFAULT_BY)
        load_s = time.perf_counter() - start
        board = leaderboard_from_aggregates(aggregates)
        total_s = time.perf_counter() - start
        engine.dispose()
    return {
        "judgments": int(sum(r["n"] + r["invalid"] for r in board)),
        "groups": len(board),
        "fill_s": round(fill_s, 1),
        "sql_aggregate_s": round(load_s, 2),
        "leaderboard_s": round(total_s, 2),
        "target_s": 10.0,
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "rss_before_load_mib": round(rss_before, 1),
    }
