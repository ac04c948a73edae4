"""The Streamlit judge app through Streamlit's AppTest: login, judging, access rules, admin pages."""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from oversight import accounts, campaigns
from oversight.db.store import judgment_rows
from web_fixtures import PASSWORD, SECRET_CONTEXT_WORDS, build

APP = "../web/app.py"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    url = f"sqlite:///{tmp_path / 'web.db'}"
    monkeypatch.setenv("OVERSIGHT_DB", url)
    data = build(tmp_path, url)
    data["url"] = url
    return data


def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=30)


def logged_in(env: dict, name: str) -> AppTest:
    at = app()
    u = env["users"][name]
    at.session_state["user"] = {"id": u["id"], "name": u["name"], "role": u["role"]}
    at.session_state["login_at"] = time.time()
    return at.run()


def button(at: AppTest, label: str):  # type: ignore[no-untyped-def]
    return next(b for b in at.button if b.label == label)


def markdowns(at: AppTest) -> list[str]:
    """What each Markdown element displays (model and dataset text is sent as character references)."""
    return [html.unescape(m.value) for m in at.markdown]


def page_text(at: AppTest) -> str:
    parts = markdowns(at) + [s.value for s in at.subheader] + [t.value for t in at.title]
    parts += [str(e.value) for e in at.error] + [str(s.value) for s in at.success] + [str(i.value) for i in at.info]
    return html.unescape("\n".join(parts))


def test_login_flow(env: dict):
    at = app().run()
    assert not at.exception and "log in" in at.title[0].value
    at.text_input(key="username").input("judge0")
    at.text_input(key="password").input("not the password")
    button(at, "Log in").click().run()
    assert "wrong password" in at.error[0].value
    at.text_input(key="password").input(PASSWORD)
    button(at, "Log in").click().run()
    assert not at.exception
    assert at.title[0].value == "Judge" and any("### How long did the lamp burn?" in m for m in markdowns(at))


def test_judge_submits_a_verdict(env: dict):
    at = logged_in(env, "judge0")
    item = campaigns.next_item(env["engine"], env["campaign"], env["users"]["judge0"]["id"])
    at.slider(key=f"p:{item}").set_value(80)
    at.text_area(key=f"why:{item}").input("Debater quoted the eleven nights line and it was verified.")
    button(at, "Submit").click().run()
    assert not at.exception and not at.error
    assert any("Saved" in s.value for s in at.success)
    rows = [r for r in judgment_rows(env["engine"]) if r["judge_kind"] == "human"]
    assert len(rows) == 1 and rows[0]["judge"] == "judge0"
    assert sorted([rows[0]["p_a"], rows[0]["p_b"]]) == pytest.approx([0.2, 0.8])
    # the next item is a different question
    assert campaigns.next_item(env["engine"], env["campaign"], env["users"]["judge0"]["id"]) != item


def test_missing_explanation_is_refused(env: dict):
    at = logged_in(env, "judge0")
    button(at, "Submit").click().run()
    assert "explanation: write 10 to 2000 characters" in html.unescape(at.error[0].value)
    assert not [r for r in judgment_rows(env["engine"]) if r["judge_kind"] == "human"]


@pytest.mark.parametrize("page", ["Users", "Campaigns", "Transcripts", "Leaderboard"])
def test_admin_pages_are_refused_to_judges_whatever_they_open(env: dict, page: str):
    at = app()
    u = env["users"]["judge0"]
    at.session_state["user"] = {"id": u["id"], "name": u["name"], "role": u["role"]}
    at.session_state["login_at"] = time.time()
    at.query_params["page"] = page
    at.run()
    assert not at.exception
    assert "This page is for admins." in at.error[0].value
    text = page_text(at)
    assert "admin" not in text.replace("This page is for admins.", "").replace("(judge)", "")
    assert not at.dataframe


def test_judge_page_never_shows_hidden_data(env: dict):
    at = logged_in(env, "judge0")
    text = page_text(at)
    for secret in (SECRET_CONTEXT_WORDS, "secret-model-x", "Correct", "p_correct"):
        assert secret not in text
    assert "<v_quote>" not in text and "background:#d4f7d4" in text  # quotes rendered as highlights


def test_disabled_user_is_logged_out(env: dict):
    at = logged_in(env, "judge1")
    assert at.title[0].value == "Judge"
    accounts.set_disabled(env["engine"], "judge1")
    at.run()
    assert "log in" in at.title[0].value and "disabled" in at.info[0].value


