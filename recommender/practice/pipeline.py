"""The saved outreach pipeline: whom I am working through, found how, through whom, and where it stands.

An item is one person on my list: the source that found them (a "who to meet"
group, a referral, or added by hand), the introducer, my note, a status and a
follow-up date. Every change is one transaction and is kept in the item's
history. Statuses move along::

    to contact -> asked the introducer -> introduced -> met -> follow up -> closed

with "not now" and "not relevant" as ways out (from any status, and back). A
"not relevant" person is left out of my "who to meet" answers
(:func:`recommend_for`).

Pipeline writes leave the network as it was, so they use
``store.transaction(practice=True)`` and never invalidate the fitted model.

Example
-------
>>> parse_status("asked the introducer"), parse_status("Not-Now")
('asked_introducer', 'not_now')
>>> parse_date("2026-12-24", today="2026-12-01"), parse_date("+1w", today="2026-12-01")
('2026-12-24', '2026-12-08')
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from recommender.errors import UnknownIdError, UsageError
from recommender.people import is_opted_out
from recommender.practice.owner import require_me
from recommender.store.schema import OUTREACH_STATUSES

__all__ = ["STATUSES", "STATUS_LABELS", "OPEN_STATUSES", "parse_status", "parse_date", "today_iso", "add_item",
           "list_items", "get_item", "set_item", "remove_item", "item_history", "excluded_people",
           "recommend_for", "statuses_of", "best_introducer"]

STATUSES = OUTREACH_STATUSES
STATUS_LABELS = {
    "to_contact": "to contact",
    "asked_introducer": "asked the introducer",
    "introduced": "introduced",
    "met": "met",
    "follow_up": "follow up",
    "closed": "closed",
    "not_now": "not now",
    "not_relevant": "not relevant",
}
#: Statuses whose follow-up dates count (closed and not relevant are done).
OPEN_STATUSES = ("to_contact", "asked_introducer", "introduced", "met", "follow_up", "not_now")
_ALIASES = {"asked_the_introducer": "asked_introducer", "asked": "asked_introducer", "followup": "follow_up",
            "todo": "to_contact", "new": "to_contact", "done": "closed"}
_STATUS_HINT = "expected one of: " + ", ".join(STATUSES)


def today_iso() -> str:
    return date.today().isoformat()


def parse_status(text: str) -> str:
    """A status from its slug or its words ("asked the introducer"); UsageError otherwise."""
    key = re.sub(r"[\s\-]+", "_", str(text or "").strip().lower())
    key = _ALIASES.get(key, key)
    if key not in STATUSES:
        raise UsageError(f"unknown outreach status {text!r}; {_STATUS_HINT}",
                         hint="e.g. fracnet outreach set 3 met")
    return key


_REL = re.compile(r"^\+(\d{1,4})([dw])$")


def parse_date(text, *, today=None, what: str = "follow-up date") -> str | None:
    """A date as ``YYYY-MM-DD`` from ``YYYY-MM-DD``, ``today`` or ``+Nd``/``+Nw``; None for empty.

    Raises UsageError naming the expected format.
    """
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if isinstance(text, datetime):
        return text.date().isoformat()
    if isinstance(text, date):
        return text.isoformat()
    s = str(text).strip().lower()
    base = date.fromisoformat(today) if isinstance(today, str) else (today or date.today())
    if s == "today":
        return base.isoformat()
    m = _REL.match(s)
    if m:
        n = int(m.group(1)) * (7 if m.group(2) == "w" else 1)
        return (base + timedelta(days=n)).isoformat()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        try:
            return date.fromisoformat(s).isoformat()
        except ValueError:
            pass
    raise UsageError(f"expected a {what} as YYYY-MM-DD (or today, +7d, +2w), got {text!r}",
                     hint="e.g. --follow-up 2026-12-15")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _person_row(con, store, person_id: str):
    row = con.execute("SELECT id, name, opt_out FROM people WHERE id = ?", (str(person_id),)).fetchone()
    if row is None:
        raise UnknownIdError("person", str(person_id), store.suggest_ids("people", str(person_id)))
    return row


def best_introducer(store, owner: str, person_id: str) -> str | None:
    """The mutual contact with the strongest ties to both (min of the two strengths), or None."""
    sql = """
    WITH mine AS (SELECT b AS x, strength AS s FROM ties WHERE a = :u UNION ALL
                  SELECT a AS x, strength AS s FROM ties WHERE b = :u),
         theirs AS (SELECT b AS x, strength AS s FROM ties WHERE a = :v UNION ALL
                    SELECT a AS x, strength AS s FROM ties WHERE b = :v)
    SELECT mine.x FROM mine JOIN theirs ON mine.x = theirs.x
    JOIN people p ON p.id = mine.x
    WHERE COALESCE(p.opt_out, 0) = 0
    ORDER BY MIN(COALESCE(mine.s, 0.5), COALESCE(theirs.s, 0.5)) DESC, mine.x LIMIT 1"""
    with store._lock:
        row = store.con.execute(sql, {"u": owner, "v": str(person_id)}).fetchone()
    return row[0] if row else None


def add_item(store, person_id: str, *, owner: str | None = None, source: str | None = None,
             introducer_id: str | None = None, note: str | None = None, follow_up=None,
             status: str = "to_contact", today=None) -> dict:
    """Put ``person_id`` on my outreach list (one transaction).

    A person already on the list keeps their item; a note or a follow-up date
    given here is set on it (``added`` is False then). The introducer defaults
    to the mutual contact with the strongest ties to both of us.

    Raises
    ------
    MeNotSetError, UnknownIdError, UsageError
        No owner; unknown person or introducer; opted-out person, me, bad status or date.
    """
    owner = owner or require_me(store, "outreach add")
    status = parse_status(status)
    follow = parse_date(follow_up, today=today)
    pid = str(person_id)
    if pid == owner:
        raise UsageError("you cannot put yourself on your outreach list", hint="give another person's id")
    with store._lock:
        row = _person_row(store.con, store, pid)
        if is_opted_out(row[2]):
            raise UsageError(f"{pid} has opted out of recommendations and outreach; not added")
        if introducer_id:
            _person_row(store.con, store, introducer_id)
        elif introducer_id is None:
            introducer_id = best_introducer(store, owner, pid)
    now = _now()
    with store.transaction(practice=True) as con:
        cur = con.execute("SELECT id FROM outreach_items WHERE owner_id = ? AND person_id = ?", (owner, pid)).fetchone()
        if cur is None:
            c = con.execute(
                "INSERT INTO outreach_items (owner_id, person_id, source, introducer_id, note, status, follow_up, "
                "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (owner, pid, source or "added by hand", introducer_id or None, note or None, status, follow, now, now))
            item_id, added = c.lastrowid, True
            con.execute("INSERT INTO outreach_history (item_id, at, status, follow_up, note) VALUES (?, ?, ?, ?, ?)",
                        (item_id, now, status, follow, note or None))
        else:
            item_id, added = cur[0], False
            sets, vals = [], []
            if note:
                sets.append("note = ?"), vals.append(note)
            if follow:
                sets.append("follow_up = ?"), vals.append(follow)
            if sets:
                con.execute(f"UPDATE outreach_items SET {', '.join(sets)}, updated = ? WHERE id = ?",
                            vals + [now, item_id])
                con.execute("INSERT INTO outreach_history (item_id, at, status, follow_up, note) "
                            "VALUES (?, ?, NULL, ?, ?)", (item_id, now, follow, note or None))
    item = get_item(store, item_id)
    item["added"] = added
    return item


_ITEM_SQL = """
SELECT o.id, o.owner_id, o.person_id, p.name, p.title, c.name, o.source, o.introducer_id, i.name, o.note,
       o.status, o.follow_up, o.created, o.updated, p.email, p.profile_url, p.kind, p.function, COALESCE(p.opt_out, 0)
