"""Admin pages: users, campaigns (create, follow, exclude judges, download verdicts) and the transcript browser.

Each page checks the role of the logged-in user before it reads anything.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st
from pydantic import ValidationError

from oversight.errors import OversightError, validation_problem
from oversight.human import accounts, campaigns
from oversight.human.design import ConditionSpec
from oversight.quotes import QuoteCheck, mark_quotes
from oversight.web.render import inert, speech_html
from oversight.web.session import require_admin


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
