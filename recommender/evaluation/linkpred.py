"""Link prediction on a sparse adjacency matrix: heuristics, features, a learned model.

Everything here works on a symmetric binary :class:`scipy.sparse.csr_matrix`
``A`` (``n x n``) and on *pairs*, an ``(m, 2)`` integer array of node indices.
No function loops over pairs in Python: scores come from sparse products of row
blocks (``A[rows] @ A``), sized so that memory stays bounded on graphs with
millions of edges.

Heuristics (each ``score_xxx(A, pairs) -> ndarray`` of shape ``(m,)``):

=========== ==============================================================
``cn``       common neighbours ``|N(u) & N(v)|``
``jaccard``  ``|N(u) & N(v)| / |N(u) | N(v)|``
``aa``       Adamic-Adar ``sum_{w in N(u) & N(v)} 1 / log d(w)``
``ra``       resource allocation ``sum_{w in N(u) & N(v)} 1 / d(w)``
``pa``       preferential attachment ``d(u) d(v)``
``katz``     truncated Katz ``sum_{l <= L} beta^l (A^l)_{uv}``
``ppr``      personalised PageRank, symmetrised ``ppr_u(v) + ppr_v(u)``
=========== ==============================================================

:func:`graph_pair_features` stacks these with global features (walk counts,
random-walk probabilities, capped distance, components, clustering, a spectral
embedding) for learned rankers; :class:`LinkPredictor` learns to combine them
on edges held out of the observed graph.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from recommender.errors import NotFittedError, UnknownIdError, UsageError

__all__ = [
    "adjacency_from_edges",
    "score_cn",
    "score_jaccard",
    "score_aa",
    "score_ra",
    "score_pa",
    "score_katz",
    "score_ppr",
    "graph_pair_features",
    "sample_non_edges",
    "LinkPredictor",
    "HEURISTICS",
    "MIN_EDGES",
]

#: Fewest edges a graph needs before a model can be trained or evaluated on it.
MIN_EDGES = 20

# Upper bound on the stored entries of one block of two-hop rows (A[rows] @ A).
_BLOCK_NNZ = 8_000_000
# Largest nnz(A) * n_sources * iterations for which PPR is iterated exactly.
_PPR_EXACT_BUDGET = 3e9
# Above this many nodes the spectral embedding uses a fixed number of subspace
# iterations instead of ARPACK.
_EIGSH_MAX_N = 20_000
_SUBSPACE_ITERS = 20


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Local heuristics
# ---------------------------------------------------------------------------


def _weighted_common(A, pairs, weights) -> np.ndarray:
    """``sum_w A[u, w] * weights[w] * A[w, v]`` for every pair, in row blocks."""
    deg = _degrees(A)
    out = np.empty(len(pairs))
    Aw = A @ sp.diags(weights) if weights is not None else A
    for blk in _blocks(deg[pairs[:, 0]] + deg[pairs[:, 1]] + 1.0, _BLOCK_NNZ):
        p = pairs[blk]
        out[blk] = _rowdot(Aw[p[:, 0]], A[p[:, 1]])
    return out


def score_cn(A, pairs) -> np.ndarray:
    """Common neighbours: the number of neighbours ``u`` and ``v`` share.

    Parameters
    ----------
    A : scipy.sparse matrix, shape (n, n)
        Symmetric binary adjacency matrix.
    pairs : array-like of int, shape (m, 2)
        Node index pairs to score.

    Returns
    -------
    ndarray of float, shape (m,)

    Examples
    --------
    >>> A = adjacency_from_edges([0, 1], [1, 2])  # the path 0 - 1 - 2
    >>> score_cn(A, [[0, 2], [0, 1]])
    array([1., 0.])
    """
    A = _check_adjacency(A)
    return _weighted_common(A, _check_pairs(A, pairs), None)


def score_jaccard(A, pairs) -> np.ndarray:
    """Jaccard coefficient ``|N(u) & N(v)| / |N(u) | N(v)|`` (0 when both are isolated).

    Parameters
    ----------
    A : scipy.sparse matrix, shape (n, n)
    pairs : array-like of int, shape (m, 2)

    Returns
    -------
    ndarray of float, shape (m,)

    Examples
    --------
    >>> A = adjacency_from_edges([0, 1, 1], [1, 2, 3])  # a star centred on 1
    >>> score_jaccard(A, [[0, 2], [0, 1]])
    array([1., 0.])
    """
    A = _check_adjacency(A)
    pairs = _check_pairs(A, pairs)
    cn = _weighted_common(A, pairs, None)
    deg = _degrees(A)
    union = deg[pairs[:, 0]] + deg[pairs[:, 1]] - cn
    return cn * _inv(union)


def score_aa(A, pairs) -> np.ndarray:
    """Adamic-Adar index ``sum_{w in N(u) & N(v)} 1 / log d(w)``.

    Parameters
    ----------
    A : scipy.sparse matrix, shape (n, n)
    pairs : array-like of int, shape (m, 2)

    Returns
    -------
    ndarray of float, shape (m,)

    Examples
    --------
    >>> A = adjacency_from_edges([0, 1], [1, 2])
    >>> score_aa(A, [[0, 2]])  # the middle node has degree 2
    array([1.442695...])
    """
    A = _check_adjacency(A)
    deg = _degrees(A)
    w = np.zeros_like(deg)
    np.divide(1.0, np.log(np.maximum(deg, 1.0)), out=w, where=deg > 1)
    return _weighted_common(A, _check_pairs(A, pairs), w)


def score_ra(A, pairs) -> np.ndarray:
    """Resource allocation index ``sum_{w in N(u) & N(v)} 1 / d(w)``.

    Parameters
    ----------
    A : scipy.sparse matrix, shape (n, n)
    pairs : array-like of int, shape (m, 2)

    Returns
    -------
    ndarray of float, shape (m,)

    Examples
    --------
    >>> A = adjacency_from_edges([0, 1], [1, 2])
    >>> score_ra(A, [[0, 2]])
    array([0.5])
    """
    A = _check_adjacency(A)
    return _weighted_common(A, _check_pairs(A, pairs), _inv(_degrees(A)))


def score_pa(A, pairs) -> np.ndarray:
    """Preferential attachment ``d(u) * d(v)``.

    Parameters
    ----------
    A : scipy.sparse matrix, shape (n, n)
    pairs : array-like of int, shape (m, 2)

    Returns
    -------
    ndarray of float, shape (m,)

    Examples
    --------
    >>> A = adjacency_from_edges([0, 1, 1], [1, 2, 3])
    >>> score_pa(A, [[0, 1], [0, 2]])
    array([3., 1.])
    """
    A = _check_adjacency(A)
    pairs = _check_pairs(A, pairs)
    deg = _degrees(A)
    return deg[pairs[:, 0]] * deg[pairs[:, 1]]


# ---------------------------------------------------------------------------
# Walks: Katz, degree-normalised walks, capped distance
# ---------------------------------------------------------------------------


def _walk_terms(A, pairs, *, normalised=True):
    """Walk counts of length 1..4 between each pair, by meet-in-the-middle.

    ``(A^2)_{uv} = A_u . A_v``, ``(A^3)_{uv} = (A_u A) . A_v`` and
    ``(A^4)_{uv} = (A_u A) . (A_v A)``: only two-hop rows of the pairs'
    endpoints are ever formed, one bounded block at a time.

    Returns a dict of arrays: ``w1..w4`` (walk counts) and, if ``normalised``,
    ``s1..s4`` where ``s_t = (A (D^-1 A)^(t-1))_{uv}`` (so that the ``t``-step
    random-walk probability is ``P^t_{uv} = s_t / d_u``; ``s2`` is RA).
    """
    deg = _degrees(A)
    dinv = _inv(deg)
    m = len(pairs)
    keys = ["w1", "w2", "w3", "w4"] + (["s2", "s3", "s4"] if normalised else [])
    out = {k: np.empty(m) for k in keys}
    if m == 0:
        return out
    two_hop = np.asarray(A @ deg).ravel()  # nnz bound of a two-hop row
    Dinv = sp.diags(dinv)
    W = (Dinv @ A @ Dinv).tocsr()  # D^-1 A D^-1
    cost = two_hop[pairs[:, 0]] + two_hop[pairs[:, 1]] + 1.0
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
        del Au, Av, A2u, A2v
    return out


def score_katz(A, pairs, *, beta=0.01, max_length=4) -> np.ndarray:
    """Truncated Katz index ``sum_{l=1}^{L} beta^l (A^l)_{uv}``.

    Walks of length up to ``max_length`` (at most 4) are counted exactly by
    meeting in the middle: ``(A^4)_{uv} = (A_u A) . (A_v A)``.

    Parameters
    ----------
    A : scipy.sparse matrix, shape (n, n)
    pairs : array-like of int, shape (m, 2)
    beta : float, default 0.01
        Damping per step, ``0 < beta < 1``.
    max_length : {1, 2, 3, 4}, default 4
        Longest walk counted.

    Returns
    -------
    ndarray of float, shape (m,)

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
    A = _check_adjacency(A)
    pairs = _check_pairs(A, pairs)
    w = _walk_terms(A, pairs, normalised=False)
    return sum(beta**l * w[f"w{l}"] for l in range(1, max_length + 1))


