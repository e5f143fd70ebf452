"""The explorer's side of the practice: me, the saved pipeline, this week, give first, touches, URL state.

Thin: every read and write is a call into :mod:`recommender.practice` or
:mod:`recommender.connect`; nothing is kept in the browser session that the
database does not also hold, so a reload, another tab or another process
sees the same pipeline.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from recommender.practice import owner, pipeline, touches
from recommender.practice.pipeline import STATUS_LABELS, STATUSES

#: Query-string keys (bookmarks and shared links return to the same view).
QP_PERSON, QP_PAGE = "person", "page"
#: A person to choose in the sidebar on the next run (a widget's key cannot change after it is drawn).
PENDING_PERSON = "_pending_person"
_LABEL_TO_STATUS = {v: k for k, v in STATUS_LABELS.items()}
EDITOR_COLUMNS = ["item", "name", "status", "follow_up", "note", "introducer", "source", "remove"]


def _state():
    from recommender.ui import state

    return state


def _esc(text) -> str:
    from recommender.ui import views

    return views.md_escape(text)


def store():
    return _state().get_store()


def me() -> str | None:
    """My person id (the database's owner), or None."""
    return owner.get_me(store())


# -- URL state -------------------------------------------------------------------------

def initial_person(valid) -> str | None:
    """The person to open on: the link's ``?person=`` if valid, else me."""
    wanted = st.query_params.get(QP_PERSON)
    if wanted and wanted in valid:
        return wanted
    mine = me()
    return mine if mine and mine in valid else None


def wanted_page(pages: dict):
    """The page named by ``?page=`` (a page's url path), on the first run of a session only."""
    if st.session_state.get("_qp_page_done"):
        return None
    st.session_state["_qp_page_done"] = True
    name = st.query_params.get(QP_PAGE)
    for file, page in pages.items():
        if name and file.removesuffix(".py") == name:
            return page
    return None


def write_url(person: str | None, page_path: str | None) -> None:
    """Keep the chosen person and the page in the query string."""
    qp = st.query_params
    for key, value in ((QP_PERSON, person), (QP_PAGE, page_path or None)):
        if value:
            if qp.get(key) != value:
                qp[key] = value
        elif key in qp:
            del qp[key]


# -- me --------------------------------------------------------------------------------

def _tag_options(kind: str) -> list[str]:
    from recommender.taxonomy import load_taxonomy

    return load_taxonomy().tags(kind)


def _label(tag: str) -> str:
    from recommender.meet.text import label

    return label(tag)


def profile_form(pid: str | None = None) -> None:
    """Create my profile (no ``pid``) or edit it; "This is me" for someone already in the network."""
    from recommender.taxonomy import split_tags

    s = store()
    cur = s.get_person(pid) if pid else {}
    new = not pid
    with st.form("me_form" if not new else "me_new_form", border=True):
        st.markdown("**Create my profile**" if new else "**Edit my profile**")
        name = st.text_input("Name", value=cur.get("name") or "", key="me_name")
        a, b = st.columns(2)
        kind = a.selectbox("Kind", ["fractional", "executive"], key="me_kind",
                           index=0 if (cur.get("kind") or "fractional") == "fractional" else 1)
        functions = _tag_options("function")
        fn = cur.get("function")
        function = b.selectbox("Function", functions, key="me_function", format_func=_label,
                               index=functions.index(fn) if fn in functions else None)
        title = st.text_input("Title", value=cur.get("title") or "", key="me_title", placeholder="Fractional CMO")
        picked = {}
        for col, kind_, label in (("specialties", "specialty", "Specialties"), ("industries", "industry", "Industries"),
                                  ("icp_sizes", "size_band", "ICP size bands"), ("regions", "region", "Regions")):
            opts = _tag_options(kind_)
            have = [t for t in split_tags(cur.get(col)) if t in opts]
            picked[col] = st.multiselect(label, opts, default=have, key=f"me_{col}", format_func=_label)
        capacity = st.number_input("Open engagement slots", min_value=0, max_value=50, step=1, key="me_capacity",
                                   value=int(cur["capacity"]) if cur.get("capacity") not in (None, "") else 0)
        submitted = st.form_submit_button("Create my profile" if new else "Save my profile", type="primary")
    if submitted:
        from recommender.errors import FracnetError

        fields = {"kind": kind, "function": function, "title": title or None, "capacity": int(capacity),
                  **{k: ";".join(v) for k, v in picked.items()}}
        try:
            if new:
                res = owner.create_me(s, name=name, **fields)
                st.session_state[PENDING_PERSON] = res["id"]
            else:
                owner.update_me(s, name=name or None, **fields)
        except FracnetError as exc:  # shown; nothing was written
            st.error(str(exc))
            return
        st.success("Saved.")
        st.rerun()


def me_section(pid: str | None) -> None:
    """On a person's page: mark them as me, or edit my profile when it is me."""
    mine = me()
    if pid and pid == mine:
        with st.expander("Edit my profile", icon=":material/edit:"):
            profile_form(pid)
    elif pid:
        if st.button("This is me", key="set_me", icon=":material/badge:",
                     help="Make this person the one the tool is used as (stored in the database)."):
            owner.set_me(store(), pid)
            st.rerun()


# -- the pipeline ------------------------------------------------------------------------

def in_pipeline(owner_id: str, person_id: str) -> bool:
    return person_id in pipeline.statuses_of(store(), owner_id)


def add_to_outreach(owner_id: str, person_id: str, *, source: str | None = None, introducer_id: str | None = None,
                    note: str | None = None) -> None:
    """Callback: write the item to the database (one transaction)."""
    from recommender.errors import FracnetError

    try:
        pipeline.add_item(store(), person_id, owner=owner_id, source=source, introducer_id=introducer_id, note=note)
    except FracnetError as exc:
        st.session_state["_pipeline_error"] = str(exc)


def pipeline_frame(owner_id: str) -> pd.DataFrame:
    items = pipeline.list_items(store(), owner=owner_id)
    rows = [{"item": it["id"], "person_id": it["person_id"], "name": it["name"],
             "status": it["status_label"],
             "follow_up": date.fromisoformat(it["follow_up"]) if it["follow_up"] else None,
             "note": it["note"] or "", "introducer": it["introducer"] or "", "source": it["source"] or "",
             "remove": False} for it in items]
    return pd.DataFrame(rows, columns=["item", "person_id"] + EDITOR_COLUMNS[1:])


def apply_pipeline_edits(s, before: pd.DataFrame, after: pd.DataFrame) -> list[str]:
    """Write what changed between two editor frames (one transaction per changed item). Returns messages."""
    out = []
    b = before.set_index("item")
    for _, row in after.iterrows():
        item = int(row["item"])
        if item not in b.index:
            continue
        old = b.loc[item]
        if bool(row.get("remove")):
            pipeline.remove_item(s, item)
            out.append(f"removed {row['name']}")
            continue
        status = _LABEL_TO_STATUS.get(row["status"], row["status"]) if row["status"] != old["status"] else None
        fu_new = row["follow_up"]
        fu_new = None if fu_new is None or (isinstance(fu_new, float) and fu_new != fu_new) or pd.isna(fu_new) \
            else pd.Timestamp(fu_new).date().isoformat()
        fu_old = None if old["follow_up"] is None or pd.isna(old["follow_up"]) else pd.Timestamp(old["follow_up"]).date().isoformat()
        note_new = row["note"] if isinstance(row["note"], str) else ""
        changed_note = note_new != (old["note"] or "")
        if status or fu_new != fu_old or changed_note:
            pipeline.set_item(s, item, status, follow_up=fu_new if fu_new != fu_old else None,
                              clear_follow_up=fu_new is None and fu_old is not None,
                              note=note_new if changed_note else None)
            out.append(f"updated {row['name']}")
    return out


def pipeline_editor(owner_id: str) -> None:
    """The saved pipeline as an editable table: status, follow-up date, note, remove."""
    s = store()
    df = pipeline_frame(owner_id)
    if df.empty:
        st.info("Your outreach list is empty. On the **Person** page, press **Add to outreach** on a "
                "recommendation, or run `fracnet outreach add PERSON`.")
        return
    counts = df["status"].value_counts()
    st.caption(" · ".join(f"{STATUS_LABELS[s_]}: {counts.get(STATUS_LABELS[s_], 0)}" for s_ in STATUSES
                          if counts.get(STATUS_LABELS[s_], 0)))
    edited = st.data_editor(
        df[EDITOR_COLUMNS], key=f"pipeline_{owner_id}_{s.practice_revision}", hide_index=True, width="stretch",
        disabled=["item", "name", "introducer", "source"],
        column_config={
            "status": st.column_config.SelectboxColumn("status", options=[STATUS_LABELS[x] for x in STATUSES],
                                                       required=True),
            "follow_up": st.column_config.DateColumn("follow-up", format="YYYY-MM-DD"),
            "note": st.column_config.TextColumn("note", width="large"),
            "remove": st.column_config.CheckboxColumn("remove", width="small"),
        })
    if not edited.equals(df[EDITOR_COLUMNS]):
        msgs = apply_pipeline_edits(s, df, edited.assign(person_id=df["person_id"]))
        if msgs:
            st.toast("Saved: " + "; ".join(msgs))
            st.rerun()


def pipeline_downloads(owner_id: str) -> None:
    """The same table as ``fracnet export outreach`` (CSV, XLSX) and the follow-ups as iCalendar."""
    from recommender.outreach import outreach_csv_bytes, outreach_xlsx_bytes
    from recommender.practice.calendar import followups_calendar
    from recommender.practice.lists import outreach_list_rows

    st_ = _state()
    s = store()
    rows = outreach_list_rows(s, owner_id, st_.meet_model(), st_.network(), per_group=15)
    stamp = date.today().isoformat()
    a, b, c, _ = st.columns([1, 1, 1, 2])
    a.download_button("Download CSV", data=outreach_csv_bytes(rows), file_name=f"outreach-{stamp}.csv",
                      mime="text/csv", key="outreach_csv", type="primary", icon=":material/download:")
    b.download_button("Download XLSX", data=outreach_xlsx_bytes(rows), file_name=f"outreach-{stamp}.xlsx",
                      key="outreach_xlsx", icon=":material/table:",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    items = pipeline.list_items(s, owner=owner_id, due_by="9999-12-31")
    name = s.get_person(owner_id).get("name")
    c.download_button("Follow-ups (.ics)", data=followups_calendar(items, owner_name=name).to_ical(),
                      file_name="fracnet-followups.ics", mime="text/calendar", key="followups_ics",
                      icon=":material/event:", disabled=not items)


# -- touches -----------------------------------------------------------------------------

def touch_form(owner_id: str | None, pid: str) -> None:
    """Log a touch with ``pid`` (as me)."""
    if not owner_id:
        st.caption("Set who you are (**This is me** on your own page) to log touches.")
        return
    if owner_id == pid:
        return
    with st.form(f"touch_{pid}", border=True):
        st.markdown("**Log a touch**")
        a, b = st.columns(2)
        kind = a.selectbox("Kind", list(touches.TOUCH_KINDS), key=f"touch_kind_{pid}")
        day = b.date_input("Date", value=date.today(), key=f"touch_date_{pid}")
        note = st.text_input("Note", key=f"touch_note_{pid}")
        ok = st.form_submit_button("Log touch", type="primary")
    if ok:
        t = touches.log_touch(store(), pid, kind, date=day, note=note or None, owner=owner_id)
        st.success(f"Logged a {t['kind']} on {t['date']}.")
    done = touches.list_touches(store(), pid, owner=owner_id, limit=10)
    if done:
        st.dataframe(pd.DataFrame(done)[["date", "kind", "note"]], hide_index=True, width="stretch")


# -- this week and give first ----------------------------------------------------------------

def _snooze(item: int, day: str) -> None:
    pipeline.set_item(store(), item, follow_up=day)


def _touch(owner_id: str, pid: str) -> None:
    touches.log_touch(store(), pid, "call", owner=owner_id)


def week_view(owner_id: str) -> None:
    """This week for me: follow-ups, losing touch, new suggestions, referrals awaiting, balance."""
    from recommender.practice.week import this_week

    st_ = _state()
    s = store()
    w = this_week(s, model=st_.meet_model)
    w_me = w["me"]
    st.subheader(f"This week for {_esc(w_me['name'])}")
    b = w["balance"]
    c = st.columns(4)
    c[0].metric("Follow-ups due", len(w["followups"]))
    c[1].metric("Losing touch", w["losing_touch"]["total"])
    c[2].metric("Referrals awaiting", len(w["referrals_awaiting"]))
    c[3].metric("Go-giver balance", f"{'+' if b['net'] > 0 else ''}{b['net']}",
                help=f"given {b['given']}, received {b['received']}")
    st.markdown("**Follow-ups due**")
    if not w["followups"]:
        st.caption("None this week.")
    for f in w["followups"]:
        with st.container(border=True):
            when = f"overdue {f['overdue_days']} d" if f["overdue_days"] else f"due {f['follow_up']}"
            st.markdown(f"**{_esc(f['name'])}** · {_esc(f['status_label'])} · {when}")
            with st.expander("Draft"):
                st.code(f["actions"]["draft"], language=None, wrap_lines=True)
            x, y, _ = st.columns([1, 1, 3])
            snooze = f["actions"]["snooze"].rsplit(" ", 1)[-1]
            x.button("Snooze a week", key=f"snooze_{f['item']}", on_click=_snooze, args=(f["item"], snooze))
            y.button("Log a touch", key=f"wtouch_{f['item']}", on_click=_touch, args=(owner_id, f["person_id"]))
    st.markdown("**Losing touch**")
    if not w["losing_touch"]["people"]:
        st.caption("No strong tie has gone quiet.")
    for p in w["losing_touch"]["people"]:
        x, y = st.columns([4, 1])
        since = f"{p['days']} days since last contact" if p["days"] is not None else "no contact recorded"
        x.markdown(f"{_esc(p['name'])} · {_esc(p['group'])} · {since}")
        y.button("Log a touch", key=f"ltouch_{p['person_id']}", on_click=_touch, args=(owner_id, p["person_id"]))
    ns = w["new_suggestions"]
    st.markdown("**New suggestions since last week**")
    if not ns["people"]:
        st.caption("Nothing new." if ns["available"] else ns.get("reason", ""))
    for p in ns["people"][:9]:
        x, y = st.columns([4, 1])
        x.markdown(f"{_esc(p['name'])} · {_esc(p['group'])} · " + _esc("; ".join(p["why"])))
        if p["actions"].get("draft"):
            with x.expander("Draft"):
                st.code(p["actions"]["draft"], language=None, wrap_lines=True)
        y.button("Add to outreach", key=f"wadd_{p['person_id']}", on_click=add_to_outreach,
                 args=(owner_id, p["person_id"]), kwargs={"source": f"who to meet: {p['group']}",
                                                          "introducer_id": p.get("introducer_id")})
    st.markdown("**Referrals awaiting an outcome**")
    if not w["referrals_awaiting"]:
        st.caption("None.")
    for r in w["referrals_awaiting"]:
        arrow = "to" if r["direction"] == "given" else "from"
        st.markdown(f"{_esc(r['id'])} {arrow} {_esc(r['name'])} · {_esc(r['outcome'])} since {_esc(r['date'])}")


def connect_view(owner_id: str, k: int = 5) -> None:
    """Give first: pairs of my contacts to introduce, with reasons and a note to each."""
    from recommender.connect import suggest_connections

    st_ = _state()
    items = suggest_connections(st_.meet_model(), owner_id, k=k,
                                exclude_ids=pipeline.excluded_people(store(), owner_id))
    st.subheader("Give first: introduce two of your contacts")
    if not items:
        st.caption("No pair to suggest right now.")
    for c in items:
        with st.container(border=True):
            st.markdown(f"**{_esc(c.a_name)}** and **{_esc(c.b_name)}**")
            st.markdown("\n".join(f"- {_esc(t)}" for _, t, _ in c.reasons))
            with st.expander("Draft notes (double opt-in)"):
                st.code(c.note_to_a, language=None, wrap_lines=True)
                st.code(c.note_to_b, language=None, wrap_lines=True)
