"""`oversight bench judges`: many human judges submitting verdicts at once, as a busy study does.

Builds a naive-protocol run of synthetic questions (no model involved), a campaign over it with
three judges per item, and `judges` threads that each fetch their next item and submit a verdict
until `judgments` verdicts are in. Reports the rate and checks the stored rows: none lost, none
doubled, no judge twice on an item, no item over its quota.
"""

from __future__ import annotations

import math
import tempfile
import threading
import time
from typing import Any

PER_ITEM = 3


def _synthetic_run(engine: Any, n: int) -> str:
    from oversight.data.question import Question
    from oversight.db.items import store_questions, write_items
    from oversight.db.runs import finish_run, start_run
    from oversight.transcript import ItemResult, Transcript

    questions = [Question(id=f"q{i}", question=f"Which is right? ({i})", options=[f"yes {i}", f"no {i}"], answer=i % 2, source="bench")
                 for i in range(n)]  # fmt: skip
    uids = store_questions(engine, questions)
    name = "bench-judges"
    run_id, _ = start_run(engine, name=name, config_hash="bench", protocol="naive", dataset="bench", dataset_path="-", dataset_format="generic",
                          config={}, prompt_version="v1", models={}, seed=0, package_version="-", n_items=n)  # fmt: skip
    items = [ItemResult(item_key=q.id, question_uid=uids[q.id], transcript=Transcript(question=q, protocol="naive", option_a=0, option_b=1),
                        judgments=[]) for q in questions]  # fmt: skip
    write_items(engine, run_id, items)
    finish_run(engine, run_id, "finished", 0.0)
    return name


def judges_load(db: str | None = None, *, judges: int = 30, judgments: int = 1000) -> dict[str, Any]:
    from sqlalchemy import func, select

    from oversight.db import connect
    from oversight.db.schema import CampaignItem, Judgment
    from oversight.human import accounts, campaigns, items, verdicts

    with tempfile.TemporaryDirectory() as tmp:
        engine = connect(db or f"sqlite:///{tmp}/judges.db")
        run = _synthetic_run(engine, math.ceil(judgments / PER_ITEM))
        names = [f"judge{i:03d}" for i in range(judges)]
        for name in names:
            accounts.add_user(engine, name, "judge", "a long enough password")
        users = {u["name"]: u for u in accounts.list_users(engine)}
        cid = campaigns.create_campaign(engine, campaigns.CampaignSpec(name="bench", runs=[run], judges=names, judges_per_item=PER_ITEM))
        accepted: list[tuple[str, int]] = []
        refused: list[str] = []
        lock = threading.Lock()
        barrier = threading.Barrier(judges)

        def judge(name: str) -> None:
            me = {"id": users[name]["id"], "name": name, "role": "judge"}
            barrier.wait()
            while True:
                with lock:
                    if len(accepted) >= judgments:
                        return
                item = items.next_item(engine, cid, me["id"])
                if item is None:
                    return
                form = {"item_id": item, "p_first": 0.7, "explanation": "the first answer fits the question better", "time_on_task_s": 5}
                try:
                    verdicts.submit(engine, me, form)
                except Exception as exc:  # noqa: BLE001 - a refused race (item filled meanwhile) is counted, not fatal
                    with lock:
                        refused.append(type(exc).__name__)
                    continue
                with lock:
                    accepted.append((name, item))

        threads = [threading.Thread(target=judge, args=(n,)) for n in names]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        with engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(Judgment).where(Judgment.judge_kind == "human")).scalar_one()
            over_quota = conn.execute(
                select(func.count()).select_from(
                    select(Judgment.transcript_id).where(Judgment.judge_kind == "human").group_by(Judgment.transcript_id)
                    .having(func.count() > PER_ITEM).subquery()
                )
            ).scalar_one()  # fmt: skip
            items = conn.execute(select(func.count()).select_from(CampaignItem).where(CampaignItem.campaign_id == cid)).scalar_one()
        backend = engine.dialect.name
        engine.dispose()
    return {
        "backend": backend, "judges": judges, "items": items, "judgments_accepted": len(accepted), "judgments_stored": stored,
        "lost": max(0, len(accepted) - stored), "doubled": max(0, stored - len(accepted)),
        "judge_twice_on_an_item": len(accepted) - len(set(accepted)), "items_over_quota": over_quota,
        "refused_races": len(refused), "wall_s": round(wall, 2), "judgments_per_s": round(len(accepted) / wall, 1),
    }  # fmt: skip
