"""What the latency benchmarks share (bench/meet.py, bench/refer.py): a generated network, timed steps,
and latency percentiles. Run the benchmarks as scripts (``python bench/meet.py``): this folder is then
on ``sys.path``."""

from __future__ import annotations

import time

import numpy as np


#: Issue 17's "under 4 GB", read strictly as 4.0e9 bytes (3,815 MiB), in MiB: every bench checks against this.
GB4_MIB = 4e9 / 2**20


def available_memory() -> int:
    """Bytes of memory available to a new process (``MemAvailable``), or 0 if unknown: what the benchmarks check a
    size's estimated peak against before they start."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def timed(fn, *args, **kwargs):
    """``(fn(*args, **kwargs), seconds)``."""
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def generated_network(people: int, seed: int):
    """A generated network of ``people`` as a Network, and the seconds it took."""
    from recommender.demo import generate_network
    from recommender.network import Network

    return timed(lambda: Network.from_frames(**generate_network(people, seed=seed)))


def latency_ms(ms, digits: int = 1) -> dict:
    """p50, p95 and max of call times in milliseconds."""
    ms = np.asarray(ms, dtype=float)
    return {"p50": round(float(np.percentile(ms, 50)), digits), "p95": round(float(np.percentile(ms, 95)), digits),
            "max": round(float(ms.max()), digits)}


def network_options(ap, people: int = 400) -> None:
    """``--db PATH`` or ``--people N --seed S`` (a generated network), and ``--json``."""
    ap.add_argument("--db", help="a fracnet database (default: a generated network)")
    ap.add_argument("--people", type=int, default=people)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")


def network_of(args):
    """The network ``network_options`` chose: read from ``--db`` or generated."""
    if args.db:
        from recommender.network import load_network
        from recommender.store.db import Store

        with Store(args.db) as s:
            return load_network(s)
    return generated_network(args.people, args.seed)[0]