FROM outreach_items o
LEFT JOIN people p ON p.id = o.person_id
LEFT JOIN companies c ON c.id = p.company_id
LEFT JOIN people i ON i.id = o.introducer_id
"""
_ITEM_KEYS = ("id", "owner_id", "person_id", "name", "title", "company", "source", "introducer_id", "introducer",
              "note", "status", "follow_up", "created", "updated", "email", "profile_url", "kind", "function",
              "opt_out")


def _item(row, today: str) -> dict:
    d = dict(zip(_ITEM_KEYS, row))
    d["name"] = d["name"] or d["person_id"]
    d["status_label"] = STATUS_LABELS.get(d["status"], d["status"])
    d["opt_out"] = is_opted_out(d["opt_out"])
    fu = d["follow_up"]
    d["due"] = bool(fu) and d["status"] in OPEN_STATUSES and fu <= today
    d["overdue_days"] = (date.fromisoformat(today) - date.fromisoformat(fu)).days if d["due"] else 0
    return d


def get_item(store, item, *, today=None) -> dict:
    """One item by id (or by the person id on my list); UnknownIdError with suggestions if absent."""
    today = parse_date(today) if today else today_iso()
    with store._lock:
        row = None
        text = str(item).strip()
        if text.isdigit():
            row = store.con.execute(_ITEM_SQL + " WHERE o.id = ?", (int(text),)).fetchone()
        if row is None:
            row = store.con.execute(_ITEM_SQL + " WHERE o.person_id = ? ORDER BY o.id LIMIT 1", (text,)).fetchone()
        if row is None:
            ids = [str(r[0]) for r in store.con.execute("SELECT id FROM outreach_items ORDER BY id DESC LIMIT 5")]
    if row is None:
        hint_ids = ids[:3]
        err = UnknownIdError("outreach item", text, hint_ids)
        err.hint = ("items on the list include " + ", ".join(hint_ids) + "; see 'fracnet outreach list'") if hint_ids \
            else "the list is empty; add someone with 'fracnet outreach add PERSON'"
        raise err
    return _item(row, today)


def list_items(store, *, owner: str | None = None, status: str | None = None, today=None,
               due_by: str | None = None) -> list[dict]:
    """My items (optionally one status, or open items with a follow-up due by ``due_by``), in pipeline order.

    Opted-out people are never listed.
    """
    owner = owner or require_me(store, "outreach list")
    today = parse_date(today) if today else today_iso()
    where, params = ["o.owner_id = ?", "COALESCE(p.opt_out, 0) = 0"], [owner]
    if status:
        where.append("o.status = ?")
        params.append(parse_status(status))
    if due_by:
        where.append("o.follow_up IS NOT NULL AND o.follow_up <= ?")
        params.append(due_by)
        where.append(f"o.status IN ({', '.join('?' for _ in OPEN_STATUSES)})")
        params.extend(OPEN_STATUSES)
    order = " ORDER BY CASE o.status " + " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(STATUSES)) + \
            " END, COALESCE(o.follow_up, '9999'), o.id"
    with store._lock:
        rows = store.con.execute(_ITEM_SQL + " WHERE " + " AND ".join(where) + order, params).fetchall()
    return [_item(r, today) for r in rows]


def set_item(store, item, status: str | None = None, *, follow_up=None, note: str | None = None,
             clear_follow_up: bool = False, today=None) -> dict:
    """Change an item's status, follow-up date and/or note (one transaction, kept in its history).

    Everything is checked before anything is written: an unknown status, a bad
    date or an unknown item raise and change nothing.
    """
    new_status = parse_status(status) if status else None
    follow = parse_date(follow_up, today=today)
    cur = get_item(store, item)
    if new_status is None and follow is None and note is None and not clear_follow_up:
        raise UsageError("nothing to change; give a STATUS, --follow-up DATE or --note TEXT",
                         hint=f"e.g. fracnet outreach set {cur['id']} met --follow-up +2w")
    sets, vals = [], []
    if new_status:
        sets.append("status = ?"), vals.append(new_status)
    if follow is not None:
        sets.append("follow_up = ?"), vals.append(follow)
    elif clear_follow_up:
        sets.append("follow_up = NULL")
    if note is not None:
        sets.append("note = ?"), vals.append(note or None)
    now = _now()
    with store.transaction(practice=True) as con:
        done = con.execute(f"UPDATE outreach_items SET {', '.join(sets)}, updated = ? WHERE id = ?",
                           vals + [now, cur["id"]]).rowcount
        if not done:  # removed by another process meanwhile: nothing is written
            raise UnknownIdError("outreach item", str(cur["id"]))
        con.execute("INSERT INTO outreach_history (item_id, at, status, follow_up, note) VALUES (?, ?, ?, ?, ?)",
                    (cur["id"], now, new_status, follow, note))
    out = get_item(store, cur["id"])
    out["previous_status"] = cur["status"]
    return out


def remove_item(store, item) -> dict:
    """Take an item off the list, with its history (one transaction). Returns the removed item."""
    cur = get_item(store, item)
    with store.transaction(practice=True) as con:
        con.execute("DELETE FROM outreach_history WHERE item_id = ?", (cur["id"],))
        con.execute("DELETE FROM outreach_items WHERE id = ?", (cur["id"],))
    return cur


def item_history(store, item) -> list[dict]:
    """An item's changes, oldest first: ``at``, ``status`` (None when unchanged), ``follow_up``, ``note``."""
    cur = get_item(store, item)
    with store._lock:
        rows = store.con.execute("SELECT at, status, follow_up, note FROM outreach_history WHERE item_id = ? "
                                 "ORDER BY rowid", (cur["id"],)).fetchall()
    return [dict(zip(("at", "status", "follow_up", "note"), r)) for r in rows]


