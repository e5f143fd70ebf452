"""Graph-level state and the pair feature matrix the learned link model reads (:func:`graph_pair_features`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from recommender.evaluation.heuristics import (
    _BLOCK_NNZ,
    _PPR_EXACT_BUDGET,
    _blocks,
    _check_adjacency,
    _check_pairs,
    _degrees,
    _inv,
    _rowdot,
    _walk_terms,
    _weighted_common,
    score_ppr,
)

# Above this many nodes the spectral embedding uses a fixed number of subspace
# iterations instead of ARPACK.
_EIGSH_MAX_N = 20_000


_SUBSPACE_ITERS = 20


def _triangles(A) -> np.ndarray:
    deg = _degrees(A)
    two_hop = np.asarray(A @ deg).ravel()
    tri = np.empty(A.shape[0])
    for blk in _blocks(two_hop + 1.0, _BLOCK_NNZ):
        rows = A[blk]
        tri[blk] = _rowdot(rows @ A, rows) / 2.0
    return tri


_CONTROLLER = []


def _blas_controller():
    """One threadpoolctl controller per process (finding the libraries costs ~30 ms; a tiny graph's eigh less)."""
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


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
        with _blas_controller().limit(limits=1, user_api="blas"):  # tiny: threads only add overhead
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
    >>> from recommender.evaluation.heuristics import adjacency_from_edges
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
