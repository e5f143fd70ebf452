"""Outreach list: the saved pipeline (the database's, as ``fracnet outreach``), editable; CSV/XLSX/ICS downloads."""

from __future__ import annotations

import streamlit as st

from recommender.ui import practice, state


def render() -> None:
    st.title("Outreach list")
    pid = state.require_person()
    st.caption("Saved in the database: edit the status, follow-up date and note in the table, tick **remove** to "
               "drop someone. Conversations, not pitches. The same list as `fracnet outreach list`.")
    err = st.session_state.pop("_pipeline_error", None)
    if err:
        st.error(err)
    practice.pipeline_editor(pid)
    practice.pipeline_downloads(pid)


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
