"""Interactions (touches): meetings, calls, emails, introductions and referrals I log.

Logging a touch keeps the tie between me and the person true: its
``last_contact`` moves to the touch's date (never backwards), and a tie is
created when we had none, so recency, trust and "losing touch" see it. The
touch and the tie change are one transaction; the tie change is a change of
the network, so the model is refitted on its next use.

Example
-------
>>> import tempfile, os
>>> from recommender.store import Store
>>> from recommender.practice.owner import set_me
>>> s = Store(os.path.join(tempfile.mkdtemp(), "x.db"))
>>> with s.transaction() as c:
...     _ = c.execute("INSERT INTO people (id, name) VALUES ('p1', 'Ada'), ('p2', 'Grace')")
>>> _ = set_me(s, "p1")
>>> log_touch(s, "p2", "call", date="2026-11-30")["tie"]
'created'
"""

from __future__ import annotations

from recommender.errors import UnknownIdError, UsageError
from recommender.practice.owner import require_me
from recommender.practice.pipeline import parse_date, today_iso
from recommender.store.schema import TOUCH_KINDS

__all__ = ["TOUCH_KINDS", "NEW_TIE_STRENGTH", "log_touch", "list_touches", "parse_kind"]

#: Strength of a tie a touch creates (a first real contact: a middling tie).
NEW_TIE_STRENGTH = 0.5


def parse_kind(kind: str) -> str:
    k = str(kind or "").strip().lower()
    k = {"introduction": "intro", "meet": "meeting", "phone": "call", "mail": "email"}.get(k, k)
    if k not in TOUCH_KINDS:
        raise UsageError(f"unknown kind of touch {kind!r}; expected one of: {', '.join(TOUCH_KINDS)}",
                         hint="e.g. fracnet touch p0042 --kind call")
    return k


def log_touch(store, person_id: str, kind: str, *, date=None, note: str | None = None,
              owner: str | None = None) -> dict:
    """Log a touch with ``person_id`` and bring our tie's last contact up to date (one transaction).

    Returns ``{"id", "person_id", "name", "kind", "date", "note", "tie": "created"|"updated"|"unchanged"}``.
    """
    owner = owner or require_me(store, "touch")
    kind = parse_kind(kind)
    day = parse_date(date, what="date") or today_iso()
    pid = str(person_id)
    if pid == owner:
        raise UsageError("a touch is with someone else", hint="give the other person's id")
    with store._lock:
        row = store.con.execute("SELECT id, name FROM people WHERE id = ?", (pid,)).fetchone()
    if row is None:
        raise UnknownIdError("person", pid, store.suggest_ids("people", pid))
    with store.transaction() as con:
        cur = con.execute("INSERT INTO interactions (owner_id, person_id, kind, date, note) VALUES (?, ?, ?, ?, ?)",
                          (owner, pid, kind, day, note or None))
        tie = con.execute("SELECT a, b, last_contact, since FROM ties WHERE (a = ? AND b = ?) OR (a = ? AND b = ?)",
                          (owner, pid, pid, owner)).fetchall()
        if not tie:
            con.execute("INSERT INTO ties (a, b, strength, since, last_contact, source) VALUES (?, ?, ?, ?, ?, ?)",
                        (owner, pid, NEW_TIE_STRENGTH, day, day, "touch"))
            state = "created"
        else:
            state = "unchanged"
            for a, b, last, _since in tie:
                if not last or str(last) < day:
                    con.execute("UPDATE ties SET last_contact = ? WHERE a = ? AND b = ?", (day, a, b))
                    state = "updated"
    return {"id": cur.lastrowid, "person_id": pid, "name": row[1] or pid, "kind": kind, "date": day,
            "note": note or None, "tie": state}


def list_touches(store, person_id: str | None = None, *, owner: str | None = None, limit: int = 50) -> list[dict]:
    """My touches, newest first (with one person, or with everyone)."""
    owner = owner or require_me(store, "touches")
    sql = ("SELECT t.id, t.person_id, p.name, t.kind, t.date, t.note FROM interactions t "
           "LEFT JOIN people p ON p.id = t.person_id WHERE t.owner_id = ?")
    params: list = [owner]
    if person_id:
        sql += " AND t.person_id = ?"
        params.append(str(person_id))
    sql += " ORDER BY t.date DESC, t.id DESC LIMIT ?"
    params.append(int(limit))
    with store._lock:
        rows = store.con.execute(sql, params).fetchall()
    return [dict(zip(("id", "person_id", "name", "kind", "date", "note"), r)) for r in rows]
