"""The Oversight judge app: `oversight web` serves it with Streamlit.

Judges log in and judge campaign items; admins manage users and campaigns, follow progress,
browse transcripts and read the leaderboard. Blinding is enforced on the server: judge pages
render only a `JudgeView` (see `oversight.human.verdicts`), and every admin page checks the role of
the logged-in user before it reads anything. Each page lives in a module of its own; this script
only finds the user and routes.
"""

from __future__ import annotations

import streamlit as st

from oversight.web.admin_pages import campaigns_page, transcripts_page, users_page
from oversight.web.judge_page import judge_page
from oversight.web.leaderboard_page import leaderboard_page
from oversight.web.render import inert
from oversight.web.session import current_user, db_url, engine_for, login_page, logout

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
