"""The classic link-prediction heuristics on a sparse adjacency matrix, scored for pairs in row blocks.

``score_cn``, ``score_jaccard``, ``score_aa``, ``score_ra``, ``score_pa``,
``score_katz`` and ``score_ppr`` (personalised PageRank, symmetrised), each
``(A, pairs) -> ndarray``; :data:`HEURISTICS` names them. No Python loop over
pairs: sparse products of row blocks (``A[rows] @ A``) keep memory bounded.
"""

from __future__ import annotations

import functools
import numbers
import re

import numpy as np
import scipy.sparse as sp

from recommender.errors import UnknownIdError, UsageError

#: Fewest edges a graph needs before a model can be trained or evaluated on it.
MIN_EDGES = 20


# Upper bound on the stored entries of one block of two-hop rows (A[rows] @ A).
_BLOCK_NNZ = 8_000_000


# Largest nnz(A) * n_sources * iterations for which PPR is iterated exactly.
_PPR_EXACT_BUDGET = 3e9


def adjacency_from_edges(u, v, n=None) -> sp.csr_matrix:
    """Build the symmetric binary adjacency matrix of an undirected graph.

    Parameters
    ----------
    u, v : array-like of int, shape (m,)
        Endpoints of the edges, as node indices ``0 .. n-1``. Duplicates and
        both directions of an edge are merged; self loops are dropped.
    n : int, optional
        Number of nodes; defaults to ``max(u, v) + 1``.

    Returns
    -------
    scipy.sparse.csr_matrix of float64, shape (n, n)
        Symmetric, entries 0 or 1, empty diagonal, sorted indices.

    Raises
    ------
    UsageError
        If ``u`` and ``v`` differ in length, hold negative ids, or an id is
        ``>= n``.

    Examples
    --------
    >>> A = adjacency_from_edges([0, 1, 1, 2], [1, 0, 2, 2])
    >>> A.toarray().astype(int)
    array([[0, 1, 0],
           [1, 0, 1],
           [0, 1, 0]])
    """
    u = np.asarray(u, dtype=np.int64).ravel()
    v = np.asarray(v, dtype=np.int64).ravel()
    if u.shape != v.shape:
        raise UsageError(f"u and v must have the same length, got {u.size} and {v.size}")
    top = int(max(u.max(initial=-1), v.max(initial=-1))) + 1
    if n is None:
        n = top
    n = int(n)
    if u.size and (min(u.min(), v.min()) < 0 or top > n):
        raise UsageError(f"node ids must lie in 0..{n - 1}, got ids from {min(u.min(), v.min())} to {top - 1}")
    keep = u != v
    u, v = u[keep], v[keep]
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    A = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    A.sum_duplicates()
    A.data[:] = 1.0
    A.sort_indices()
    return A


def _check_adjacency(A) -> sp.csr_matrix:
    if not sp.issparse(A):
        A = sp.csr_matrix(np.asarray(A, dtype=float))
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise UsageError(f"the adjacency matrix must be square, got shape {A.shape}")
    A = sp.csr_matrix(A, dtype=np.float64)
    if not A.has_sorted_indices:
        A = A.sorted_indices()
    return A


def _check_pairs(A, pairs) -> np.ndarray:
    P = np.asarray(pairs)
    if P.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if P.ndim != 2 or P.shape[1] != 2:
        raise UsageError(f"pairs must be an (m, 2) array of node indices, got shape {P.shape}")
    if not np.issubdtype(P.dtype, np.integer):
        if np.issubdtype(P.dtype, np.floating) and np.all(P == np.round(P)):
            P = P.astype(np.int64)
        else:
            raise UsageError(f"pairs must hold integer node indices, got dtype {P.dtype}")
    P = P.astype(np.int64, copy=False)
    n = A.shape[0]
    bad = (P < 0) | (P >= n)
    if bad.any():
        raise UnknownIdError("node", str(int(P[bad][0])))
    return P


def _degrees(A) -> np.ndarray:
    return np.diff(A.indptr).astype(np.float64)


def _rowdot(X, Y) -> np.ndarray:
    """Row-wise dot products of two sparse matrices of the same shape."""
    return np.asarray(X.multiply(Y).sum(axis=1)).ravel()


def _inv(x) -> np.ndarray:
    out = np.zeros_like(x, dtype=np.float64)
    np.divide(1.0, x, out=out, where=x > 0)
    return out


