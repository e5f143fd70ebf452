"""This week: what to do next in my practice, each line with its action.

* **Follow-ups** due in the next 7 days or overdue (open pipeline items).
* **Losing touch**: strong ties (strength >= :data:`STRONG_TIE`) with no contact
  for longer than my cadence for their group (default 90 days for peers and
  adjacent fractionals, 180 for executives; ``fracnet me --cadence``).
* **New suggestions**: people who entered my "who to meet" answers in the last
  7 days (first-seen dates are kept in the database).
* **Referrals awaiting an outcome**: given by me and still pending or accepted,
  or received by me and still pending.
* **Go-giver balance**: referrals given and received.

Everything is read with indexed SQL on my own rows, so a 100k-person network
answers in milliseconds; only the new suggestions need the fitted model (a
cached one is loaded, see :mod:`recommender.model_cache`).
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from recommender.practice.owner import cadence as get_cadence, cadence_group, require_me
from recommender.practice.pipeline import STATUS_LABELS, excluded_people, list_items, parse_date, today_iso

__all__ = ["STRONG_TIE", "this_week", "losing_touch", "referrals_awaiting", "balance", "follow_up_draft",
           "format_week"]

#: Ties at least this strong count for "losing touch".
STRONG_TIE = 0.6
WINDOW_DAYS = 7


def _first(name: str) -> str:
    return (name or "").split()[0] if (name or "").strip() else "there"


def _my_facts(store, me: str) -> dict:
    from recommender.taxonomy import split_tags

    p = store.get_person(me)
    return {"id": me, "name": p.get("name") or me, "kind": p.get("kind"), "function": p.get("function"),
            "title": p.get("title"), "industries": split_tags(p.get("industries")),
            "sizes": split_tags(p.get("icp_sizes")), "is_exec": p.get("kind") == "executive"}


def _role_and_market(mine: dict) -> tuple[str, str]:
    from recommender.meet import text as ex  # imported on use: week answers without loading scikit-learn

    return ex.role_of(mine), ex.market_phrase(mine["industries"], mine["sizes"])


def follow_up_draft(item: dict, mine: dict) -> str:
    """A short, plain note for an item's next step (to the person, or to the introducer when asked)."""
    role, market = _role_and_market(mine)
    first = _first(item["name"])
    intro = item.get("introducer")
    status = item["status"]
    if status == "to_contact":
        via = f"{intro} suggested we talk. " if intro else ""
        return (f"Hi {first}, {via}I'm a fractional {role} working with {market}. "
                "I'd love to compare notes on what you're seeing in the market.")
    if status == "asked_introducer" and intro:
        return (f"Hi {_first(intro)}, a gentle nudge on the introduction to {item['name']}: "
                "would you still be happy to connect us? No rush, and thank you.")
    if status == "introduced":
        thanks = f"Thanks to {intro} for connecting us. " if intro else ""
        return f"Hi {first}, {thanks}Would you have 30 minutes in the next couple of weeks to compare notes?"
    if status == "not_now":
        return f"Hi {first}, circling back as promised. Is now a better time to catch up?"
    return (f"Hi {first}, good to talk last time. I've been thinking about what you said; "
            "would you be up for catching up again soon?")


def _touch_cmd(pid: str) -> str:
    return f"fracnet touch {pid} --kind call"


def _followups(store, me: str, today: str, mine: dict) -> list[dict]:
    horizon = (date.fromisoformat(today) + timedelta(days=WINDOW_DAYS)).isoformat()
    out = []
    for it in list_items(store, owner=me, today=today, due_by=horizon):
        days = (date.fromisoformat(today) - date.fromisoformat(it["follow_up"])).days
        snooze = (date.fromisoformat(max(today, it["follow_up"])) + timedelta(days=WINDOW_DAYS)).isoformat()
        out.append({
            "item": it["id"], "person_id": it["person_id"], "name": it["name"], "status": it["status"],
            "status_label": STATUS_LABELS.get(it["status"], it["status"]), "follow_up": it["follow_up"],
            "overdue_days": max(days, 0), "due_in_days": max(-days, 0), "introducer": it["introducer"],
            "note": it["note"],
            "actions": {"draft": follow_up_draft(it, mine), "touch": _touch_cmd(it["person_id"]),
                        "snooze": f"fracnet outreach set {it['id']} --follow-up {snooze}"},
        })
    return out


