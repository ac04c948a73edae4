"""The Oversight judge app: `oversight web` serves it with Streamlit.

Judges log in and judge campaign items; admins manage users and campaigns, follow progress,
browse transcripts and read the leaderboard. Blinding is enforced on the server: judge pages
render only a `JudgeView` (see `oversight.human.verdicts`), and every admin page checks the role of
the logged-in user before it reads anything.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from typing import Any

import streamlit as st
from pydantic import ValidationError

from oversight.db import connect
from oversight.errors import OversightError, validation_problem
from oversight.human import accounts, campaigns, logins, verdicts
from oversight.human.design import ConditionSpec
from oversight.quotes import QuoteCheck, mark_quotes
from oversight.web.render import inert, speech_html

SESSION_MINUTES = float(os.environ.get("OVERSIGHT_SESSION_MINUTES", "240"))


def db_url() -> str | None:
    """From the environment (`oversight web` puts it there: a URL with a password must not sit on a command line);
    `streamlit run app.py -- --db URL` works too."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db", default=None)
    known, _ = parser.parse_known_args()
    return known.db or os.environ.get("OVERSIGHT_DB")


@st.cache_resource
def engine_for(url: str | None):  # type: ignore[no-untyped-def]
    return connect(url)


def client_address() -> str:
    try:
        address = st.context.ip_address
    except Exception:  # noqa: BLE001 - outside a browser session there is no address
        return "unknown"
    return address if isinstance(address, str) and address else "unknown"


def current_user(engine: Any) -> dict[str, Any] | None:
    """The logged-in user: from this browser session, or after a reload from the session token in the address."""
    user = st.session_state.get("user")
    token = st.query_params.get("session")
    if user is None and token:
        user = logins.session_user(engine, token)
        if user is None:
            del st.query_params["session"]
            st.session_state["flash"] = "Your session ended; please log in again."
            return None
        st.session_state["user"], st.session_state["login_at"] = user, time.time()
    if user is None:
        return None
    expired = time.time() - st.session_state.get("login_at", 0) > SESSION_MINUTES * 60
    if expired or not accounts.is_active(engine, user["id"]):
        logout(engine, "Your session ended; please log in again." if expired else "Your account was disabled.")
        return None
    return user


def logout(engine: Any, message: str | None = None) -> None:
    logins.end_session(engine, st.query_params.get("session"))
    st.query_params.clear()
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if message:
        st.session_state["flash"] = message


