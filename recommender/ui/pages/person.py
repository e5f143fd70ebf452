"""Person: profile, ties, history, and who to meet next (three groups)."""

from __future__ import annotations

import streamlit as st

from recommender.meet.text import GROUP_TITLES, draft_note, label, reason_text
from recommender.outreach import outreach_row
from recommender.taxonomy import split_tags
from recommender.words import plural
from recommender.ui import state, views
from recommender.ui.views import md_escape


def add_to_outreach(row: dict) -> None:
    """Callback: write the item to the saved pipeline of ``row["for_id"]`` (one transaction)."""
    from recommender.ui import practice

    practice.add_to_outreach(row["for_id"], row["person_id"], source=row.get("source"),
                             introducer_id=row.get("introducer_id"))


def _listed(pid: str) -> dict:
    from recommender.practice.pipeline import statuses_of

    return statuses_of(state.get_store(), pid)


def _tags(text) -> str:
    tags = split_tags(text)
    return ", ".join(label(t) for t in tags) if tags else "—"


def _profile(pid: str):
    net, fx = state.network(), state.facts()
    me = fx.loc[pid]
    person = state.outreach_lookup()[0][pid]  # the person's row, from the lookup built once per revision
    st.title(md_escape(me["name"]))
    bits = [me["title"], me["company"], me["kind"], (me["function"] or None)]
    st.caption(md_escape(" · ".join(b for b in bits if b)) + " · " + md_escape(pid))
    if me["opt_out"]:
        st.warning("This person opted out: they are never recommended to others or exported.")
    tie_rows = state.person_rows("ties", pid)
    ties = views.ties_table(net, fx, pid, tie_rows)
    intros = views.introductions_table(net, fx, pid, state.person_rows("introductions", pid))
    refs = views.referrals_table(net, fx, pid, state.person_rows("referrals", pid))
    c = st.columns(5)
    hidden = views.hidden_ties(net, fx, pid, tie_rows)
    c[0].metric("Ties", len(ties) + hidden)
    c[1].metric("Introductions", len(intros))
    c[2].metric("Referrals given", int((refs["direction"] == "given").sum()))
    c[3].metric("Referrals received", int((refs["direction"] == "received").sum()))
    cap = person["capacity"]
    c[4].metric("Open slots", "—" if cap is None or cap != cap else int(cap))
    left, right = st.columns(2)
    with left:
        st.markdown("**Specialties** " + md_escape(_tags(person["specialties"])))
        st.markdown("**Industries** " + md_escape(_tags(person["industries"])))
    with right:
        st.markdown("**ICP size bands** " + md_escape(_tags(person["icp_sizes"])))
        st.markdown("**Regions** " + md_escape(_tags(person["regions"])))
    if person["bio"]:
        st.caption(md_escape(person["bio"]))
    return ties, intros, refs


def _recommendations(pid: str) -> None:
    k = st.columns([1, 3])[0].slider("People per group", 3, 15, 5, key="meet_k")
    listed = _listed(pid)
    gone = {c for c, it in listed.items() if it["status"] == "not_relevant"}  # never suggested again
    recs, per = [], {}
    for r in state.recommendations(pid, k + len(gone)):
        if r.candidate_id not in gone and per.get(r.group, 0) < k:
            per[r.group] = per.get(r.group, 0) + 1
            recs.append(r)
    if not recs:
        st.info("No recommendations: nobody eligible in any group (everyone nearby is already a tie or opted out).")
        return
    model, net, lookup = state.meet_model(), state.network(), state.outreach_lookup()
    me_facts = model.person(pid)
    counts = {g: sum(r.group == g for r in recs) for g in views.GROUPS}
    st.caption(" · ".join(f"{views.GROUP_LABELS[g]}: {counts[g]}" for g in views.GROUPS)
               + " — add people to your outreach list as you go.")
    for group in views.GROUPS:
        mine = [r for r in recs if r.group == group]
        st.subheader(GROUP_TITLES[group])
        if not mine:
            st.info("Nobody to suggest in this group yet.")
            continue
        cols = st.columns(2)
        for i, rec in enumerate(mine):
            them = model.person(rec.candidate_id)
            with cols[i % 2].container(border=True):
                head, btn = st.columns([3, 2])
                with head:
                    st.markdown(f"**{md_escape(rec.name)}**  \n" + md_escape(
                        " · ".join(x for x in (them.get("title"), them.get("company")) if x) or "—"))
                with btn:
                    if rec.candidate_id in listed:
                        st.button("In list ✓", key=f"add_{group}_{rec.candidate_id}", disabled=True,
                                  width="stretch")
                    else:
                        row = outreach_row(rec, net, me_facts, them, lookup=lookup)
                        if row is not None:
                            row = {**row, "source": f"who to meet: {group}", "introducer_id": rec.introducer_id}
                        st.button("Add to outreach", icon=":material/add:", key=f"add_{group}_{rec.candidate_id}", width="stretch",
                                  on_click=add_to_outreach, args=(row,), disabled=row is None, type="primary")
                st.markdown("\n".join(f"- {md_escape(reason_text(r))}" for r in rec.reasons) or "- profile match")
                intro = (f"Introducer: **{md_escape(rec.introducer_name)}** (trust {rec.introducer_trust:.2f})"
                         if rec.introducer_name else "No mutual contact: reach out directly")
                st.caption(intro + f" · score {rec.score:.2f}")
                with st.expander(f"Draft note to {rec.introducer_name}, asking for an introduction"
                                 if rec.introducer_name else "Draft note"):
                    st.code(draft_note(rec, me_facts, them), language=None, wrap_lines=True)


def render() -> None:
    from recommender.ui import practice

    pid = state.require_person()
    ties, intros, refs = _profile(pid)
    practice.me_section(pid)
    tabs = st.tabs(["Who to meet next", f"Ties ({len(ties)})", f"Introductions ({len(intros)})",
                    f"Referrals ({len(refs)})", "Touches"])
    with tabs[4]:
        practice.touch_form(practice.me(), pid)
    with tabs[0]:
        _recommendations(pid)
    with tabs[1]:
        if len(ties):
            st.dataframe(ties, hide_index=True, width="stretch",
                         column_config={"strength": st.column_config.ProgressColumn(
                             "strength", min_value=0.0, max_value=1.0, format="%.2f")})
        else:
            st.info("No ties yet: import a LinkedIn export on the Data page, or add ties.csv.")
        hidden = views.hidden_ties(state.network(), state.facts(), pid, state.person_rows("ties", pid))
        if hidden:
            st.caption(f"{plural(hidden, 'tie')} with people who opted out {'is' if hidden == 1 else 'are'} not shown.")
    with tabs[2]:
        if len(intros):
            st.dataframe(intros, hide_index=True, width="stretch")
        else:
            st.info("No introductions recorded.")
    with tabs[3]:
        if len(refs):
            g, r = refs[refs["direction"] == "given"], refs[refs["direction"] == "received"]
            a, b = st.columns(2)
            a.markdown(f"**Given ({len(g)})**")
            a.dataframe(g.drop(columns="direction"), hide_index=True, width="stretch")
            b.markdown(f"**Received ({len(r)})**")
            b.dataframe(r.drop(columns="direction"), hide_index=True, width="stretch")
        else:
            st.info("No referrals given or received yet.")


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