# ---------------------------------------------------------------------------
# Personalised PageRank
# ---------------------------------------------------------------------------


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

    Parameters
    ----------
    A : scipy.sparse matrix, shape (n, n)
    pairs : array-like of int, shape (m, 2)
    alpha : float, default 0.15
        Restart probability, ``0 < alpha < 1``.
    tol : float, default 1e-6
        Largest change of any probability at which power iteration stops.
    max_iter : int, default 100
    method : {"auto", "power", "truncated"}

    Returns
    -------
    ndarray of float, shape (m,)

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
    A = _check_adjacency(A)
    pairs = _check_pairs(A, pairs)
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


# ---------------------------------------------------------------------------
# Graph-level state and the feature matrix
# ---------------------------------------------------------------------------


def _triangles(A) -> np.ndarray:
    deg = _degrees(A)
    two_hop = np.asarray(A @ deg).ravel()
    tri = np.empty(A.shape[0])
    for blk in _blocks(two_hop + 1.0, _BLOCK_NNZ):
        rows = A[blk]
        tri[blk] = _rowdot(rows @ A, rows) / 2.0
    return tri


def _spectral_embedding(A, k, labels, n_comp, seed=0):
    """Top ``k`` non-trivial eigenpairs of ``D^-1/2 A D^-1/2``.

    The trivial eigenvectors (``sqrt(d)`` on each component, eigenvalue 1)
    are projected out first, so a fragmented graph still gets an informative
    embedding instead of ``k`` component indicators.
    """
    from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, LinearOperator, eigsh

    n = A.shape[0]
    deg = _degrees(A)
    dis = np.sqrt(_inv(deg))
    M = (sp.diags(dis) @ A @ sp.diags(dis)).tocsr()
    sq = np.sqrt(deg)
    norms = np.sqrt(np.bincount(labels, weights=deg, minlength=n_comp))
    phi = sq * _inv(norms)[labels]  # one unit vector per component, stacked

    Phi = sp.csr_matrix((phi, (np.arange(n), labels)), shape=(n, n_comp))
    PhiT = Phi.T.tocsr()

    def deflate(x):
        return x - Phi @ (PhiT @ x)

    k = int(min(k, max(n - n_comp - 1, 0)))
    if k <= 0:
        return np.zeros(0), np.zeros((n, 0))
    if n <= 400:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):  # tiny: threads only add overhead
            Md = M.toarray()
            Md = deflate(deflate(Md).T).T
            vals, vecs = np.linalg.eigh(Md)
        idx = np.argsort(vals)[::-1][:k]
        return vals[idx], vecs[:, idx]
    rng = np.random.default_rng(seed)
    if n > _EIGSH_MAX_N:
        # big graph: a fixed budget of block subspace iterations on (M' + I) / 2
        # (spectrum shifted into [0, 1]) and a Rayleigh-Ritz step; approximate
        # but bounded in time, and deterministic
        b = k + 8
        Q = np.linalg.qr(deflate(rng.standard_normal((n, b))))[0]
        for it in range(1, _SUBSPACE_ITERS + 1):
            Q = 0.5 * (deflate(M @ Q) + Q)
            if it % 5 == 0:  # re-orthonormalise now and then; QR is the costly step
                Q = np.linalg.qr(Q)[0]
            else:
                Q /= np.linalg.norm(Q, axis=0)
        Z = deflate(M @ Q)
        vals, U = np.linalg.eigh(Q.T @ Z)
        idx = np.argsort(vals)[::-1][:k]
        return vals[idx], Q @ U[:, idx]
    op = LinearOperator((n, n), matvec=lambda x: deflate(M @ deflate(np.ravel(x))), dtype=np.float64)
    v0 = deflate(rng.standard_normal(n) + 1.0)
    try:
        vals, vecs = eigsh(op, k=k, which="LA", v0=v0, tol=1e-4, maxiter=max(2000, 20 * k))
    except ArpackNoConvergence as exc:
        vals, vecs = exc.eigenvalues, exc.eigenvectors
    except ArpackError:
        return np.zeros(0), np.zeros((n, 0))
    idx = np.argsort(vals)[::-1]
    return vals[idx], vecs[:, idx]


