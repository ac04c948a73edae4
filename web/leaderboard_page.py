"""The admin leaderboard: accuracy by protocol, tournaments, rounds, style-controlled Elo, one capability axis,
agreement among human judges and weak-to-strong PGR, each table with its few-articles warning.

Metrics and charts are imported when the page opens, so the judges' pages never pay for pandas, scipy or Altair.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from oversight.web.session import require_admin


def leaderboard_page(engine: Any, user: dict[str, Any]) -> None:
    if not require_admin(user):
        return
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
        metric_frame(board)
        for chart in (accuracy_chart(board), judge_kind_chart(rows), reliability_chart(rows)):
            if chart is not None:
                st.altair_chart(chart, width="stretch")
    if any(r.get("players") for r in rows):
        tournament_section(rows)
    rounds_section(engine)
    axes_section(rows)
    among_humans = human_agreement_table(rows)
    if among_humans:
        st.subheader("Agreement among human judges")
        st.caption(
            "Fleiss' κ and Krippendorff's α (nominal) over transcripts that two or more human judges saw; 95% CIs: delete-one-article jackknife."
        )
        metric_frame(among_humans)
    if pgr:
        st.subheader("Weak-to-strong: performance gap recovered")
        st.caption(
            "PGR = (student − weak) / (ceiling − weak) of the gaps pooled over seeds; Fieller's 95% interval over test questions' "
            "articles and seeds (unbounded when the ceiling does not clearly beat the weak floor)."
        )
        metric_frame(pgr)


def metric_frame(rows: list[dict[str, Any]]) -> None:
    """A metric table, with the warning that some of its intervals rest on too few articles to be trusted."""
    import pandas as pd

    from oversight.metrics.intervals import few_articles_warning

    st.dataframe(pd.DataFrame(rows), hide_index=True)
    warning = few_articles_warning(rows)
    if warning:
        st.warning(warning)


def rounds_section(engine: Any) -> None:
    """Accuracy and calibration by round (model re-judging and human beliefs in judge-paced campaigns), and where
    judge-paced verdicts stopped."""
    import pandas as pd

    from oversight.charts import rounds_chart
    from oversight.db.queries import judgment_rows
    from oversight.metrics.rounds import round_table, stopping_table

    by_round = round_table(judgment_rows(engine, cuts=True))
    if by_round:
        st.subheader("Accuracy and calibration by round")
        st.caption("Model judges on transcripts cut after each round; human judges' beliefs after each round of a judge-paced campaign.")
        metric_frame(by_round)
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

    styled = style_elo(rows)
    if styled["ratings"]:
        st.subheader("Debater Elo, raw and style-controlled")
        st.caption(
            "Length, number of quotes, share of verified quotes and screen position fitted with the strengths; 95% CIs: delete-one-article jackknife."
        )
        metric_frame(styled["ratings"])
        st.dataframe(pd.DataFrame(styled["coefficients"]), hide_index=True)
    capability = capability_table(rows)
    if capability:
        st.subheader("One capability axis: humans and models")
        chart = capability_chart(capability)
        if chart is not None:
            st.altair_chart(chart, width="content")
        metric_frame(capability)


def tournament_section(rows: list[dict[str, Any]]) -> None:
    """Studies' players: Elo from one judge's verdicts, and judge accuracy against debater Elo (Khan et al. 2024)."""
    from oversight.charts import elo_chart
    from oversight.metrics.elo import tournament_figure

    st.subheader("Debater tournaments: players' Elo and judge accuracy against it")
    judges = sorted({r["judge"] for r in rows if r.get("players") and r["judge_kind"] == "model"})
    if not judges:
        return
    judge = st.selectbox("Ratings from the verdicts of", judges, key="elo_judge")
    table, points, slopes = tournament_figure(rows, judge)
    if not table:
        st.info("No debates between two different players judged by this judge yet.")
        return
    metric_frame(table)
    chart = elo_chart(points)
    if chart is not None:
        st.altair_chart(chart, width="stretch")
    for protocol, trend in slopes.items():
        if trend["slope_per_100"] is not None:
            ci = f" (95% CI {trend['ci_low']:+.3f} to {trend['ci_high']:+.3f})" if trend["ci_low"] is not None else ""
            st.caption(f"{protocol}: {trend['slope_per_100']:+.3f} accuracy per 100 Elo{ci}")
