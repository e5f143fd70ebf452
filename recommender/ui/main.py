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
    fx = state.facts()
    ss = st.session_state
    if state.PERSON_KEY not in ss:  # a link may name the person
        wanted = st.query_params.get("person")
        ss[state.PERSON_KEY] = wanted if wanted in fx.index else None
    with st.sidebar:
        person_picker("Person", state.PERSON_KEY, SEARCH_KEY,
                      help="Whose network to explore; type to search by name or id.")
        n = len(ss.get(state.OUTREACH_KEY, []))
        if n:
            st.caption(f"Outreach list: {n} {'person' if n == 1 else 'people'}")


def render() -> None:
    st.set_page_config(page_title="fracnet explorer", page_icon="🤝", layout="wide")
    st.html(_CSS)  # static styling only; never user data
    state.init_session()
    pages = _pages()
    _sidebar()
    nav = st.navigation(list(pages.values()))
    goto = st.session_state.pop(GOTO_KEY, None)
    if goto in pages:
        st.switch_page(pages[goto])
    with st.sidebar:
        store = state.get_store()
        st.caption("Database: " + views.md_escape(store.path))
    nav.run()


if __name__ == "__main__":  # `streamlit run recommender/ui/main.py` (an installed copy without app.py)
    render()
