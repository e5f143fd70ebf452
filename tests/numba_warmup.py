"""Compile the batch job's numba kernels once, before the tests that use them (a test-only helper).

Compiled code is cached on disk beside the package (:mod:`recommender.batch.fast`), so only a fresh clone
compiles, but that compile costs ~25 s of CPU, and with two pytest-xdist workers each worker (and any
CLI subprocess) that reaches the kernels before the cache is written compiles them again. The root
``conftest.py`` runs this script once per session in the background as soon as pytest starts (only when the
cache is missing or older than the kernels' source), and the tests that take the compiled path wait for it
through the ``compiled_kernels`` fixture; it then loads from the cache in about a second.

Run as ``python tests/numba_warmup.py MARKER``: batch-scores a tiny generated network on the compiled path
(every kernel and signature the tests use; a bigger network adds none) and writes ``MARKER`` when done, even
on failure. tests/test_batch_fast.py checks that its model takes the compiled path (a warm-up on the numpy
path compiles nothing, and each worker that reaches the kernels compiles them itself: ~25 s of CPU).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

KERNEL_SOURCES = ("compiled.py", "compiled_graph.py")


def cache_is_fresh(package_dir: Path) -> bool:
    """Whether every kernel module has a numba index beside the package newer than its source."""
    if os.environ.get("NUMBA_CACHE_DIR"):  # a cache elsewhere: its layout is numba's business, warm it anyway
        return False
    batch = package_dir / "batch"
    cache = batch / "__pycache__"
    for name in KERNEL_SOURCES:
        src = batch / name
        if not src.exists():
            continue
        stem = name[:-3]
        index = list(cache.glob(f"{stem}.*.nbi")) if cache.is_dir() else []
        if not index or min(p.stat().st_mtime for p in index) < src.stat().st_mtime:
            return False
    return True


def warm_model():
    """The model the warm-up scores: fitted on a tiny generated network as if it were above the walk cap
    (``features.WALK_MAX_N`` 0 while fitting, as tests/test_batch_fast.py's ``demo_model``), so its ranker
    gives the walk columns weight 0 and the batch job takes the compiled path. A network of at most
    WALK_MAX_N people fitted as usual weighs them and takes the numpy path: nothing would be compiled."""
    from recommender.demo import generate_network
    from recommender.meet import features
    from recommender.meet.model import MeetModel
    from recommender.network import Network

    cap = features.WALK_MAX_N
    features.WALK_MAX_N = 0
    try:
        return MeetModel(estimator="logistic").fit(Network.from_frames(**generate_network(60, seed=1)))
    finally:
        features.WALK_MAX_N = cap


def warm() -> str:
    """Compile (or load) every kernel: batch-score :func:`warm_model` (``prune_block``) and run the graph
    stage and the reference kernel once (what tests/test_batch_fast.py calls directly); the path taken."""
    import numpy as np

    from recommender.batch import fast
    from recommender.batch.meet import meet_frame

    if fast.compiled() is None:
        return "numba is not installed"
    model = warm_model()
    meet_frame(model, k=5, block_size=32)
    g, rows, n = fast.graph_arrays(model.context_), np.arange(0, 8), len(model.context_)
    spa, touched, stamp = fast._THREAD.stamps(n, len(rows))
    fast.compiled().two_hop_block(rows, g["nbr"], g["edges"], spa, touched, stamp)
    ref, touched, stamp = fast._THREAD.stamps(n, len(rows), "ref")
    fast.compiled().reference_aa_topk(rows, g["indptr"], g["indices"], g["inv_log_deg"], 5, ref, touched, stamp)
    return fast.path_taken(model)


def main(marker: str) -> int:
    try:
        print(warm())
        return 0
    finally:
        Path(marker).write_text("done\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
