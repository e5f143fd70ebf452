"""Benchmark ``fracnet demo-data``: wall time and peak memory per network size.

Each size runs in a fresh subprocess (the real CLI), so the peak resident
memory is that run's own. Output files go to a temporary folder and are removed.

Usage::

    python bench/demo_data.py            # 10k and 100k people
    python bench/demo_data.py --full     # also 1M people (~10M ties; a few minutes, ~4 GB)
    python bench/demo_data.py --sizes 5000 20000
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_one(n: int, seed: int) -> dict:
    out = Path(tempfile.mkdtemp(prefix=f"fracnet-demo-{n}-"))
    try:
        cmd = [sys.executable, "-m", "recommender", "demo-data", "--people", str(n), "--seed", str(seed),
               "--out", str(out), "--quiet", "--json"]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        stdout = proc.stdout.read().decode()
        stderr = proc.stderr.read().decode()
        proc.stdout.close()
        proc.stderr.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"demo-data --people {n} failed ({proc.returncode}): {stderr.strip()}")
        import json

        counts = json.loads(stdout)["counts"]
        size = sum(f.stat().st_size for f in out.iterdir())
        peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
        return {"people": n, "seconds": elapsed, "peak_mb": peak_mb, "mb_written": size / 1e6, **{f"n_{k}": v for k, v in counts.items()}}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="also run 1,000,000 people")
    ap.add_argument("--sizes", type=int, nargs="*", help="people counts to run (overrides the defaults)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    sizes = args.sizes or ([10_000, 100_000] + ([1_000_000] if args.full else []))
    print(f"{'people':>10} {'seconds':>8} {'peak MB':>8} {'ties':>11} {'intros':>9} {'opps':>8} {'referrals':>9} {'MB out':>7}")
    for n in sizes:
        r = run_one(n, args.seed)
        print(f"{r['people']:>10,} {r['seconds']:>8.1f} {r['peak_mb']:>8.0f} {r['n_ties']:>11,} {r['n_introductions']:>9,} "
              f"{r['n_opportunities']:>8,} {r['n_referrals']:>9,} {r['mb_written']:>7.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
