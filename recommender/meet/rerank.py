"""Stage 2 of the meet answer: a learned reranker of each list's top candidates, in numpy and scipy.sparse.

The answer is a two-stage cascade, the same in ``fracnet meet``, ``fracnet batch meet``, the
explorer and every ``fracnet evaluate``:

1. the linear :class:`~recommender.meet.pair_scorer.PairScorer` scores every candidate and keeps
   the top :data:`RERANK_M` per (person, group);
2. :class:`Reranker` rescores those pairs from the stage-1 log-odds, the stage-1 columns and
   columns a global pointwise model cannot express (:data:`RERANK_FEATURES`):

   * per list (listwise): the pair's stage-1 log-odds minus the list's best, and its rank in the
     list; the pair's resource allocation, common neighbours and Adamic-Adar relative to the
     list's best, and their ranks in the list;
   * per person: resource allocation divided by each person's total resource reach
     ``sum_{w in N(p)} (d(w) - 1) / d(w)`` (``ra_u``: the query's, ``ra_v``: the candidate's);
   * triangles: ``tri_u = sum_{w in N(u) & N(v)} t(u, w) / d(w)`` with ``t(u, w)`` the triangles
     on the tie ``u - w`` (how embedded each mutual contact is in ``u``'s circle; ``tri_v`` from
     ``v``'s side). The edge-triangle matrix is built once per graph, on networks of at most
     :data:`~recommender.meet.features.GLOBAL_MAX_N` people (else the columns are 0);
   * ``lowrank``: the pair's entry in a low-rank reconstruction of the tie matrix,
     ``sum_j lambda_j x_uj x_vj`` over its :data:`LOWRANK_DIM` eigenpairs of largest magnitude
     (fewer on small networks: :func:`lowrank_factors`). Distinct from stage 1's 16-dimensional
     spectral embedding of the *normalised* matrix: a rank this high reproduces the dense friend
     circles themselves, and on ego-facebook-dev it lifted the cascade's recall@10 from 0.596 to 0.613
     (mean of four holdouts, with and without tags). Computed once per graph, on networks of at most ``GLOBAL_MAX_N`` people, and
     kept with the graph's structure (so a saved model answers without recomputing it).

A pair's stage-2 columns depend only on its own list (the top ``M`` of its person and group),
so a block of one and a whole-network batch give the same answer. The reranker is learned
(:mod:`recommender.meet.rerank_fit`); every weight, including those of columns with no signal
on a network, comes from that network. Nothing here imports scikit-learn.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.kernels import _ranges, entry_positions, sum_in_order
from recommender.meet.features import FEATURE_NAMES, GLOBAL_MAX_N, structure
from recommender.meet.persistence import attributes_state, from_attributes_state

__all__ = ["RERANK_M", "RERANK_FEATURES", "LOWRANK_DIM", "Reranker", "rerank_matrix", "top_m", "list_ids",
           "lowrank_factors"]

#: Candidates per (person, group) that stage 1 hands to stage 2.
RERANK_M = 50

#: Stage 2's own columns (besides the stage-1 log-odds and the stage-1 columns).
LIST_FEATURES = ("s1_gap", "s1_rank", "ra_rel", "ra_rank", "cn_rel", "cn_rank", "aa_rel", "aa_rank")
PAIR_FEATURES = ("ra_u", "ra_v", "tri_u", "tri_v", "lowrank")
RERANK_FEATURES = LIST_FEATURES + PAIR_FEATURES

_RA, _CN, _AA = (FEATURE_NAMES.index(f) for f in ("ra", "cn", "aa"))


def list_ids(pr: np.ndarray, group: np.ndarray) -> np.ndarray:
    """The list of each pair: (row, group); a pair in no group (-1) has a list of its own per row."""
    return np.asarray(pr, dtype=np.int64) * 4 + (np.asarray(group, dtype=np.int64) + 1)


class _Lists:
    """The pairs' lists, laid out once as a padded (lists x longest) table in (list, tiebreak) order."""

    def __init__(self, lid: np.ndarray, tiebreak: np.ndarray):
        m = len(lid)
        self.order = np.lexsort((tiebreak, lid))
        ls = lid[self.order]
        first = np.r_[0, np.flatnonzero(ls[1:] != ls[:-1]) + 1] if m else np.zeros(0, np.int64)
        counts = np.diff(np.r_[first, m])
        self.shape = (len(first), int(counts.max()) if m else 0)
        self.list_of = np.repeat(np.arange(len(first)), counts)  # in sorted order
        self.slot = np.arange(m) - np.repeat(first, counts)
        self.m = m

    def best_rank(self, x: np.ndarray):
        """``(best, rank)`` of each entry in its list: the list's largest ``x`` and its 0-based rank
        (ties to the lowest tiebreak)."""
        T = np.full(self.shape, -np.inf)
        xs = x[self.order]
        T[self.list_of, self.slot] = xs
        # a stable sort of the negated values: equal values keep the (tiebreak) order of the table
        pos = np.argsort(-T, axis=1, kind="stable")
        R = np.empty(self.shape, dtype=np.int64)
        np.put_along_axis(R, pos, np.arange(self.shape[1])[None, :], axis=1)
        rank, best = np.empty(self.m), np.empty(self.m)
        rank[self.order] = R[self.list_of, self.slot]
        best[self.order] = T.max(axis=1)[self.list_of] if self.m else xs
        return best, rank