class _GraphState:
    """Per-node quantities of one graph, computed once and shared by all pairs."""

    def __init__(self, A, *, spectral_dim=16, seed=0):
        self.A = A
        self.deg = _degrees(A)
        self.n_comp, self.labels = connected_components(A, directed=False)
        self.comp_size = np.bincount(self.labels)[self.labels].astype(float)
        tri = _triangles(A)
        d = self.deg
        self.clustering = 2.0 * tri * _inv(d * (d - 1.0))
        self.tri = tri
        self.mean_nbr_deg = np.asarray(A @ d).ravel() * _inv(d)
        self.vals, self.vecs = _spectral_embedding(A, spectral_dim, self.labels, self.n_comp, seed)


_FEATURE_NAMES = [
    "cn",
    "jaccard",
    "aa",
    "ra",
    "pa_log",
    "deg_min",
    "deg_max",
    "walks3_log",
    "walks4_log",
    "katz",
    "rw2",
    "rw3",
    "rw4",
    "ppr",
    "ppr_norm",
    "distance",
    "same_component",
    "comp_size_log",
    "clustering_min",
    "clustering_max",
    "triangles_max_log",
    "mean_nbr_deg_min",
    "mean_nbr_deg_max",
    "spec_dot",
    "spec_dot3",
    "spec_cos",
    "spec_proj",
]