def losing_touch(store, me: str, *, today=None, cadence: dict | None = None, limit: int = 10) -> dict:
    """Strong ties with no contact for longer than the cadence of their group.

    Returns ``{"total": n, "people": [...]}`` (longest silence of the strongest first).
    """
    today = parse_date(today) if today else today_iso()
    cad = cadence or get_cadence(store)
    mine = store.get_person(me)
    sql = """
    SELECT p.id, p.name, p.kind, p.function, t.strength, COALESCE(t.last_contact, t.since)
    FROM (SELECT b AS x, strength, last_contact, since FROM ties WHERE a = :u
          UNION ALL SELECT a AS x, strength, last_contact, since FROM ties WHERE b = :u) t
    JOIN people p ON p.id = t.x
    WHERE COALESCE(p.opt_out, 0) = 0 AND COALESCE(t.strength, 0.5) >= :s"""
    with store._lock:
        rows = store.con.execute(sql, {"u": me, "s": STRONG_TIE}).fetchall()
    t0 = date.fromisoformat(today)
    hits = []
    for pid, name, kind, fn, strength, last in rows:
        g = cadence_group(mine.get("kind"), mine.get("function"), kind, fn)
        try:
            days = (t0 - date.fromisoformat(str(last)[:10])).days if last else None
        except ValueError:
            days = None
        if days is None or days > cad[g]:
            hits.append({"person_id": pid, "name": name or pid, "group": g, "strength": float(strength or 0.5),
                         "last_contact": last, "days": days, "cadence_days": cad[g],
                         "actions": {"draft": (f"Hi {_first(name)}, it's been a while. I'd love to hear what "
                                               "you're working on these days; coffee or a call in the next few "
                                               "weeks?"),
                                     "touch": _touch_cmd(pid),
                                     "snooze": f"fracnet outreach add {pid} --follow-up "
                                               f"{(t0 + timedelta(days=30)).isoformat()}"}})
    hits.sort(key=lambda h: (-h["strength"], -(h["days"] if h["days"] is not None else 10 ** 6), h["person_id"]))
    return {"total": len(hits), "people": hits[:limit]}


def referrals_awaiting(store, me: str, *, limit: int = 20) -> list[dict]:
    """Referrals I gave that are pending or accepted, and ones I received that are pending."""
    sql = """
    SELECT r.id, r.date, r.outcome, r.from_id, f.name, r.to_id, t.name, r.opportunity_id, o.description
    FROM referrals r LEFT JOIN people f ON f.id = r.from_id LEFT JOIN people t ON t.id = r.to_id
    LEFT JOIN opportunities o ON o.id = r.opportunity_id
    WHERE (r.from_id = :u AND COALESCE(r.outcome, 'pending') IN ('pending', 'accepted'))
       OR (r.to_id = :u AND COALESCE(r.outcome, 'pending') = 'pending')
    ORDER BY r.date, r.id LIMIT :n"""
    with store._lock:
        rows = store.con.execute(sql, {"u": me, "n": int(limit)}).fetchall()
    out = []
    for rid, day, outcome, fid, fname, tid, tname, oid, desc in rows:
        outcome = outcome or "pending"
        given = fid == me
        nxt = "accepted" if outcome == "pending" else "won"
        other, oname = (tid, tname) if given else (fid, fname)
        out.append({"id": rid, "date": day, "outcome": outcome, "direction": "given" if given else "received",
                    "person_id": other, "name": oname or other, "opportunity_id": oid, "description": desc,
                    "actions": {"record": f"fracnet referral outcome {rid} {nxt}",
                                "touch": f"fracnet touch {other} --kind referral"}})
    return out


def balance(store, me: str) -> dict:
    """The go-giver balance from the referrals table (as :func:`recommender.ledger.referral_ledger`'s)."""
    sql = """SELECT SUM(from_id = :u), SUM(to_id = :u), SUM(from_id = :u AND outcome = 'won'),
                    SUM(to_id = :u AND outcome = 'won')
             FROM referrals WHERE from_id = :u OR to_id = :u"""
    with store._lock:
        g, r, wg, wr = (int(x or 0) for x in store.con.execute(sql, {"u": me}).fetchone())
    return {"given": g, "received": r, "net": g - r, "won_given": wg, "won_received": wr, "won_net": wg - wr}


