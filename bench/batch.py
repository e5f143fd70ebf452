"""Benchmark: ``batch meet`` at community scale, against the naive networkx approach.

For each size (10k and 100k people; 1M with ``--full``; mean ~20 ties each,
from :func:`recommender.demo.generate_network`) one child process generates
the network, fits the model (timed separately), runs the whole batch job to
a Parquet file and reports its own peak memory (``getrusage``). In the same
run it times:

* the graph-score stage alone (:func:`recommender.features.two_hop_paths`
  over every person, in blocks), as two-hop paths per second
  (sum of degree squared / time);
* the naive approach: for ~200 sampled people, networkx ``adamic_adar_index``
  over each person's two-hop candidates, extrapolated to everyone.

Usage::

    python bench/batch.py            # 10k and 100k
    python bench/batch.py --full     # and 1M
    python bench/batch.py --sizes 10000 --json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time


def _child(n: int, block_size: int, naive_sample: int, queue) -> None:
    import numpy as np

    from recommender.batch import batch_meet
    from recommender.demo import generate_network
    from recommender.features import two_hop_paths
    from recommender.graph import Network
    from recommender.meet import MeetModel

    out: dict = {"people": n}
    t = time.perf_counter()
    net = Network.from_frames(**generate_network(n, seed=0))
    out["generate_s"] = time.perf_counter() - t
    out["ties"] = int(len(net.ties))

    t = time.perf_counter()
    model = MeetModel().fit(net)
    out["fit_s"] = time.perf_counter() - t
    ctx = model.context_
    out["rss_after_fit_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # graph-score stage alone
    paths = float((ctx.deg ** 2).sum())
    t = time.perf_counter()
    pairs = 0
    for r0 in range(0, n, block_size):
        pairs += len(two_hop_paths(ctx, np.arange(r0, min(n, r0 + block_size))).key)
    dt = time.perf_counter() - t
    out["graph_stage_s"] = dt
    out["two_hop_paths"] = paths
    out["two_hop_pairs"] = pairs
    out["paths_per_s"] = paths / dt

    # the whole batch job
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        summary = batch_meet(model, os.path.join(tmp, "meet.parquet"), k=10, block_size=block_size)
        out["batch_s"] = time.perf_counter() - t
        out["rows_written"] = summary.rows
    # pairs scored: candidates of a sample of blocks, extrapolated
    from recommender.features import candidate_pairs

    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(n, size=min(n, 2000), replace=False))
    pr, _ = candidate_pairs(ctx, sample, **model._candidate_kw)
    out["pairs_scored_est"] = int(round(len(pr) / len(sample) * n))

    # naive networkx: adamic_adar over each sampled person's two-hop candidates
    import networkx as nx

    G = nx.Graph()
    G.add_nodes_from(range(n))
    A = ctx.A.tocoo()
    G.add_edges_from(zip(A.row[A.row < A.col].tolist(), A.col[A.row < A.col].tolist()))
    people = rng.choice(n, size=min(n, naive_sample), replace=False)
    t = time.perf_counter()
    for u in people.tolist():
        nb = set(G[u])
        two = {w for v in nb for w in G[v]} - nb - {u}
        scores = list(nx.adamic_adar_index(G, [(u, w) for w in two]))
        scores.sort(key=lambda x: -x[2])
    dt = time.perf_counter() - t
    out["naive_sample"] = len(people)
    out["naive_s_extrapolated"] = dt / len(people) * n
    out["speedup_vs_naive"] = out["naive_s_extrapolated"] / out["batch_s"]
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(out)


def run(n: int, block_size: int, naive_sample: int) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(n, block_size, naive_sample, q))
    p.start()
    res = q.get()
    p.join()
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="also 1,000,000 people")
    ap.add_argument("--sizes", type=int, nargs="*", help="people per network (default: 10000 100000)")
    ap.add_argument("--block-size", type=int, default=1024)
    ap.add_argument("--naive-sample", type=int, default=200)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    sizes = args.sizes or ([10_000, 100_000] + ([1_000_000] if args.full else []))
    results = []
    for n in sizes:
        r = run(n, args.block_size, args.naive_sample)
        results.append(r)
        if not args.json:
            print(f"{n:>9,} people, {r['ties']:>10,} ties | fit {r['fit_s']:7.1f} s | batch meet {r['batch_s']:7.1f} s "
                  f"({r['rows_written']:,} rows, ~{r['pairs_scored_est']:,} pairs scored) | peak {r['peak_rss_mb']:,.0f} MiB "
                  f"(after fit {r['rss_after_fit_mb']:,.0f})")
            print(f"{'':>9}  graph stage {r['graph_stage_s']:.2f} s = {r['paths_per_s']:.2e} two-hop paths/s "
                  f"({r['two_hop_paths']:.2e} paths) | naive networkx AA ~{r['naive_s_extrapolated']:.0f} s "
                  f"(from {r['naive_sample']} people) -> {r['speedup_vs_naive']:.1f}x faster", flush=True)
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
