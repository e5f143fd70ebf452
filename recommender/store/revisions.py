"""Per-table revisions: which tables each committed transaction wrote (issue 17).

:meth:`Store.transaction <recommender.store.db.Store.transaction>` notes, with an SQLite
authorizer, every table a transaction inserts into, updates or deletes from, and on commit
raises ``meta`` counters ``rev:<table>``. Caches of what a few tables hold key on those
counters (:func:`recommender.model_cache.tables_key`), so logging a referral does not
invalidate what reads only people and ties.

``rev:tracked`` is the revision of the last stamped commit. A commit that was not stamped
(a write by an older fracnet) leaves it behind the revision: then the counters are unknown
(:func:`table_revisions` returns None) until the next stamped commit, which also raises
``rev:epoch``, so counters seen before such a gap are never taken for current ones.
"""

from __future__ import annotations

import sqlite3
from typing import Sequence

PREFIX = "rev:"
TRACKED = "rev:tracked"
EPOCH = "rev:epoch"
_WRITES = frozenset((sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE))


def writes_into(tables: set):
    """An SQLite authorizer that allows everything and notes the tables written into ``tables``."""
    def note(action, table, _arg, _db, _trigger):
        if action in _WRITES and table and table != "meta" and not table.startswith("sqlite_"):
            tables.add(table)
        return sqlite3.SQLITE_OK
    return note


def _value(con, key: str):
    row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else int(row[0])


def stamp(con: sqlite3.Connection, written: set, practice: bool) -> None:
    """Inside the committing transaction, after the revision was raised: raise the written tables' counters."""
    keys = [(PREFIX + t,) for t in sorted(written)]
    con.executemany("INSERT OR IGNORE INTO meta (key, value) VALUES (?, '0')", keys)
    con.executemany("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = ?", keys)
    if practice:
        return
    revision, tracked = _value(con, "revision"), _value(con, TRACKED)
    if tracked is None or tracked != revision - 1:  # commits were not stamped since: a new epoch
        con.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, '0')", (EPOCH,))
        con.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = ?", (EPOCH,))
    con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (TRACKED, str(revision)))


def table_revisions(con: sqlite3.Connection, tables: Sequence[str]) -> tuple[int, ...] | None:
    """The write counts of ``tables`` and the epoch; None when the last commit was not stamped."""
    names = ["revision", TRACKED, EPOCH] + [PREFIX + t for t in tables]
    rows = dict(con.execute(f"SELECT key, value FROM meta WHERE key IN ({', '.join('?' * len(names))})",
                            names).fetchall())
    if rows.get(TRACKED) is None or str(rows[TRACKED]) != str(rows.get("revision")):
        return None
    return tuple(int(rows.get(PREFIX + t, 0)) for t in tables) + (int(rows.get(EPOCH, 0)),)


def start_tracking(store) -> None:
    """A database not stamped yet (made by an older fracnet): stamp from now on, in a bookkeeping write,
    so the switch to per-table keys happens when it is opened rather than at a user's first write."""
    if store.meta(TRACKED) is None:
        from recommender.errors import FracnetError

        try:
            store.write_meta({TRACKED: str(store.revision), EPOCH: "1"}, replace=False)
        except FracnetError:  # a read-only file: the whole revision keys its caches
            pass