def _pair_features(state: _GraphState, pairs, *, ppr_method="auto"):
    A = state.A
    deg = state.deg
    u, v = pairs[:, 0], pairs[:, 1]
    du, dv = deg[u], deg[v]
    w = _walk_terms(A, pairs)
    cn = w["w2"]
    aa_w = np.zeros_like(deg)
    np.divide(1.0, np.log(np.maximum(deg, 1.0)), out=aa_w, where=deg > 1)
    aa = _weighted_common(A, pairs, aa_w)
    ra = w["s2"]
    jac = cn * _inv(du + dv - cn)
    katz = sum(0.05**l * w[f"w{l}"] for l in range(1, 5))
    rw_norm = 0.5 * (_inv(du) + _inv(dv))
    if ppr_method == "auto":
        n_src = np.unique(u).size
        ppr_method = "power" if A.nnz * n_src * 60 <= _PPR_EXACT_BUDGET else "truncated"
    if ppr_method == "truncated":
        a = 0.15
        s_terms = [w["w1"], w["s2"], w["s3"], w["s4"]]
        ppr = a * sum((1 - a) ** t * s_terms[t - 1] for t in range(1, 5)) * (_inv(du) + _inv(dv))
    else:  # a feature needs no more precision than this
        ppr = score_ppr(A, pairs, method=ppr_method, tol=1e-5)
    same = state.labels[u] == state.labels[v]
    dist = np.full(len(pairs), 6.0)
    dist[same] = 5.0
    for l in (4, 3, 2, 1):
        dist[w[f"w{l}"] > 0] = l
    dist[u == v] = 0.0
    if state.vecs.shape[1]:
        Xu, Xv = state.vecs[u], state.vecs[v]
        lam = state.vals
        prod = Xu * Xv
        spec_dot = prod @ lam
        spec_dot3 = prod @ lam**3
        spec_proj = prod.sum(axis=1)
        nu = np.linalg.norm(Xu, axis=1)
        nv = np.linalg.norm(Xv, axis=1)
        spec_cos = spec_proj * _inv(nu * nv)
    else:
        spec_dot = spec_dot3 = spec_cos = spec_proj = np.zeros(len(pairs))
    cols = [
        cn,
        jac,
        aa,
        ra,
        np.log1p(du * dv),
        np.minimum(du, dv),
        np.maximum(du, dv),
        np.log1p(w["w3"]),
        np.log1p(w["w4"]),
        katz,
        w["s2"] * rw_norm,
        w["s3"] * rw_norm,
        w["s4"] * rw_norm,
        ppr,
        ppr * np.sqrt(du * dv) * _inv(du + dv),
        dist,
        same.astype(float),
        np.log1p(np.minimum(state.comp_size[u], state.comp_size[v])),
        np.minimum(state.clustering[u], state.clustering[v]),
        np.maximum(state.clustering[u], state.clustering[v]),
        np.log1p(np.maximum(state.tri[u], state.tri[v])),
        np.minimum(state.mean_nbr_deg[u], state.mean_nbr_deg[v]),
        np.maximum(state.mean_nbr_deg[u], state.mean_nbr_deg[v]),
        spec_dot,
        spec_dot3,
        spec_cos,
        spec_proj,
    ]
    return np.column_stack(cols), list(_FEATURE_NAMES)