def login_page(engine: Any) -> None:
    st.title("Oversight — log in")
    if "flash" in st.session_state:
        st.info(st.session_state.pop("flash"))
    with st.form("login"):
        name = st.text_input("Username", key="username")
        password = st.text_input("Password", type="password", key="password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        try:
            user = accounts.authenticate(engine, name.strip(), password, client_address())
        except logins.LoginThrottled as exc:
            st.error(inert(str(exc), breaks=False))
            return
        if user is None:
            st.error("Unknown user, wrong password or disabled account.")
            return
        st.session_state["user"] = user
        st.session_state["login_at"] = time.time()
        st.query_params["session"] = logins.create_session(engine, user["id"], client_address())
        st.rerun()


def judge_page(engine: Any, user: dict[str, Any]) -> None:
    st.title("Judge")
    mine = campaigns.campaigns_for(engine, user["id"])
    if not mine:
        st.info("No campaign is assigned to you yet.")
        return
    names = {c["name"]: c["id"] for c in mine}
    chosen = st.selectbox("Campaign", list(names), key="campaign")
    campaign_id = names[chosen]
    if "feedback" in st.session_state:
        show_feedback(st.session_state.pop("feedback"))
    elif st.session_state.pop("saved", False):
        st.success("Saved.")
    design, stage = campaigns.judge_standing(engine, campaign_id, user["id"])
    if design.judge_sees_stats:
        own_stats(engine, campaign_id, user)
    if (closed := design.window_message()) is not None:
        st.info(closed)
        return
    if stage == "failed":
        st.info("Thank you for taking the qualification items. You did not reach the pass mark, so there is nothing more to judge here.")
        return
    item_id = verdicts.next_item(engine, campaign_id, user["id"])
    if item_id is None:
        st.info("Nothing left to judge in this campaign. Thank you!")
        return
    try:
        with st.spinner("Preparing the first round…"):
            verdicts.first_round(engine, item_id, user["id"])
    except OversightError as exc:
        st.error(inert(f"The first round could not be prepared: {exc}", breaks=False))
        return
    view = verdicts.judge_view(engine, item_id, user["id"])
    started = st.session_state.setdefault(f"started:{item_id}", time.time())
    if view.stage == "qualification":
        st.caption("Qualification item: the correct answer is shown after your verdict.")
    if view.time_left_s is not None:
        if view.time_left_s <= 0:
            st.warning("Time is up for this item.")
            if st.button("Next item", key=f"timeout:{item_id}", shortcut="Ctrl+Enter"):
                try:
                    verdicts.time_out(engine, user, item_id)
                except OversightError as exc:
                    st.error(inert(str(exc), breaks=False))
                    return
                st.rerun()
            return
        minutes, seconds = divmod(int(view.time_left_s), 60)
        st.caption(f"Time left on this item: {minutes}:{seconds:02d}")
    st.markdown(f"### {inert(view.question)}", unsafe_allow_html=True)
    st.markdown(f"**A:** {inert(view.answers[0])}<br>**B:** {inert(view.answers[1])}", unsafe_allow_html=True)
    if view.context is not None:
        with st.expander("Story", expanded=False):
            st.markdown(inert(view.context), unsafe_allow_html=True)
        if view.quotes:
            quotes_panel(view.quotes)
    current = None
    for speech in view.speeches:
        if speech.round != current:
            st.markdown(f"#### Round {speech.round}")
            current = speech.round
        st.markdown(f"**{speech.speaker}:** {speech_html(speech.text)}", unsafe_allow_html=True)
    st.caption("Green quotes were found in the story; red, struck-through quotes were not and may be invented.")
    exchanges: list[dict[str, str]] = st.session_state.setdefault(f"exchanges:{item_id}", [])
    if view.interactive:
        interactive_panel(engine, user, view, exchanges)
    if view.paced:
        paced_panel(engine, user, view, started, exchanges)
        return
    with st.form(f"verdict:{item_id}"):
        p_first = st.slider("Probability that A is correct (%)", min_value=5, max_value=95, value=50, step=1, key=f"p:{item_id}")
        st.caption(
            "B gets the rest: 100% minus A's probability. Move the slider to the answer you favour (arrow keys once it has focus), "
            "or tick Unsure. Ctrl+Enter submits."
        )
        unsure = st.checkbox("Unsure: 50/50", key=f"unsure:{item_id}")
        explanation = st.text_area("Why? (required)", key=f"why:{item_id}", max_chars=verdicts.EXPLANATION_MAX)
        submitted = st.form_submit_button("Submit", shortcut="Ctrl+Enter")
    if submitted:
        form = {"item_id": item_id, "p_first": 0.5 if unsure else p_first / 100.0, "unsure": unsure, "explanation": explanation,
                "time_on_task_s": time.time() - started, "exchanges": exchanges}  # fmt: skip
        send_verdict(engine, user, form)


def send_verdict(engine: Any, user: dict[str, Any], form: dict[str, Any]) -> None:
    try:
        feedback = verdicts.submit(engine, user, form)
    except OversightError as exc:
        st.error(inert(str(exc), breaks=False))
        return
    if feedback is not None:
        st.session_state["feedback"] = feedback.model_dump()
    else:
        st.session_state["saved"] = True
    st.rerun()


def show_feedback(fb: dict[str, Any]) -> None:
    rounds = f" You read {fb['rounds_read']} round(s), costing {fb['round_cost']:.2f}." if fb.get("rounds_read") else ""
    st.success(
        f"Saved. Correct answer: {inert(fb['correct_answer'], breaks=False)} — your probability on it {fb['p_correct']:.0%}, "
        f"Brier {fb['brier']:.3f}, log score {fb['log_score']:.3f}.{rounds}"
    )
    if fb.get("qualification"):
        st.info(inert(fb["qualification"], breaks=False))


def own_stats(engine: Any, campaign_id: int, user: dict[str, Any]) -> None:
    """A judge's own record, where the campaign shows it: how many, how accurate, how calibrated, catch trials."""
    mine = next((p for p in campaigns.progress(engine, campaign_id) if p["judge"] == user["name"]), None)
    if mine is None or not mine["done"]:
        return
    parts = [f"{mine['done']} judged"]
    if mine["accuracy"] is not None:
        parts += [f"accuracy {mine['accuracy']:.0%}", f"Brier {mine['brier']:.3f}"]
    if mine["catch"]:
        parts.append(f"attention checks {mine['catch']}")
    st.caption("Your record: " + ", ".join(parts))


def paced_panel(engine: Any, user: dict[str, Any], view: verdicts.JudgeView, started: float, exchanges: list[dict[str, str]]) -> None:
    """Judge-paced items: after each round a belief, then read on or stop (Michael et al. 2023)."""
    k = view.round_shown
    st.markdown(f"#### Your belief after round {k}")
    if view.beliefs:
        st.caption("Earlier rounds: " + ", ".join(f"round {i}: {p:.0%} on A" for i, p in enumerate(view.beliefs, 1)))
    if view.round_cost:
        st.caption(f"Each round you read beyond round {view.min_rounds} costs {view.round_cost:.2f} points of your score.")
    if not view.can_stop:
        st.caption(f"Read at least {view.min_rounds} rounds before you give your verdict.")
    with st.form(f"round:{view.item_id}:{k}"):
        default = int(round(view.beliefs[-1] * 100)) if view.beliefs else 50
        p_first = st.slider(
            "Probability that A is correct (%)", min_value=5, max_value=95, value=default, step=1, key=f"p:{view.item_id}:{k}"
        )
        unsure = st.checkbox("Unsure: 50/50", key=f"unsure:{view.item_id}:{k}")
        explanation = st.text_area("Why? (required to stop)", key=f"why:{view.item_id}:{k}", max_chars=verdicts.EXPLANATION_MAX)
        st.caption("Arrow keys move the slider once it has focus. Alt+N: next round · Ctrl+Enter: stop and submit.")
        # Stop comes first: Ctrl+Enter in the text box submits the form through its first button
        stop = st.form_submit_button("Stop and submit verdict", disabled=not view.can_stop, shortcut="Ctrl+Enter")
        go_on = st.form_submit_button(
            f"Continue to round {k + 1}" if view.can_continue else "No more rounds", disabled=not view.can_continue, shortcut="Alt+N"
        )
    p = 0.5 if unsure else p_first / 100.0
    if go_on:
        try:
            with st.spinner(f"Round {k + 1}…"):
                verdicts.advance(engine, user, {"item_id": view.item_id, "p_first": p, "unsure": unsure, "round": k})
        except OversightError as exc:
            st.error(inert(str(exc), breaks=False))
            return
        st.rerun()
    if stop:
        form = {"item_id": view.item_id, "p_first": p, "unsure": unsure, "explanation": explanation, "round": k,
                "time_on_task_s": time.time() - started, "exchanges": exchanges}  # fmt: skip
        send_verdict(engine, user, form)


def quotes_panel(quotes: list[verdicts.QuoteInStory]) -> None:
    """Every verified quote of the transcript in story order, with the story around it, so a judge who may read the
    story sees at once where each piece of evidence comes from and what surrounds it."""
    with st.expander(f"Quotes in the story ({len(quotes)})", expanded=True):
        for q in quotes:
            where = f"{q.speaker}, round {q.round} · {q.position:.0%} into the story"
            st.markdown(
                f"<small>{inert(where, breaks=False)}</small><br>…{inert(q.before, breaks=False)}"
                f"<mark>{inert(q.text, breaks=False)}</mark>{inert(q.after, breaks=False)}…",
                unsafe_allow_html=True,
            )


def interactive_panel(engine: Any, user: dict[str, Any], view: verdicts.JudgeView, exchanges: list[dict[str, str]]) -> None:
    st.markdown("#### Ask a question")
    if view.turn_penalty:
        st.caption(f"Each question costs {view.turn_penalty:.2f} points of your score.")
    for ex in exchanges:
        st.markdown(f"**You → {inert(ex['to'])}:** {inert(ex['question'])}", unsafe_allow_html=True)
        st.markdown(f"**{inert(ex['to'])}:** {speech_html(ex['answer'])}", unsafe_allow_html=True)
    targets = sorted({s.speaker for s in view.speeches if not s.speaker.startswith("Judge")}) or ["Debater A", "Debater B"]
    with st.form(f"ask:{view.item_id}"):
        target = st.selectbox("To", targets, key=f"to:{view.item_id}")
        question = st.text_input("Question", key=f"q:{view.item_id}", max_chars=500)
        asked = st.form_submit_button("Ask")
    if asked:
        try:
            answer = asyncio.run(verdicts.ask(engine, view.item_id, user["id"], target, question, exchanges))
        except OversightError as exc:
            st.error(inert(str(exc), breaks=False))
            return
        exchanges.append({"to": target, "question": question.strip(), "answer": answer})
        st.rerun()


def require_admin(user: dict[str, Any]) -> bool:
    if user["role"] != "admin":
        st.error("This page is for admins.")
        return False
    return True


def users_page(engine: Any, user: dict[str, Any]) -> None:
    if not require_admin(user):
        return
    st.title("Users")
    st.dataframe(accounts.list_users(engine), hide_index=True)
    with st.form("add_user"):
        name = st.text_input("New user name", key="new_user")
        role = st.selectbox("Role", ["judge", "admin"], key="new_role")
        password = st.text_input("Password", type="password", key="new_password")
        if st.form_submit_button("Add user"):
            try:
                accounts.add_user(engine, name.strip(), role, password)
                st.success(f"Added {inert(name, breaks=False)}.")
            except OversightError as exc:
                st.error(inert(str(exc), breaks=False))
    with st.form("disable_user"):
        target = st.text_input("Disable user", key="disable_name")
        if st.form_submit_button("Disable"):
            try:
                accounts.set_disabled(engine, target.strip())
                st.success(f"Disabled {inert(target, breaks=False)}.")
            except OversightError as exc:
                st.error(inert(str(exc), breaks=False))


def campaigns_page(engine: Any, user: dict[str, Any]) -> None:
    if not require_admin(user):
        return
    from oversight.db.queries import run_summaries

    st.title("Campaigns")
    runs = [r["name"] for r in run_summaries(engine)]
    judges = [u["name"] for u in accounts.list_users(engine) if not u["disabled"]]
    with st.form("new_campaign"):
        name = st.text_input("Campaign name", key="c_name")
        chosen_runs = st.multiselect("Runs", runs, key="c_runs")
        protocols = st.text_input("Protocols (comma-separated; empty: all)", key="c_protocols")
        question_ids = st.text_input("Question ids (comma-separated; empty: all)", key="c_questions")
        chosen_judges = st.multiselect("Judges", judges, key="c_judges")
        per_item = st.number_input("Judges per item", min_value=1, max_value=100, value=1, key="c_per_item")
        show_context = st.checkbox("Judges may read the story (expert baseline)", key="c_context")
        interactive = st.checkbox("Interactive: judges may ask questions", key="c_interactive")
        model = st.text_input("Model that answers questions (spec)", value="local/smollm2-135m", key="c_model")
        penalty = st.number_input("Penalty per question", min_value=0.0, max_value=1.0, value=0.0, step=0.01, key="c_penalty")
        feedback = st.checkbox("Show the correct answer and score after each verdict", key="c_feedback")
        repeat = st.checkbox("Allow questions a judge has judged in another campaign", key="c_repeat")
        st.markdown("**Study design** (optional)")
        conditions = st.text_input(
            "Conditions: NAME=RUN[/PROTOCOL], comma-separated (replaces Runs; counterbalanced over judges)", key="c_conditions"
        )
        one_per_article = st.checkbox("A judge never sees an article twice (by default: never under two conditions)", key="c_one_article")
        widest = st.checkbox("Give the next item to the condition whose interval is widest", key="c_widest")
        paced = st.checkbox("Judge-paced: reveal round by round, a belief after each round", key="c_paced")
        live = st.checkbox("Live: generate each round when the judge asks for it", key="c_live")
        live_model = st.text_input("Model that speaks in live sessions (empty: the run's models)", key="c_live_model")
        min_rounds = st.number_input("Minimum rounds", min_value=1, max_value=50, value=1, key="c_min_rounds")
        max_rounds = st.number_input("Maximum rounds (0: as many as there are)", min_value=0, max_value=50, value=0, key="c_max_rounds")
        round_cost = st.number_input(
            "Cost per round beyond the minimum", min_value=0.0, max_value=1.0, value=0.0, step=0.01, key="c_round_cost"
        )
        opens = st.text_input("Opens at (UTC, YYYY-MM-DD HH:MM; empty: now)", key="c_opens")
        closes = st.text_input("Closes at (UTC; empty: never)", key="c_closes")
        limit = st.number_input("Time limit per item in seconds (0: none)", min_value=0, max_value=86400, value=0, key="c_limit")
        qual_runs = st.multiselect("Qualification: gold items from runs", runs, key="c_qual_runs")
        qual_items = st.number_input("Qualification items per judge", min_value=0, max_value=100, value=0, key="c_qual_items")
        threshold = st.number_input("Pass mark (accuracy)", min_value=0.0, max_value=1.0, value=0.6, step=0.05, key="c_threshold")
        catch_runs = st.multiselect("Catch trials from runs", runs, key="c_catch_runs")
        catch_every = st.number_input(
            "One catch trial after every N items (0: none)", min_value=0, max_value=100, value=0, key="c_catch_every"
        )
        judge_stats = st.checkbox("Judges see their own record", key="c_judge_stats")
        if st.form_submit_button("Create campaign"):
            try:
                try:
                    arms = [ConditionSpec.parse(c) for c in conditions.split(",") if c.strip()]
                except OversightError as exc:
                    raise OversightError(f"condition {exc}") from None
                design = {
                    "one_per_article": one_per_article, "allocation": "widest" if widest else "balanced", "paced": paced, "live": live,
                    "live_model": live_model.strip() or None, "min_rounds": int(min_rounds), "max_rounds": int(max_rounds) or None,
                    "round_cost": float(round_cost), "starts_at": opens.strip() or None, "ends_at": closes.strip() or None,
                    "item_time_limit_s": float(limit) or None, "qualification_items": int(qual_items), "pass_threshold": float(threshold),
                    "catch_every": int(catch_every), "judge_sees_stats": judge_stats,
                }  # fmt: skip
                spec = campaigns.CampaignSpec(
                    name=name.strip(), runs=[] if arms else chosen_runs, protocols=[p.strip() for p in protocols.split(",") if p.strip()],
                    questions=[q.strip() for q in question_ids.split(",") if q.strip()],
                    judges=chosen_judges, judges_per_item=int(per_item), show_context=show_context, interactive=interactive,
                    interactive_model=model.strip() or None, turn_penalty=float(penalty), feedback=feedback, allow_repeat=repeat,
                    conditions=arms, qualification_runs=qual_runs, catch_runs=catch_runs, design=design,
                )  # fmt: skip
                campaigns.create_campaign(engine, spec)
                st.success(f"Created {inert(spec.name, breaks=False)}.")
            except ValidationError as exc:
                st.error(inert(validation_problem(exc), breaks=False))
            except OversightError as exc:
                st.error(inert(str(exc), breaks=False))
    for c in campaigns.all_campaigns(engine):
        st.markdown(f"### {inert(c['name'])}", unsafe_allow_html=True)
        stats = campaigns.progress(engine, c["id"])
        st.dataframe(stats, hide_index=True)
        flagged = [p["judge"] for p in stats if p["flagged"] and not p["excluded"]]
        if flagged:
            st.warning(inert(f"Missed a catch trial: {', '.join(flagged)}", breaks=False))
        with st.form(f"exclude:{c['id']}"):
            who = st.selectbox("Judge", [p["judge"] for p in stats], key=f"ex_who:{c['id']}")
            left, right = st.columns(2)
            exclude = left.form_submit_button("Exclude from results")
            include = right.form_submit_button("Include again")
        if exclude or include:
            changed = campaigns.set_excluded(engine, c["id"], who, excluded=exclude)
            st.success(f"{'Excluded' if exclude else 'Included'} {inert(who, breaks=False)} ({changed} verdicts).")
        rows = campaigns.export_rows(engine, c["id"])
        st.download_button(
            "Download verdicts (JSONL)",
            "".join(json.dumps(r, default=str) + "\n" for r in rows),
            file_name=f"{c['name']}.jsonl",
            key=f"dl:{c['id']}",
        )


def transcripts_page(engine: Any, user: dict[str, Any]) -> None:
    if not require_admin(user):
        return
    from oversight.db.queries import transcript_rows

    st.title("Transcripts")
    rows = transcript_rows(engine)
    if not rows:
        st.info("No transcripts stored yet.")
        return
    runs = sorted({r["run"] for r in rows})
    run = st.selectbox("Run", runs, key="t_run")
    protocols = sorted({r["protocol"] for r in rows if r["run"] == run})
    protocol = st.selectbox("Protocol", protocols, key="t_protocol")
    datasets = sorted({r["dataset"] for r in rows if r["run"] == run and r["protocol"] == protocol})
    dataset = st.selectbox("Dataset", datasets, key="t_dataset")
    judge_names = sorted({j["judge"] for r in rows for j in r["judgments"]})
    judge = st.selectbox("Judge", ["any", *judge_names], key="t_judge")
    outcome = st.selectbox("Judge was", ["any", "right", "wrong"], key="t_outcome")
    shown = [r for r in rows if r["run"] == run and r["protocol"] == protocol and r["dataset"] == dataset]
    if judge != "any":
        shown = [r for r in shown if any(j["judge"] == judge for j in r["judgments"])]
    if outcome != "any":
        want = outcome == "right"
        shown = [r for r in shown if any(j["correct"] is want and (judge == "any" or j["judge"] == judge) for j in r["judgments"])]
    st.caption(f"{len(shown)} transcript(s)")
    for r in shown[:50]:
        options = r["options"]
        with st.expander(inert(f"{r['question_id']}: {r['question']}", breaks=False)):
            st.markdown(
                f"**A:** {inert(options[r['option_a']])}<br>**B:** {inert(options[r['option_b']])}<br>**Correct:** {inert(r['correct'])}",
                unsafe_allow_html=True,
            )
            for turn in r["turns"]:
                # the same marking judges saw: the stored quote checks, never tags found in the text
                marked = mark_quotes(turn["text"], [QuoteCheck.model_validate(q) for q in turn["quotes"]])
                who = inert(f"{turn['role']} ({turn['model'] or 'human'}, round {turn['round']})")
                st.markdown(f"**{who}:** {speech_html(marked)}", unsafe_allow_html=True)
            st.dataframe(r["judgments"], hide_index=True)


def leaderboard_page(engine: Any, user: dict[str, Any]) -> None:
    if not require_admin(user):
        return
    import pandas as pd

    from oversight.charts import accuracy_chart, judge_kind_chart, reliability_chart
    from oversight.db.queries import judgment_rows
    from oversight.db.w2s import w2s_rows
    from oversight.metrics.leaderboard import stored_leaderboard
    from oversight.metrics.pgr import pgr_table
    from oversight.metrics.tables import human_agreement_table

    st.title("Leaderboard")
    rows = judgment_rows(engine)
    board = stored_leaderboard(engine)
    pgr = pgr_table(w2s_rows(engine))
    if not board and not pgr:
        st.info("No judgments or weak-to-strong runs stored yet.")
        return
    if board:
        st.dataframe(pd.DataFrame(board), hide_index=True)
        for chart in (accuracy_chart(board), judge_kind_chart(rows), reliability_chart(rows)):
            if chart is not None:
                st.altair_chart(chart, width="stretch")
    if any(r.get("players") for r in rows):
        tournament_section(rows)
    rounds_section(engine)
    axes_section(rows)
    among_humans = human_agreement_table(rows, n_resamples=300)
    if among_humans:
        st.subheader("Agreement among human judges")
        st.caption(
            "Fleiss' κ and Krippendorff's α (nominal) over transcripts that two or more human judges saw; 95% CIs resample articles."
        )
        st.dataframe(pd.DataFrame(among_humans), hide_index=True)
    if pgr:
        st.subheader("Weak-to-strong: performance gap recovered")
        st.caption(
            "PGR = (student − weak) / (ceiling − weak); mean and 95% interval over seeds. Seeds whose gap is under 2 points are withheld."
        )
        st.dataframe(pd.DataFrame(pgr), hide_index=True)


def rounds_section(engine: Any) -> None:
    """Accuracy and calibration by round (model re-judging and human beliefs in judge-paced campaigns), and where
    judge-paced verdicts stopped."""
    import pandas as pd

    from oversight.charts import rounds_chart
    from oversight.db.queries import judgment_rows
    from oversight.metrics.rounds import round_table, stopping_table

    by_round = round_table(judgment_rows(engine, cuts=True), n_resamples=300)
    if by_round:
        st.subheader("Accuracy and calibration by round")
        st.caption("Model judges on transcripts cut after each round; human judges' beliefs after each round of a judge-paced campaign.")
        st.dataframe(pd.DataFrame(by_round), hide_index=True)
        chart = rounds_chart(by_round)
        if chart is not None:
            st.altair_chart(chart, width="stretch")
    stops = stopping_table(judgment_rows(engine))
    if stops:
        st.subheader("Judge-paced campaigns: the round judges stopped after")
        st.dataframe(pd.DataFrame(stops), hide_index=True)


def axes_section(rows: list[dict[str, Any]]) -> None:
    """Style-controlled debater ratings, and every judge (humans per judge and pooled, models) on one capability axis."""
    import pandas as pd

    from oversight.charts import capability_chart
    from oversight.metrics.capability import capability_table
    from oversight.metrics.style import style_elo

    styled = style_elo(rows, n_resamples=300)
    if styled["ratings"]:
        st.subheader("Debater Elo, raw and style-controlled")
        st.caption(
            "Length, number of quotes, share of verified quotes and screen position fitted with the strengths; 95% CIs resample articles."
        )
        st.dataframe(pd.DataFrame(styled["ratings"]), hide_index=True)
        st.dataframe(pd.DataFrame(styled["coefficients"]), hide_index=True)
    capability = capability_table(rows, n_resamples=300)
    if capability:
        st.subheader("One capability axis: humans and models")
        chart = capability_chart(capability)
        if chart is not None:
            st.altair_chart(chart, width="content")
        st.dataframe(pd.DataFrame(capability), hide_index=True)


def tournament_section(rows: list[dict[str, Any]]) -> None:
    """Studies' players: Elo from one judge's verdicts, and judge accuracy against debater Elo (Khan et al. 2024)."""
    import pandas as pd

    from oversight.charts import elo_chart
    from oversight.metrics.elo import tournament_figure

    st.subheader("Debater tournaments: players' Elo and judge accuracy against it")
    judges = sorted({r["judge"] for r in rows if r.get("players") and r["judge_kind"] == "model"})
    if not judges:
        return
    judge = st.selectbox("Ratings from the verdicts of", judges, key="elo_judge")
    table, points, slopes = tournament_figure(rows, judge, n_resamples=300)
    if not table:
        st.info("No debates between two different players judged by this judge yet.")
        return
    st.dataframe(pd.DataFrame(table), hide_index=True)
    chart = elo_chart(points)
    if chart is not None:
        st.altair_chart(chart, width="stretch")
    for protocol, trend in slopes.items():
        if trend["slope_per_100"] is not None:
            ci = f" (95% CI {trend['ci_low']:+.3f} to {trend['ci_high']:+.3f})" if trend["ci_low"] is not None else ""
            st.caption(f"{protocol}: {trend['slope_per_100']:+.3f} accuracy per 100 Elo{ci}")


PAGES = {
    "judge": {"Judge": judge_page},
    "admin": {
        "Judge": judge_page,
        "Campaigns": campaigns_page,
        "Users": users_page,
        "Transcripts": transcripts_page,
        "Leaderboard": leaderboard_page,
    },
}


def main() -> None:
    st.set_page_config(page_title="Oversight", layout="wide")
    engine = engine_for(db_url())
    user = current_user(engine)
    if user is None:
        login_page(engine)
        return
    pages = PAGES["admin" if user["role"] == "admin" else "judge"]
    with st.sidebar:
        st.markdown(f"Logged in as **{inert(user['name'])}** ({inert(user['role'])})", unsafe_allow_html=True)
        # the address may name the first page (a bookmark); from then on the menu decides, and the address follows it
        if "page" not in st.session_state:
            wanted = st.query_params.get("page")
            st.session_state["page"] = wanted if wanted in pages else "Judge"
        page = st.radio("Page", list(pages), key="page")
        st.query_params["page"] = page
        if st.button("Log out", key="logout"):
            logout(engine)
            st.rerun()
    # the role check inside each admin page is the real guard; the menu only offers what this role may open
    pages.get(page, judge_page)(engine, user)


main()
