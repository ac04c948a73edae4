"""Who is using the judge app: the database it serves, log-in, sessions that survive a reload, log-out and the admin check.

A session lives in the browser's Streamlit state and, for reloads, as a token in the address that the server checks
against the stored session; it ends after `OVERSIGHT_SESSION_MINUTES` or as soon as the account is disabled.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import streamlit as st

from oversight.db import connect
from oversight.human import accounts, logins
from oversight.web.render import inert

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


def require_admin(user: dict[str, Any]) -> bool:
    if user["role"] != "admin":
        st.error("This page is for admins.")
        return False
    return True