def _segments(lid: np.ndarray, x: np.ndarray, tiebreak: np.ndarray):
    """``(best, rank)`` of each entry within its list (see :class:`_Lists`)."""
    return _Lists(lid, tiebreak).best_rank(x)


def top_m(lid: np.ndarray, s1: np.ndarray, tiebreak: np.ndarray, m: int = RERANK_M) -> np.ndarray:
    """Mask of the ``m`` best stage-1 scores per list (ties to the lowest ``tiebreak``)."""
    if len(lid) == 0:
        return np.zeros(0, bool)
    return _segments(lid, s1, tiebreak)[1] < m


def _graph(ctx) -> dict:
    """Per-graph inputs of the pair columns, computed once and kept on the context."""
    g = ctx.__dict__.get("_rerank")
    if g is None:
        A = sp.csr_matrix(ctx.A, dtype=np.float64, copy=True)
        A.data[:] = 1.0
        n = A.shape[0]
        deg = np.asarray(A.sum(axis=1)).ravel()
        inv = np.divide(1.0, deg, out=np.zeros(n), where=deg > 0)
        reach = A @ np.where(deg > 0, (deg - 1.0) * inv, 0.0)
        TD = None
        if 0 < n <= GLOBAL_MAX_N and A.nnz:
            T = (A @ A).multiply(A).tocsr()  # triangles on each tie
            TD = (T @ sp.diags(inv)).tocsr()
            TD.sort_indices()
        A.sort_indices()
        g = {"A": A, "reach": reach, "TD": TD}
        ctx.__dict__["_rerank"] = g
    return g


#: Rank of the low-rank reconstruction (``lowrank``) at most: on ego-facebook-dev (1,820 people) ranks 32, 64, 128
#: and 256 gave the cascade recall@10 0.601, 0.607, 0.615 and 0.618 on one holdout; 512 0.618 at four times the cost.
LOWRANK_DIM = 256

#: People per dimension of the reconstruction at least: a network of n people gets rank ``n // 4`` when smaller.
LOWRANK_PEOPLE_PER_DIM = 4


