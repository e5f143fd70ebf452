"""The explorer's entry page: it only lays out and renders; the library does the work."""

from __future__ import annotations

import os

import streamlit as st

from recommender.graph import load_network, network_stats
from recommender.store import Store, default_db_path, open_default_store


@st.cache_resource(show_spinner="Opening the network…")
def _store(path: str | None):
    return Store(path) if path else open_default_store()


def render() -> None:
    st.set_page_config(page_title="fracnet", page_icon="🤝", layout="wide")
    st.title("fracnet")
    st.caption("Who should I meet next, and who do I refer this opportunity to?")
    db = os.environ.get("FRACNET_DB")
    store = _store(db)
    stats = network_stats(load_network(store))
    st.sidebar.write(f"Database: `{store.path if db else default_db_path()}`")
    cols = st.columns(4)
    cols[0].metric("People", f"{stats['people']:,}")
    cols[1].metric("Ties", f"{stats['edges']['ties']:,}")
    cols[2].metric("Opportunities", f"{stats['opportunities']:,}")
    cols[3].metric("Largest component", f"{stats['largest_component']:,}")
    st.subheader("Fractionals by function")
    st.bar_chart(stats["by_function"])
