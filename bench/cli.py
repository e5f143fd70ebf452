"""CLI answer time: `fracnet meet`, `fracnet refer` and a usage error on the bundled sample, model cached.

    python bench/cli.py [--repeats 7] [--json]

Each command runs as a user runs it (a fresh ``python -m recommender`` process)
on a temporary database created from the bundled sample, after one warm-up run
that creates the database and caches the meet model and the router. Prints,
per command, the median wall time and the median user CPU time of the child
over ``--repeats`` runs, the target (issue 17: meet and refer < 1.0 s wall, a
usage error < 0.3 s) and ratios against baselines measured in the same run:

* ``meet --no-cache``: the same answer fitted afresh (the path every answer took
  before the cache stopped importing scikit-learn);
* ``import sklearn.base``: what importing scikit-learn alone costs;
* ``import numpy, scipy.sparse``: the floor of an answer from a cached model;
* ``python -c pass``: the interpreter's own start.

Wall times depend on what else the machine runs; compare the figures of one
run with each other, and read user CPU beside wall.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

NEEDS = ["--needs", "demand gen;abm", "--industry", "saas"]
COMMANDS = [  # (label, argv after `fracnet`, target seconds or None)
    ("meet p0042", ["meet", "p0042"], 1.0),
    ("refer --from p0042 --needs ...", ["refer", "--from", "p0042", *NEEDS], 1.0),
    ("meet p0042 --k 0 (usage error)", ["meet", "p0042", "--k", "0"], 0.3),
    ("week", ["week"], None),
    ("connect p0042", ["connect", "p0042"], None),
]
BASELINES = [
    ("meet p0042 --no-cache (fit)", [sys.executable, "-m", "recommender", "meet", "p0042", "--no-cache"]),
    ("python -c 'import sklearn.base'", [sys.executable, "-c", "import sklearn.base"]),
    ("python -c 'import numpy, scipy.sparse'", [sys.executable, "-c", "import numpy, scipy.sparse"]),
    ("python -c pass", [sys.executable, "-c", "pass"]),
]


def run_once(cmd: list[str], env: dict) -> tuple[float, float, int]:
    """(wall seconds, child user CPU seconds, exit code) of one run of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    user = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before
    return wall, user, proc.returncode


def measure(cmd: list[str], env: dict, repeats: int, expect: int | None = 0) -> dict:
    walls, users = [], []
    for _ in range(repeats):
        wall, user, code = run_once(cmd, env)
        if expect is not None and code != expect:
            raise SystemExit(f"{' '.join(cmd)} exited {code}, expected {expect}")
        walls.append(wall)
        users.append(user)
    return {"wall": statistics.median(walls), "user": statistics.median(users), "runs": repeats}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7, help="runs per command (median reported; default 7)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fracnet-bench-cli-"))
    env = dict(os.environ, FRACNET_DB=str(tmp / "fracnet.db"), HOME=str(tmp),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    fracnet = [sys.executable, "-m", "recommender"]
    # warm-up: create the sample database, cache the meet model and the router, set me (for week)
    for argv in (["meet", "p0042"], ["refer", "--from", "p0042", *NEEDS], ["me", "--set-id", "p0042"]):
        subprocess.run(fracnet + argv, env=env, check=True, stdout=subprocess.DEVNULL)
    results = {}
    for label, argv, target in COMMANDS:
        expect = 2 if target == 0.3 else 0
        results[label] = {**measure(fracnet + argv, env, args.repeats, expect), "target": target}
    base = {label: measure(cmd, env, max(3, args.repeats // 2)) for label, cmd in BASELINES}
    fit = base["meet p0042 --no-cache (fit)"]["wall"]
    sk = base["python -c 'import sklearn.base'"]["wall"]
    for r in results.values():
        r["vs_fit"] = fit / r["wall"]
        r["vs_sklearn_import"] = sk / r["wall"]
        r["meets_target"] = None if r["target"] is None else r["wall"] < r["target"]
    if args.json:
        print(json.dumps({"commands": results, "baselines": base}, indent=2))
        return
    print(f"fracnet CLI on the bundled sample, model and router cached; median of {args.repeats} runs "
          f"(baselines: median of {max(3, args.repeats // 2)})")
    print(f"  {'command':<36} {'wall s':>7} {'user s':>7} {'target':>8}  {'x faster than fit':>17} "
          f"{'vs import sklearn':>17}")
    for label, r in results.items():
        target = "-" if r["target"] is None else f"< {r['target']:.1f}" + (" ok" if r["meets_target"] else " NO")
        print(f"  {label:<36} {r['wall']:7.2f} {r['user']:7.2f} {target:>8}  {r['vs_fit']:16.1f}x "
              f"{r['vs_sklearn_import']:16.1f}x")
    print("  baselines, same run:")
    for label, r in base.items():
        print(f"  {label:<36} {r['wall']:7.2f} {r['user']:7.2f}")


if __name__ == "__main__":
    main()
