"""Databases for human-study tests: runs over several articles (one per protocol) plus easy questions for gold items
and catch trials, judges, and verdicts that favour the right (or the wrong) answer whichever order a judge sees."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from conftest import write_jsonl
from fake_openai import FakeOpenAIServer
from oversight.config import RunConfig
from oversight.engine import run_sync
from oversight.human import accounts, items, verdicts
from web_fixtures import PASSWORD, scripted

GOLD, WRONG = "Eleven nights", "Two nights"


def debater(side: str) -> str:
    return f"Debater {side}: <quote>the lamp burned for eleven nights</quote>"


def make_runs(tmp_path: Path, db: str, *, articles: int = 6, per_article: int = 1, rounds: int = 2, protocols=("debate", "naive")) -> None:
    """Runs over `articles` different stories (one run per protocol, named after it) and a few easy catch/gold questions."""
    rows = [
        {"id": f"a{a}q{q}", "question": f"How long did lamp {a} burn? ({q})", "options": [GOLD, WRONG], "answer": 0,
         "context": f"Story {a}: the lamp burned for eleven nights of steady light.", "article_id": f"art{a}"}
        for a in range(articles) for q in range(per_article)
    ]  # fmt: skip
    easy = [
        {"id": f"easy{i}", "question": f"What is {i} plus one? (easy)", "options": [str(i + 1), str(i + 50)], "answer": 0,
         "context": f"{i} plus one is {i + 1}.", "article_id": f"easy{i}"}
        for i in range(3)
    ]  # fmt: skip
    data, easy_data = write_jsonl(tmp_path / "study.jsonl", rows), write_jsonl(tmp_path / "easy.jsonl", easy)
    with FakeOpenAIServer(default=scripted(debater)) as server:
        spec = f"openai-compatible/m@{server.base_url}"
        for protocol in protocols:
            cfg = RunConfig(protocol=protocol, dataset=str(data), debater=spec, consultant=spec, judges=[spec], db=db, run_name=protocol,
                            rounds=rounds, debater_max_tokens=32, progress=False)  # fmt: skip
            assert run_sync(cfg).status == "finished"
        assert (
            run_sync(RunConfig(protocol="naive", dataset=str(easy_data), judges=[spec], db=db, run_name="easy", progress=False)).status
            == "finished"
        )


def judges(engine, n: int) -> list[dict]:
    out = []
    for i in range(n):
        uid = accounts.add_user(engine, f"j{i}", "judge", PASSWORD)
        out.append({"id": uid, "name": f"j{i}", "role": "judge"})
    return out


def answer(engine, user: dict, item: int, *, right: bool = True, **extra) -> verdicts.Feedback | None:
    """Submit a verdict that favours the gold answer (or the wrong one) whichever order this judge sees."""
    view = items.judge_view(engine, item, user["id"])
    gold_first = view.answers[0] in (GOLD,) or (view.answers[0].isdigit() and int(view.answers[0]) < 50)
    p = 0.8 if gold_first == right else 0.2
    form = {"item_id": item, "p_first": p, "explanation": "The verified quote settles it.", "time_on_task_s": 3.0, **extra}
    return verdicts.submit(engine, user, form)


def article_of(engine, item: int) -> tuple[str, str]:
    from oversight.db.schema import CampaignItem, QuestionRow, Transcript

    with engine.connect() as conn:
        row = conn.execute(
            select(CampaignItem.condition, QuestionRow.article_id)
            .join(Transcript, Transcript.id == CampaignItem.transcript_id)
            .join(QuestionRow, QuestionRow.uid == Transcript.question_uid)
            .where(CampaignItem.id == item)
        ).one()
    return row.condition, row.article_id
