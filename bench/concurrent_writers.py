"""Benchmark: 4 concurrent writers logging referrals through the CLI lose nothing and never see "locked".

Each writer is a loop of ``fracnet referral log`` processes (one CLI process per write, as a user's
script would run them) against one database; the suite runs the same load through the library
(``tests/test_faults.py::test_four_concurrent_writers_lose_nothing_and_never_see_locked``).

Usage::

    python bench/concurrent_writers.py [--writers 4] [--writes 500] [--json]

Target (issue 18): 0 lost referrals, 0 duplicated ids, 0 "database is locked" errors.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--writers", type=int, default=4)
    p.add_argument("--writes", type=int, default=500, help="CLI writes per writer")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from recommender.io.csv_folder import import_folder
    from recommender.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="fracnet-conc-"))
    db = tmp / "conc.db"
    with Store(db) as s:
        import_folder(s, ROOT / "data" / "sample")
        before = s.counts()
        opps = sorted(s.read_table("opportunities", "status = 'open'")["id"])
        people = sorted(s.read_table("people", "kind = 'fractional' AND (opt_out IS NULL OR opt_out = 0)")["id"])
    # distinct (opportunity, person) pairs, so no write is a refused duplicate
    pairs = [(o, q) for o in opps for q in people]
    env = dict(os.environ, PYTHONPATH=str(ROOT), FRACNET_DB=str(db))
    errors: list[str] = []
    done = [0] * args.writers
    lock = threading.Lock()

    def writer(w: int) -> None:
        for i in range(args.writes):
            opp, to = pairs[(w * args.writes + i) % len(pairs)]
            r = subprocess.run([sys.executable, "-m", "recommender", "referral", "log", "--opportunity", opp,
                                "--to", to, "--db", str(db)], env=env, capture_output=True, text=True)
            with lock:
                if r.returncode != 0 and "already" not in r.stderr and "themselves" not in r.stderr:
                    errors.append(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}")
                elif r.returncode == 0:
                    done[w] += 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(args.writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    with Store(db) as s:
        after = s.counts()
        ids = s.read_table("referrals")["id"].tolist()
        ok = s.integrity_check()
    result = {"writers": args.writers, "writes_each": args.writes, "seconds": round(seconds, 1),
              "written": sum(done), "referrals_added": after["referrals"] - before["referrals"],
              "lost": sum(done) - (after["referrals"] - before["referrals"]),
              "duplicated_ids": len(ids) - len(set(ids)),
              "locked_errors": sum("locked" in e for e in errors), "other_errors": len(errors),
              "integrity": ok}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(", ".join(f"{k} {v}" for k, v in result.items()))
        if errors:
            print("first errors:", *errors[:3], sep="\n  ")
    return result


if __name__ == "__main__":
    main()
