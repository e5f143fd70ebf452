"""Insights: the go-giver ledger, referral outcomes over time, brokers, communities, group coverage."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from recommender.ledger import referral_ledger
from recommender.ui import state, views
from recommender.ui.pages.network import FUNCTION_COLOURS
from recommender.ui.views import md_escape
from recommender.words import plural

OUTCOME_COLOURS = {"pending": "#bab0ac", "accepted": "#72b7b2", "declined": "#e45756", "won": "#54a24b",
                   "lost": "#f58518"}


def _ledger(pid: str) -> None:
    st.subheader("Go-giver ledger")
    led = referral_ledger(state.person_network(pid), pid)
    b = led["balance"]
    c = st.columns(3)
    c[0].metric("Referrals given", b["given"])
    c[1].metric("Referrals received", b["received"])
    c[2].metric("Balance (given - received)", f"{b['net']:+d}")
    if not led["peers"]:
        st.info("No referrals given or received yet: the ledger starts with the first one.")
        return
    peers = pd.DataFrame(led["peers"]).head(15)
    long = peers.melt(id_vars=["id", "name"], value_vars=["given", "received"], var_name="direction",
                      value_name="referrals")
    chart = alt.Chart(long).mark_bar().encode(
        y=alt.Y("name:N", sort=list(peers["name"]), title=None),
        x=alt.X("referrals:Q", title="referrals", axis=alt.Axis(tickMinStep=1)),
        yOffset="direction:N",
        color=alt.Color("direction:N", scale=alt.Scale(domain=["given", "received"], range=["#4c78a8", "#f58518"])),
        tooltip=["name:N", "direction:N", "referrals:Q"]).properties(height=max(160, 34 * len(peers)))
    st.altair_chart(chart, width="stretch")


def _outcomes(pid: str) -> None:
    st.subheader("Referral outcomes over time")
    scope = st.radio("Scope", ["whole network", "this person"], key="insights_scope", horizontal=True)
    df = views.outcomes_over_time(state.network(), pid if scope == "this person" else None)
    if not len(df):
        st.info("No referrals in this scope yet.")
        return
    chart = alt.Chart(df).mark_bar().encode(
        x=alt.X("period:O", title=None), y=alt.Y("referrals:Q", stack=True),
        color=alt.Color("outcome:N", scale=alt.Scale(domain=list(OUTCOME_COLOURS), range=list(OUTCOME_COLOURS.values()))),
        order=alt.Order("outcome:N"), tooltip=["period", "outcome", "referrals"]).properties(height=280)
    st.altair_chart(chart, width="stretch")


def _broker_chart(df, pid: str):
    df = df.assign(you=df["id"] == pid)
    present = set(df["function"])
    return alt.Chart(df).mark_bar().encode(
        y=alt.Y("name:N", sort="-x", title=None), x=alt.X("betweenness:Q"),
        color=alt.Color("function:N", title="function",
                        scale=alt.Scale(domain=[f for f in FUNCTION_COLOURS if f in present],
                                        range=[c for f, c in FUNCTION_COLOURS.items() if f in present])),
        tooltip=["name:N", "function:N", "betweenness:Q", "ties:Q"]).properties(height=34 * len(df))


def _whole(what: str):
    """The whole-network insights, or None with a note saying why they are not shown yet."""
    try:
        res = state.network_insights()
    except RuntimeError as exc:
        st.warning(md_escape(f"The whole network's {what} could not be computed: {exc}"))
        return None
    if res is None:
        st.info(f"The whole network's {what} are being computed in the background (once per change of the "
                "network; cached on disk beside the model). They show here on the next view.")
    return res


def _brokers(pid: str, local: dict) -> None:
    st.subheader("Brokers")
    around, whole = st.tabs(["Around this person", "Whole network"])
    with around:
        st.caption(md_escape(
            f"Who bridges this person's neighbourhood: betweenness along the strongest trust paths among the "
            f"{plural(local['people'], 'person', 'people')} closest within two ties ({plural(local['ties'], 'tie')}), "
            f"sampled from {plural(local['pivots'], 'pivot')}."))
        if not len(local["brokers"]):
            st.info("No ties yet.")
        else:
            st.altair_chart(_broker_chart(local["brokers"], pid), width="stretch", key="insights_brokers_local")
    with whole:
        res = _whole("brokers")
        if res is not None:
            st.caption(f"Betweenness along the strongest trust paths in the whole network "
                       f"({res['people']:,} people, {res['ties']:,} ties), sampled from {res['pivots']:,} pivots.")
            if res["brokers"]:
                st.altair_chart(_broker_chart(pd.DataFrame(res["brokers"]), pid), width="stretch",
                                key="insights_brokers_network")
            else:
                st.info("No ties yet.")


def _communities(pid: str, local: dict) -> None:
    st.subheader("Communities")
    fx = state.facts()
    name = fx.at[pid, "name"]
    res = _whole("communities")
    if res is not None:
        mine = state.network_community_of().get(pid)
        if mine is not None:
            size = res["community_sizes"][mine] if "community_sizes" in res else None
            st.caption(md_escape(f"{name} is in community C{mine + 1}" + (f" ({plural(size, 'person', 'people')})" if size else "")
                                 + f". {len(set(res['community']))} communities in all (Louvain on trust, whole network)."))
        st.dataframe(pd.DataFrame(res["table"]), hide_index=True, width="stretch", key="insights_communities")
    labels = local["labels"]
    if pid in labels:
        mine = labels[pid]
        st.caption(md_escape(f"Around {name}: {len(set(labels.values()))} communities among the "
                             f"{plural(local['people'], 'person', 'people')} closest within two ties "
                             f"(Louvain on that neighbourhood); {name}'s has "
                             f"{plural(sum(1 for v in labels.values() if v == mine), 'person', 'people')}."))
        st.dataframe(local["table"], hide_index=True, width="stretch", key="insights_communities_local")


def _coverage(pid: str) -> None:
    st.subheader("Your three groups against the starter target")
    cov = views.coverage(state.network(), state.facts(), pid, state.person_rows("ties", pid))
    lo, hi = views.TARGET
    band = alt.Chart(pd.DataFrame({"lo": [lo], "hi": [hi]})).mark_rect(opacity=0.15, color="#54a24b").encode(
        x="lo:Q", x2="hi:Q")
    bars = alt.Chart(cov).mark_bar(height=26).encode(
        y=alt.Y("label:N", sort=list(cov["label"]), title=None), x=alt.X("ties:Q", title="ties"),
        color=alt.Color("status:N", scale=alt.Scale(domain=["below target", "on target", "above target"],
                                                    range=["#f58518", "#54a24b", "#4c78a8"])),
        tooltip=["label:N", "ties:Q", "status:N", "to_go:Q"])
    st.altair_chart((band + bars).properties(height=150), width="stretch")
    gaps = [f"{r.label}: {r.to_go} to go" for r in cov.itertuples() if r.to_go]
    st.caption(f"Target: {lo}-{hi} people per group. " + ("; ".join(gaps) + "." if gaps else "Every group is on target.")
               + " The Person page suggests whom to meet next in each.")


def render() -> None:
    pid = state.require_person()
    st.title("Insights")
    st.caption("For " + md_escape(views.person_label(state.facts(), pid)) + " and the network around them.")
    a, b = st.columns(2)
    with a:
        _coverage(pid)
        _ledger(pid)
    local = state.local_insights(pid)
    with b:
        _outcomes(pid)
        _brokers(pid, local)
    _communities(pid, local)


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