def _blocks(cost: np.ndarray, budget: float):
    """Split ``range(len(cost))`` into consecutive slices of bounded total cost."""
    m = cost.size
    if m == 0:
        return
    cum = np.cumsum(cost, dtype=np.float64)
    start = 0
    while start < m:
        base = cum[start - 1] if start else 0.0
        stop = int(np.searchsorted(cum, base + budget, side="right"))
        stop = max(stop, start + 1)
        yield slice(start, min(stop, m))
        start = stop


#: The parameters and result every scorer shares; :func:`_pair_scorer` puts them in each docstring.
_PAIRS_DOC = """

    Parameters
    ----------
    A : scipy.sparse matrix, shape (n, n)
        Symmetric binary adjacency matrix.
    pairs : array-like of int, shape (m, 2)
        Node index pairs to score.{options}

    Returns
    -------
    ndarray of float, shape (m,)"""


def _pair_scorer(options: str = ""):
    """Make ``f(A, pairs, **kw)`` a scorer: ``A`` and ``pairs`` checked first, both documented.

    ``options`` documents the keyword arguments (numpydoc lines, indented as
    in a docstring). The shared sections go before the first section of
    ``f``'s docstring (``Raises``, ``Examples``), after its description.
    """

    def decorate(f):
        @functools.wraps(f)
        def scorer(A, pairs, **kw):
            A = _check_adjacency(A)
            return f(A, _check_pairs(A, pairs), **kw)

        first = re.search(r"\n\n(?=    \w+\n    -+\n)", f.__doc__)
        cut = first.start() if first else len(f.__doc__.rstrip())
        scorer.__doc__ = f.__doc__[:cut] + _PAIRS_DOC.format(options=options) + f.__doc__[cut:]
        return scorer

    return decorate


def _weighted_common(A, pairs, weights) -> np.ndarray:
    """``sum_w A[u, w] * weights[w] * A[w, v]`` for every pair, in row blocks."""
    deg = _degrees(A)
    out = np.empty(len(pairs))
    Aw = A @ sp.diags(weights) if weights is not None else A
    for blk in _blocks(deg[pairs[:, 0]] + deg[pairs[:, 1]] + 1.0, _BLOCK_NNZ):
        p = pairs[blk]
        out[blk] = _rowdot(Aw[p[:, 0]], A[p[:, 1]])
    return out


@_pair_scorer()
def score_cn(A, pairs) -> np.ndarray:
    """Common neighbours: the number of neighbours ``u`` and ``v`` share.

    Examples
    --------
    >>> A = adjacency_from_edges([0, 1], [1, 2])  # the path 0 - 1 - 2
    >>> score_cn(A, [[0, 2], [0, 1]])
    array([1., 0.])
    """
    return _weighted_common(A, pairs, None)


@_pair_scorer()
def score_jaccard(A, pairs) -> np.ndarray:
    """Jaccard coefficient ``|N(u) & N(v)| / |N(u) | N(v)|`` (0 when both are isolated).

    Examples
    --------
    >>> A = adjacency_from_edges([0, 1, 1], [1, 2, 3])  # a star centred on 1
    >>> score_jaccard(A, [[0, 2], [0, 1]])
    array([1., 0.])
    """
    cn = _weighted_common(A, pairs, None)
    deg = _degrees(A)
    union = deg[pairs[:, 0]] + deg[pairs[:, 1]] - cn
    return cn * _inv(union)


@_pair_scorer()
def score_aa(A, pairs) -> np.ndarray:
    """Adamic-Adar index ``sum_{w in N(u) & N(v)} 1 / log d(w)``.

    Examples
    --------
    >>> A = adjacency_from_edges([0, 1], [1, 2])
    >>> score_aa(A, [[0, 2]])  # the middle node has degree 2
    array([1.442695...])
    """
    deg = _degrees(A)
    w = np.zeros_like(deg)
    np.divide(1.0, np.log(np.maximum(deg, 1.0)), out=w, where=deg > 1)
    return _weighted_common(A, pairs, w)


@_pair_scorer()
def score_ra(A, pairs) -> np.ndarray:
    """Resource allocation index ``sum_{w in N(u) & N(v)} 1 / d(w)``.

    Examples
    --------
    >>> A = adjacency_from_edges([0, 1], [1, 2])
    >>> score_ra(A, [[0, 2]])
    array([0.5])
    """
    return _weighted_common(A, pairs, _inv(_degrees(A)))


