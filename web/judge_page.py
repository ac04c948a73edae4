"""The judge's page: the next blinded item, its speeches and quotes, questions to debaters, round-by-round beliefs
and the verdict form.

It renders only a `JudgeView` (see `oversight.human.verdicts`), so nothing a judge must not see reaches the browser.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import streamlit as st

from oversight.errors import OversightError
from oversight.human import campaigns, items, verdicts
from oversight.web.render import inert, speech_html


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
    item_id = items.next_item(engine, campaign_id, user["id"])
    if item_id is None:
        st.info("Nothing left to judge in this campaign. Thank you!")
        return
    try:
        with st.spinner("Preparing the first round…"):
            verdicts.first_round(engine, item_id, user["id"])
    except OversightError as exc:
        st.error(inert(f"The first round could not be prepared: {exc}", breaks=False))
        return
    view = items.judge_view(engine, item_id, user["id"])
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


def paced_panel(engine: Any, user: dict[str, Any], view: items.JudgeView, started: float, exchanges: list[dict[str, str]]) -> None:
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


def quotes_panel(quotes: list[items.QuoteInStory]) -> None:
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


def interactive_panel(engine: Any, user: dict[str, Any], view: items.JudgeView, exchanges: list[dict[str, str]]) -> None:
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
