"""Small vectorised numpy kernels: ranges, per-row counts and top-k, row merges, bit masks; where numba caches.

No model knowledge here; the meet, refer and batch code build on these.
"""

from __future__ import annotations

import os
import tempfile
import threading

import numpy as np
import scipy.sparse as sp


def _bitmask(M: sp.csr_matrix) -> np.ndarray:
    """Rows of a 0/1 matrix as bit masks, shape (n, ceil(n_cols / 64)) of uint64."""
    n, t = M.shape
    words = max(1, -(-t // 64))
    out = np.zeros(n * words, dtype=np.uint64)
    r = np.repeat(np.arange(n, dtype=np.int64), np.diff(M.indptr))
    c = M.indices.astype(np.int64)
    np.bitwise_or.at(out, r * words + c // 64, np.left_shift(np.uint64(1), (c % 64).astype(np.uint64)))
    return out.reshape(n, words)


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for every (s, c), without a loop."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    out = np.ones(total, dtype=np.int64)
    nz = counts > 0
    s, c = np.asarray(starts, dtype=np.int64)[nz], counts[nz]
    ends = np.cumsum(c)
    out[0] = s[0]
    # at each segment start jump from the previous segment's last value to the new start
    out[ends[:-1]] = s[1:] - (s[:-1] + c[:-1] - 1)
    return np.cumsum(out)


def _row_counts(row: np.ndarray, nrows: int) -> np.ndarray:
    return np.bincount(row, minlength=nrows) if len(row) else np.zeros(nrows, np.int64)


def _kth_largest(row: np.ndarray, val: np.ndarray, k: int, nrows: int) -> np.ndarray:
    """Per row, the ``k``-th largest of ``val`` (``-inf`` where the row has at most ``k`` entries).

    ``row`` is non-decreasing (entries grouped by row). Rows are padded into
    a few width buckets and partitioned (``np.partition``); no sort.
    """
    thr = np.full(nrows, -np.inf)
    if len(row) == 0 or k <= 0:
        return thr
    counts = _row_counts(row, nrows)
    big = np.flatnonzero(counts > k)
    if len(big) == 0:
        return thr
    starts = np.r_[0, np.cumsum(counts)][:-1]
    bucket = np.ceil(np.log2(counts[big])).astype(np.int64)
    for bk in np.unique(bucket):
        rr = big[bucket == bk]
        cnt = counts[rr]
        width = int(cnt.max())
        M = np.full(len(rr) * width, -np.inf)
        ent = _ranges(starts[rr], cnt)
        M[ent + np.repeat(np.arange(len(rr)) * width - starts[rr], cnt)] = val[ent]  # row i, column ent - start
        thr[rr] = np.partition(M.reshape(len(rr), width), width - k, axis=1)[:, width - k]
    return thr


#: Entries up to which :func:`_top_per_row` sorts them (a few microseconds) instead of partitioning per row.
_SORT_MAX = 4096


def _top_per_row(row: np.ndarray, val: np.ndarray, k: int, nrows: int, tiebreak: np.ndarray | None = None,
                 thr: np.ndarray | None = None) -> np.ndarray:
    """Mask of the ``k`` largest ``val`` per row (entries grouped by row).

    Ties at the ``k``-th value go to the lowest ``tiebreak`` (default: the
    earliest entry). The answer for a row depends only on that row's entries.
    """
    m = len(row)
    if m == 0 or k <= 0:
        return np.zeros(m, bool)
    if thr is None and m <= _SORT_MAX:  # few entries (one answer's): one sort by row, value descending, tiebreak
        order = np.lexsort((np.arange(m) if tiebreak is None else tiebreak, -val, row))
        keep = np.zeros(m, bool)
        if row[0] == row[-1]:  # one row (entries are grouped by row)
            keep[order[:k]] = True
            return keep
        rs = row[order]
        starts = np.concatenate(([0], np.flatnonzero(rs[1:] != rs[:-1]) + 1))
        rank = np.arange(m) - np.repeat(starts, np.diff(np.append(starts, m)))
        keep[order[rank < k]] = True
        return keep
    if thr is None:
        counts = _row_counts(row, nrows)
        over = counts > k
        if not over.any():
            return np.ones(m, bool)
        if over.sum() * 4 < nrows:  # few crowded rows: work on their entries only
            sub = np.flatnonzero(over[row])
            keep = np.ones(m, bool)
            rr = np.cumsum(over) - 1  # crowded rows renumbered 0..
            keep[sub] = _top_per_row(rr[row[sub]], val[sub], k, int(over.sum()),
                                     None if tiebreak is None else tiebreak[sub])
            return keep
        thr = _kth_largest(row, val, k, nrows)
    t = thr[row]
    keep = val > t
    eq = np.flatnonzero(val == t)
    if len(eq):
        need = k - _row_counts(row[keep], nrows)
        er = row[eq]
        if tiebreak is not None:
            eq = eq[np.lexsort((tiebreak[eq], er))]
            er = row[eq]
        first = np.r_[True, er[1:] != er[:-1]]
        starts = np.flatnonzero(first)
        rank = np.arange(len(eq)) - np.repeat(starts, np.diff(np.r_[starts, len(eq)]))
        keep[eq[rank < need[er]]] = True
    return keep


def list_order(key: np.ndarray, score: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    """``np.lexsort((tiebreak, -score, key))``: by ``key``, then ``score`` descending, then ``tiebreak`` (distinct
    within a key), about 3x faster when each key has few entries (a block's (row, group) lists of ~10).

    A stable sort by key (its entries kept in order), then each key's entries sorted on their own, as the rows of a
    padded (keys, longest list) table (``np.lexsort`` along its rows).

    >>> key, score, tb = np.array([1, 0, 1, 0, 1]), np.array([.5, .2, .9, .2, .5]), np.array([7, 4, 3, 2, 1])
    >>> list_order(key, score, tb).tolist() == np.lexsort((tb, -score, key)).tolist() == [3, 1, 2, 4, 0]
    True
    """
    m = len(key)
    if m == 0:
        return np.zeros(0, dtype=np.intp)
    by_key = np.argsort(key, kind="stable")
    k = key[by_key]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    lens = np.diff(np.r_[starts, m])
    rid = np.repeat(np.arange(len(starts)), lens)
    pos = np.arange(m) - starts[rid]
    S = np.full((len(starts), int(lens.max())), np.inf)  # padding sorts last: every -score is finite
    T = np.zeros(S.shape, dtype=np.asarray(tiebreak).dtype)
    S[rid, pos] = -np.asarray(score)[by_key]
    T[rid, pos] = np.asarray(tiebreak)[by_key]
    within = np.lexsort((T, S), axis=1)
    keep = within < lens[:, None]
    return by_key[(starts[:, None] + within)[keep]]


def entry_positions(M: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """For each ``i``, the place in ``M.indices`` / ``M.data`` of the entry (``rows[i]``, ``cols[i]``) of the CSR
    matrix ``M`` (no duplicate entries), or -1 where ``M`` stores none.

    Each distinct row's entries are marked in the shared scratch row (:data:`_SCRATCH`, left filled with -1)
    and read at its columns: linear in the entries asked for plus the rows' lengths.
    """
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    out = np.full(len(rows), -1, dtype=np.int64)
    if len(rows) == 0:
        return out
    order = np.argsort(rows, kind="stable")
    rs = rows[order]
    cuts = np.concatenate(([0], np.flatnonzero(rs[1:] != rs[:-1]) + 1, [len(rs)])).tolist()
    scratch = _SCRATCH.get(M.shape[1])
    for a, b in zip(cuts[:-1], cuts[1:]):
        x = int(rs[a])
        lo, hi = int(M.indptr[x]), int(M.indptr[x + 1])
        where = M.indices[lo:hi]
        scratch[where] = np.arange(lo, hi)
        sel = order[a:b]
        out[sel] = scratch[cols[sel]]
        scratch[where] = -1
    return out


def spread_product(A, j: np.ndarray, k: np.ndarray, x: np.ndarray, b: int) -> np.ndarray:
    """``A @ X`` (shape (n, b)) for the symmetric ``A`` and the (n, b) matrix ``X`` whose nonzeros are ``x`` at
    (``j``, ``k``), listed with ``j`` ascending within each ``k``: each nonzero spread over row ``j`` of ``A``
    (column ``j``, by symmetry) and added by ``np.bincount`` in that order, which is the order, from 0.0, in which
    the sparse product adds each row's entries (the zeros of ``X`` add nothing): the same bits, for a fraction of
    the work while ``X`` has few nonzeros."""
    n = A.shape[0]
    lo = A.indptr[j].astype(np.int64)
    cnt = A.indptr[j + 1].astype(np.int64) - lo
    ent = _ranges(lo, cnt)
    cell = A.indices[ent].astype(np.int64) * b + np.repeat(k, cnt)
    return np.bincount(cell, weights=A.data[ent] * np.repeat(x, cnt), minlength=n * b).reshape(n, b)


def sum_in_order(terms: np.ndarray) -> np.ndarray:
    """``terms[0] + terms[1] + ...`` (the rows of an array), added one row at a time from 0.0 (numpy's own sum may
    add in pairs, in an order that depends on the shape; its ``accumulate`` is many times slower), so each
    column's sum has the same bits whatever the other columns."""
    out = np.zeros(np.shape(terms)[1:])
    for row in terms:
        out += row
    return out


def _merge_rows(row_a: np.ndarray, row_b: np.ndarray, nrows: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions in a row-grouped merge of two row-grouped lists (each row: a's entries, then b's)."""
    ca, cb = _row_counts(row_a, nrows), _row_counts(row_b, nrows)
    start = np.r_[0, np.cumsum(ca + cb)][:-1]
    sa = np.r_[0, np.cumsum(ca)][:-1]
    sb = np.r_[0, np.cumsum(cb)][:-1]
    pos_a = np.arange(len(row_a)) - sa[row_a] + start[row_a]
    pos_b = np.arange(len(row_b)) - sb[row_b] + start[row_b] + ca[row_b]
    return pos_a, pos_b


class _Scratch(threading.local):
    """A per-thread int32 scratch array, kept between calls (always left filled with -1)."""

    def get(self, size: int) -> np.ndarray:
        arr = getattr(self, "arr", None)
        if arr is None or len(arr) < size:
            arr = np.full(size, -1, dtype=np.int32)
            self.arr = arr
        return arr


_SCRATCH = _Scratch()


def sorted_unique(x: np.ndarray) -> np.ndarray:
    """``np.unique(x)`` of a 1-d integer array, by sorting (several times faster than numpy 2's hashing one)."""
    s = np.sort(x)
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


def match_keys(uniq: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Position of each ``key`` in the sorted unique ``uniq``, -1 where absent (keys < 0 never match)."""
    if not len(uniq):
        return np.full(len(key), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(uniq, key), len(uniq) - 1)
    return np.where((key >= 0) & (uniq[pos] == key), pos, -1)


def numba_cache_dir(source_file: str) -> None:
    """Point numba's cache at a writable folder before numba is imported: beside ``source_file`` (its
    ``__pycache__``, where numba caches by default) when that is writable, else a temporary folder."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    here = os.path.join(os.path.dirname(os.path.abspath(source_file)), "__pycache__")
    try:
        os.makedirs(here, exist_ok=True)
        ok = os.access(here, os.W_OK)
    except OSError:
        ok = False
    if not ok:
        os.environ["NUMBA_CACHE_DIR"] = os.path.join(tempfile.gettempdir(), "fracnet-numba-cache")
