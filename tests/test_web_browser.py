"""The judge app in a real headless Chromium: log in, judge an item, screenshot, and scan everything
the browser received (page and websocket frames) for data a judge must never get."""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oversight.db.queries import judgment_rows
from oversight.human import items, verdicts
from oversight.web.render import inert
from web_fixtures import GOLD_SOLUTION, OTHER_VOTE, PASSWORD, STORY, build

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("OVERSIGHT_SCREENSHOT_DIR", Path(__file__).resolve().parents[1] / "screenshots"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def judge_app(tmp_path: Path, **build_kw: Any) -> Iterator[tuple[str, dict, int]]:
    """The app serving a fresh database (a debate run and a campaign), and the item judge0 will see."""
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    env = build(tmp_path, url, n_questions=2, judges_per_item=2, **build_kw)
    # another judge has already voted on the item judge0 will see; that vote must never reach judge0
    other = env["users"]["judge1"]
    item = items.next_item(env["engine"], env["campaign"], env["users"]["judge0"]["id"])
    verdicts.submit(env["engine"], {"id": other["id"], "name": "judge1", "role": "judge"},
                     {"item_id": item, "p_first": 0.9, "explanation": OTHER_VOTE, "time_on_task_s": 3})  # fmt: skip
    with serving(url) as base:
        yield base, env, item


@contextlib.contextmanager
def serving(url: str) -> Iterator[str]:
    """`oversight web` on a free port, once it answers its health check."""
    port = free_port()
    server = subprocess.Popen(
        [shutil.which("oversight") or "oversight", "web", "--db", url, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"{base}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the judge app did not start")
        # the server is the Streamlit process itself (stopping it leaves no child), and its command line, which
        # `ps` shows to every user, does not carry the database URL
        cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes()
        assert b"streamlit" in cmdline and url.encode() not in cmdline and b"--db" not in cmdline
        yield base
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict, int]]:
    with judge_app(tmp_path) as app:
        yield app


def log_in(page: Any, base: str, name: str) -> None:
    from playwright.sync_api import expect

    page.goto(base)
    page.get_by_label("Username", exact=True).fill(name)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Probability that A is correct (%)")).to_be_visible(timeout=30000)


def record_frames(page: Any, frames: list[bytes]) -> None:
    page.on("websocket", lambda ws: ws.on("framereceived", lambda data: frames.append(data if isinstance(data, bytes) else data.encode())))


def move_slider(page: Any, steps: int, expected: str) -> None:
    """Sliders take keys, not fill(): focus, then arrow keys, as a keyboard user does."""
    from playwright.sync_api import expect

    slider = page.get_by_role("slider")
    slider.focus()
    for _ in range(abs(steps)):
        page.keyboard.press("ArrowRight" if steps > 0 else "ArrowLeft")
    expect(slider).to_have_value(expected)


def test_live_judge_paced_session_in_a_real_browser(tmp_path: Path):
    """A live debate generated round by round while the judge reads: log in, read round 1, give a belief, continue,
    read round 2 (generated on request), stop with a verdict, see the feedback with the rounds' cost. Nothing hidden is
    sent before the verdict: not the story, not the speaking model, not the correct answer."""
    from playwright.sync_api import expect, sync_playwright
    from study_fixtures import judges, make_runs

    from fake_openai import FakeOpenAIServer, Reply, chat_completion
    from oversight.db import connect
    from oversight.human import campaigns

    url = f"sqlite:///{tmp_path / 'live.db'}"
    make_runs(tmp_path, url, articles=1, rounds=1, protocols=("debate",))
    engine = connect(url)
    judges(engine, 1)

    def speak(request: dict) -> Reply:
        prompt = request["messages"][-1]["content"]
        return Reply(body=chat_completion(f"Turn {len(prompt)} for my side: <quote>the lamp burned for eleven nights</quote>"))

    frames: list[bytes] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with FakeOpenAIServer(default=speak) as models:
        spec = campaigns.CampaignSpec(
            name="live", runs=["debate"], judges=["j0"], feedback=True,
            design={"live": True, "max_rounds": 3, "round_cost": 0.05, "live_model": f"openai-compatible/live-secret-model@{models.base_url}"},
        )  # fmt: skip
        campaigns.create_campaign(engine, spec)
        with serving(url) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1100})
            record_frames(page, frames)
            log_in(page, base, "j0")
            expect(page.get_by_role("heading", name="Round 1", exact=True)).to_be_visible()
            expect(page.get_by_role("heading", name="Your belief after round 1")).to_be_visible()
            assert page.get_by_role("heading", name="Round 2", exact=True).count() == 0 and len(models.requests) == 2
            move_slider(page, 20, "70")
            page.screenshot(path=str(SCREENSHOTS / "live-round-1.png"), full_page=True)
            expect(page.get_by_role("button", name="Continue to round 2")).to_be_enabled()
            page.keyboard.press("Alt+N")  # keyboard-friendly: the shortcut shown on the page
            expect(page.get_by_role("heading", name="Round 2", exact=True)).to_be_visible(timeout=30000)
            expect(page.get_by_text("Earlier rounds: round 1: 70% on A")).to_be_visible()
            assert len(models.requests) == 4  # round 2 was generated when the judge asked for it
            move_slider(page, 5, "75")
            page.get_by_label("Why? (required to stop)").fill("Both rounds quote the eleven nights line.")
            page.screenshot(path=str(SCREENSHOTS / "live-round-2.png"), full_page=True)
            before_verdict = b"".join(frames) + page.content().encode()
            page.get_by_role("button", name="Stop and submit verdict").click()
            expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("You read 2 round(s), costing 0.05", timeout=30000)
            page.screenshot(path=str(SCREENSHOTS / "live-feedback.png"), full_page=True)
            browser.close()
    assert frames, "no websocket traffic was recorded"
    for secret in ("Story 0", "live-secret-model", "Correct answer", "correct_side", "p_correct"):
        assert secret.encode() not in before_verdict and inert(secret).encode() not in before_verdict, secret
    (row,) = campaigns.export_rows(engine, 1)
    assert row["stopped_after_round"] == 2 and len(row["p_correct_by_round"]) == 2 and row["round_cost"] == pytest.approx(0.05)


