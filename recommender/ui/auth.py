"""Sign-in for the explorer: local unless protected.

* No users file (``$FRACNET_AUTH_CONFIG`` unset) and served on this machine
  only (``127.0.0.1``, as ``fracnet app`` does by default): no sign-in; the
  machine's user is the admin.
* Served on any other address without a users file: the explorer refuses to
  show anything (``streamlit run app.py`` binds every interface by default).
* With a users file: ``streamlit-authenticator``'s login form (bcrypt-hashed
  passwords, a signed re-authentication cookie). The signed-in user's
  ``person`` is their "me" in the database (the sidebar starts on it);
  only admins may import data or download a backup.
"""

from __future__ import annotations

import copy
import os

import streamlit as st

from recommender.users import AUTH_ENV, Users, is_loopback, load_users

USER_KEY = "_fracnet_user"


def users() -> Users | None:
    path = os.environ.get(AUTH_ENV)
    return load_users(path) if path else None


def served_beyond_this_machine() -> bool:
    """True when a browser on another machine could reach this explorer."""
    try:
        from streamlit.runtime import Runtime

        if not isinstance(Runtime.instance(), Runtime):  # a test harness: no server at all
            return False
    except (ImportError, RuntimeError):
        return False
    return not is_loopback(str(st.get_option("server.address") or ""))


def gate() -> str | None:
    """Stop the page unless the viewer may see it; the signed-in user name (None: local use, no sign-in)."""
    cfg = users()
    if cfg is None:
        if served_beyond_this_machine():
            st.error("This explorer is served beyond this machine without sign-in, so it shows nothing. "
                     "Start it with `fracnet app` (this machine only), or create users with "
                     "`fracnet users add NAME --person ID --admin` and run "
                     "`fracnet app --address 0.0.0.0 --auth ~/.fracnet/users.yaml`.")
            st.stop()
        st.session_state[USER_KEY] = None
        return None
    import streamlit_authenticator as stauth

    cookie = cfg.config["cookie"]
    authenticator = stauth.Authenticate(copy.deepcopy(cfg.config["credentials"]), cookie["name"], cookie["key"],
                                        float(cookie.get("expiry_days", 7)), auto_hash=False)
    try:
        authenticator.login(location="main", max_login_attempts=10,
                            fields={"Form name": "Sign in to fracnet", "Login": "Sign in"})
    except stauth.LoginError as exc:
        st.error(str(exc))
    status = st.session_state.get("authentication_status")
    if status is False:
        st.error("Wrong user name or password.")
    if not status:
        st.stop()
    username = st.session_state.get("username")
    if st.session_state.get(USER_KEY) != username:  # just signed in: start on their own person
        st.session_state[USER_KEY] = username
        me = cfg.person(username)
        if me:
            from recommender.ui import state

            st.session_state[state.PERSON_KEY] = me
    with st.sidebar:
        st.caption(f"Signed in as {username}" + (" (admin)" if cfg.is_admin(username) else ""))
        authenticator.logout("Sign out", location="sidebar", key="fracnet_logout")
    return username


def is_admin() -> bool:
    """May the viewer import data and download backups? (Local use: yes.)"""
    cfg = users()
    if cfg is None:
        return True
    return cfg.is_admin(st.session_state.get(USER_KEY))