def lowrank_factors(ctx) -> tuple[np.ndarray, np.ndarray]:
    """``(vals, vecsT)``: eigenvalues (k,) and eigenvectors, transposed (k, n), of the binary tie matrix.

    The ``k = min(LOWRANK_DIM, n // LOWRANK_PEOPLE_PER_DIM)`` eigenpairs of largest magnitude (both signs),
    from a seeded randomised range finder (16 extra columns, two power iterations) and an exact
    eigendecomposition of the projected matrix: deterministic for a graph. Empty (k = 0) on networks
    over :data:`~recommender.meet.features.GLOBAL_MAX_N` people, without ties or with fewer than two
    dimensions' worth of people. Kept in the graph's :func:`~recommender.meet.features.structure` (and its
    saved state).
    """
    st = structure(ctx)
    if "lowrank_vals" not in st:
        A = sp.csr_matrix(ctx.A, dtype=np.float64, copy=True)
        A.data[:] = 1.0
        n = A.shape[0]
        k = min(LOWRANK_DIM, n // LOWRANK_PEOPLE_PER_DIM)
        vals, vecs_t = np.zeros(0), np.zeros((0, n))
        if k >= 2 and n <= GLOBAL_MAX_N and A.nnz:
            rng = np.random.default_rng(0)
            Q = np.linalg.qr(A @ rng.standard_normal((n, min(n, k + 16))))[0]
            for _ in range(2):
                Q = np.linalg.qr(A @ Q)[0]
            P = Q.T @ (A @ Q)
            w, V = np.linalg.eigh((P + P.T) / 2.0)
            top = np.argsort(-np.abs(w), kind="stable")[:k]
            vals, vecs_t = w[top], np.ascontiguousarray((Q @ V[:, top]).T)
        st["lowrank_vals"], st["lowrank_vecs_t"] = vals, vecs_t
    return st["lowrank_vals"], st["lowrank_vecs_t"]


#: Pairs at a time in :func:`_lowrank` (its products take pairs x dimensions cells).
_LOWRANK_PAIRS = 2048


def _lowrank(ctx, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``sum_j vals_j x_uj x_vj`` per pair, added dimension by dimension in order (a pair's value never depends on
    the batch): the products of a block of pairs at once, then :func:`~recommender.kernels.sum_in_order`."""
    vals, vt = lowrank_factors(ctx)
    m = len(u)
    out = np.zeros(m)
    if len(vals) == 0 or m == 0:
        return out
    for p0 in range(0, m, _LOWRANK_PAIRS):
        uu, vv = u[p0:p0 + _LOWRANK_PAIRS], v[p0:p0 + _LOWRANK_PAIRS]
        out[p0:p0 + _LOWRANK_PAIRS] = sum_in_order(vals[:, None] * (vt[:, uu] * vt[:, vv]))  # (dimensions, pairs)
    return out


def _row_dots(M: sp.csr_matrix, a: np.ndarray, B: sp.csr_matrix, b: np.ndarray) -> np.ndarray:
    """``sum_w M[a_i, w] * B[b_i, w]`` per pair ``i`` (``M`` and ``B`` with sorted indices, no stored zeros).

    The numbers of ``M[a].multiply(B[b]).sum(axis=1)`` without building either row gather: each pair's entries
    of the row on the side with more distinct rows are looked up in the other's
    (:func:`~recommender.kernels.entry_positions`), so each pair's products come in column order, and they are
    added by ``np.add.reduceat`` as scipy's row sum adds the product's entries: the same bits.
    """
    m = len(a)
    out = np.zeros(m)
    if m == 0:
        return out
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    look_in_m = len(np.unique(a)) <= len(np.unique(b))
    K, k, S, s_rows = (M, a, B, b) if look_in_m else (B, b, M, a)  # K: the side looked up in, S: the side read
    start = S.indptr[s_rows].astype(np.int64)
    cnt = S.indptr[s_rows + 1].astype(np.int64) - start
    ent = _ranges(start, cnt)
    pair = np.repeat(np.arange(m), cnt)
    other = entry_positions(K, k[pair], S.indices[ent])
    hit = other >= 0  # the columns both rows hold: the product's entries
    ent, other, pair = ent[hit], other[hit], pair[hit]
    prod = K.data[other] * S.data[ent] if look_in_m else S.data[ent] * K.data[other]  # M's entry times B's
    if len(prod):
        first = np.concatenate(([0], np.flatnonzero(pair[1:] != pair[:-1]) + 1))
        out[pair[first]] = np.add.reduceat(prod, first)
    return out


def rerank_matrix(ctx, rows: np.ndarray, pr: np.ndarray, pc: np.ndarray, X: np.ndarray, s1: np.ndarray,
                  lid: np.ndarray, used: np.ndarray) -> np.ndarray:
    """Stage 2's input rows: ``[s1, log1p stage-1 columns (used), RERANK_FEATURES]``, shape (m, 1 + u + R).

    ``X`` are the pairs' :data:`~recommender.meet.features.FEATURE_NAMES`, ``s1`` their stage-1
    log-odds and ``lid`` their lists (:func:`list_ids`); the pairs are a whole number of lists.
    """
    from recommender.meet.pair_scorer import _transform

    m = len(pr)
    u = rows[pr]
    f = {}
    lists = _Lists(lid, pc)
    best, rank = lists.best_rank(s1)
    f["s1_gap"], f["s1_rank"] = s1 - best, np.log1p(rank)
    for name, j in (("ra", _RA), ("cn", _CN), ("aa", _AA)):
        best, rank = lists.best_rank(X[:, j])
        f[name + "_rel"] = np.divide(X[:, j], best, out=np.zeros(m), where=best > 0)
        f[name + "_rank"] = np.log1p(rank)
    g = _graph(ctx)
    ra = X[:, _RA]
    for name, p in (("ra_u", u), ("ra_v", pc)):
        r = g["reach"][p]
        f[name] = np.divide(ra, r, out=np.zeros(m), where=r > 0)
    if g["TD"] is not None:
        f["tri_u"] = np.log1p(_row_dots(g["TD"], u, g["A"], pc))
        f["tri_v"] = np.log1p(_row_dots(g["TD"], pc, g["A"], u))
    else:
        f["tri_u"] = f["tri_v"] = np.zeros(m)
    f["lowrank"] = _lowrank(ctx, u, pc)
    out = np.empty((m, 1 + len(used) + len(RERANK_FEATURES)))
    out[:, 0] = s1
    out[:, 1:1 + len(used)] = _transform(X)[:, used]
    for i, name in enumerate(RERANK_FEATURES):
        out[:, 1 + len(used) + i] = f[name]
    return out


class Reranker:
    """Stage 2's fitted logistic model on standardised :func:`rerank_matrix` rows (numpy only).

    Attributes
    ----------
    coef_, mean_, scale_ : ndarray
    intercept_ : float
    used_ : ndarray of int
        The stage-1 columns it reads (the stage-1 ranker's).
    n_rows_, n_positive_ : int
        Its training rows and positives.
    validation_ : dict
        Recall@10 of stage 1 and of the cascade on the training queries held out of its fit.
    """

    _ARRAYS = ("coef_", "mean_", "scale_", "used_")
    _VALUES = ("intercept_", "n_rows_", "n_positive_", "validation_", "m_")

    def get_params(self, deep: bool = False) -> dict:
        return {}

    def decision(self, B: np.ndarray) -> np.ndarray:
        """Log-odds of :func:`rerank_matrix` rows, shape (m,); each row's independent of the batch."""
        return (((B - self.mean_) / self.scale_) * self.coef_).sum(axis=1) + self.intercept_

    def to_state(self) -> dict:
        return attributes_state(self, self._ARRAYS + self._VALUES)

    @classmethod
    def from_state(cls, state: dict) -> "Reranker":
        return from_attributes_state(cls, state)
