"""The writer processes of tests/test_faults.py (multiprocessing ``spawn`` targets).

A module of their own: a spawned child imports the module its target lives in, and this one imports only what
the writers run (not pytest, the CLI or the test module's helpers).
"""

from __future__ import annotations

import sqlite3
import time


def hold_write_lock(db: str, seconds: float, ready) -> None:
    """Hold SQLite's write lock on ``db`` for ``seconds`` (a row inserted, committed at the end)."""
    con = sqlite3.connect(db, timeout=30)
    con.execute("BEGIN IMMEDIATE")
    con.execute("INSERT INTO companies (id, name) VALUES ('c-held', 'Held')")
    ready.set()
    time.sleep(seconds)
    con.execute("COMMIT")
    con.close()


def log_referrals(db: str, worker: int, n: int, start, errors) -> None:
    """Log ``n`` referrals (each with a new opportunity) through the library once ``start`` is set."""
    import recommender.network  # noqa: F401  (what log_referral imports on first use: before the start)
    from recommender.ledger import log_referral
    from recommender.store.db import Store

    start.wait()
    with Store(db) as s:
        people = sorted(s.read_table("people", "kind = 'fractional' AND (opt_out IS NULL OR opt_out = 0)")["id"])
        for i in range(n):
            a, b = people[(worker * 7 + i) % len(people)], people[(worker * 7 + i + 1) % len(people)]
            try:
                log_referral(s, None, b, from_id=a, date="2026-07-01",
                             new_opportunity={"needs": "abm", "description": f"w{worker}-{i}"})
            except Exception as exc:  # noqa: BLE001 - counted, reported by the parent
                errors.put(f"{type(exc).__name__}: {exc}")
