"""Same-process A/B of the batch job's compiled kernel: an older commit's ``prune_block`` against this tree's.

The older kernel (``recommender/batch/compiled.py`` at ``--old``, copied to a
temporary folder and compiled there) and this tree's run alternately in one
process, on the same model and the same blocks, so the load of a shared
machine falls on both alike. Per block it reports thread CPU seconds and
checks that both kept the same pairs with the same aggregates; with ``--job``
it also times the whole batch job (``batch_meet`` to Parquet, the default
threads) with each kernel, as user CPU of the process.

Usage::

    python bench/batch_kernel_ab.py --model M --old 850280f             # 4 blocks x 3 rounds
    python bench/batch_kernel_ab.py --people 10000 --old 850280f --blocks 8 --rounds 6
    python bench/batch_kernel_ab.py --model M --old 850280f --job      # and the whole job, twice each

``--model`` is a saved ``MeetModel``; ``--people N`` generates the demo network
of N people (seed 0) and fits one instead.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _old_kernel(commit: str, folder: str):
    """The kernels module as it was at ``commit``, imported from a copy in ``folder`` (its own numba cache)."""
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:recommender/batch/compiled.py"],
                         check=True, capture_output=True, text=True).stdout
    # its graph kernels too (compiled_graph.py, where the commit has one), so the whole old kernel runs
    graph = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:recommender/batch/compiled_graph.py"],
                           capture_output=True, text=True)
    if graph.returncode == 0:
        with open(os.path.join(folder, "compiled_graph_old.py"), "w") as f:
            f.write(graph.stdout)
        src = src.replace("recommender.batch.compiled_graph", "compiled_graph_old")
        sys.path.insert(0, folder)
    path = os.path.join(folder, "compiled_old.py")
    with open(path, "w") as f:
        f.write(src)
    spec = importlib.util.spec_from_file_location("compiled_old", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="a saved MeetModel")
    src.add_argument("--people", type=int, help="generate and fit the demo network of this many people")
    ap.add_argument("--old", required=True, help="the commit whose kernel is the baseline")
    ap.add_argument("--blocks", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--block-size", type=int, default=1024)
    ap.add_argument("--job", action="store_true", help="also time the whole batch job with each kernel (twice)")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from recommender.batch import fast
    from recommender.meet.model import MeetModel

    if args.model:
        model = MeetModel.load(args.model)
    else:
        from recommender.demo import generate_network
        from recommender.network import Network

        model = MeetModel().fit(Network.from_frames(**generate_network(args.people, seed=0)))
    n = len(model.context_)
    new = fast.compiled()
    if new is None:
        print("numba is not installed: no compiled kernel to compare")
        return 1
    tmp = tempfile.mkdtemp(prefix="kernel-ab-")
    old = _old_kernel(args.old, tmp)
    bs = args.block_size
    rng = np.random.default_rng(1)
    starts = rng.choice(max(1, n // bs), size=min(args.blocks, max(1, n // bs)), replace=False) * bs
    blocks = [np.arange(s, min(n, s + bs)) for s in starts]
    kk = model.stage1_k(10)

    def run(mod, rows):
        fast._COMPILED = mod
        t = time.thread_time()
        r = fast.prune(model, rows, kk, "all")
        return time.thread_time() - t, r

    for mod in (old, new):  # compile or load each, outside the timing
        run(mod, blocks[0])
    times = {"old": [], "new": []}
    cand = kept = 0
    for rnd in range(args.rounds):
        for rows in blocks:
            order = (("old", old), ("new", new)) if rnd % 2 == 0 else (("new", new), ("old", old))
            out = {}
            for name, mod in order:
                dt, out[name] = run(mod, rows)
                times[name].append(dt)
            for key in ("row", "col", "group", "has_hop", "aggregates", "introducer", "candidates"):
                if not np.array_equal(np.asarray(out["old"][key]), np.asarray(out["new"][key])):
                    print(f"DIFFERENT: {key} on the block starting at {rows[0]}")
                    return 1
            cand += out["new"]["candidates"]
            kept += len(out["new"]["row"])
    rows_seen = sum(len(b) for b in blocks) * args.rounds
    print(f"{n:,} people, {len(blocks)} blocks of {bs} x {args.rounds} rounds, same kept pairs: "
          f"{cand / rows_seen:.0f} candidates and {kept / rows_seen:.1f} kept a row")
    for name in ("old", "new"):
        v = np.array(times[name])
        print(f"  {name} ({args.old if name == 'old' else 'this tree'}): thread CPU per block mean {v.mean():.3f} s, "
              f"min {v.min():.3f} s")
    if args.job:
        from recommender.batch.meet import batch_meet

        for name in ("old", "new", "old", "new"):
            fast._COMPILED = old if name == "old" else new
            with tempfile.TemporaryDirectory() as out_dir:
                t, c = time.perf_counter(), time.process_time()
                s = batch_meet(model, os.path.join(out_dir, "meet.parquet"), k=10, block_size=bs)
                print(f"  batch job, {name} kernel: user+sys CPU {time.process_time() - c:.1f} s, "
                      f"wall {time.perf_counter() - t:.1f} s, {s.rows:,} rows")
    fast._COMPILED = new
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