def _seen(store) -> dict:
    with store._lock:
        row = store.con.execute("SELECT value FROM meta WHERE key = 'suggestions_seen'").fetchone()
    try:
        data = json.loads(row[0]) if row else {}
        return data if isinstance(data, dict) else {}
    except ValueError:
        return {}


_EXTRA = 20  # suggestions kept beyond k, so people marked "not relevant" later can be left out


def _current_model_cached(store) -> bool:
    from recommender.model_cache import has_cached_model

    return has_cached_model(store)


def _my_contacts(store, me: str) -> set:
    with store._lock:
        return {r[0] for r in store.con.execute("SELECT b FROM ties WHERE a = ? UNION SELECT a FROM ties WHERE b = ?",
                                                (me, me))}


def remember_suggestions(store, me: str, model, *, k: int = 5) -> dict:
    """Keep my top suggestions of a fitted ``model`` for ``week`` (one practice transaction).

    Called by ``week`` when its copy is stale, and by ``fracnet meet`` for me
    (which has the model loaded anyway), so ``week`` rarely loads the model.
    """
    from recommender.meet import text as ex  # imported on use: week answers without loading scikit-learn

    recs = model.recommend(me, k=k + _EXTRA, group="all")
    mine = model.person(me)
    cached = {"revision": store.revision, "me": me, "k": k, "recs": [
        {"person_id": r.candidate_id, "name": r.name, "group": r.group,
         "why": [ex.reason_text(x) for x in r.reasons[:2]], "introducer": r.introducer_name,
         "introducer_id": r.introducer_id, "draft": ex.draft_note(r, mine, model.person(r.candidate_id))}
        for r in recs]}
    with store.transaction(practice=True) as con:
        con.execute("INSERT INTO meta (key, value) VALUES ('week_suggestions', ?) ON CONFLICT (key) DO UPDATE "
                    "SET value = excluded.value", (json.dumps(cached),))
    return cached


def _suggestions(store, me: str, model, k: int) -> list[dict] | None:
    """My top suggestions (k per group), from a cache kept in the database (``meta`` key ``week_suggestions``).

    The cache saves loading the model on every ``week``. It is rebuilt from
    the model when the network changed and a model of the current revision is
    cached (or none was ever computed); after a change without a fitted model
    (say, a touch) the last suggestions are used, never a refit. People marked
    "not relevant" and people I am now tied to are left out at read time.
    ``model`` is a fitted MeetModel or a function returning one (called only when rebuilding).
    """
    rev = store.revision
    with store._lock:
        row = store.con.execute("SELECT value FROM meta WHERE key = 'week_suggestions'").fetchone()
    cached = None
    try:
        cached = json.loads(row[0]) if row else None
    except ValueError:
        cached = None
    mine_ok = bool(cached) and cached.get("me") == me and cached.get("k", 0) >= k
    fresh = mine_ok and cached.get("revision") == rev
    if not fresh and mine_ok and callable(model) and not _current_model_cached(store):
        fresh = True  # the network changed but no model was fitted since: keep the last suggestions
    if not fresh:
        m = model() if callable(model) else model
        if m is None:
            return None
        cached = remember_suggestions(store, me, m, k=k)
    excluded = excluded_people(store, me) | _my_contacts(store, me)
    out, per = [], {}
    for r in cached["recs"]:
        if r["person_id"] in excluded or per.get(r["group"], 0) >= k:
            continue
        per[r["group"]] = per.get(r["group"], 0) + 1
        out.append(r)
    return out


def _new_suggestions(store, me: str, model, today: str, *, k: int, record: bool) -> dict:
    recs = _suggestions(store, me, model, k)
    if recs is None:
        return {"available": False, "people": [], "reason": "no fitted model yet; run 'fracnet meet' once"}
    seen = _seen(store)
    mine = seen.get(me, {})
    changed = False
    for r in recs:
        if r["person_id"] not in mine:
            mine[r["person_id"]] = today
            changed = True
    cutoff = (date.fromisoformat(today) - timedelta(days=WINDOW_DAYS)).isoformat()
    with store._lock:
        listed = {row[0] for row in store.con.execute("SELECT person_id FROM outreach_items WHERE owner_id = ?", (me,))}
    skip = listed | excluded_people(store, me)
    people = []
    for r in recs:
        pid = r["person_id"]
        if mine.get(pid, today) >= cutoff and pid not in skip:
            people.append({**{x: v for x, v in r.items() if x != "draft"}, "since": mine[pid],
                           "actions": {"add": f"fracnet outreach add {pid}" + (
                                           f" --introducer {r['introducer_id']}" if r.get("introducer_id") else ""),
                                       "draft": r.get("draft", "")}})
    if record and changed:
        seen[me] = mine
        with store.transaction(practice=True) as con:
            con.execute("INSERT INTO meta (key, value) VALUES ('suggestions_seen', ?) ON CONFLICT (key) DO UPDATE "
                        "SET value = excluded.value", (json.dumps(seen, sort_keys=True),))
    return {"available": True, "people": people}


