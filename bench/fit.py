"""Benchmark: where ``MeetModel.fit`` spends its time and memory, stage by stage, at community scale.

For each size (default 100k; 1M with ``--sizes 1000000``; the demo network of
:func:`recommender.demo.generate_network`, read from ``--cache DIR`` when kept
there by ``bench/batch.py``) a fresh process loads the network, then fits the
model with each of its stages wrapped: the tie table, the profile model, the
people encoding, the people facts, the history windows' graphs, their
candidates and features, the current graph, its graph-level columns and the
ranker. Per stage it prints the calls, wall time, the CPU time of the thread
that ran it, the resident memory it added and the highest resident memory
sampled (every 50 ms) while it ran. The fit as a whole: wall, user and system
CPU, and the process's peak resident memory (``getrusage``) against the
memory of the network loaded before it (the baseline of the same run) and
issue 17's targets at 1M (fit peak < 4 GB; the fit's share of the whole job's
60 s: < 20 s).

Usage::

    python bench/fit.py --sizes 100000 --cache /tmp/scale
    python bench/fit.py --sizes 1000000 --cache /tmp/scale   # ~6 GB free needed
    python bench/fit.py --sizes 100000 --json
    PYTHONPATH=/path/to/an/older/tree python bench/fit.py   # the same stages on another tree, for an A/B
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing as mp
import os
import resource
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from batch import _frames, check_memory  # noqa: E402  (bench/batch.py: the same cached networks, the same refusal)
from _timing import GB4_MIB  # noqa: E402

#: (module, attribute, label) of the stages timed; the history windows' parts are inside "history windows".
STAGES = (
    ("recommender.meet.model", "_encode_ties", "tie table"),
    ("recommender.meet.model", "encode_people", "people encoding"),
    ("recommender.meet.model", "_people_info", "people facts"),
    ("recommender.meet.model", "build_training_set", "history windows"),
    ("recommender.meet.model", "holdout_training_set", "holdouts"),
    ("recommender.meet.model", "_current_context", "current graph"),
    ("recommender.meet.training", "build_context", "  window graph"),
    ("recommender.meet.training", "candidate_pairs", "  window candidates"),
    ("recommender.meet.training", "pair_features", "  window features"),
    ("recommender.meet.model", "structure", "  graph-level columns"),
)


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _fit_child(n: int, cache: str | None, queue) -> None:
    import importlib

    from recommender.meet.model import MeetModel
    from recommender.meet.ranker import PairRanker
    from recommender.network import Network
    from recommender.similarity import ProfileModel

    frames = _frames(n, cache)
    net = Network.from_frames(**frames)
    del frames
    t0 = time.perf_counter()
    events, samples, stop = [], [], threading.Event()

    def record(label, f):
        @functools.wraps(f)
        def g(*a, **k):
            t, c, r = time.perf_counter() - t0, time.thread_time(), _rss_mib()
            out = f(*a, **k)
            events.append((label, t, time.perf_counter() - t0, time.thread_time() - c, _rss_mib() - r))
            return out
        return g

    for mod, attr, label in STAGES:  # a stage an older tree does not have is not timed (A/B runs on it)
        m = importlib.import_module(mod)
        if hasattr(m, attr):
            setattr(m, attr, record(label, getattr(m, attr)))
    for cls, label in ((ProfileModel, "profile model"), (PairRanker, "ranker")):
        cls.fit = record(label, cls.fit)

    def sampler():
        while not stop.is_set():
            samples.append((time.perf_counter() - t0, _rss_mib()))
            time.sleep(0.05)

    th = threading.Thread(target=sampler, daemon=True)
    before = _rss_mib()
    u0 = resource.getrusage(resource.RUSAGE_SELF)
    th.start()
    t = time.perf_counter()
    model = MeetModel().fit(net)
    wall = time.perf_counter() - t
    u1 = resource.getrusage(resource.RUSAGE_SELF)
    stop.set()
    th.join()
    stages = {}
    for label, a, b, cpu, drss in events:
        s = stages.setdefault(label, {"calls": 0, "wall_s": 0.0, "cpu_s": 0.0, "added_mib": 0.0, "max_rss_mib": 0.0})
        s["calls"] += 1
        s["wall_s"] += b - a
        s["cpu_s"] += cpu
        s["added_mib"] = max(s["added_mib"], drss)
        s["max_rss_mib"] = max(s["max_rss_mib"], max((r for x, r in samples if a <= x <= b), default=0.0))
    queue.put({"people": n, "ties": int(len(net.ties)), "network_rss_mib": before, "fit_s": wall,
               "fit_user_s": u1.ru_utime - u0.ru_utime, "fit_sys_s": u1.ru_stime - u0.ru_stime,
               "fit_peak_rss_mib": u1.ru_maxrss / 1024, "stages": stages, "sources": getattr(model, "training_sources_", None),
               "description": model.description()})


def run(n: int, cache: str | None) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_fit_child, args=(n, cache, q))
    p.start()
    res = q.get()
    p.join()
    return res


def report(r: dict) -> list[str]:
    out = [f"{r['people']:,} people, {r['ties']:,} ties | fit {r['fit_s']:.1f} s wall, user CPU {r['fit_user_s']:.1f} s, "
           f"system {r['fit_sys_s']:.1f} s | peak {r['fit_peak_rss_mib']:,.0f} MiB against {r['network_rss_mib']:,.0f} MiB "
           f"with the network loaded (the fit adds {r['fit_peak_rss_mib'] - r['network_rss_mib']:,.0f})",
           f"  model: {r['description']}",
           f"  {'stage':24s} {'calls':>5s} {'wall s':>7s} {'CPU s':>7s} {'added MiB':>10s} {'max RSS MiB':>12s}"]
    for label, s in r["stages"].items():
        out.append(f"  {label:24s} {s['calls']:5d} {s['wall_s']:7.2f} {s['cpu_s']:7.2f} {s['added_mib']:10,.0f} "
                   f"{s['max_rss_mib']:12,.0f}")
    if r["people"] >= 1_000_000:
        ok = r["fit_peak_rss_mib"] < GB4_MIB  # 4 GB read as 4.0e9 bytes (3,815 MiB), the strict reading
        out.append(f"  target 1M fit peak memory < 4 GB = 3,815 MiB (issue 17): {r['fit_peak_rss_mib']:,.0f} MiB -> "
                   f"{'MET' if ok else 'MISSED'}")
        ok = r["fit_s"] < 20
        out.append(f"  target 1M fit < 20 s (its share of fit + batch < 60 s, issue 17): {r['fit_s']:.1f} s wall "
                   f"(user CPU {r['fit_user_s']:.1f} s) -> {'MET' if ok else 'MISSED'}")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000], help="people per network (default 100000)")
    ap.add_argument("--cache", help="folder keeping the generated networks (bench/batch.py's)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    for n in args.sizes:
        why = check_memory(n)
        if why:
            print(f"error: {why}", file=sys.stderr)
            return 2
    results = []
    for n in args.sizes:
        r = run(n, args.cache)
        results.append(r)
        if not args.json:
            print("\n".join(report(r)), flush=True)
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