@_pair_scorer()
def score_pa(A, pairs) -> np.ndarray:
    """Preferential attachment ``d(u) * d(v)``.

    Examples
    --------
    >>> A = adjacency_from_edges([0, 1, 1], [1, 2, 3])
    >>> score_pa(A, [[0, 1], [0, 2]])
    array([3., 1.])
    """
    deg = _degrees(A)
    return deg[pairs[:, 0]] * deg[pairs[:, 1]]


def _walk_terms(A, pairs, *, normalised=True, five=False):
    """Walk counts of length 1..4 between each pair, by meet-in-the-middle.

    ``(A^2)_{uv} = A_u . A_v``, ``(A^3)_{uv} = (A_u A) . A_v`` and
    ``(A^4)_{uv} = (A_u A) . (A_v A)``: only two-hop rows of the pairs'
    endpoints are ever formed, one bounded block at a time.

    Returns a dict of arrays: ``w1..w4`` (walk counts) and, if ``normalised``,
    ``s2..s4`` where ``s_t = (A (D^-1 A)^(t-1))_{uv}`` (so that the ``t``-step
    random-walk probability is ``P^t_{uv} = s_t / d_u``; ``s2`` is RA), and with
    ``five`` also ``s5 = B_u . (B_v A)`` (``B = A D^-1 A D^-1``: one three-hop row
    per pair, blocks sized by its bound).
    """
    deg = _degrees(A)
    dinv = _inv(deg)
    m = len(pairs)
    five = bool(five and normalised)
    keys = ["w1", "w2", "w3", "w4"] + (["s2", "s3", "s4"] if normalised else []) + (["s5"] if five else [])
    out = {k: np.empty(m) for k in keys}
    if m == 0:
        return out
    two_hop = np.asarray(A @ deg).ravel()  # nnz bound of a two-hop row
    Dinv = sp.diags(dinv)
    W = (Dinv @ A @ Dinv).tocsr()  # D^-1 A D^-1
    cost = two_hop[pairs[:, 0]] + two_hop[pairs[:, 1]] + 1.0
    if five:  # a three-hop row per pair, bounded by the graph's size
        cost = cost + np.minimum(np.asarray(A @ two_hop).ravel()[pairs[:, 1]], A.shape[0])
    factor = 2.0 if normalised else 1.0
    for blk in _blocks(cost * factor, _BLOCK_NNZ):
        p = pairs[blk]
        Au = A[p[:, 0]]
        Av = A[p[:, 1]]
        A2u = Au @ A
        A2v = Av @ A
        out["w1"][blk] = np.asarray(A[p[:, 0], p[:, 1]]).ravel()
        out["w2"][blk] = _rowdot(Au, Av)
        out["w3"][blk] = _rowdot(A2u, Av)
        out["w4"][blk] = _rowdot(A2u, A2v)
        if normalised:
            Bu = Au @ W  # rows of A D^-1 A D^-1
            Bv = Av @ W
            out["s2"][blk] = _rowdot(Au @ Dinv, Av)
            out["s3"][blk] = _rowdot(Bu, Av)
            out["s4"][blk] = _rowdot(Bu, Bv @ sp.diags(deg))
            if five:
                out["s5"][blk] = _rowdot(Bu, Bv @ A)
        del Au, Av, A2u, A2v
    return out


@_pair_scorer(
    """
    beta : float, default 0.01
        Damping per step, ``0 < beta < 1``.
    max_length : {1, 2, 3, 4}, default 4
        Longest walk counted."""
)
def score_katz(A, pairs, *, beta=0.01, max_length=4) -> np.ndarray:
    """Truncated Katz index ``sum_{l=1}^{L} beta^l (A^l)_{uv}``.

    Walks of length up to ``max_length`` (at most 4) are counted exactly by
    meeting in the middle: ``(A^4)_{uv} = (A_u A) . (A_v A)``.

    Raises
    ------
    UsageError
        If ``beta`` or ``max_length`` is out of range.

    Examples
    --------
    >>> A = adjacency_from_edges([0, 1], [1, 2])  # path 0 - 1 - 2
    >>> score_katz(A, [[0, 2]], beta=0.1, max_length=3)  # one walk of length 2
    array([0.01])
    """
    if not (isinstance(beta, numbers.Real) and 0 < beta < 1):
        raise UsageError(f"beta must be in (0, 1), got {beta!r}")
    if max_length not in (1, 2, 3, 4):
        raise UsageError(f"max_length must be 1, 2, 3 or 4, got {max_length!r}")
    w = _walk_terms(A, pairs, normalised=False)
    return sum(beta**l * w[f"w{l}"] for l in range(1, max_length + 1))


