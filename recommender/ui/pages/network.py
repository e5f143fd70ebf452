"""Network: the map around the chosen person (1-2 hops, capped), filters, and the selected node."""

from __future__ import annotations

import altair as alt
import streamlit as st

from recommender.meet.text import label
from recommender.taxonomy import load_taxonomy
from recommender.ui import state, views
from recommender.ui.views import md_escape
from recommender.words import plural

FUNCTION_COLOURS = {
    "marketing": "#e45756", "finance": "#4c78a8", "operations": "#54a24b", "people": "#b279a2",
    "sales": "#f58518", "product": "#72b7b2", "technology": "#9d755d", "other": "#bab0ac", "executive": "#222222",
}
GROUP_COLOURS = {"you": "#111111", "peers": "#e45756", "adjacent": "#4c78a8", "executives": "#f2b701",
                 "other": "#c7c7c7"}


def _open_person(pid: str) -> None:
    from recommender.ui.main import go_to

    go_to("person.py", person=pid)


def _centre(pid: str) -> None:
    st.session_state[state.PERSON_KEY] = pid


def _controls() -> dict:
    tax = load_taxonomy()
    fx = state.facts()
    with st.sidebar:
        st.subheader("Map")
        hops = st.radio("Reach", [1, 2], index=1, key="map_hops", horizontal=True,
                        format_func=lambda h: f"{h} hop{'s' if h > 1 else ''}")
        limit = st.slider("Node limit", 30, views.MAP_LIMIT_MAX, 150, step=10, key="map_limit",
                          help="The map never draws more people than this; the strongest ties come first.")
        colour = st.radio("Colour by", ["function", "group"], key="map_colour", horizontal=True)
        functions = sorted({f for f in fx["function"] if f}) + ["executive"]
        sel_f = st.multiselect("Function", functions, key="map_functions", placeholder="all functions")
        sel_i = st.multiselect("Industry", tax.tags("industry"), key="map_industries", format_func=label,
                               placeholder="all industries")
        sel_t = st.multiselect("Specialty tag", tax.tags("specialty"), key="map_tags", format_func=label,
                               placeholder="all specialties")
        sel_g = st.multiselect("Group", list(views.GROUPS), key="map_groups",
                               format_func=views.GROUP_LABELS.get, placeholder="all groups")
    return {"hops": hops, "limit": limit, "colour": colour, "functions": sel_f, "industries": sel_i,
            "tags": sel_t, "groups": sel_g}


def _chart(m: views.MapData, colour: str) -> alt.LayerChart:
    palette = FUNCTION_COLOURS if colour == "function" else GROUP_COLOURS
    field = "colour" if colour == "function" else "group"
    present = [k for k in palette if k in set(m.nodes[field])]
    scale = alt.Scale(domain=present, range=[palette[k] for k in present])
    pick = alt.selection_point(fields=["id"], name="node", on="click", empty=False)
    axis = alt.Axis(title=None, labels=False, ticks=False, domain=False, grid=False)
    # symmetric domains around the chosen person (fixed at 0, 0): they sit in the middle of the map
    r = float(max(m.nodes["x"].abs().max(), m.nodes["y"].abs().max(), 1e-3)) * 1.06
    sx = alt.Scale(domain=[-r, r], nice=False, zero=False)
    sy = alt.Scale(domain=[-r, r], nice=False, zero=False)
    base = alt.Chart(m.edges)
    edges = base.mark_rule(color="#9aa5b1").encode(
        x=alt.X("x:Q", axis=axis, scale=sx), y=alt.Y("y:Q", axis=axis, scale=sy), x2="x2:Q", y2="y2:Q",
        opacity=alt.Opacity("weight:Q", scale=alt.Scale(range=[0.12, 0.6]), legend=None),
        strokeWidth=alt.StrokeWidth("weight:Q", scale=alt.Scale(range=[0.4, 2.2]), legend=None))
    nodes = alt.Chart(m.nodes).mark_point(filled=True, stroke="white", strokeWidth=0.8).encode(
        x=alt.X("x:Q", axis=axis, scale=sx), y=alt.Y("y:Q", axis=axis, scale=sy),
        color=alt.Color(f"{field}:N", scale=scale, title=colour),
        shape=alt.Shape("kind:N", scale=alt.Scale(domain=["fractional", "executive", "contact"], range=["circle", "square", "triangle"]),
                        title="kind"),
        size=alt.Size("size:Q", legend=None, scale=None),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.85)),
        tooltip=[alt.Tooltip("name:N"), alt.Tooltip("title:N", title="role"), alt.Tooltip("company:N"),
                 alt.Tooltip("function:N"), alt.Tooltip("group:N"), alt.Tooltip("hop:Q", title="hops"),
                 alt.Tooltip("trust:Q", format=".2f")],
    ).add_params(pick)
    centre = alt.Chart(m.nodes[m.nodes["group"] == "you"]).mark_text(dy=-16, fontWeight="bold", fontSize=12).encode(
        x="x:Q", y="y:Q", text="name:N")
    return (edges + nodes + centre).properties(height=580).configure_view(stroke=None)


def _selected(event) -> str | None:
    try:
        points = event.selection["node"]
    except (AttributeError, KeyError, TypeError):
        return None
    if points:
        return points[0].get("id")
    return None


def render() -> None:
    pid = state.require_person()
    fx = state.facts()
    c = _controls()
    st.title("Network")
    st.caption("Around " + md_escape(views.person_label(fx, pid)) + ". Click a person to see them; "
               "colour shows " + c["colour"] + ", squares are executives.")
    m = state.network_map(pid, c["hops"], c["limit"], c["functions"], c["industries"], c["tags"], c["groups"])
    for note in m.notes:
        st.info(note)
    if m.shown <= 1:
        st.info("Nobody matches these filters within reach. Clear a filter or widen the reach.")
    cols = st.columns(4)
    cols[0].metric("On the map", m.shown)
    cols[1].metric("Within reach", m.total)
    cols[2].metric("Filtered out", m.filtered_out)
    cols[3].metric("Direct ties shown", int((m.nodes["hop"] == 1).sum()))
    event = st.altair_chart(_chart(m, c["colour"]), key="network_map", on_select="rerun",
                            selection_mode="node", width="stretch")
    sel = _selected(event)
    if sel and sel in fx.index:
        r = fx.loc[sel]
        row = m.nodes[m.nodes["id"] == sel]
        with st.container(border=True):
            st.markdown(f"**{md_escape(r['name'])}**  \n" + md_escape(
                " · ".join(x for x in (r["title"], r["company"], r["kind"], r["function"]) if x)))
            if len(row):
                g = row.iloc[0]
                st.caption(md_escape(f"{plural(g['hop'], 'hop')} away · trust {g['trust']:.2f} · group: {g['group']} · "
                                     f"specialties: {g['specialties'] or '—'} · industries: {g['industries'] or '—'}"))
            a, b, _ = st.columns([1, 1, 3])
            a.button("Open profile", key="map_open", on_click=_open_person, args=(sel,), type="primary")
            b.button("Centre map here", key="map_centre", on_click=_centre, args=(sel,))
    else:
        st.caption("Select a person on the map to see who they are.")
    with st.expander("People on the map (table)"):
        st.dataframe(m.nodes[["name", "title", "company", "function", "group", "hop", "trust"]],
                     hide_index=True, width="stretch")


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