def graph_pair_features(A, pairs, *, spectral_dim=16, seed=0):
    """Topological features of node pairs, for learned link rankers.

    Columns (see ``names``): common neighbours, Jaccard, Adamic-Adar,
    resource allocation, log preferential attachment, min/max degree, log
    walk counts of length 3 and 4, truncated Katz (``beta=0.05``), 2-4 step
    random-walk probabilities, symmetrised personalised PageRank (raw and
    degree-normalised), shortest-path distance capped at 4 (5: farther in the
    same component, 6: other component), same-component flag and size,
    min/max clustering coefficient, triangles, mean neighbour degree, and
    rotation-invariant products of a ``spectral_dim``-dimensional spectral
    embedding of the normalised adjacency (eigenvalue-weighted dot products,
    cosine, projection).

    Features of a pair never depend on other pairs, so training pairs must be
    scored on a graph that does *not* contain them (see :class:`LinkPredictor`).

    Parameters
    ----------
    A : scipy.sparse matrix, shape (n, n)
        Symmetric binary adjacency matrix.
    pairs : array-like of int, shape (m, 2)
    spectral_dim : int, default 16
        Number of non-trivial eigenvectors used for the spectral features.
    seed : int, default 0
        Start vector of the eigensolver (results are deterministic).

    Returns
    -------
    X : ndarray of float, shape (m, n_features)
    names : list of str, length n_features

    Examples
    --------
    >>> A = adjacency_from_edges([0, 1, 2], [1, 2, 3])  # path 0-1-2-3
    >>> X, names = graph_pair_features(A, [[0, 2], [0, 3]])
    >>> X.shape == (2, len(names))
    True
    >>> X[:, names.index("distance")]
    array([2., 3.])
    """
    A = _check_adjacency(A)
    pairs = _check_pairs(A, pairs)
    state = _GraphState(A, spectral_dim=spectral_dim, seed=seed)
    return _pair_features(state, pairs)


# ---------------------------------------------------------------------------
# Sampling and the learned model
# ---------------------------------------------------------------------------


def _edge_array(A) -> np.ndarray:
    """Each undirected edge once, as ``(u, v)`` with ``u < v``."""
    T = sp.triu(A, k=1).tocoo()
    return np.column_stack([T.row, T.col]).astype(np.int64)


