"""The explorer's frame: page config, the sidebar (database, person picker) and navigation.

Each page lives in its own module (``recommender.ui.pages.<page>``) with a
``render()`` that only lays out what :mod:`recommender.ui.views` and the
library return; st.navigation runs those modules as its page scripts.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from recommender.ui import state, views
from recommender.ui.picker import person_picker

PAGES_DIR = Path(__file__).resolve().parent / "pages"
#: (file, title, icon) in menu order.
PAGES = (
    ("overview.py", "Overview", ":material/dashboard:"),
    ("person.py", "Person", ":material/person:"),
    ("network.py", "Network", ":material/hub:"),
    ("refer.py", "Refer an opportunity", ":material/call_split:"),
    ("outreach.py", "Outreach list", ":material/checklist:"),
    ("insights.py", "Insights", ":material/insights:"),
    ("data.py", "Data", ":material/database:"),
)
GOTO_KEY = "_goto_page"

_CSS = """
<style>
div[data-testid="stMetricValue"] { font-size: 1.6rem; }
.block-container { padding-top: 2.2rem; }
</style>
"""


#: The sidebar's search box (:func:`recommender.ui.picker.person_picker`).
SEARCH_KEY = "person_search"


def _pages() -> dict[str, st.Page]:
    return {file: st.Page(PAGES_DIR / file, title=title, icon=icon, default=(i == 0),
                          url_path=file.removesuffix(".py"))
            for i, (file, title, icon) in enumerate(PAGES)}


def go_to(file: str, person: str | None = None) -> None:
    """For callbacks: choose a person and open a page on the next run."""
    if person is not None:
        st.session_state[state.PERSON_KEY] = person
    st.session_state[GOTO_KEY] = file


def _sidebar() -> None:
    from recommender.ui import practice

    fx = state.facts()
    ss = st.session_state
    if state.PERSON_KEY not in ss:  # a link may name the person (?person=ID); else the explorer opens on me
        ss[state.PERSON_KEY] = practice.initial_person(fx.index)
    if practice.PENDING_PERSON in ss:  # e.g. my new profile: chosen before the picker is drawn
        wanted = ss.pop(practice.PENDING_PERSON)
        ss[state.PERSON_KEY] = wanted if wanted in fx.index else ss.get(state.PERSON_KEY)
    with st.sidebar:
        person_picker("Person", state.PERSON_KEY, SEARCH_KEY,
                      help="Whose network to explore; type to search by name or id.")
        mine = practice.me()
        st.caption("Me: " + (views.person_label(fx, mine) if mine in fx.index else
                             "not set (create your profile on the Overview page)"))
        pid = ss.get(state.PERSON_KEY)
        n = len(practice.pipeline.list_items(practice.store(), owner=pid)) if pid in fx.index else 0
        if n:
            st.caption(f"Outreach list: {n} {'person' if n == 1 else 'people'}")


def render(starting=None) -> None:
    """One run of the explorer; ``starting`` is the placeholder holding the first run's message, if any."""
    st.html(_CSS)  # static styling only; never user data
    from recommender.ui import auth

    auth.gate()  # local unless protected: stops here unless the viewer may see the explorer
    state.init_session()
    state.get_store()  # on first use: the sample database created and its model fitted
    state.facts()
    if starting is not None:  # the process's first run: what the pages share, under the message
        state.warm()
        starting.empty()
    pages = _pages()
    _sidebar()
    nav = st.navigation(list(pages.values()))
    goto = st.session_state.pop(GOTO_KEY, None)
    if goto in pages:
        st.switch_page(pages[goto])
    from recommender.ui import practice

    current = next((f.removesuffix(".py") for f, p in pages.items() if p is nav), None)
    linked = practice.wanted_page(pages)  # a bookmark or shared link: ?page=outreach
    if linked is not None and linked is not nav:
        st.switch_page(linked)
    practice.write_url(state.current_person(), current)
    with st.sidebar:
        store = state.get_store()
        st.caption("Database: " + views.md_escape(store.path))
    nav.run()


if __name__ == "__main__":  # `streamlit run recommender/ui/main.py` (an installed copy without app.py)
    from recommender.ui import start

    render(start.begin())
    start.done()
