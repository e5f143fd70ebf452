"""Benchmark: ``batch meet`` at community scale, against the naive networkx approach and a compiled reference.

For each size (10k and 100k people; 1M with ``--full``; mean ~20 ties each,
from :func:`recommender.demo.generate_network`) a child process generates
the network into ``--cache DIR`` (kept there for later runs; without it, the
run's temporary folder), another reads it, fits the model (timed: wall, user CPU, peak memory) and saves it; a
second, fresh process loads the model, runs the whole batch job to a Parquet
file (the local engine, one thread per CPU) and reports its own peak memory
(``getrusage``), so the batch figures are those of a job with the model
already fitted. The batch job runs ``--repeat`` times, each in a fresh
process (default 3; once at 1M and above); the median is reported and checked,
every run is printed. In the first batch process it also times:

* the graph stage alone: the batch job's compiled two-hop pass
  (:func:`recommender.batch.compiled.two_hop_block`: CN, AA, RA, introducer
  trust, recency and the best introducer of every two-hop pair) over everyone,
  in blocks on the batch job's threads, as two-hop paths per second (sum over
  people of their contacts' degrees / time); the numpy stage
  (:func:`recommender.meet.twohop.two_hop_paths`) on the same blocks;
* the reference: a plain compiled Adamic-Adar top-10 two-hop kernel
  (:func:`recommender.batch.compiled.reference_aa_topk`) on the same blocks and
  threads; the graph stage's throughput is printed as a share of it;
* one thread, on 8 sampled blocks (extrapolated): the whole block on the
  numpy path (``MeetModel.score_block``, what ``fracnet meet`` runs) and on
  the compiled path the batch job takes (:func:`recommender.batch.fast.score_block`);
* the naive approach: for ~200 sampled people, networkx ``adamic_adar_index``
  over each person's two-hop candidates, extrapolated to everyone, in the same
  process right after the batch job: wall and user CPU (the ratio of user CPU
  seconds, the batch job's over both threads, holds under load; the wall ratio
  is the target's figure on a quiet machine).

Usage::

    python bench/batch.py            # 10k and 100k
    python bench/batch.py --full     # and 1M
    python bench/batch.py --sizes 1000000 --cache /tmp/scale   # generate once, reuse
    python bench/batch.py --sizes 10000 --json
    python bench/batch.py --sizes 100000 --order rcm   # people in RCM order, for locality

Each size ends with issue 17's targets for it, each MET or MISSED (1M: fit and
batch together < 60 s, each under 4 GB; graph stage >= 25% of the reference;
100k: >= 50x the naive approach) and issue 6's (100k batch < 10 s, < 2 GB). A
size the machine cannot hold is refused before it starts (its estimated peak
memory against the memory available).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import queue
import resource
import sys
import tempfile
import time

import numpy as np

from _timing import GB4_MIB, available_memory


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rcm_order(frames: dict) -> np.ndarray:
    """People positions in reverse Cuthill-McKee order of the tie graph (neighbours get nearby positions)."""
    import pandas as pd
    import scipy.sparse as sp
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    ids = frames["people"]["id"].astype(str)
    pos = pd.Index(ids)
    a = pos.get_indexer(frames["ties"]["a"].astype(str))
    b = pos.get_indexer(frames["ties"]["b"].astype(str))
    ok = (a >= 0) & (b >= 0)
    n = len(ids)
    A = sp.csr_matrix((np.ones(2 * ok.sum()), (np.r_[a[ok], b[ok]], np.r_[b[ok], a[ok]])), shape=(n, n))
    return reverse_cuthill_mckee(A, symmetric_mode=True)


#: Peak memory per person of the larger of fit and batch (measured at 1M: ~5.6 KiB), with some headroom.
BYTES_PER_PERSON = 7 * 1024


def check_memory(n: int) -> str | None:
    """Why a network of ``n`` people cannot run here (estimated peak memory over what is available), or None."""
    need, have = n * BYTES_PER_PERSON, available_memory()
    if have and need > have:
        return (f"{n:,} people need about {need / 2**30:.1f} GiB at peak (fit), but only {have / 2**30:.1f} GiB "
                f"is available: free memory or run a smaller --sizes")
    return None


def _frames(n: int, cache: str | None) -> dict:
    """The demo network of ``n`` people (seed 0), read from / written to ``cache`` when given."""
    import pickle

    from recommender.demo import generate_network

    path = os.path.join(cache, f"demo_{n}_seed0.pkl") if cache else None
    if path and os.path.exists(path):
        with open(path, "rb") as f:
            return pickle.load(f)
    frames = generate_network(n, seed=0)
    if path:
        os.makedirs(cache, exist_ok=True)
        with open(path + ".tmp", "wb") as f:
            pickle.dump(frames, f, protocol=5)
        os.replace(path + ".tmp", path)
    return frames


def _generate_child(n: int, cache: str, queue) -> None:
    """Generate the network of ``n`` people into ``cache`` (see :func:`_frames`)."""
    _frames(n, cache)
    queue.put({})


def _fit_child(n: int, model_path: str, order: str, cache: str | None, queue) -> None:
    """Generate (or read) the network (people in ``order``), fit the model (timed) and save it."""
    from recommender.meet.model import MeetModel
    from recommender.network import Network

    out: dict = {"people": n, "order": order}
    t = time.perf_counter()
    frames = _frames(n, cache)
    if order == "rcm":  # the people table's order is the model's row order: blocks and memory follow it
        frames["people"] = frames["people"].iloc[_rcm_order(frames)].reset_index(drop=True)
    net = Network.from_frames(**frames)
    del frames
    out["generate_s"] = time.perf_counter() - t
    out["ties"] = int(len(net.ties))
    out["rss_before_fit_mb"] = _rss_mb()
    t, c = time.perf_counter(), time.process_time()
    model = MeetModel().fit(net)
    out["fit_s"] = time.perf_counter() - t
    out["fit_cpu_s"] = time.process_time() - c
    out["training_windows"] = len(model.training_cutoffs_)
    out["fit_peak_rss_mb"] = _rss_mb()
    model.save(model_path)
    queue.put(out)


def _timed_blocks(fn, blocks, threads: int) -> float:
    """Wall time of ``fn(block)`` over every block on ``threads`` threads."""
    from concurrent.futures import ThreadPoolExecutor

    t = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(fn, blocks):  # each block's output dropped as it comes: kept, the numpy two-hop
            pass  # stage's outputs at 1M people held ~20 GB
    return time.perf_counter() - t


def _batch_child(model_path: str, block_size: int, naive_sample: int, queue) -> None:
    """Load the fitted model, then time the graph stage, the whole batch job and the naive approach."""
    import numpy as np

    from recommender.batch import fast
    from recommender.batch.engines import default_threads
    from recommender.batch.meet import batch_meet, meet_block_size
    from recommender.meet.candidates import block_candidates
    from recommender.meet.model import MeetModel
    from recommender.meet.twohop import two_hop_paths

    out: dict = {}
    t = time.perf_counter()
    model = MeetModel.load(model_path)
    out["load_s"] = time.perf_counter() - t
    ctx = model.context_
    n = len(ctx)
    out["rss_after_load_mb"] = _rss_mb()
    block_size = block_size or meet_block_size(model)  # the job's default (smaller on the numpy path)
    out["block_size"] = block_size

    # the whole batch job (graph + tags + ranker scoring + output)
    with tempfile.TemporaryDirectory() as tmp:
        t, c = time.perf_counter(), time.process_time()
        summary = batch_meet(model, os.path.join(tmp, "meet.parquet"), k=10, block_size=block_size)
        out["batch_s"] = time.perf_counter() - t
        out["batch_cpu_s"] = time.process_time() - c
        out["rows_written"] = summary.rows
    out["threads"] = threads = default_threads()
    out["peak_rss_mb"] = _rss_mb()
    out["compiled"] = fast.usable(model)

    # graph stage alone: the batch job's compiled two-hop pass over everyone, in blocks, on the batch job's
    # threads; the numpy stage and the compiled reference (Adamic-Adar top 10) on the same blocks
    nb = fast.compiled()
    g = fast.graph_arrays(ctx)
    paths = float((ctx.deg ** 2).sum())
    blocks = [np.arange(r0, min(n, r0 + block_size)) for r0 in range(0, n, block_size)]
    out["two_hop_paths"] = paths

    def graph(rows):
        spa, touched, stamp = fast._THREAD.stamps(n, len(rows))
        return nb.two_hop_block(rows, g["nbr"], g["edges"], spa, touched, stamp)

    def reference(rows):
        acc, touched, stamp = fast._THREAD.stamps(n, len(rows), "ref")
        return nb.reference_aa_topk(rows, g["indptr"], g["indices"], g["inv_log_deg"], 10, acc, touched, stamp)

    for fn in (graph, reference):  # compile / load and allocate each thread's scratch outside the timing
        _timed_blocks(fn, blocks[:threads], threads)
    for label, fn in (("graph", graph), ("reference", reference)):
        dt = min(_timed_blocks(fn, blocks, threads) for _ in range(2))
        out[f"{label}_s"] = dt
        out[f"{label}_paths_per_s"] = paths / dt
    out["graph_share_of_reference"] = out["graph_paths_per_s"] / out["reference_paths_per_s"]
    out["numpy_graph_s"] = _timed_blocks(lambda rows: two_hop_paths(ctx, rows), blocks, threads)
    out["numpy_graph_paths_per_s"] = paths / out["numpy_graph_s"]

    # one thread, on a sample of blocks (extrapolated to everyone): the numpy path against the compiled one
    rng = np.random.default_rng(0)
    starts = rng.choice(max(1, n // block_size), size=min(8, max(1, n // block_size)), replace=False) * block_size
    stage = {"numpy_block": 0.0, "compiled_block": 0.0}
    cand = 0
    for r0 in starts:
        rows = np.arange(r0, min(n, r0 + block_size))
        hop = two_hop_paths(ctx, rows)
        pr, *_ = block_candidates(ctx, rows, hop, **model._candidate_kw)
        cand += len(pr)
        c = time.process_time()
        model.score_block(rows, k=10, introducers=True, katz=False)
        stage["numpy_block"] += time.process_time() - c
        c = time.process_time()
        fast.score_block(model, rows, k=10)
        stage["compiled_block"] += time.process_time() - c
    scale = n / (len(starts) * block_size)
    out["stage_s_one_thread"] = {k: v * scale for k, v in stage.items()}
    out["pairs_scored_est"] = int(round(cand * scale))

    # naive networkx: adamic_adar over each sampled person's two-hop candidates
    import networkx as nx

    # the graph networkx needs for these people: every tie of everyone within two hops of them (their
    # candidates' and mutual contacts' full neighbourhoods, so degrees and common neighbours are exact)
    people = rng.choice(n, size=min(n, naive_sample), replace=False)
    near = np.zeros(n, bool)
    near[people] = True
    for _ in range(2):
        near[ctx.A[np.flatnonzero(near)].indices] = True
    A = ctx.A[np.flatnonzero(near)].tocoo()
    src = np.flatnonzero(near)[A.row]
    G = nx.Graph()
    G.add_nodes_from(people.tolist())  # a sampled person without ties has no edge to bring them in
    G.add_edges_from(zip(src.tolist(), A.col.tolist()))
    t, c = time.perf_counter(), time.thread_time()
    for u in people.tolist():
        nb = set(G[u])
        two = {w for v in nb for w in G[v]} - nb - {u}
        scores = list(nx.adamic_adar_index(G, [(u, w) for w in two]))
        scores.sort(key=lambda x: -x[2])
    dt, dc = time.perf_counter() - t, time.thread_time() - c
    out["naive_sample"] = len(people)
    out["naive_s_extrapolated"] = dt / len(people) * n
    out["naive_cpu_s_extrapolated"] = dc / len(people) * n
    out["speedup_vs_naive"] = out["naive_s_extrapolated"] / out["batch_s"]
    queue.put(out)


def _spawn(target, *args) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    while True:  # a child that dies (an exception, the kernel's OOM killer) says so instead of leaving us waiting
        try:
            res = q.get(timeout=5)
            break
        except queue.Empty:
            if not p.is_alive():
                raise SystemExit(f"bench: {target.__name__} exited with code {p.exitcode} before reporting "
                                 "(its traceback, if any, is above)")
    p.join()
    return res


def _batch_only_child(model_path: str, block_size: int, queue) -> None:
    """Another cold run of the whole batch job (fresh process, model loaded), for the median."""
    from recommender.batch.meet import batch_meet
    from recommender.meet.model import MeetModel

    model = MeetModel.load(model_path)
    with tempfile.TemporaryDirectory() as tmp:
        t, c = time.perf_counter(), time.process_time()
        batch_meet(model, os.path.join(tmp, "meet.parquet"), k=10, block_size=block_size)
        queue.put({"batch_s": time.perf_counter() - t, "batch_cpu_s": time.process_time() - c,
                   "peak_rss_mb": _rss_mb()})


def run(n: int, block_size: int, naive_sample: int, repeat: int, order: str = "generated",
        cache: str | None = None) -> dict:
    """Fit once; run the batch job ``repeat`` times, each in a fresh process; report the median run."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "meet.model")
        cache = cache or tmp  # without a cache folder, the run's own
        if not os.path.exists(os.path.join(cache, f"demo_{n}_seed0.pkl")):
            # generated in a child of its own: the generator's peak (~4 GiB at 1M) is not the fit's
            _spawn(_generate_child, n, cache)
        res = _spawn(_fit_child, n, path, order, cache)
        res.update(_spawn(_batch_child, path, block_size, naive_sample))
        runs = [{"batch_s": res["batch_s"], "batch_cpu_s": res["batch_cpu_s"], "peak_rss_mb": res["peak_rss_mb"]}]
        runs += [_spawn(_batch_only_child, path, block_size) for _ in range(repeat - 1)]
    res["batch_runs_s"] = [r["batch_s"] for r in runs]
    res["batch_runs_cpu_s"] = [r["batch_cpu_s"] for r in runs]
    res["batch_s"] = float(np.median(res["batch_runs_s"]))
    res["batch_cpu_s"] = float(np.median(res["batch_runs_cpu_s"]))
    res["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    res["speedup_vs_naive"] = res["naive_s_extrapolated"] / res["batch_s"]
    # under load wall times depend on what else runs at that moment: CPU seconds against CPU seconds do not
    # (the batch job's CPU over both its threads, the naive approach's on its one)
    res["cpu_speedup_vs_naive"] = res["naive_cpu_s_extrapolated"] / res["batch_cpu_s"]
    return res


def verdicts(r: dict) -> list[str]:
    """The issues' targets for this size, each with the measured figure and MET / MISSED."""
    out = []

    def check(name, ok, figure):
        out.append(f"target {name}: {figure} -> {'MET' if ok else 'MISSED'}")

    if r["people"] == 100_000:
        check("100k batch meet < 10 s (issue 6)", r["batch_s"] < 10, f"{r['batch_s']:.1f} s")
        check("100k peak memory < 2 GB (issue 6)", r["peak_rss_mb"] < 2048, f"{r['peak_rss_mb']:,.0f} MiB")
        check("100k batch >= 50x the naive networkx approach (issue 17)", r["speedup_vs_naive"] >= 50,
              f"{r['speedup_vs_naive']:.1f}x in wall time ({r['cpu_speedup_vs_naive']:.1f}x in user CPU, both threads "
              f"against one)")
    if r["people"] == 1_000_000:
        both = r["fit_s"] + r["batch_s"]
        check("1M fit + batch meet < 60 s (issue 17)", both < 60,
              f"{both:.0f} s (fit {r['fit_s']:.0f} s, batch {r['batch_s']:.0f} s; user CPU fit {r['fit_cpu_s']:.0f} s, "
              f"batch {r['batch_cpu_s']:.0f} s)")
        check("1M fit peak memory < 4 GB = 3,815 MiB (issue 17)", r["fit_peak_rss_mb"] < GB4_MIB, f"{r['fit_peak_rss_mb']:,.0f} MiB")
        check("1M batch peak memory < 4 GB = 3,815 MiB (issue 17)", r["peak_rss_mb"] < GB4_MIB, f"{r['peak_rss_mb']:,.0f} MiB")
    if r["people"] >= 100_000:
        check("graph stage >= 25% of the compiled reference (issue 17)", r["graph_share_of_reference"] >= 0.25,
              f"{r['graph_share_of_reference']:.0%} ({r['graph_paths_per_s']:.2e} against {r['reference_paths_per_s']:.2e} "
              f"paths/s on {r['threads']} threads)")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="also 1,000,000 people")
    ap.add_argument("--sizes", type=int, nargs="*", help="people per network (default: 10000 100000)")
    ap.add_argument("--block-size", type=int, default=None,
                    help="people per block (default: the batch job's, 1024 on the compiled path, 256 otherwise)")
    ap.add_argument("--naive-sample", type=int, default=200)
    ap.add_argument("--repeat", type=int, help="cold batch runs per size, median reported "
                    "(default 3; 1 at 1M and above)")
    ap.add_argument("--order", choices=("generated", "rcm"), default="generated",
                    help="people (and so row blocks) in the generator's order, or in reverse Cuthill-McKee order "
                    "of the tie graph, for locality")
    ap.add_argument("--cache", help="folder keeping the generated networks between runs (generated once)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    sizes = args.sizes or ([10_000, 100_000] + ([1_000_000] if args.full else []))
    for n in sizes:  # refuse what cannot fit before any work
        why = check_memory(n)
        if why:
            print(f"error: {why}", file=sys.stderr)
            return 2
    results = []
    for n in sizes:
        r = run(n, args.block_size, args.naive_sample, args.repeat or (1 if n >= 1_000_000 else 3), args.order,
                args.cache)
        results.append(r)
        if not args.json:
            st = r["stage_s_one_thread"]
            print(f"{n:>9,} people, {r['ties']:>10,} ties{' (RCM order)' if args.order == 'rcm' else ''} | fit "
                  f"{r['fit_s']:6.1f} s (user CPU {r['fit_cpu_s']:.1f} s, {r['training_windows']} windows, peak "
                  f"{r['fit_peak_rss_mb']:,.0f} MiB, {r['rss_before_fit_mb']:,.0f} with the network loaded) | batch meet "
                  f"{r['batch_s']:6.1f} s on {r['threads']} threads, user CPU {r['batch_cpu_s']:.1f} s "
                  f"(median of {', '.join(f'{x:.1f}' for x in r['batch_runs_s'])}; compiled path: {r['compiled']}, blocks of {r['block_size']:,}) "
                  f"({r['rows_written']:,} rows, ~{r['pairs_scored_est']:,} candidate pairs), peak {r['peak_rss_mb']:,.0f} MiB "
                  f"(model loaded: {r['rss_after_load_mb']:,.0f})")
            print(f"{'':>9}  graph stage (compiled two-hop pass) {r['graph_s']:.2f} s = {r['graph_paths_per_s']:.2e} "
                  f"paths/s; reference AA top-10 kernel {r['reference_s']:.2f} s = {r['reference_paths_per_s']:.2e}; "
                  f"share {r['graph_share_of_reference']:.0%} (target >= 25%); numpy two-hop stage "
                  f"{r['numpy_graph_s']:.2f} s = {r['numpy_graph_paths_per_s']:.2e} ({r['two_hop_paths']:.2e} paths, "
                  f"{r['threads']} threads)")
            print(f"{'':>9}  one thread, whole blocks (8 sampled, extrapolated): numpy path {st['numpy_block']:.1f} s "
                  f"CPU, compiled path {st['compiled_block']:.1f} s CPU ({st['numpy_block'] / max(st['compiled_block'], 1e-9):.1f}x) "
                  f"| naive networkx AA ~{r['naive_s_extrapolated']:.0f} s (from {r['naive_sample']} people) -> "
                  f"{r['speedup_vs_naive']:.1f}x faster (target >= 50x at 100k); in user CPU naive ~{r['naive_cpu_s_extrapolated']:.0f} s "
                  f"against batch {r['batch_cpu_s']:.1f} s: {r['cpu_speedup_vs_naive']:.1f}x", flush=True)
            for line in verdicts(r):
                print(f"{'':>9}  {line}", flush=True)
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