def sample_non_edges(A, k, rng, *, exclude=None) -> np.ndarray:
    """Sample ``k`` distinct node pairs ``u < v`` that are not edges of ``A``.

    Parameters
    ----------
    A : scipy.sparse matrix, shape (n, n)
    k : int
    rng : numpy.random.Generator
    exclude : ndarray of int, shape (e, 2), optional
        Further pairs (either orientation) that must not be returned.

    Returns
    -------
    ndarray of int64, shape (k, 2)

    Raises
    ------
    UsageError
        If the graph has fewer than ``k`` non-edges.

    Examples
    --------
    >>> A = adjacency_from_edges([0, 1], [1, 2])
    >>> sample_non_edges(A, 1, np.random.default_rng(0)).tolist()
    [[0, 2]]
    """
    n = A.shape[0]
    edges = _edge_array(A)
    keys = edges[:, 0] * n + edges[:, 1]
    if exclude is not None and len(exclude):
        ex = np.sort(np.asarray(exclude, dtype=np.int64), axis=1)
        keys = np.concatenate([keys, ex[:, 0] * n + ex[:, 1]])
    keys = np.unique(keys)
    available = n * (n - 1) // 2 - keys.size
    if k > available:
        raise UsageError(f"the graph has only {available} non-edges, cannot sample {k}")
    chosen = np.zeros(0, dtype=np.int64)
    while chosen.size < k:
        need = k - chosen.size
        draw = int(need * 1.3) + 16
        a = rng.integers(0, n, size=draw)
        b = rng.integers(0, n, size=draw)
        ok = a != b
        lo, hi = np.minimum(a, b)[ok], np.maximum(a, b)[ok]
        cand = lo * n + hi
        cand = cand[~np.isin(cand, keys)]
        cand = cand[~np.isin(cand, chosen)]
        _, first = np.unique(cand, return_index=True)
        cand = cand[np.sort(first)][:need]
        chosen = np.concatenate([chosen, cand])
    return np.column_stack([chosen // n, chosen % n])


def _remove_edges(A, pairs) -> sp.csr_matrix:
    n = A.shape[0]
    R = sp.csr_matrix((np.ones(2 * len(pairs)), (np.r_[pairs[:, 0], pairs[:, 1]], np.r_[pairs[:, 1], pairs[:, 0]])), shape=(n, n))
    out = (A - A.multiply(R)).tocsr()
    out.eliminate_zeros()
    out.sort_indices()
    return out


def _default_estimator(random_state):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.05,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=random_state,
    )


class LinkPredictor:
    """A learned link predictor: gradient-boosted trees over topological features.

    ``fit(A)`` learns from the observed graph alone: it repeatedly holds out a
    random fraction of the edges as positives, samples as many non-edges as
    negatives, computes :func:`graph_pair_features` of those pairs on the graph
    *without* the held-out edges (exactly how unseen pairs are scored later),
    pools ``n_holdouts`` such rounds and trains a classifier. Scoring computes
    features on the full fitted graph.

    Parameters
    ----------
    n_holdouts : int, default 3
        Number of random holdout rounds pooled into the training set.
    holdout_frac : float, default 0.1
        Fraction of the edges held out per round.
    min_train_edges : int, default 1000
        Small graphs get more rounds (up to ``10 * n_holdouts``) until this
        many held-out edges are pooled.
    max_train_pairs : int, default 100_000
        Cap on positive training pairs over all rounds (big graphs).
    spectral_dim : int, default 16
        Dimension of the spectral embedding used by the features.
    random_state : int or None, default 0
        Seeds the holdouts, the negative samples and the estimator.
    estimator : scikit-learn classifier, optional
        Any classifier with ``predict_proba``; cloned on ``fit``. Defaults to a
        ``HistGradientBoostingClassifier``.

    Attributes
    ----------
    estimator_ : fitted classifier
    feature_names_ : list of str
    n_train_pairs_ : int
        Positive plus negative training pairs.
    A_ : scipy.sparse.csr_matrix
        The graph the model was fitted on (pairs are scored on it).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> e = rng.integers(0, 40, size=(200, 2))
    >>> A = adjacency_from_edges(e[:, 0], e[:, 1], n=40)
    >>> model = LinkPredictor(n_holdouts=1, random_state=0).fit(A)
    >>> model.score_pairs([[0, 1], [2, 3]]).shape
    (2,)
    """

    def __init__(
        self,
        *,
        n_holdouts=3,
        holdout_frac=0.1,
        min_train_edges=1000,
        max_train_pairs=100_000,
        spectral_dim=16,
        random_state=0,
        estimator=None,
    ):
        self.n_holdouts = n_holdouts
        self.holdout_frac = holdout_frac
        self.min_train_edges = min_train_edges
        self.max_train_pairs = max_train_pairs
        self.spectral_dim = spectral_dim
        self.random_state = random_state
        self.estimator = estimator

    # scikit-learn's clone() and repr() use these
    def get_params(self, deep=False):
        return {
            "n_holdouts": self.n_holdouts,
            "holdout_frac": self.holdout_frac,
            "min_train_edges": self.min_train_edges,
            "max_train_pairs": self.max_train_pairs,
            "spectral_dim": self.spectral_dim,
            "random_state": self.random_state,
            "estimator": self.estimator,
        }

    def set_params(self, **params):
        for key, value in params.items():
            if key not in self.get_params():
                raise UsageError(f"unknown parameter {key!r} for LinkPredictor")
            setattr(self, key, value)
        return self

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"LinkPredictor({args})"

    def _validate(self):
        if not (isinstance(self.n_holdouts, numbers.Integral) and self.n_holdouts >= 1):
            raise UsageError(f"n_holdouts must be a positive integer, got {self.n_holdouts!r}")
        if not (isinstance(self.holdout_frac, numbers.Real) and 0 < self.holdout_frac < 1):
            raise UsageError(f"holdout_frac must be in (0, 1), got {self.holdout_frac!r}")
        if not (isinstance(self.min_train_edges, numbers.Integral) and self.min_train_edges >= 0):
            raise UsageError(f"min_train_edges must be a non-negative integer, got {self.min_train_edges!r}")
        if not (isinstance(self.max_train_pairs, numbers.Integral) and self.max_train_pairs >= 2):
            raise UsageError(f"max_train_pairs must be an integer >= 2, got {self.max_train_pairs!r}")

    def fit(self, A, y=None):
        """Learn from held-out edges of the graph ``A``; return ``self``.

        Parameters
        ----------
        A : scipy.sparse matrix, shape (n, n)
            Symmetric binary adjacency matrix of the observed graph.
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        UsageError
            If the graph has fewer than :data:`MIN_EDGES` edges or too few
            non-edges to sample negatives from.
        """
        from sklearn.base import clone

        self._validate()
        A = _check_adjacency(A)
        A = adjacency_from_edges(*_edge_array(A + A.T).T, n=A.shape[0])  # symmetric, binary
        edges = _edge_array(A)
        m = len(edges)
        if m < MIN_EDGES:
            raise UsageError(
                f"the graph has {m} edges; a link predictor needs at least {MIN_EDGES} to learn from"
            )
        rng = np.random.default_rng(self.random_state)
        per_round = max(1, int(round(self.holdout_frac * m)))
        per_round = min(per_round, max(1, self.max_train_pairs // self.n_holdouts))
        # small graphs: more rounds, until min_train_edges positives (at most 10x)
        rounds = max(self.n_holdouts, min(10 * self.n_holdouts, -(-int(self.min_train_edges) // per_round)))
        Xs, ys = [], []
        for _ in range(rounds):
            held = edges[rng.choice(m, size=per_round, replace=False)]
            neg = sample_non_edges(A, per_round, rng)
            A_obs = _remove_edges(A, held)
            state = _GraphState(A_obs, spectral_dim=self.spectral_dim, seed=0)
            X, names = _pair_features(state, np.vstack([held, neg]))
            Xs.append(X)
            ys.append(np.r_[np.ones(per_round), np.zeros(per_round)])
        X = np.vstack(Xs)
        y_all = np.concatenate(ys)
        if self.estimator is None:
            est = _default_estimator(self.random_state)
        else:
            est = clone(self.estimator)
        if len(y_all) < 50_000:
            # small data: OpenMP threads cost more than they save (and thrash
            # when the machine is busy)
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=1, user_api="openmp"):
                est.fit(X, y_all)
        else:
            est.fit(X, y_all)
        self.estimator_ = est
        self.feature_names_ = names
        self.n_train_pairs_ = int(len(y_all))
        self.A_ = A
        self._state = _GraphState(A, spectral_dim=self.spectral_dim, seed=0)
        return self

    def _check_fitted(self):
        if not hasattr(self, "estimator_"):
            raise NotFittedError(
                "this LinkPredictor is not fitted yet", hint="call fit(A) with the observed graph first"
            )

    def transform(self, pairs) -> np.ndarray:
        """Features of ``pairs`` on the fitted graph, shape ``(m, n_features)``."""
        self._check_fitted()
        pairs = _check_pairs(self.A_, pairs)
        X, _ = _pair_features(self._state, pairs)
        return X

    def predict_proba(self, pairs) -> np.ndarray:
        """Class probabilities ``[P(no link), P(link)]`` per pair, shape ``(m, 2)``."""
        X = self.transform(pairs)
        if len(X) == 0:
            return np.zeros((0, 2))
        if len(X) < 50_000:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=1, user_api="openmp"):
                return self.estimator_.predict_proba(X)
        return self.estimator_.predict_proba(X)

    def score_pairs(self, pairs) -> np.ndarray:
        """Probability of a link for each pair, shape ``(m,)``; higher is likelier."""
        return self.predict_proba(pairs)[:, 1]
