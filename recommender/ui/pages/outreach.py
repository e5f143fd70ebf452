"""Outreach list: the people collected from recommendations, grouped, with notes; CSV/XLSX downloads."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from recommender.outreach import GROUP_ORDER, outreach_csv_bytes, outreach_xlsx_bytes
from recommender.ui import state, views

SHOWN = ["name", "company", "title", "why", "introducer", "note", "remove"]


def _clear() -> None:
    st.session_state[state.OUTREACH_KEY] = []
    for g in GROUP_ORDER:
        st.session_state.pop(f"outreach_{g}", None)


def render() -> None:
    st.title("Outreach list")
    rows = st.session_state.setdefault(state.OUTREACH_KEY, [])
    fx = state.facts()
    opted_out = set(fx.index[fx["opt_out"]])
    rows[:] = [r for r in rows if r["person_id"] not in opted_out]
    if not rows:
        st.info("Your outreach list is empty. On the **Person** page, press **Add to outreach** on a recommendation.")
        st.stop()
    st.caption(f"{len(rows)} {'person' if len(rows) == 1 else 'people'} to contact. Write notes as you go; tick **remove** to drop someone. "
               "Conversations, not pitches.")
    removed = False
    for group in GROUP_ORDER:
        mine = [r for r in rows if r["group"] == group]
        if not mine:
            continue
        st.subheader(f"{views.GROUP_LABELS[group]} ({len(mine)})")
        df = pd.DataFrame(mine)
        df["remove"] = False
        edited = st.data_editor(
            df[SHOWN], key=f"outreach_{group}", hide_index=True, width="stretch",
            disabled=[c for c in SHOWN if c not in ("note", "remove")],
            column_config={"why": st.column_config.TextColumn("why", width="large"),
                           "note": st.column_config.TextColumn("note", help="Your own note (kept in the export)"),
                           "remove": st.column_config.CheckboxColumn("remove", width="small")})
        for r, note, rm in zip(mine, edited["note"], edited["remove"]):
            r["note"] = note or ""
            if rm:
                r["_remove"] = True
                removed = True
        with st.expander("Draft notes"):
            for r in mine:
                st.caption(views.md_escape(r["name"]))
                st.code(r["draft_note"], language=None, wrap_lines=True)
    if removed:
        rows[:] = [r for r in rows if not r.get("_remove")]
        for g in GROUP_ORDER:
            st.session_state.pop(f"outreach_{g}", None)
        st.rerun()
    stamp = date.today().isoformat()
    a, b, c, _ = st.columns([1, 1, 1, 3])
    a.download_button("Download CSV", data=outreach_csv_bytes(rows, opted_out=opted_out),
                      file_name=f"outreach-{stamp}.csv", mime="text/csv", key="outreach_csv", type="primary",
                      icon=":material/download:")
    b.download_button("Download XLSX", data=outreach_xlsx_bytes(rows, opted_out=opted_out),
                      file_name=f"outreach-{stamp}.xlsx", key="outreach_xlsx", icon=":material/table:",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    c.button("Clear the list", key="outreach_clear", on_click=_clear)


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
