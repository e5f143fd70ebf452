"""Overview: the network in numbers, and where to start."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from recommender.network import network_stats
from recommender.ui import state, views
from recommender.words import plural


@st.cache_data(show_spinner=False, max_entries=4)
def _stats(path: str, ver: tuple) -> dict:
    return network_stats(state.network())


def _home() -> None:
    """The home view for me: this week and give first; or create my profile when me is not set."""
    from recommender.ui import practice

    mine = practice.me()
    pid = state.current_person()
    if mine is None:
        with st.expander("New here? Create your profile (or pick yourself in the sidebar and press "
                         "**This is me** on the Person page)", icon=":material/person_add:"):
            practice.profile_form(None)
        return
    if pid == mine:
        week, give = st.tabs(["This week", "Give first"])
        with week:
            practice.week_view(mine)
        with give:
            practice.connect_view(mine)
        st.divider()


def render() -> None:
    st.title("fracnet")
    st.caption("Who should I meet next, and who do I refer this opportunity to?")
    _home()
    stats = _stats(state.db_path(), state.version())
    cols = st.columns(5)
    cols[0].metric("People", f"{stats['people']:,}")
    cols[1].metric("Ties", f"{stats['edges']['ties']:,}")
    cols[2].metric("Introductions", f"{stats['edges']['introductions']:,}")
    cols[3].metric("Referrals", f"{stats['edges']['referrals']:,}")
    cols[4].metric("Opportunities", f"{stats['opportunities']:,}")

    left, right = st.columns([3, 2])
    with left:
        st.subheader("Fractionals by function")
        df = pd.DataFrame({"function": list(stats["by_function"]), "people": list(stats["by_function"].values())})
        chart = alt.Chart(df).mark_bar(cornerRadiusEnd=3).encode(
            x=alt.X("people:Q", title="people"), y=alt.Y("function:N", sort="-x", title=None),
            color=alt.Color("function:N", legend=None), tooltip=["function", "people"])
        st.altair_chart(chart, width="stretch")
    with right:
        st.subheader("Start here")
        pid = state.current_person()
        if pid is None:
            st.info("Choose a person in the sidebar: their profile, who to meet next and where to refer work.")
        else:
            fx = state.facts()
            st.write("Exploring as")
            st.text(views.person_label(fx, pid))
        st.markdown(
            "- **Person**: profile, ties, history, and who to meet next in the three groups\n"
            "- **Network**: the map around a person, 1-2 hops\n"
            "- **Refer an opportunity**: lane check, 2-3 picks, a draft introduction, log it\n"
            "- **Outreach list**: your saved pipeline: status, follow-up, note; CSV, XLSX, calendar\n"
            "- **Insights**: go-giver ledger, outcomes, brokers, communities, group coverage\n"
            "- **Data**: import CSVs or a LinkedIn export; download a backup")
        st.caption(f"{plural(stats['people'], 'person', 'people')} in {plural(stats['components'], 'component')}; the largest has "
                   f"{stats['largest_component']:,}. {stats['opted_out']} opted out (never recommended or exported).")


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
