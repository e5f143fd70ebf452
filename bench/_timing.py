"""What the latency benchmarks share (bench/meet.py, bench/refer.py): a generated network, timed steps,
and latency percentiles. Run the benchmarks as scripts (``python bench/meet.py``): this folder is then
on ``sys.path``."""

from __future__ import annotations

import time

import numpy as np


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