def _ppr_exact(A, sources, targets_of, alpha, tol, max_iter):
    """``ppr_s(t)`` by power iteration, many source columns at once.

    ``targets_of`` is a list aligned with ``sources`` of arrays of targets; the
    result is the concatenation of ``ppr_s(t)`` in the same order.
    """
    n = A.shape[0]
    deg = _degrees(A)
    PT = (A @ sp.diags(_inv(deg))).tocsr()  # column-stochastic (P^T), dangling columns empty
    dangling = deg == 0
    k = max(1, min(len(sources), int(4_000_000 // max(n, 1))))
    results = []
    for start in range(0, len(sources), k):
        src = sources[start : start + k]
        E = np.zeros((n, len(src)))
        E[src, np.arange(len(src))] = 1.0
        Y = E.copy()
        for _ in range(max_iter):
            # a walker on an isolated node restarts: its mass goes back to the source
            lost = Y[dangling].sum(axis=0) if dangling.any() else 0.0
            Ynew = alpha * E + (1 - alpha) * (PT @ Y + E * lost)
            delta = np.abs(Ynew - Y).max()
            Y = Ynew
            if delta < tol:
                break
        for j, s in enumerate(src):
            results.append(Y[targets_of[start + j], j])
    return results


@_pair_scorer(
    """
    alpha : float, default 0.15
        Restart probability, ``0 < alpha < 1``.
    tol : float, default 1e-6
        Largest change of any probability at which power iteration stops.
    max_iter : int, default 100
    method : {"auto", "power", "truncated"}"""
)
def score_ppr(A, pairs, *, alpha=0.15, tol=1e-6, max_iter=100, method="auto") -> np.ndarray:
    """Symmetrised personalised PageRank ``ppr_u(v) + ppr_v(u)``.

    ``ppr_u`` is the stationary distribution of a random walk that restarts at
    ``u`` with probability ``alpha`` at every step. On an undirected graph
    ``d(u) ppr_u(v) = d(v) ppr_v(u)``, so only the pairs' first endpoints are
    used as sources. With ``method="power"`` the distributions are iterated to
    ``tol`` for many sources at once (dense ``n x k`` blocks); with
    ``method="truncated"`` the walk is cut after 4 steps and computed by
    meeting in the middle, which scales to millions of edges. ``"auto"``
    picks ``"power"`` when it is affordable.

    Raises
    ------
    UsageError
        If ``alpha`` or ``method`` is invalid.

    Examples
    --------
    >>> A = adjacency_from_edges([0, 1], [1, 2])
    >>> s = score_ppr(A, [[0, 2], [0, 1]])
    >>> bool(s[1] > s[0] > 0)
    True
    """
    if not (isinstance(alpha, numbers.Real) and 0 < alpha < 1):
        raise UsageError(f"alpha must be in (0, 1), got {alpha!r}")
    if method not in ("auto", "power", "truncated"):
        raise UsageError(f"method must be 'auto', 'power' or 'truncated', got {method!r}")
    if len(pairs) == 0:
        return np.zeros(0)
    deg = _degrees(A)
    u, v = pairs[:, 0], pairs[:, 1]
    if method == "auto":
        n_src = np.unique(u).size
        method = "power" if A.nnz * n_src * 60 <= _PPR_EXACT_BUDGET else "truncated"
    if method == "truncated":
        w = _walk_terms(A, pairs)
        s = [w["w1"], w["s2"], w["s3"], w["s4"]]
        total = sum((1 - alpha) ** t * s[t - 1] for t in range(1, 5))
        return alpha * total * (_inv(deg[u]) + _inv(deg[v]))
    order = np.argsort(u, kind="stable")
    su = u[order]
    sources, starts = np.unique(su, return_index=True)
    bounds = np.append(starts, su.size)
    targets_of = [v[order][bounds[i] : bounds[i + 1]] for i in range(sources.size)]
    vals = np.concatenate(_ppr_exact(A, sources, targets_of, alpha, tol, max_iter))
    fwd = np.empty(len(pairs))
    fwd[order] = vals
    # ppr_v(u) = ppr_u(v) d(u) / d(v); both are 0 when v is isolated and u != v
    back = fwd * deg[u] * _inv(deg[v])
    same = u == v
    back[same] = fwd[same]
    return fwd + back


#: The classic scorers by name, as used by the evaluation protocol.
HEURISTICS = {
    "cn": score_cn,
    "jaccard": score_jaccard,
    "aa": score_aa,
    "ra": score_ra,
    "pa": score_pa,
    "katz": score_katz,
    "ppr": score_ppr,
}
