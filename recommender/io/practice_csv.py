"""The practice (me, the outreach pipeline and its history, touches) in a CSV folder, beside the network.

``fracnet export DIR`` writes ``me.csv``, ``outreach.csv``, ``outreach_history.csv`` and
``touches.csv`` (columns: :data:`recommender.store.schema.PRACTICE_TABLES`); ``fracnet import DIR``
reads them back in the same transaction as the network's files. An import merges rather than
duplicates: an outreach item is matched by (owner, person) and updated, its history rows and the
touches are added unless the database already holds the same row, and ``me.csv`` sets the owner
and the cadences it names. Ids in the folder are only its own: ``outreach_history.item_id``
names a row of the same ``outreach.csv``.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from recommender.errors import ValidationProblem
from recommender.io.validate import MAX_PROBLEMS, LineMap
from recommender.store.schema import ME, OUTREACH, OUTREACH_HISTORY, PRACTICE_TABLES, TOUCHES

#: The SQL behind each practice file (``me`` is read from ``meta``).
_SELECT = {
    "outreach": f"SELECT {', '.join(OUTREACH.column_names)} FROM outreach_items ORDER BY id",
    "outreach_history": f"SELECT {', '.join(OUTREACH_HISTORY.column_names)} FROM outreach_history ORDER BY rowid",
    "touches": f"SELECT {', '.join(TOUCHES.column_names)} FROM interactions ORDER BY id",
}
_CADENCE = {"peers_days": "peers", "adjacent_days": "adjacent", "executives_days": "executives"}


def read_practice(store) -> dict[str, pd.DataFrame]:
    """The practice tables as frames with the columns of :data:`PRACTICE_TABLES`, in file order."""
    out = {}
    with store._lock:
        meta = dict(store.con.execute("SELECT key, value FROM meta WHERE key IN ('owner_id', 'cadence')").fetchall())
        owner = meta.get("owner_id")
        if owner and not store.con.execute("SELECT 1 FROM people WHERE id = ?", (owner,)).fetchone():
            owner = None  # get_me's rule: an owner no longer in the network is no owner
        rows = {name: store.con.execute(sql).fetchall() for name, sql in _SELECT.items()}
    me = []
    if owner:
        try:
            cadence = json.loads(meta.get("cadence") or "{}")
        except ValueError:
            cadence = {}
        me.append([owner] + [cadence.get(g) for g in _CADENCE.values()])
    out["me"] = pd.DataFrame(me, columns=ME.column_names, dtype=object)
    for name, table in PRACTICE_TABLES.items():
        if name != "me":
            out[name] = pd.DataFrame.from_records(rows[name], columns=table.column_names).astype(object)
    for name, df in out.items():
        for c in (c.name for c in PRACTICE_TABLES[name].columns if c.type == "int"):
            df[c] = pd.array([None if v is None or v != v else int(v) for v in df[c]], dtype="Int64")
    return out


def check_practice(tables: dict[str, pd.DataFrame], files: dict[str, str], lines: dict[str, LineMap],
                   problems: list[ValidationProblem]) -> None:
    """The practice files' own rules, beyond their columns: one owner, one item per (owner, person),
    cadences of a day or more, no item for its own owner."""

    def add(name, i, field, message, hint=None):
        if len(problems) < MAX_PROBLEMS:
            problems.append(ValidationProblem(files.get(name, name), lines.get(name, LineMap())(int(i)), field,
                                              message, hint))

    me = tables.get("me")
    if me is not None:
        for i in range(1, len(me)):
            add("me", i, "person_id", f"a second owner {me['person_id'].iloc[i]!r}; me.csv holds one row",
                "keep the row of the person the tool is used as")
        for col in _CADENCE:
            for i in np.flatnonzero(me[col].map(lambda v: v is not None and v < 1).to_numpy()):
                add("me", i, col, f"expected a whole number of days, 1 or more, got {me[col].iloc[i]}", "e.g. 90")
    items = tables.get("outreach")
    if items is not None:
        pair = items["owner_id"].astype(str) + "\x1f" + items["person_id"].astype(str)
        first = {}
        for i, k in enumerate(pair):
            if k in first:
                add("outreach", i, "person_id", f"{items['person_id'].iloc[i]!r} is already on "
                    f"{items['owner_id'].iloc[i]!r}'s list on line {lines.get('outreach', LineMap())(first[k])}",
                    "keep one row per owner and person")
            first.setdefault(k, i)
        for i in np.flatnonzero((items["owner_id"] == items["person_id"]).to_numpy()):
            add("outreach", i, "person_id", "an outreach item for its own owner", "remove the row")


def write_practice(con, tables: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Merge validated practice tables into the database inside the caller's transaction; rows read per file."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    written = {}

    def rows(name):
        df = tables[name].astype(object)
        return list(df.where(df.notna(), None).itertuples(index=False, name=None))

    if "me" in tables and len(tables["me"]):
        pid, *days = rows("me")[0]
        raw = con.execute("SELECT value FROM meta WHERE key = 'cadence'").fetchone()
        try:
            cadence = json.loads(raw[0]) if raw and raw[0] else {}
        except ValueError:
            cadence = {}
        cadence.update({g: int(d) for g, d in zip(_CADENCE.values(), days) if d is not None})
        meta = [("owner_id", pid)] + ([("cadence", json.dumps(cadence, sort_keys=True))] if cadence else [])
        con.executemany("INSERT INTO meta (key, value) VALUES (?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value", meta)
        written["me"] = 1
    item_of = {}
    if "outreach" in tables:
        for fid, owner, pid, source, intro, note, status, follow_up, created, updated in rows("outreach"):
            con.execute(
                "INSERT INTO outreach_items (owner_id, person_id, source, introducer_id, note, status, follow_up, "
                "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (owner_id, person_id) DO UPDATE "
                "SET source = excluded.source, introducer_id = excluded.introducer_id, note = excluded.note, "
                "status = excluded.status, follow_up = excluded.follow_up, updated = excluded.updated",
                (owner, pid, source, intro, note, status or "to_contact", follow_up, created or now, updated or now))
            item_of[fid] = con.execute("SELECT id FROM outreach_items WHERE owner_id = ? AND person_id = ?",
                                       (owner, pid)).fetchone()[0]
        written["outreach"] = len(item_of)
    if "outreach_history" in tables:
        hist = [(item_of[r[0]], *r[1:]) for r in rows("outreach_history")]
        _insert_new(con, "outreach_history", OUTREACH_HISTORY.column_names, hist)
        written["outreach_history"] = len(hist)
    if "touches" in tables:
        touches = [r[1:] for r in rows("touches")]
        _insert_new(con, "interactions", TOUCHES.column_names[1:], touches)
        written["touches"] = len(touches)
    return written


def _insert_new(con, table: str, cols: list[str], rows: list[tuple]) -> None:
    """Insert the rows the table does not already hold (NULL-safe comparison of every column)."""
    same = " AND ".join(f"{c} IS ?" for c in cols)
    sql = (f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join('?' * len(cols))} "
           f"WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {same})")
    con.executemany(sql, [r + r for r in rows])
