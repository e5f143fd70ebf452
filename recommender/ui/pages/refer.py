"""Refer an opportunity: the form, the lane check, 2-3 picks, the draft introduction, logging it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from recommender.errors import FracnetError
from recommender.meet.text import label
from recommender.ledger import allowed_outcomes, record_outcome, referral_ledger
from recommender.refer.request import check_opportunity
from recommender.refer.text import (explanation_text, introduction_messages, reason_text, warning_text,
                                    uncovered_text)
from recommender.taxonomy import load_taxonomy, split_tags
from recommender.ui import state, views
from recommender.ui.views import md_escape
from recommender.words import plural

NEW = "__new__"


@st.cache_resource(show_spinner=False)
def _vocab() -> dict:
    tax = load_taxonomy()
    return {"specialty": tax.tags("specialty"), "industry": tax.tags("industry"),
            "size_band": tax.tags("size_band"), "function_of": {t: tax.function_of(t) for t in tax.tags("specialty")}}


def _need_label(tag: str) -> str:
    fn = _vocab()["function_of"].get(tag)
    return f"{label(tag)} ({fn})" if fn else label(tag)


def _log(pick_id: str, pick_name: str) -> None:
    """Callback: write the referral through the ledger; remember the result for the page."""
    res = st.session_state.get(state.REFER_KEY)
    if not res:
        return
    q = res["query"]
    try:
        row = views.log_routed_referral(state.get_store(), q["from_id"], pick_id,
                                        opportunity_id=res.get("opportunity_id"), needs=q["needs"],
                                        industry=q["industry"], size_band=q["size_band"],
                                        description=q["description"], anyway=bool(q.get("anyway")))
    except FracnetError as exc:
        res["error"] = str(exc)
        return
    res["opportunity_id"] = row["opportunity_id"]
    res.setdefault("logged", {})[pick_id] = row["id"]
    res["error"] = None
    res["last"] = f"Logged referral {row['id']}: {row['opportunity_id']} to {pick_name} (pending)."


def _form(pid: str) -> None:
    net = state.network()
    opps = net.opportunities[net.opportunities["brought_by"] == pid].sort_values("date", ascending=False)
    opp_labels = {NEW: "A new opportunity (describe it below)"}
    for r in opps.to_dict("records"):
        needs = ", ".join(label(t) for t in split_tags(r["needs"]))
        opp_labels[r["id"]] = f"{r['id']} · {r['date'] or 'undated'} · {needs or 'no needs listed'} · {r['status']}"
    v = _vocab()
    with st.form("refer_form", border=True):
        a, b = st.columns([2, 3])
        a.selectbox("Opportunity", list(opp_labels), key="refer_opportunity", format_func=opp_labels.get,
                    help="Route one of your recorded opportunities, or describe a new one.")
        b.multiselect("Needs", v["specialty"], key="refer_needs", format_func=_need_label,
                      placeholder="What does the client need? (specialties)")
        c, d, e, f, g = st.columns([3, 3, 2, 2, 2], vertical_alignment="bottom")
        c.selectbox("Industry", v["industry"], key="refer_industry", index=None, format_func=label,
                    placeholder="any industry")
        d.selectbox("Company size (revenue)", v["size_band"], key="refer_size", index=None,
                    format_func=label, placeholder="any size")
        e.number_input("Picks", 1, 5, 3, key="refer_k")
        f.selectbox("Reach", [1, 2, 3], index=1, key="refer_hops",
                    format_func=lambda h: f"{h} tie{'s' if h > 1 else ''} away")
        g.checkbox("Whole network", key="refer_widen")
        st.checkbox("Route it even if the opportunity is closed (won, lost, closed)", key="refer_anyway")
        st.text_area("Description", key="refer_description", height=68,
                     placeholder="e.g. Series A SaaS company needs a forecast model and board reporting before its raise")
        submitted = st.form_submit_button("Find the best peers", key="refer_submit", type="primary")
    if submitted:
        ss = st.session_state
        opp = ss.get("refer_opportunity")
        opp = None if opp in (None, NEW) else opp
        needs = list(ss.get("refer_needs") or [])
        desc = (ss.get("refer_description") or "").strip() or None
        query = {"from_id": pid, "opportunity": opp, "needs": needs, "industry": ss.get("refer_industry"),
                 "size_band": ss.get("refer_size"), "description": desc, "k": int(ss.get("refer_k", 3)),
                 "max_hops": int(ss.get("refer_hops", 2)), "widen": bool(ss.get("refer_widen")),
                 "anyway": bool(ss.get("refer_anyway"))}
        if not opp and not needs and not desc:
            ss[state.REFER_KEY] = {"query": query, "error": "Say what the client needs (tags) or describe the work.",
                                   "routing": None}
            return
        try:
            concerns = ()
            if opp:
                rec = net.opportunities.set_index("id").loc[opp].to_dict()
                concerns = check_opportunity({"id": opp, **rec}, pid, anyway=query["anyway"],
                                             name_of=lambda x: str(state.facts().at[x, "name"]))
                concerns = tuple(c.replace("; nothing was routed", "") for c in concerns)
            routing = state.router().route(pid, opp, needs=needs or None, industry=query["industry"],
                                           size_band=query["size_band"], description=desc, k=query["k"],
                                           max_hops=query["max_hops"], widen=query["widen"])
            ss[state.REFER_KEY] = {"query": query, "routing": routing, "opportunity_id": opp, "logged": {},
                                   "error": None, "concerns": concerns}
        except FracnetError as exc:
            ss[state.REFER_KEY] = {"query": query, "routing": None, "error": str(exc)}


def _pick_card(p, res, rank: int, fx) -> None:
    logged = res.get("logged", {})
    with st.container(border=True):
        st.markdown(f"**{rank}. {md_escape(p.name)}**  \n" + md_escape(
            " · ".join(x for x in (fx.at[p.person_id, "title"] if p.person_id in fx.index else "",
                                   fx.at[p.person_id, "company"] if p.person_id in fx.index else "") if x) or " "))
        st.progress(min(1.0, max(0.0, float(p.score))), text=f"score {p.score:.2f}")
        covers = ", ".join(label(t) for t in p.covers) or "—"
        partial = ", ".join(label(t) for t in p.partial)
        st.markdown(f"**Covers** {md_escape(covers)}" + (f"  \n**Partly** {md_escape(partial)}" if partial else ""))
        st.markdown("\n".join(f"- {md_escape(reason_text(r))}" for r in p.reasons))
        if p.trust_path:
            st.caption("Path: " + md_escape(" → ".join(["you"] + [n for _, n in p.trust_path[1:]])))
        if p.person_id in logged:
            st.button(f"Logged ✓ {logged[p.person_id]}", key=f"log_{p.person_id}", disabled=True, width="stretch")
        else:
            st.button("Log referral", key=f"log_{p.person_id}", on_click=_log, args=(p.person_id, p.name),
                      type="primary", width="stretch")


def _result(pid: str) -> None:
    res = st.session_state.get(state.REFER_KEY)
    if not res or res["query"]["from_id"] != pid:
        st.info("Describe the opportunity and press **Find the best peers**.")
        return
    if res.get("error"):
        st.error(md_escape(res["error"]))
    if res.get("last"):
        st.success(md_escape(res["last"]))
    routing = res.get("routing")
    if routing is None:
        return
    fx = state.facts()
    for c in res.get("concerns") or ():
        st.warning(md_escape(f"{c[:1].upper()}{c[1:]}: routed anyway, as asked."))
    for w in routing.request.warnings:
        (st.info if w.get("corrected") else st.warning)(md_escape(warning_text(w)))
    lane = routing.lane
    lane_reasons = "; ".join(reason_text(r) for r in lane.reasons) or "nothing in your profile matches"
    if lane.in_lane:
        st.success(f"In your lane (fit {lane.fit:.2f}): you could take this on yourself. You: {md_escape(lane_reasons)}.")
    else:
        st.warning(f"Out of your lane (fit {lane.fit:.2f}): refer it to peers who fit. You: {md_escape(lane_reasons)}.")
    if not routing.picks:
        st.info(md_escape(explanation_text(routing) or "No peers to suggest."))
        _nearby(routing)
        return
    hops = "the whole network" if routing.reach["widened"] else f"within {plural(routing.reach['max_hops'], 'tie')}"
    st.subheader(f"Refer to these {len(routing.picks)}")
    n_out = routing.reach.get("opted_out", 0)
    st.caption(f"Chosen from {plural(routing.reach['candidates'], 'candidate')} {hops}, for coverage and diversity"
               + (f"; {plural(n_out, 'person')} who opted out left out." if n_out else "."))
    cols = st.columns(len(routing.picks))
    for i, (col, p) in enumerate(zip(cols, routing.picks), 1):
        with col:
            _pick_card(p, res, i, fx)
    if routing.uncovered_needs:
        st.info(md_escape(uncovered_text(routing)))
    for e in routing.excluded:
        st.caption(md_escape(f"Left out: {e['name']} fits but has no open slots."))
    left, right = st.columns([3, 2])
    with left:
        st.subheader("Draft notes (double opt-in)")
        msgs = introduction_messages(routing, fx.at[pid, "name"]) or {"picks": [], "client": ""}
        tabs = st.tabs([f"To {m['name']}" for m in msgs["picks"]] + ["Then, to the client"])
        for tab, text in zip(tabs, [m["message"] for m in msgs["picks"]] + [msgs["client"]]):
            with tab:
                st.code(text or "", language=None, wrap_lines=True)
    with right:
        st.subheader("Alternatives")
        if routing.alternatives:
            alt = pd.DataFrame([{"name": a.name,
                                 "covers": ", ".join(label(t) for t in a.covers) or "—",
                                 "path": " → ".join(["you"] + [n for _, n in a.trust_path[1:]])} for a in routing.alternatives])
            st.dataframe(alt, hide_index=True, width="stretch")
        else:
            st.caption("No other candidates.")
        _nearby(routing)


def _nearby(routing) -> None:
    """People in reach who share the function but are listed for none of the needs: never picks, but they
    may know the right person."""
    if not routing.nearby:
        return
    st.subheader("Nearby, not listed for the needs")
    st.caption("They work in the same function and may know someone who fits.")
    st.dataframe(pd.DataFrame([{"name": p.name, "path": " → ".join(["you"] + [n for _, n in p.trust_path[1:]])}
                               for p in routing.nearby]), hide_index=True, width="stretch")


def _ledger(pid: str) -> None:
    st.subheader("Your referral ledger")
    led = referral_ledger(state.person_network(pid), pid)
    b = led["balance"]
    c = st.columns(4)
    c[0].metric("Given", b["given"])
    c[1].metric("Received", b["received"])
    c[2].metric("Balance", f"{b['net']:+d}")
    c[3].metric("Won (given / received)", f"{b['won_given']} / {b['won_received']}")
    refs = views.referrals_table(state.network(), state.facts(), pid)
    if len(refs):
        st.dataframe(refs.head(20), hide_index=True, width="stretch", key="refer_ledger_table")
        _outcomes(refs)
    else:
        st.caption("No referrals yet.")


def _record_outcome(referral_id: str, outcome: str) -> None:
    """Callback: move a referral to ``outcome`` through the ledger (one transaction)."""
    try:
        row = record_outcome(state.get_store(), referral_id, outcome)
    except FracnetError as exc:
        st.session_state["refer_outcome_msg"] = ("error", str(exc))
        return
    st.session_state["refer_outcome_msg"] = (
        "success", f"Referral {row['id']}: {row['previous']} → {row['outcome']}; "
                   f"opportunity {row['opportunity_id']} is {row['opportunity_status']}.")


def _outcomes(refs: pd.DataFrame) -> None:
    """Record what happened to an open referral (pending → accepted/declined → won/lost)."""
    open_refs = refs[refs["outcome"].isin([o for o in ("pending", "accepted") if allowed_outcomes(o)])]
    msg = st.session_state.pop("refer_outcome_msg", None)
    if msg:
        (st.success if msg[0] == "success" else st.error)(msg[1])
    if open_refs.empty:
        return
    with st.expander(f"Record an outcome ({len(open_refs)} open)", expanded=False):
        labels = {r["id"]: f"{r['id']} · {r['direction']} · {r['peer']} · {r['opportunity']} · {r['outcome']}"
                  for r in open_refs.to_dict("records")}
        rid = st.selectbox("Referral", list(labels), format_func=labels.get, key="refer_outcome_referral")
        current = open_refs.set_index("id").at[rid, "outcome"]
        choices = list(allowed_outcomes(current))
        outcome = st.radio("New outcome", choices, horizontal=True, key="refer_outcome_value")
        st.button("Record outcome", key="refer_outcome_save", on_click=_record_outcome, args=(rid, outcome))


def render() -> None:
    pid = state.require_person()
    fx = state.facts()
    st.title("Refer an opportunity")
    st.caption("From " + md_escape(views.person_label(fx, pid))
               + ": is it in your lane? If not, which 2-3 peers should get it?")
    _form(pid)
    _result(pid)
    st.divider()
    _ledger(pid)


if __name__ == "__main__":  # run by st.navigation as a page script
    render()
