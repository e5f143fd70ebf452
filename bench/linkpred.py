"""Benchmark of link prediction: quality on the fixed splits, speed, scale.

Not a test. Parts (choose with ``--parts``, default all):

``splits``  usair and ns from /work/shared/datasets with their 10 fixed
            splits: every method's mean AUC/AP, fracnet's margin over the best
            heuristic, and the gap to the published SEAL / WLNM figures.
``speed``   wall time of ``evaluate links`` on a ~1,000-edge graph, 10 runs
            (target < 30 s on two cores).
``big``     one run on a synthetic ~1,000,000-edge graph (spatial + power-law,
            generated with numpy), in a child process: time and peak memory.

Examples::

    python bench/linkpred.py                 # everything
    python bench/linkpred.py --quick         # 3 splits, 200k-edge big graph
    python bench/linkpred.py --parts splits --datasets usair
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DATASETS = Path(os.environ.get("FRACNET_DATASETS", "/work/shared/datasets"))

#: AUC % from the datasets README (heuristics measured with networkx on the
#: same splits; WLNM / SEAL from Zhang & Chen, NeurIPS 2018, Table 1).
PUBLISHED = {
    "usair": {"cn": 93.83, "jaccard": 90.82, "aa": 95.12, "ra": 95.85, "pa": 88.59, "WLNM": 95.95, "SEAL": 96.62},
    "ns": {"cn": 93.79, "jaccard": 93.80, "aa": 93.82, "ra": 93.83, "pa": 67.72, "WLNM": 98.61, "SEAL": 98.85},
}


def bench_splits(datasets, runs):
    from recommender.evaluation.links import evaluate_links

    ok = True
    for name in datasets:
        folder = DATASETS / name
        t0 = time.perf_counter()
        res = evaluate_links(folder / "edges.csv", splits_dir=folder / "splits", runs=runs)
        wall = time.perf_counter() - t0
        m = res["methods"]
        print(f"\n== {name}: {res['n_nodes']} nodes, {res['n_edges']} edges, {res['runs']} fixed splits, {wall:.1f} s")
        print(f"  {'method':<9} {'AUC %':>14} {'AP %':>14} {'README AUC':>11} {'s/split':>8}")
        for k, v in m.items():
            ref = PUBLISHED.get(name, {}).get(k)
            ref_s = f"{ref:.2f}" if ref is not None else "-"
            mark = "*" if k == "fracnet" else " "
            print(
                f"{mark} {k:<9} {100 * v['auc']:7.2f} ± {100 * v['auc_std']:4.2f} "
                f"{100 * v['ap']:7.2f} ± {100 * v['ap_std']:4.2f} {ref_s:>11} {v['seconds'] / res['runs']:8.2f}"
            )
        heur = {k: v for k, v in m.items() if k != "fracnet"}
        best = max(heur, key=lambda k: heur[k]["auc"])
        fr = 100 * m["fracnet"]["auc"]
        margin = fr - 100 * heur[best]["auc"]
        # per-split margin over the best heuristic of that split
        per_split = [
            f - max(h["auc_runs"][i] for h in heur.values()) for i, f in enumerate(m["fracnet"]["auc_runs"])
        ]
        print(f"  fracnet margin over the best heuristic ({best}): {margin:+.2f} AUC points "
              f"(per split: min {100 * min(per_split):+.2f}, wins {sum(x > 0 for x in per_split)}/{len(per_split)})")
        for ref in ("SEAL", "WLNM"):
            if ref in PUBLISHED.get(name, {}):
                print(f"  gap to {ref} ({PUBLISHED[name][ref]:.2f}): {fr - PUBLISHED[name][ref]:+.2f} AUC points")
        if "SEAL" in PUBLISHED.get(name, {}):
            hit = margin > 0 and fr >= PUBLISHED[name]["SEAL"] - 1.0
            ok &= hit
            print(f"  target (> best heuristic and within 1.0 of SEAL): {'MET' if hit else 'MISSED'}")
    return ok


def small_graph(n=330, m=1000, seed=1):
    """A ~1,000-edge graph: nearest pairs of random points in the unit square."""
    from recommender.demo.graphs import geometric_edges

    return geometric_edges(n, m, seed)


def bench_speed(runs=10):
    import tempfile

    from recommender.cli import main

    e = small_graph()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "small.csv"
        path.write_text("u,v\n" + "\n".join(f"{a},{b}" for a, b in e) + "\n")
        buf = io.StringIO()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(buf):
            code = main(["evaluate", "links", str(path), "--runs", str(runs), "--json"])
        wall = time.perf_counter() - t0
    if code != 0:
        print(f"\n== speed: fracnet evaluate links failed with exit code {code}")
        return False
    res = json.loads(buf.getvalue())
    m = res["methods"]
    print(f"\n== speed: `fracnet evaluate links` on {len(e)} edges, {runs} runs: {wall:.1f} s (target < 30 s)"
          f" {'MET' if wall < 30 else 'MISSED'}")
    print("  " + ", ".join(f"{k} {100 * v['auc']:.2f}% ({v['seconds']:.1f} s)" for k, v in m.items()))
    return wall < 30


def synthetic_edges(m=1_000_000, n=None, seed=0):
    """A spatial + power-law graph with about ``m`` edges, generated with numpy.

    Nodes sit on a ring; each edge starts at a node drawn by a Pareto weight
    and ends, with probability 0.8, at a nearby node on the ring (clustering,
    long paths), otherwise at another weight-drawn node (hubs, shortcuts).
    """
    n = n or max(1000, m // 10)
    rng = np.random.default_rng(seed)
    w = np.minimum(rng.pareto(2.1, size=n) + 1.0, np.sqrt(n))
    p = w / w.sum()
    keys = np.zeros(0, dtype=np.int64)
    while keys.size < m:
        draw = int((m - keys.size) * 1.1) + 1000
        u = rng.choice(n, size=draw, p=p)
        local = rng.random(draw) < 0.8
        off = np.rint(rng.laplace(scale=15, size=draw)).astype(np.int64)
        off[off == 0] = 1
        v = np.where(local, (u + off) % n, rng.choice(n, size=draw, p=p))
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        ok = lo != hi
        keys = np.unique(np.concatenate([keys, lo[ok] * n + hi[ok]]))
    keys = rng.permutation(keys)[:m]
    perm = rng.permutation(n)
    return np.column_stack([perm[keys // n], perm[keys % n]])


def bench_big_inner(m):
    from recommender.evaluation.links import evaluate_links

    t0 = time.perf_counter()
    e = synthetic_edges(m)
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = evaluate_links(e, runs=1)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "edges": int(len(e)),
        "nodes": res["n_nodes"],
        "generate_s": t_gen,
        "evaluate_s": wall,
        "peak_mb": peak,
        "methods": {k: {"auc": v["auc"], "ap": v["ap"], "seconds": v["seconds"]} for k, v in res["methods"].items()},
    }
    print(json.dumps(out))


def bench_big(m):
    proc = subprocess.run(
        [sys.executable, __file__, "--parts", "_big_inner", "--big-edges", str(m)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        print(f"\n== big: FAILED\n{proc.stderr[-3000:]}")
        return False
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"\n== big: synthetic graph, {data['edges']:,} edges, {data['nodes']:,} nodes, 1 run "
          f"(10% held out: {data['edges'] // 10:,} test edges + as many non-edges)")
    print(f"  generate {data['generate_s']:.1f} s; evaluate links {data['evaluate_s']:.1f} s; "
          f"peak memory (RSS of the whole process) {data['peak_mb']:.0f} MB")
    for k, v in data["methods"].items():
        print(f"  {k:<9} AUC {100 * v['auc']:6.2f}%  AP {100 * v['ap']:6.2f}%  {v['seconds']:7.1f} s")
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parts", default="splits,speed,big", help="comma list of: splits, speed, big")
    ap.add_argument("--datasets", default="usair,ns", help="datasets for the splits part")
    ap.add_argument("--runs", type=int, default=10, help="splits per dataset (default 10)")
    ap.add_argument("--big-edges", type=int, default=1_000_000, help="edges of the synthetic big graph")
    ap.add_argument("--quick", action="store_true", help="3 splits per dataset and a 200,000-edge big graph")
    args = ap.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    if "_big_inner" in parts:
        bench_big_inner(args.big_edges)
        return 0
    runs = 3 if args.quick else args.runs
    big_edges = min(args.big_edges, 200_000) if args.quick else args.big_edges
    print(f"fracnet link-prediction benchmark; {os.cpu_count()} CPU(s); python {sys.version.split()[0]}")
    ok = True
    if "splits" in parts:
        ok &= bench_splits([d.strip() for d in args.datasets.split(",") if d.strip()], runs)
    if "speed" in parts:
        ok &= bench_speed()
    if "big" in parts:
        ok &= bench_big(big_edges)
    print(f"\nall targets {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