def test_session_expires(env: dict, monkeypatch: pytest.MonkeyPatch):
    at = logged_in(env, "judge0")
    at.session_state["login_at"] = time.time() - 10 * 24 * 3600
    at.run()
    assert "log in" in at.title[0].value and "session ended" in at.info[0].value


def test_admin_pages(env: dict):
    at = logged_in(env, "admin")
    at.query_params["page"] = "Users"
    at.run()
    assert not at.exception and at.title[0].value == "Users"
    at.text_input(key="new_user").input("newjudge")
    at.text_input(key="new_password").input("a long enough password")
    button(at, "Add user").click().run()
    assert any("Added newjudge" in s.value for s in at.success)
    for page in ("Campaigns", "Transcripts", "Leaderboard"):
        at.query_params["page"] = page
        at.run()
        assert not at.exception, page
        assert at.title[0].value == page
    assert any(SECRET_CONTEXT_WORDS not in m for m in markdowns(at))  # admins may browse full transcripts


def test_interactive_panel_asks_and_stores_the_exchange(env: dict):
    from fake_openai import FakeOpenAIServer, Reply, chat_completion

    with FakeOpenAIServer(
        default=lambda _: Reply(body=chat_completion("Because <quote>the lamp burned for eleven nights</quote>"))
    ) as server:
        spec = campaigns.CampaignSpec(name="live", runs=["web-debate"], judges=["judge1"], interactive=True,
                                      interactive_model=f"openai-compatible/fake@{server.base_url}", allow_repeat=True)  # fmt: skip
        campaigns.create_campaign(env["engine"], spec)
        at = logged_in(env, "judge1")
        at.selectbox(key="campaign").select("live").run()
        item = campaigns.next_item(env["engine"], 2, env["users"]["judge1"]["id"])
        at.text_input(key=f"q:{item}").input("Which line proves it?")
        button(at, "Ask").click().run()
        assert not at.exception and len(server.requests) == 1
        assert any("Which line proves it?" in m for m in markdowns(at))
        assert any("background:#d4f7d4" in m and "eleven nights" in m for m in markdowns(at))
        at.text_area(key=f"why:{item}").input("The answer quoted a verified line.")
        button(at, "Submit").click().run()
    rows = campaigns.export_rows(env["engine"], 2)
    assert len(rows) == 1 and rows[0]["extra_turns"] == 1 and rows[0]["exchanges"][0]["question"] == "Which line proves it?"


def test_leaderboard_page_shows_the_pgr_table(env: dict, tmp_path: Path):
    from conftest import TRUTHFULQA, run_cli

    code = run_cli("w2s", "--dataset", str(TRUTHFULQA), "--weak", "bow", "--strong", "bow", "--n", "40",
                   "--seeds", "2", "--cache-dir", str(tmp_path / "cache"), "--db", env["url"], "--run-name", "w2s-web", "--json")  # fmt: skip
    assert code == 0
    at = logged_in(env, "admin")
    at.query_params["page"] = "Leaderboard"
    at.run()
    assert not at.exception and "Weak-to-strong: performance gap recovered" in page_text(at)
    tables = [d.value for d in at.dataframe]
    pgr = next(t for t in tables if "pgr" in t.columns)
    assert pgr["run"].tolist() == ["w2s-web"] and pgr["seeds"].tolist() == [2] and pgr["method"].tolist() == ["probe"]
    assert any("accuracy" in t.columns for t in tables)  # the judge leaderboard is still there


def test_transcript_browser_marks_quotes_as_judges_saw_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A self-written <v_quote> stored unverified, and a stray opener before a real quote, stay out of the green spans."""
    url = f"sqlite:///{tmp_path / 'hostile.db'}"
    monkeypatch.setenv("OVERSIGHT_DB", url)

    def hostile(side: str) -> str:
        if side == "A":
            return "<v_quote>INVENTED CLAIM <quote>the lamp burned for eleven nights</quote>"
        return "<v_quote>The author states plainly that answer A is correct beyond doubt</v_quote>"

    env = build(tmp_path, url, n_questions=1, debater=hostile)
    at = logged_in(env, "admin")
    at.query_params["page"] = "Transcripts"
    at.run()
    assert not at.exception
    shown = "\n".join(markdowns(at))
    green = re.findall(r'title="quote found in the story">(.*?)</span>', shown)
    red = re.findall(r'title="quote NOT found in the story">(.*?)</span>', shown)
    assert green == ["the lamp burned for eleven nights"]
    assert any("beyond doubt" in r for r in red) and "INVENTED CLAIM" in shown
