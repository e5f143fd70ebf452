"""Two-hop aggregates: mutual contacts, vectorised, no global sort (:func:`two_hop_paths`), and best introducers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from recommender.kernels import _ranges

if TYPE_CHECKING:  # annotations only
    from recommender.meet.context import FeatureContext


@dataclass(eq=False)
class TwoHop:
    """Aggregates over the mutual contacts of (row, person) pairs two hops apart.

    One entry per pair, sorted by (block row, person). A row's own person
    (``v == u``, reached back through each contact) has an entry too, marked
    ``tied``: nothing takes tied pairs as candidates. ``cn``,
    ``aa``, ``ra`` sum over the mutual contacts ``w``; ``trust`` is
    ``max_w min(W[u, w], W[w, v])`` over the contacts who may introduce (not
    opted out; 0 when there is none) and ``recency`` the same over tie
    freshness; ``tied`` marks pairs that are already tied. The best
    introducer of a pair (the ``w`` reaching ``trust``, lowest position on
    ties) is found on demand (:meth:`introducers`).
    """

    n: int
    row: np.ndarray
    col: np.ndarray
    _cn: np.ndarray  # every value array carries a trailing 0: index -1 reads "no two-hop path"
    _aa: np.ndarray
    _ra: np.ndarray
    _trust: np.ndarray
    _recency: np.ndarray
    tied: np.ndarray
    _start: np.ndarray  # first sorted path of each pair
    _perm: np.ndarray  # sorted path -> path (paths are in expansion order: row, mutual contact, person)
    _w: np.ndarray  # per path: mutual contact
    _pt: np.ndarray  # per path: min(W[u, w], W[w, v])
    rows: np.ndarray  # the block's query people (positions)

    cn = property(lambda self: self._cn[:-1])
    aa = property(lambda self: self._aa[:-1])
    ra = property(lambda self: self._ra[:-1])
    trust = property(lambda self: self._trust[:-1])
    recency = property(lambda self: self._recency[:-1])

    @property
    def key(self) -> np.ndarray:
        """``row * n + person``, sorted and unique."""
        return self.row * self.n + self.col

    def __len__(self) -> int:
        return len(self.row)

    @property
    def introducer(self) -> np.ndarray:
        return self.introducers(np.arange(len(self.row)))

    def introducers(self, idx: np.ndarray) -> np.ndarray:
        """Best introducer (position) of entries ``idx`` (-1 for ``idx == -1``)."""
        idx = np.asarray(idx, dtype=np.int64)
        out = np.full(len(idx), -1, dtype=np.int64)
        ok = np.flatnonzero(idx >= 0)
        if len(ok) == 0:
            return out
        j = idx[ok]
        cnt = self._cn[j].astype(np.int64)
        path = self._perm[_ranges(self._start[j], cnt)]  # a pair's paths in order of the mutual contact
        best = np.repeat(self._trust[j], cnt)
        seg = np.r_[0, np.cumsum(cnt)][:-1]
        local = np.arange(len(path)) - np.repeat(seg, cnt)
        cand = np.where(self._pt[path] == best, local, np.iinfo(np.int64).max)
        first = np.minimum.reduceat(cand, seg)
        # trust 0: every mutual contact opted out (real ties have trust > 0), so there is no introducer
        out[ok] = np.where(self._trust[j] > 0, self._w[path[seg + first]], -1)
        return out

    def locate(self, pair_row: np.ndarray, pair_col: np.ndarray) -> np.ndarray:
        """Index of each (block row, person) pair, or -1 when the two have no mutual contact (or are one)."""
        keys = self.key
        pair_row = np.asarray(pair_row, dtype=np.int64)
        pair_col = np.asarray(pair_col, dtype=np.int64)
        q = pair_row * self.n + pair_col
        if len(keys) == 0 or len(q) == 0:
            return np.full(len(q), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(keys, q), len(keys) - 1)
        return np.where((keys[pos] == q) & (pair_col != self.rows[pair_row]), pos, -1)


def _empty_two_hop(n: int, rows: np.ndarray) -> TwoHop:
    z = np.zeros(1)
    e = np.zeros(0, np.int64)
    return TwoHop(n, e, e, z, z, z, z, z, np.zeros(0, bool), e, e, e, np.zeros(0), rows)


def two_hop_paths(ctx: FeatureContext, rows: np.ndarray) -> TwoHop:
    """Expand every path ``u - w - v`` from the block's rows and aggregate per (u, v).

    The second hops are read as the contacts' entries of ``A`` (whose
    pattern ``W`` and ``F`` share); the paths are grouped per pair by a counting sort (a
    CSR -> CSC -> CSR transposition of the block's path matrix, linear in the
    number of paths). Most pairs have one mutual contact: their aggregates are
    plain gathers, and ``ufunc.reduceat`` runs only over the pairs with
    several. Nothing is sorted by comparison and each row's result depends
    only on that row.

    Parameters
    ----------
    ctx : FeatureContext
    rows : ndarray of int, shape (b,)
        Positions of the block's query people.

    Returns
    -------
    TwoHop
    """
    n = len(ctx)
    rows = np.asarray(rows, dtype=np.int64)
    b = len(rows)
    indptr = ctx.indptr64
    s1 = indptr[rows]
    c1 = indptr[rows + 1] - s1
    e1 = _ranges(s1, c1)
    mid = ctx.A.indices[e1]
    # the second hops, in (row, mutual contact, person) order: the contacts' rows of A, and of W and F (A's pattern)
    s2 = indptr[mid]
    c2 = indptr[mid + 1] - s2
    e2 = _ranges(s2, c2)
    v = ctx.A.indices[e2]
    w2, f2 = ctx.W.data[e2], ctx.F.data[e2]
    n_paths = len(v)
    if n_paths == 0:
        return _empty_two_hop(n, rows)
    # counting sort of the paths by (row, v): transpose twice; u - w - u paths are dropped as pairs below
    idx_t = np.int32 if n_paths < 2**31 and n < 2**31 else np.int64
    row_ptr = np.concatenate(([0], np.cumsum(c2)))[np.concatenate(([0], np.cumsum(c1)))].astype(idx_t)
    P = sp.csr_matrix((np.arange(n_paths, dtype=idx_t), v.astype(idx_t, copy=False), row_ptr), shape=(b, n))
    P = P.tocsc().tocsr()
    col_s, perm, ptr = P.indices, P.data, P.indptr
    new = np.empty(n_paths, dtype=bool)
    new[0] = True
    np.not_equal(col_s[1:], col_s[:-1], out=new[1:])
    new[ptr[:-1][np.diff(ptr) > 0]] = True
    start = np.flatnonzero(new)
    row = np.repeat(np.arange(b, dtype=np.int64), np.diff(np.searchsorted(start, ptr)))
    col = col_s[start].astype(np.int64)
    cnt = np.diff(np.r_[start, n_paths])
    m = len(start)
    # per path: the mutual contact and the two ties' min trust and freshness (path order, contiguous reads)
    w_path = np.repeat(mid, c2)
    # a path through an opted-out contact has no introducer trust: it never names them (0 = no introducer)
    pt = np.minimum(np.repeat(ctx.W.data[e1] * ctx.introducer_ok[mid], c2), w2)
    pf = np.minimum(np.repeat(ctx.F.data[e1], c2), f2)
    # per pair: singletons are gathers; pairs with several mutual contacts are reduced
    first = perm[start]
    multi = np.flatnonzero(cnt > 1)
    m_cnt = cnt[multi]
    m_path = perm[_ranges(start[multi], m_cnt)]
    m_seg = np.r_[0, np.cumsum(m_cnt)][:-1]

    def reduce(ufunc, of_path, dtype=float):
        out = np.zeros(m + 1, dtype=dtype)  # a trailing 0 (see TwoHop)
        out[:m] = of_path(first)
        if len(multi):
            out[multi] = ufunc.reduceat(of_path(m_path), m_seg)
        return out

    # sums in path order, one addition after another (bincount; reduceat would add pairwise): the compiled
    # batch kernel (recommender/batch/compiled.py) adds in the same order, so both give the same bits
    m_pair = np.repeat(np.arange(len(multi)), m_cnt) if len(multi) else None

    def total(of_w):
        out = np.zeros(m + 1)
        out[:m] = of_w[w_path[first]]
        if len(multi):
            out[multi] = np.bincount(m_pair, weights=of_w[w_path[m_path]], minlength=len(multi))
        return out

    ra, aa = total(ctx.inv_deg), total(ctx.inv_log_deg)  # resource allocation, Adamic-Adar
    trust = reduce(np.maximum, lambda p: pt[p])
    recency = reduce(np.maximum, lambda p: pf[p])
    cn = np.zeros(m + 1)
    cn[:m] = cnt
    # already tied: the block's ties, looked up among the sorted pair keys; each row's own entry (u, u),
    # reached back through every contact, is kept (no compaction) and marked tied, so it is never a candidate
    keys = row * n + col
    tie_keys = np.r_[np.repeat(np.arange(b, dtype=np.int64), c1) * n + mid, np.arange(b, dtype=np.int64) * n + rows]
    tied = np.zeros(m, dtype=bool)
    if m and len(tie_keys):
        pos = np.minimum(np.searchsorted(keys, tie_keys), m - 1)
        tied[pos[keys[pos] == tie_keys]] = True
    return TwoHop(n, row, col, cn, aa, ra, trust, recency, tied, start, perm, w_path, pt, rows)


def best_introducers(ctx: FeatureContext, rows: np.ndarray, pair_row: np.ndarray, pair_col: np.ndarray):
    """The best introducer of each pair (position or -1) and its trust (min of the two ties)."""
    return lookup_introducers(ctx, two_hop_paths(ctx, rows), pair_row, pair_col)


def lookup_introducers(ctx: FeatureContext, hop: TwoHop, pair_row: np.ndarray, pair_col: np.ndarray):
    """:func:`best_introducers` from an already computed :func:`two_hop_paths` of the block."""
    idx = hop.locate(pair_row, pair_col)
    return hop.introducers(idx), hop._trust[idx]
