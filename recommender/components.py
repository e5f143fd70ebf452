"""Connected components of a symmetric sparse graph (:func:`symmetric_components`), labelled as scipy labels them.

scipy's ``connected_components`` labels components in the order of their
lowest-numbered member (the component of node 0 is 0, the next node not in it
starts component 1, ...), whichever of its modes gives them. For a graph of
millions of ties its undirected mode transposes the matrix first and its strong
mode (which needs no transpose on a symmetric matrix) takes 2.3 s at 1M people
and 20M directed ties; a breadth-first search from each unlabelled node in
node order gives the same labels in one pass over the ties (0.4-1.1 s there).
Below :data:`COMPILED_MIN_N` people scipy is used (importing numba would cost
more than it saves); the two give the same labels (``tests/test_graph.py``).
"""

from __future__ import annotations

import threading

import numpy as np

#: Graphs with at least this many nodes take the compiled search (numba, cached on disk).
COMPILED_MIN_N = 300_000

_LOCK = threading.Lock()
_KERNEL = None


def _kernel():
    """The compiled breadth-first labelling, or None without numba."""
    global _KERNEL
    if _KERNEL is None:
        with _LOCK:
            if _KERNEL is None:
                try:
                    from recommender.kernels import numba_cache_dir

                    numba_cache_dir(__file__)  # numba's cache beside the package (or a temporary folder) first
                    from numba import njit
                except ImportError:
                    _KERNEL = False
                else:
                    _KERNEL = njit(nogil=True, cache=True, boundscheck=False)(_bfs_labels)
    return _KERNEL or None


def _bfs_labels(indptr, indices, labels, queue):
    """Label ``labels`` (int32, n) by component, components numbered by their lowest node; returns their count."""
    n = len(indptr) - 1
    for i in range(n):
        labels[i] = -1
    k = 0
    for s in range(n):
        if labels[s] >= 0:
            continue
        labels[s] = k
        queue[0] = s
        head, tail = 0, 1
        while head < tail:
            v = queue[head]
            head += 1
            for e in range(indptr[v], indptr[v + 1]):
                w = indices[e]
                if labels[w] < 0:
                    labels[w] = k
                    queue[tail] = w
                    tail += 1
        k += 1
    return k


def symmetric_components(A, compiled: bool | None = None) -> tuple[int, np.ndarray]:
    """``scipy.sparse.csgraph.connected_components(A, directed=False)`` of a symmetric CSR matrix ``A``.

    Returns (number of components, int32 labels), the same numbers as scipy's.
    ``compiled`` forces the compiled search (True) or scipy (False); by
    default the compiled one from :data:`COMPILED_MIN_N` nodes on.
    """
    from scipy.sparse.csgraph import connected_components

    n = A.shape[0]
    kernel = _kernel() if (n >= COMPILED_MIN_N if compiled is None else compiled) else None
    if kernel is None or n == 0:
        # A is symmetric, so its strong components are its components, found without a transpose (2x faster)
        k, labels = connected_components(A, directed=True, connection="strong")
        return int(k), labels.astype(np.int32, copy=False)
    labels = np.empty(n, dtype=np.int32)
    queue = np.empty(n, dtype=np.int32)
    k = kernel(A.indptr, A.indices, labels, queue)
    return int(k), labels