def statuses_of(store, owner: str | None) -> dict[str, dict]:
    """``person_id -> {"status", "follow_up", "id", "note"}`` for the owner's items (empty without an owner)."""
    if not owner:
        return {}
    with store._lock:
        rows = store.con.execute("SELECT person_id, status, follow_up, id, note FROM outreach_items "
                                 "WHERE owner_id = ?", (owner,)).fetchall()
    return {r[0]: {"status": r[1], "follow_up": r[2], "id": r[3], "note": r[4]} for r in rows}


def excluded_people(store, owner: str | None) -> set[str]:
    """People the owner marked "not relevant": never suggested to them again."""
    if not owner:
        return set()
    with store._lock:
        rows = store.con.execute("SELECT person_id FROM outreach_items WHERE owner_id = ? AND status = "
                                 "'not_relevant'", (owner,)).fetchall()
    return {r[0] for r in rows}


def recommend_for(store, model, person_id: str, k: int = 10, group: str = "all") -> list:
    """``model.recommend`` with the people ``person_id`` marked "not relevant" left out (exactly k per group).

    Asks the model for ``k`` plus the number of excluded people, drops them and
    keeps the first ``k`` of each group, so the answer is what the model would
    give if those people were not candidates.
    """
    excluded = excluded_people(store, person_id)
    if not excluded:
        return model.recommend(person_id, k=k, group=group)
    recs = model.recommend(person_id, k=k + len(excluded), group=group)
    out, per = [], {}
    for r in recs:
        if r.candidate_id in excluded:
            continue
        if per.get(r.group, 0) < k:
            per[r.group] = per.get(r.group, 0) + 1
            out.append(r)
    return out


def introduced_by(store, person: str, candidates) -> dict[str, str]:
    """Candidates someone already introduced ``person`` to (a logged introduction, pending or connected):
    candidate id -> the introducer's name (their id when they have none)."""
    want = set(candidates)
    if not want:
        return {}
    with store._lock:
        rows = store.con.execute(
            "SELECT i.a, i.b, i.introducer, i.outcome, p.name FROM introductions i LEFT JOIN people p "
            "ON p.id = i.introducer WHERE i.a = ? OR i.b = ? ORDER BY i.id", (person, person)).fetchall()
    out = {}
    for a, b, introducer, outcome, name in rows:
        other = b if a == person else a if b == person else None
        if other in want and outcome in ("pending", "connected") and introducer:
            out[other] = str(name if name is not None else introducer)
    return out
