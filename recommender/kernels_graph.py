"""Compiled (numba) kernels of the fit's graph builds: a tie table's directed records, and one graph as of a date.

Both do in one pass over the directed records what
:meth:`~recommender.network.TieTable.directed` and
:func:`~recommender.meet.context.build_context` do with whole-array numpy
steps (a CSR build that sorts, then gathers and filters of arrays of 20M
records at 1M people), with the same results: integers and gathers only, every
floating-point number is computed by the numpy code before. They release the
GIL and are cached on disk (as :mod:`recommender.batch.compiled_graph`'s).

Numba is imported only here, and this module only for graphs of at least
:data:`recommender.network.COMPILED_MIN_RECORDS` directed records
(:func:`recommender.network.graph_kernels`): small networks (the tests', the
sample) keep the numpy steps, which need no compile.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_NOGIL = {"nogil": True, "cache": True, "boundscheck": False}


@njit(**_NOGIL)
def directed_order(row, col, order, indptr):
    """Sort the records ``(row[k], col[k])`` by (row, col), equal pairs in input order; whether some pair repeats.

    Fills ``order`` (the records' positions in that order) and ``indptr``
    (``n + 1``: the records of row ``i`` are ``order[indptr[i]:indptr[i + 1]]``,
    zeros on entry). A stable counting sort by row, then each row's records
    sorted by column (stable: insertion sort for short rows, merge sort for
    long ones).
    """
    m = len(row)
    n = len(indptr) - 1
    for k in range(m):
        indptr[row[k] + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    fill = indptr[:-1].copy()
    for k in range(m):
        r = row[k]
        order[fill[r]] = k
        fill[r] += 1
    repeated = False
    for i in range(n):
        s, e = indptr[i], indptr[i + 1]
        if e - s > 32:
            seg = order[s:e].copy()
            keys = col[seg]
            o = np.argsort(keys, kind="mergesort")
            for j in range(e - s):
                order[s + j] = seg[o[j]]
        else:
            for j in range(s + 1, e):
                x = order[j]
                cx = col[x]
                q = j - 1
                while q >= s and col[order[q]] > cx:
                    order[q + 1] = order[q]
                    q -= 1
                order[q + 1] = x
        for j in range(s + 1, e):
            if col[order[j]] == col[order[j - 1]]:
                repeated = True
    return repeated


@njit(**_NOGIL)
def window_graph(indptr, col, rec, keep, weight, fresh, recent, group, g, out_indices, out_weight, out_fresh):
    """One graph from the directed records: the records whose tie is kept, in CSR order; its counts.

    ``indptr``/``col``/``rec`` are :meth:`TieTable.directed`'s (every pair
    once); ``keep`` (per tie of ``rec``; empty: all) says which ties the
    graph has, ``weight`` and ``fresh`` (float32, per tie) are copied to
    ``out_weight``/``out_fresh`` beside each kept record's column in
    ``out_indices``. Returns the graph's ``indptr``, per row the kept records
    whose tie is ``recent``, and the ties counted between specialty groups
    (``group`` per person, ``g`` groups: ``g * g`` counts, row-major; none
    when ``g`` is 0).
    """
    n = len(indptr) - 1
    out_indptr = np.zeros(n + 1, out_indices.dtype)
    n_recent = np.zeros(n, np.int64)
    pairs = np.zeros(g * g, np.int64)
    use_keep = len(keep) > 0
    p = 0
    for i in range(n):
        gi = group[i] * g if g else 0
        for k in range(indptr[i], indptr[i + 1]):
            t = rec[k]
            if use_keep and not keep[t]:
                continue
            c = col[k]
            out_indices[p] = c
            out_weight[p] = weight[t]
            out_fresh[p] = fresh[t]
            if recent[t]:
                n_recent[i] += 1
            if g:
                pairs[gi + group[c]] += 1
            p += 1
        out_indptr[i + 1] = p
    return out_indptr, n_recent, pairs
