"""Import speed: 100,000 people with ~1,000,000 ties must load in under a minute.

    python bench/import_speed.py [--people 100000] [--seed 1]

Prints generation time, import time, rows per second and peak memory of the
import (measured in a child process), beside the baseline of a naive import
(one INSERT per row, with autocommit) measured on a 10% slice in the same run
and extrapolated.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child_import(folder: str, db: str) -> None:
    from recommender.io.csv_folder import import_folder
    from recommender.store.db import Store

    t = time.perf_counter()
    with Store(db) as s:
        import_folder(s, folder, progress=False)
        counts = s.counts()
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": dt, "peak_mb": peak, "counts": counts}))


def naive_baseline(folder: Path, db: str, fraction: float = 0.1) -> float:
    """One autocommitted INSERT per tie row, on a slice; extrapolated to all rows."""
    import csv

    con = sqlite3.connect(db, isolation_level=None)
    con.execute("CREATE TABLE ties (a TEXT, b TEXT, strength REAL, PRIMARY KEY (a, b))")
    rows = list(csv.DictReader(open(folder / "ties.csv", newline="")))
    n = max(1, int(len(rows) * fraction))
    t = time.perf_counter()
    for r in rows[:n]:
        con.execute("INSERT OR REPLACE INTO ties VALUES (?, ?, ?)", (r["a"], r["b"], r["strength"]))
    return (time.perf_counter() - t) * len(rows) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child_import(*args.child)
        return
    tmp = Path(tempfile.mkdtemp(prefix="fracnet-bench-"))
    folder = tmp / "net"
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "recommender", "demo-data", "--people", str(args.people), "--seed",
                    str(args.seed), "--out", str(folder), "--quiet"], check=True, stdout=subprocess.DEVNULL)
    gen = time.perf_counter() - t
    out = subprocess.run([sys.executable, __file__, "--child", str(folder), str(tmp / "x.db")],
                         check=True, capture_output=True, text=True).stdout
    res = json.loads(out.strip().splitlines()[-1])
    rows = sum(res["counts"].values())
    naive = naive_baseline(folder, str(tmp / "naive.db"))
    print(f"people                 {args.people:,}")
    print(f"rows imported          {rows:,} (ties {res['counts']['ties']:,})")
    print(f"demo-data generation   {gen:.1f} s")
    print(f"import (all tables)    {res['seconds']:.1f} s   target < 60 s   {'OK' if res['seconds'] < 60 else 'MISSED'}")
    print(f"import rows/s          {rows / res['seconds']:,.0f}")
    print(f"import peak memory     {res['peak_mb']:,.0f} MB")
    print(f"naive ties-only import {naive:.1f} s (one autocommitted INSERT per row, extrapolated from 10%)")
    print(f"ratio naive/fracnet    {naive / res['seconds']:.1f}x (fracnet also validates every table)")


if __name__ == "__main__":
    main()
