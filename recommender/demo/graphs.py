"""Small synthetic graphs for link-prediction checks and benchmarks.

>>> geometric_edges(n=10, m=12, seed=0).shape
(12, 2)
"""

from __future__ import annotations

import numpy as np


def geometric_edges(n: int = 80, m: int = 300, seed: int = 0) -> np.ndarray:
    """``m`` edges ``(u, v)``, ``u < v``: the nearest pairs of ``n`` random points in the unit square."""
    rng = np.random.default_rng(seed)
    pos = rng.random((n, 2))
    d = ((pos[:, None] - pos[None]) ** 2).sum(-1)
    iu = np.triu_indices(n, 1)
    order = np.argsort(d[iu])[:m]
    return np.column_stack([iu[0][order], iu[1][order]])