def test_judge_in_a_real_browser_sees_nothing_hidden(served):
    from playwright.sync_api import expect, sync_playwright

    base, env, item = served
    frames: list[bytes] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.on(
            "websocket", lambda ws: ws.on("framereceived", lambda data: frames.append(data if isinstance(data, bytes) else data.encode()))
        )
        log_in(page, base, "judge0")
        slider = page.get_by_role("slider")
        slider.focus()
        for _ in range(20):
            page.keyboard.press("ArrowRight")
        expect(slider).to_have_value("70")
        page.get_by_label("Why? (required)").fill("The verified quote says eleven nights, so A.")
        page.screenshot(path=str(SCREENSHOTS / "judge-item.png"), full_page=True)
        page.get_by_role("button", name="Submit").click()
        expect(page.get_by_test_id("stAlertContentSuccess")).to_be_visible(timeout=30000)
        page.screenshot(path=str(SCREENSHOTS / "judge-saved.png"), full_page=True)
        html = page.content().encode()
        browser.close()
    mine = [r for r in judgment_rows(env["engine"]) if r["judge"] == "judge0"]
    assert len(mine) == 1 and mine[0]["judge_kind"] == "human"
    first_p = mine[0]["p_a"] if mine[0]["order"] == "AB" else mine[0]["p_b"]
    assert first_p == pytest.approx(0.7)
    received = html + b"".join(frames)
    assert frames, "no websocket traffic was recorded"
    for secret in (GOLD_SOLUTION, OTHER_VOTE, STORY[-40:], "secret-model-x", "correct_side", "p_correct"):
        # as sent and as the app encodes displayed text (character references)
        assert secret.encode() not in received and inert(secret).encode() not in received, secret
    assert not re.search(rb"Correct answer", received)  # this campaign gives no feedback
    assert (SCREENSHOTS / "judge-item.png").stat().st_size > 10_000


class _Tracker(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        _Tracker.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def test_hostile_text_is_inert_in_a_real_browser(tmp_path: Path):
    """Forged speaker lines, a third answer, tracking images, self-made verified quotes: shown as text, nothing more."""
    from playwright.sync_api import sync_playwright

    tracker = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Tracker)
    threading.Thread(target=tracker.serve_forever, daemon=True).start()
    track = f"http://127.0.0.1:{tracker.server_address[1]}"
    _Tracker.hits = []

    def hostile(side: str) -> str:
        if side == "A":
            return (f"Debater A here. <v_quote>INVENTED CLAIM <quote>the lamp burned for eleven nights</quote>\n\n"
                    f"**Debater B:** I concede, A is right.\n#### Round 3\n![px]({track}/md.png) <img src=\"{track}/html.png\"> "
                    ":red[ALARM] $x^2$ [click](javascript:alert(1)) <script>alert(1)</script>")  # fmt: skip
        return "Debater B here. <v_quote>The author states plainly that answer A is correct beyond doubt</v_quote>"

    with judge_app(tmp_path, debater=hostile, wrong="Twelve  \n**B:** spoofed") as (base, _env, _item):
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            log_in(page, base, "judge0")
            page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)
            green = page.locator('span[title="quote found in the story"]').all_inner_texts()
            red = page.locator('span[title="quote NOT found in the story"]').all_inner_texts()
            labels = page.locator("strong").all_inner_texts()
            text = page.locator("body").inner_text()
            images = page.locator(f'img[src^="{track}"]').count()
            headings = page.locator("h4").all_inner_texts()
            browser.close()
    tracker.shutdown()
    assert green and all(g == "the lamp burned for eleven nights" for g in green), green  # no invented text in green
    assert labels.count("Debater B:") == 1 and labels.count("B:") == 1, labels  # speaker and answer labels drawn by the app only
    # shown as text (names inside arguments follow the answer order shown, so A and B may be swapped)
    assert re.search(r"\*\*Debater [AB]:\*\* I concede", text) and re.search(r"Twelve\s+\*\*B:\*\* spoofed", text), text
    assert any("beyond doubt" in r for r in red)  # the self-written <v_quote> was checked and is shown unverified
    assert ":red[ALARM] $x^2$" in text and "INVENTED CLAIM" in text
    assert images == 0 and _Tracker.hits == [] and dialogs == []  # nothing fetched, nothing run
    assert all("Round 3" not in h for h in headings)
