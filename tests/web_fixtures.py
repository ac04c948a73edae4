"""A database with a stored debate run, users and a campaign, shared by the web and campaign tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from conftest import write_jsonl
from fake_openai import FakeOpenAIServer, Reply, chat_completion
from oversight.config import RunConfig
from oversight.db import connect
from oversight.engine import run_sync
from oversight.human import accounts, campaigns

GOLD = "Eleven nights of steady light"
WRONG = "Two nights of flickering light"
STORY = "The keeper said the lamp burned for eleven nights of steady light while the storm raged over Gull Rock and the fleet came home."
SECRET_CONTEXT_WORDS = "storm raged over Gull Rock"
PASSWORD = "correct horse battery"
GOLD_SOLUTION = "SECRET-GOLD-RATIONALE the lamp burned eleven nights"
OTHER_VOTE = "OTHER-JUDGE-EXPLANATION-TEXT visible to nobody"


def honest_debater(side: str) -> str:
    return f"Debater {side} here. <quote>the lamp burned for eleven nights</quote>"


def scripted(debater: Callable[[str], str]) -> Callable[[dict], Reply]:
    """Debaters say `debater(side)`; the judge answers A with logprobs."""

    def reply(request: dict) -> Reply:
        prompt = request["messages"][-1]["content"]
        match = re.search(r"You are Debater ([AB])", prompt)
        if match:
            return Reply(body=chat_completion(debater(match.group(1))))
        return Reply(body=chat_completion("A", logprobs={"A": 0.6, "B": 0.4}))

    return reply


def build(
    tmp_path: Path,
    db: str,
    n_questions: int = 3,
    n_judges: int = 2,
    debater: Callable[[str], str] = honest_debater,
    wrong: str = WRONG,
    **campaign_kw,
) -> dict:
    rows = [
        {
            "id": f"q{i}",
            "question": f"How long did the lamp burn? ({i})",
            "options": [GOLD, wrong],
            "answer": 0,
            "context": STORY,
            "article_id": "gull",
            "meta": {"solution": GOLD_SOLUTION},
        }
        for i in range(n_questions)
    ]
    dataset = write_jsonl(tmp_path / "web.jsonl", rows)
    with FakeOpenAIServer(default=scripted(debater)) as server:
        spec = f"openai-compatible/secret-model-x@{server.base_url}"
        summary = run_sync(
            RunConfig(
                protocol="debate", dataset=str(dataset), debater=spec, judges=[spec], db=db, run_name="web-debate", rounds=1, progress=False
            )
        )
    assert summary.status == "finished"
    engine = connect(db)
    accounts.add_user(engine, "admin", "admin", PASSWORD)
    judges = [f"judge{i}" for i in range(n_judges)]
    for name in judges:
        accounts.add_user(engine, name, "judge", PASSWORD)
    spec_kw = dict(name="study", runs=["web-debate"], judges=judges, judges_per_item=1)
    spec_kw.update(campaign_kw)
    cid = campaigns.create_campaign(engine, campaigns.CampaignSpec(**spec_kw))
    users = {u["name"]: u for u in accounts.list_users(engine)}
    return {"engine": engine, "campaign": cid, "users": users, "judges": judges}