def this_week(store, *, model=None, today=None, k: int = 5, limit: int = 10, record: bool = True) -> dict:
    """This week's view for me (see the module docstring).

    ``model``: a fitted MeetModel, a function returning one (called only when
    my cached suggestions are stale), or None (no suggestions section).
    """
    me = require_me(store, "week")
    today = parse_date(today) if today else today_iso()
    mine = _my_facts(store, me)
    cad = get_cadence(store)
    return {
        "me": {"id": me, "name": mine["name"]},
        "today": today,
        "cadence": cad,
        "followups": _followups(store, me, today, mine),
        "losing_touch": losing_touch(store, me, today=today, cadence=cad, limit=limit),
        "new_suggestions": _new_suggestions(store, me, model, today, k=k, record=record),
        "referrals_awaiting": referrals_awaiting(store, me),
        "balance": balance(store, me),
    }


def format_week(w: dict) -> str:
    """This week as readable text."""
    lines = [f"This week for {w['me']['name']} ({w['me']['id']}), {w['today']}", ""]
    fu = w["followups"]
    lines.append(f"Follow-ups due ({len(fu)}):")
    for f in fu:
        when = f"overdue {f['overdue_days']} d" if f["overdue_days"] else (
            "due today" if not f["due_in_days"] else f"due in {f['due_in_days']} d")
        lines.append(f"  [{f['item']}] {f['name']} ({f['person_id']}), {f['status_label']}, {when} ({f['follow_up']})")
        lines.append(f"      draft: {f['actions']['draft']}")
        lines.append(f"      touch: {f['actions']['touch']}   snooze: {f['actions']['snooze']}")
    if not fu:
        lines.append("  none; add people with 'fracnet outreach add PERSON --follow-up DATE'")
    lt = w["losing_touch"]
    cad = w["cadence"]
    lines += ["", f"Losing touch ({lt['total']}; cadence peers {cad['peers']} d, adjacent {cad['adjacent']} d, "
                  f"executives {cad['executives']} d):"]
    for p in lt["people"]:
        since = f"{p['days']} d since last contact ({p['last_contact']})" if p["days"] is not None else "no contact date"
        lines.append(f"  {p['name']} ({p['person_id']}), {p['group']}, {since}")
        lines.append(f"      draft: {p['actions']['draft']}")
        lines.append(f"      touch: {p['actions']['touch']}   snooze: {p['actions']['snooze']}")
    if lt["total"] > len(lt["people"]):
        lines.append(f"  ... and {lt['total'] - len(lt['people'])} more (see --json)")
    if not lt["people"]:
        lines.append("  none")
    ns = w["new_suggestions"]
    lines += ["", f"New suggestions since last week ({len(ns['people'])}):"]
    if not ns["available"]:
        lines.append(f"  {ns['reason']}")
    for p in ns["people"]:
        via = f", via {p['introducer']}" if p.get("introducer") else ""
        lines.append(f"  {p['name']} ({p['person_id']}), {p['group']}{via}: {'; '.join(p['why'])}")
        lines.append(f"      draft: {p['actions']['draft']}")
        lines.append(f"      add: {p['actions']['add']}")
    ra = w["referrals_awaiting"]
    lines += ["", f"Referrals awaiting an outcome ({len(ra)}):"]
    for r in ra:
        arrow = f"to {r['name']}" if r["direction"] == "given" else f"from {r['name']}"
        lines.append(f"  {r['id']} {arrow} on {r['date']}, {r['outcome']}: {r['actions']['record']}")
    if not ra:
        lines.append("  none")
    b = w["balance"]
    sign = "+" if b["net"] > 0 else ""
    lines += ["", f"Go-giver balance: {sign}{b['net']} (given {b['given']}, received {b['received']}; "
                  f"won {b['won_given']} given, {b['won_received']} received)"]
    return "\n".join(lines)

