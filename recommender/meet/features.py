"""Pair features for "who should I meet next?", sparse and batched.

A :class:`FeatureContext` is the network as of one date, encoded once as
sparse matrices: the binary tie matrix ``A``, trust weights ``W`` and tie
freshness ``F`` on the same sparsity pattern, tag indicator matrices, the
TF-IDF profile rows and per-person attributes. Everything below works on a
*block* of query people at a time (``rows``, positions into the context):

* :func:`candidate_pairs` proposes candidates for every row of the block:
  people two hops away (``A[rows] @ A``), the most similar profiles, the
  fractionals serving the same kind of client, and the executives whose
  company fits the row's ICP. Self, existing ties, opted-out people and
  people outside every group are removed.
* :func:`pair_features` computes :data:`FEATURE_NAMES` for all (row,
  candidate) pairs at once, with sparse products and one sort; there is no
  Python loop over pairs, so a block of one person and a block of thousands
  give identical numbers.

Features
--------
=================== ===========================================================
``cn``               common neighbours ``|N(u) & N(v)|``
``jaccard``          ``|N(u) & N(v)| / |N(u) | N(v)|``
``aa``               Adamic-Adar ``sum_w 1 / log d(w)`` over mutual contacts
``ra``               resource allocation ``sum_w 1 / d(w)``
``pa``               preferential attachment ``d(u) d(v)``
``katz``             truncated Katz ``b^2 (A^2)_uv + b^3 (A^3)_uv``, ``b = 0.05``
``deg_min``          the smaller of the two degrees (``deg_max`` the larger)
``deg_max``
``spec``             eigenvalue-weighted dot product of a spectral embedding of the
                     normalised adjacency (signed; networks up to :data:`GLOBAL_MAX_N`)
``spec_cos``         cosine of the two embedding rows (signed; same cap)
``same_component``   1 if a path of ties joins the two
``clust_min``        the smaller local clustering coefficient of the two (``clust_max``
``clust_max``        the larger; same cap)
``walk2`` ..         normalised walks ``s_t / sqrt(d_u d_v)``, ``s_t = (A (D^-1 A)^(t-1))_uv``
``walk5``            (``s_2`` is RA, ``s_3`` RA of order 3), t = 2..5
``ret2_min`` ..      return probabilities ``(D^-1 A)^t_uu`` of a random walk from each
``ret4_max``         end back to itself after t = 2, 3, 4 steps (smaller and larger of
                     the two). The walk columns are computed on networks of at most
                     :data:`GLOBAL_MAX_N` people (:func:`walk_rule`), as the spectral
                     embedding and clustering are, and are 0 above
``tag_sim``          TF-IDF cosine of the two profiles (:class:`ProfileModel`)
``complementarity``  ``1 - jaccard(specialties)`` if both are fractionals of
                     the same function, else 0
``specialty_affinity`` lift of the two specialty sets among ties formed so far
                     (learned co-occurrence; 1 = as often as chance)
``client_overlap``   Jaccard of the client markets (industries and size bands;
                     an executive's market is their company's)
``industry_overlap`` Jaccard of the market industries alone
``region_overlap``   Jaccard of the market regions
``icp_fit``          fractional <-> executive only: share of industry, size band
                     and region of the executive's company in the fractional's ICP
``introducer_trust`` best mutual contact: ``max_w min(trust(u, w), trust(w, v))``
``mutual_recency``   ``max_w min(fresh(u, w), fresh(w, v))``, fresh = ``exp(-age/365)``
                     of the tie's ``since`` date
``cand_activity``    ``log1p`` of the candidate's ties formed in the last 365 days
``group_peer``       1 if the pair is in the *peers* group (and so on)
``group_adjacent``
``group_executive``
=================== ===========================================================

Groups (seen from the query person ``u``):

* *peers*: ``u`` and ``v`` fractionals, same function, different specialty sets;
* *adjacent*: ``u`` and ``v`` fractionals of different functions sharing an
  industry or size band; for an executive ``u``: fractionals whose ICP fits
  ``u``'s company;
* *executives*: ``v`` an executive whose company fits ``u``'s ICP (industry or
  size band); for an executive ``u``: executives sharing an industry.

Example
-------
>>> import pandas as pd
>>> from recommender.network import Network
>>> net = Network.from_frames(
...     people=pd.DataFrame({"id": ["a", "b", "c"], "name": ["A", "B", "C"], "kind": ["fractional"] * 3,
...                          "function": ["marketing"] * 3,
...                          "specialties": ["brand", "demand-gen", "seo"], "industries": ["saas"] * 3}),
...     ties=pd.DataFrame({"a": ["a", "b"], "b": ["b", "c"], "since": ["2024-01-01", "2024-06-01"]}))
>>> ctx = build_context(net)
>>> r, c = candidate_pairs(ctx, np.array([0]))
>>> ctx.ids[c].tolist()
['c']
>>> X = pair_features(ctx, np.array([0]), r, c)
>>> dict(zip(FEATURE_NAMES[:4], X[0, :4].round(3).tolist()))
{'cn': 1.0, 'jaccard': 1.0, 'aa': 1.443, 'ra': 0.5}
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from recommender.kernels import _ranges, spread_product, sum_in_order
from recommender.meet.candidates import (
    _groups,
    _tied,
    candidate_pairs,
    person_attrs,
    tag_counts,
)
from recommender.meet.context import FeatureContext, build_context, context_day
from recommender.meet.twohop import best_introducers, lookup_introducers, two_hop_paths
from recommender.people import GROUPS, PeopleEncoding, encode_people

if TYPE_CHECKING:  # annotations only
    from recommender.meet.twohop import TwoHop


__all__ = [
    "FEATURE_NAMES",
    "GROUPS",
    "FeatureContext",
    "build_context",
    "context_day",
    "encode_people",
    "PeopleEncoding",
    "candidate_pairs",
    "pair_features",
    "two_hop_paths",
    "best_introducers",
    "lookup_introducers",
]


FEATURE_NAMES = (
    "cn",
    "jaccard",
    "aa",
    "ra",
    "pa",
    "katz",
    "deg_min",
    "deg_max",
    "spec",
    "spec_cos",
    "same_component",
    "clust_min",
    "clust_max",
    "walk2",
    "walk3",
    "walk4",
    "walk5",
    "ret2_min",
    "ret2_max",
    "ret3_min",
    "ret3_max",
    "ret4_min",
    "ret4_max",
    "tag_sim",
    "complementarity",
    "specialty_affinity",
    "client_overlap",
    "industry_overlap",
    "region_overlap",
    "icp_fit",
    "introducer_trust",
    "mutual_recency",
    "cand_activity",
    "group_peer",
    "group_adjacent",
    "group_executive",
)


KATZ_BETA = 0.05


#: The structural columns: what a graph alone gives (the link model of ``fracnet evaluate links`` is the answer's
#: stage 1 on those of them it weighs, :func:`~recommender.meet.ranker.stage1_features`).
STRUCTURAL_FEATURES = ("cn", "jaccard", "aa", "ra", "pa", "katz", "deg_min", "deg_max", "spec", "spec_cos",
                       "same_component", "clust_min", "clust_max", "walk2", "walk3", "walk4", "walk5",
                       "ret2_min", "ret2_max", "ret3_min", "ret3_max", "ret4_min", "ret4_max")

#: The walk columns (:func:`walk_columns`): computed on networks of at most :data:`GLOBAL_MAX_N` people
#: (:func:`walk_rule`), 0 above (so their learned weight is too).
WALK_FEATURES = ("walk2", "walk3", "walk4", "walk5", "ret2_min", "ret2_max", "ret3_min", "ret3_max",
                 "ret4_min", "ret4_max")

#: Columns that may be negative: the ranker reads them as they are, not through ``log1p``.
SIGNED_FEATURES = ("spec", "spec_cos")

#: Networks with more people than this get no spectral embedding and no clustering coefficients
#: (those columns are 0, so their learned weight is too): they cost a sparse eigensolve and a
#: triangle count per encoded graph, which pays on small, sparse graphs and not at 100k people.
GLOBAL_MAX_N = 20_000

#: Networks with more people than this leave the walk columns 0 (:func:`walk_rule`): the same cap as the
#: spectral embedding's (named apart so that a test can fit a model without them, as above the cap).
WALK_MAX_N = GLOBAL_MAX_N

#: Dimension of the spectral embedding.
SPECTRAL_DIM = 16


_COL = {name: i for i, name in enumerate(FEATURE_NAMES)}

#: Pairs at a time of the spectral columns' products (dimensions x pairs cells).
_SPEC_PAIRS = 1 << 15


def feature_columns(ctx: FeatureContext, rows: np.ndarray, pr: np.ndarray, pc: np.ndarray, hop: TwoHop,
                    hidx: np.ndarray, tied: np.ndarray | None = None, *, katz: bool = True,
                    tag_sim: bool = True, tags: dict | None = None, walks: bool | None = None) -> dict:
    """:data:`FEATURE_NAMES` of pairs as a dict of 1-D arrays (the one feature code path).

    ``hidx`` is each pair's index in ``hop`` (-1: no mutual contact) and
    ``tied`` whether the pair is already tied (default: none is). ``katz``
    and ``tag_sim`` can be left out (zeros) when the caller computes them
    later for fewer pairs (:func:`block_tag_similarity`, :func:`katz_scores`);
    the :data:`WALK_FEATURES` are computed by :func:`walk_rule` (``walks``
    None: on networks of at most :data:`GLOBAL_MAX_N` people), else zeros.
    """
    m = len(pr)
    u = rows[pr]
    f: dict = {}
    tags = tag_counts(ctx, rows, pr, pc) if tags is None else tags

    def mine(a):  # the query person's attribute, read through the (small) block
        return a[rows][pr]

    va = person_attrs(ctx, pc)  # the candidates' attributes, one gather
    cn = hop._cn[hidx]
    du, dv = mine(ctx.deg), va["deg"].astype(float)
    union = du + dv - cn
    if tied is not None:
        union -= tied
    # ratios of counts: a zero denominator comes with a zero numerator, so max(den, 1) is exact
    f["cn"] = cn
    f["jaccard"] = cn / np.maximum(union, 1.0)
    f["aa"] = hop._aa[hidx]
    f["ra"] = hop._ra[hidx]
    f["pa"] = du * dv
    f["deg_min"] = np.minimum(du, dv)
    f["deg_max"] = np.maximum(du, dv)
    st = structure(ctx)
    f["same_component"] = (st["component"][u] == st["component"][pc]).astype(float)
    for name in ("spec", "spec_cos", "clust_min", "clust_max"):
        f[name] = np.zeros(m)
    if st["vecs"].shape[1]:
        # dimension by dimension, in order: each pair's value never depends on the batch (pairs a block at a time)
        dot, proj = np.zeros(m), np.zeros(m)
        for p0 in range(0, m, _SPEC_PAIRS):
            blk = slice(p0, p0 + _SPEC_PAIRS)
            p = (st["vecs"][u[blk]] * st["vecs"][pc[blk]]).T  # (dimensions, pairs)
            dot[blk], proj[blk] = sum_in_order(st["vals"][:, None] * p), sum_in_order(p)
        f["spec"] = dot
        den = st["norm"][u] * st["norm"][pc]
        f["spec_cos"] = np.divide(proj, den, out=np.zeros(m), where=den > 0)
    if st["clustering"] is not None:
        cu, cv = st["clustering"][u], st["clustering"][pc]
        f["clust_min"] = np.minimum(cu, cv)
        f["clust_max"] = np.maximum(cu, cv)
    f["katz"] = katz_scores(ctx, rows, pr, pc, cn, np.zeros(m) if tied is None else tied.astype(float)) \
        if katz else np.zeros(m)
    f.update(walk_columns(ctx, u, pc) if walk_rule(ctx, walks) else {name: np.zeros(m) for name in WALK_FEATURES})
    f["tag_sim"] = block_tag_similarity(ctx, rows, pr, pc) if tag_sim else np.zeros(m)

    spec_inter = tags["spec"].astype(float)
    nsu, nsv = mine(ctx.n_spec), va["n_spec"].astype(float)
    spec_jac = spec_inter / np.maximum(nsu + nsv - spec_inter, 1.0)
    ue, ve = mine(ctx.is_exec), va["is_exec"].astype(bool)
    fu, fv = mine(ctx.function), va["function"]
    same_func = (fu == fv) & (fu >= 0) & ~ue & ~ve
    f["complementarity"] = np.where(same_func, 1.0 - spec_jac, 0.0)
    f["specialty_affinity"] = _affinity(ctx, rows, pr, nsu, nsv, va["spec"])

    ind, size, reg = (tags[k].astype(float) for k in ("ind", "size", "reg"))
    both = ind + size
    f["client_overlap"] = both / np.maximum(mine(ctx.n_market) + va["n_market"] - both, 1.0)
    f["industry_overlap"] = ind / np.maximum(mine(ctx.n_ind) + va["n_ind"] - ind, 1.0)
    f["region_overlap"] = reg / np.maximum(mine(ctx.n_reg) + va["n_reg"] - reg, 1.0)
    region_ok = (reg > 0) | ~mine(ctx.has_region) | ~va["has_region"].astype(bool)
    icp = (ind > 0).astype(float)
    icp += size > 0
    icp += region_ok
    icp /= 3.0
    icp *= ue != ve
    f["icp_fit"] = icp

    f["introducer_trust"] = hop._trust[hidx]
    f["mutual_recency"] = hop._recency[hidx]
    f["cand_activity"] = va["activity"]

    g = tags["group"] if "group" in tags else _groups(ctx, u, pc, tags["ind"], tags["size"], tags["spec"], va)
    f["group_peer"] = (g == 0).astype(float)
    f["group_adjacent"] = (g == 1).astype(float)
    f["group_executive"] = (g == 2).astype(float)
    return f


def structure(ctx: FeatureContext) -> dict:
    """Per-person graph quantities of ``ctx`` (computed once per context and kept on it).

    ``component`` (connected component labels) always; on networks of at most
    :data:`GLOBAL_MAX_N` people also ``vals``/``vecs`` (the top :data:`SPECTRAL_DIM`
    non-trivial eigenpairs of ``D^-1/2 A D^-1/2``), ``norm`` (row norms of
    ``vecs``) and ``clustering`` (local clustering coefficients); else empty / None.
    """
    st = ctx.__dict__.get("_structure")
    if st is None:
        st = _structure(ctx.A)
        ctx.__dict__["_structure"] = st
    return st


def _structure(A) -> dict:
    from scipy.sparse.csgraph import connected_components

    from recommender.components import symmetric_components
    from recommender.evaluation.graph_features import _spectral_embedding, _triangles

    n = A.shape[0]
    A = A.astype(np.float64, copy=n <= GLOBAL_MAX_N)  # big graphs are only read here: no copy (240 MB at 1M people)
    if n > GLOBAL_MAX_N:  # labels only compared: without a transpose (recommender.components), the same labels
        n_comp, labels = symmetric_components(A)
    else:
        n_comp, labels = connected_components(A, directed=False) if n else (0, np.zeros(0, np.int64))
    st = {"component": labels.astype(np.int64), "vals": np.zeros(0), "vecs": np.zeros((n, 0)), "norm": np.zeros(n),
          "clustering": None}
    if 0 < n <= GLOBAL_MAX_N and A.nnz:
        vals, vecs = _spectral_embedding(A, SPECTRAL_DIM, labels, n_comp, seed=0)
        vecs = np.array(vecs, dtype=float)
        # a row at rounding level (a person alone in a component, deflated away: 1e-17s) is exactly 0, so their
        # spec column is 0 and not noise that differs from one machine's BLAS to another's
        rn = np.linalg.norm(vecs, axis=1) if vecs.size else np.zeros(n)
        vecs[rn <= 1e-9 * max(float(rn.max(initial=0.0)), 1e-300)] = 0.0
        st.update(vals=np.asarray(vals, dtype=float), vecs=np.asarray(vecs, dtype=float),
                  norm=np.linalg.norm(vecs, axis=1) if vecs.shape[1] else np.zeros(n))
        d = np.asarray(A.sum(axis=1)).ravel()
        den = d * (d - 1.0)
        st["clustering"] = np.divide(2.0 * _triangles(A), den, out=np.zeros(n), where=den > 0)
    return st


def walk_rule(ctx: FeatureContext, walks: bool | None = None) -> bool:
    """Whether the :data:`WALK_FEATURES` of pairs on ``ctx`` are computed: ``walks`` if given, else on networks
    of at most :data:`WALK_MAX_N` (= :data:`GLOBAL_MAX_N`) people (the one rule, shared by training rows, answers
    and the link model)."""
    return bool(walks) if walks is not None else len(ctx) <= WALK_MAX_N


#: Cells (query rows x people) of the dense walk rows :func:`walk_columns` holds at a time.
_WALK_CELLS = 1 << 21


def walk_columns(ctx: FeatureContext, u: np.ndarray, v: np.ndarray) -> dict:
    """The :data:`WALK_FEATURES` of pairs (``u``, ``v``) (positions in ``ctx``), as a dict of 1-D arrays.

    ``walk<t>`` is ``s_t / sqrt(d_u d_v)`` with ``s_t = (A (D^-1 A)^(t-1))_uv``,
    0 when either end has no tie: for a few distinct ``u`` at a time their rows
    ``A_u`` are multiplied by ``D^-1 A`` four times (each row's numbers depend on
    that row alone, so a block of one and a block of thousands agree; the first
    product spreads the nonzeros of ``A_u`` (:func:`~recommender.kernels.spread_product`) and the last is taken
    at the pairs' candidates only: the same bits as four sparse products). ``ret<t>_min`` / ``_max`` are the smaller and larger of the two ends'
    return probabilities ``(D^-1 A)^t_xx`` (:func:`return_probabilities`, once per context).
    """
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    m = len(u)
    out = {name: np.zeros(m) for name in WALK_FEATURES}
    if m == 0:
        return out
    A = ctx.A if ctx.A.dtype == np.float64 else ctx.A.astype(np.float64)
    n = A.shape[0]
    d = ctx.deg.astype(float)
    dinv = np.divide(1.0, d, out=np.zeros(n), where=d > 0)
    s = {t: np.zeros(m) for t in (2, 3, 4, 5)}
    order = np.argsort(u, kind="stable")
    us = u[order]
    starts = np.r_[0, np.flatnonzero(us[1:] != us[:-1]) + 1]
    uniq = us[starts]
    step = max(1, _WALK_CELLS // max(n, 1))
    bounds = np.r_[starts, len(us)]
    for b0 in range(0, len(uniq), step):
        rows = uniq[b0:b0 + step]
        sel = order[bounds[b0]:bounds[min(b0 + step, len(uniq))]]
        local = np.searchsorted(rows, u[sel])
        b = len(rows)
        # (A D^-1 ... A)_u column by column, symmetric A: the first product spreads the few nonzeros of A_u D^-1
        # over their rows of A (:func:`~recommender.kernels.spread_product`), the next two are sparse products
        lo = A.indptr[rows].astype(np.int64)
        cnt = A.indptr[rows + 1].astype(np.int64) - lo
        ent = _ranges(lo, cnt)
        j = A.indices[ent].astype(np.int64)
        R = spread_product(A, j, np.repeat(np.arange(b), cnt), A.data[ent] * dinv[j], b)  # A @ (A[rows].T * dinv)
        s[2][sel] = R[v[sel], local]
        for t in (3, 4):
            R = A @ (R * dinv[:, None])
            s[t][sel] = R[v[sel], local]
        # the last step is read at the pairs' candidates only: each one's row of A times its column, its entries
        # added in A's order from 0.0, as the sparse product adds them (the same bits)
        x = R * dinv[:, None]
        vs = v[sel]
        start = A.indptr[vs].astype(np.int64)
        cnt = A.indptr[vs + 1].astype(np.int64) - start
        ent = _ranges(start, cnt)
        pair = np.repeat(np.arange(len(sel)), cnt)
        s[5][sel] = np.bincount(pair, weights=A.data[ent] * x[A.indices[ent], local[pair]], minlength=len(sel))
    norm = np.sqrt(d[u] * d[v])
    for t in (2, 3, 4, 5):
        out[f"walk{t}"] = np.divide(s[t], norm, out=np.zeros(m), where=norm > 0)
    ret = return_probabilities(ctx)
    for j, t in enumerate((2, 3, 4)):
        ru, rv = ret[u, j], ret[v, j]
        out[f"ret{t}_min"] = np.minimum(ru, rv)
        out[f"ret{t}_max"] = np.maximum(ru, rv)
    return out


def return_probabilities(ctx: FeatureContext) -> np.ndarray:
    """``(D^-1 A)^t_xx`` for t = 2, 3, 4 and every person ``x`` of ``ctx``, shape (n, 3) (kept on the context).

    With ``S = D^-1/2 A D^-1/2`` (symmetric, ``(D^-1 A)^t_xx = (S^t)_xx``):
    ``S^2_xx = |S_x|^2``, ``S^3_xx = S_x . (S^2)_x`` and ``S^4_xx = |(S^2)_x|^2``,
    from two-hop rows in bounded blocks.
    """
    ret = ctx.__dict__.get("_returns")
    if ret is not None:
        return ret
    import scipy.sparse as sp

    from recommender.evaluation.heuristics import _BLOCK_NNZ, _blocks, _rowdot

    A = ctx.A if ctx.A.dtype == np.float64 else ctx.A.astype(np.float64)
    n = A.shape[0]
    d = ctx.deg.astype(float)  # the degrees walk_columns normalises by (ties counted once)
    h = np.divide(1.0, np.sqrt(d), out=np.zeros(n), where=d > 0)
    S = (sp.diags(h) @ A @ sp.diags(h)).tocsr()
    ret = np.zeros((n, 3))
    two_hop = np.asarray(A @ d).ravel()
    for blk in _blocks(two_hop + 1.0, _BLOCK_NNZ):
        rows = S[blk]
        rows2 = rows @ S
        ret[blk, 0] = _rowdot(rows, rows)
        ret[blk, 1] = _rowdot(rows2, rows)
        ret[blk, 2] = _rowdot(rows2, rows2)
    ctx.__dict__["_returns"] = ret
    return ret


def stack_features(cols: dict, idx: np.ndarray | None = None) -> np.ndarray:
    """Feature matrix (m, F) in :data:`FEATURE_NAMES` order from :func:`feature_columns` (rows ``idx``)."""
    n_all = len(cols["cn"])
    idx = np.arange(n_all) if idx is None else idx
    src = [np.broadcast_to(np.asarray(cols[name], dtype=np.float64), (n_all,)) for name in FEATURE_NAMES]
    # a block of rows at a time into contiguous rows of its transpose, then one copy: writing a column of a C-order
    # (m, F) array touches a cache line per value (~1.6x slower at F = 36); the block bounds the copy's memory
    X, XT, step = np.empty((len(idx), len(src))), np.empty((len(src), min(len(idx), 1 << 16))), 1 << 16
    for r0 in range(0, len(idx), step):
        T = XT[:, :len(idx[r0:r0 + step])]
        for j, col in enumerate(src):
            np.take(col, idx[r0:r0 + step], out=T[j])
        X[r0:r0 + step] = T.T
    return X


def _affinity(ctx: FeatureContext, rows, pr, nsu, nsv, spec) -> np.ndarray:
    """Mean specialty lift over the specialty pairs of (u, v).

    ``spec`` is each candidate's specialty codes (:func:`person_attrs`,
    padded with ``k``): one lookup per code in the block's (b, k + 1) table
    of summed lifts, whose last column is zero.
    """
    m = len(pr)
    out = np.zeros(m)
    if not ctx.affinity.size or m == 0:
        return out
    k = ctx.affinity.shape[0]
    SL = np.zeros((len(rows), k + 1))
    SL[:, :k] = ctx.S[rows] @ ctx.affinity  # sum over u's specialties
    SL = SL.ravel()
    base = pr * (k + 1)
    num = np.zeros(m)
    for i in range(int(nsv.max(initial=0))):  # in code order, as a row of S lists them
        num += SL[base + spec[:, i]]
    den = nsu * nsv
    return np.divide(num, den, out=out, where=den > 0)


#: Cells (query rows x profile terms) of the dense block used by :func:`block_tag_similarity`.
_PROFILE_CELLS = 1 << 21


def block_tag_similarity(ctx: FeatureContext, rows: np.ndarray, pr: np.ndarray, pc: np.ndarray) -> np.ndarray:
    """TF-IDF cosine of pairs (``rows[pr]``, ``pc``): row dots of L2-normalised profiles.

    The query rows' TF-IDF rows are unpacked into a dense array a few rows
    at a time (at most :data:`_PROFILE_CELLS` cells), and each candidate's
    sparse row is multiplied against it: no sparse product, no sort.
    """
    M = ctx.profile
    m = len(pr)
    out = np.zeros(m)
    if m == 0 or M.shape[1] == 0:
        return out
    step = max(1, _PROFILE_CELLS // M.shape[1])
    order = np.argsort(pr, kind="stable") if np.any(pr[1:] < pr[:-1]) else None
    prs = pr if order is None else pr[order]
    bounds = np.searchsorted(prs, np.arange(0, len(rows) + step, step))
    for j, r0 in enumerate(range(0, len(rows), step)):
        sel = slice(bounds[j], bounds[j + 1])
        if bounds[j] == bounds[j + 1]:
            continue
        idx = np.arange(bounds[j], bounds[j + 1]) if order is None else order[sel]
        Q = M[rows[r0:r0 + step]].toarray()
        v = pc[idx]  # the candidates' rows of M, read by index ranges (the entries a row gather copies)
        lo = M.indptr[v].astype(np.int64)
        cnt = M.indptr[v + 1].astype(np.int64) - lo
        ent = _ranges(lo, cnt)
        pair = np.repeat(np.arange(len(idx)), cnt)
        vals = M.data[ent] * Q[(prs[sel] - r0)[pair], M.indices[ent]]
        out[idx] = np.bincount(pair, weights=vals, minlength=len(idx))
    return out


def katz_scores(ctx: FeatureContext, rows, pr, pc, cn, tied) -> np.ndarray:
    """Truncated Katz ``b A + b^2 A^2 + b^3 A^3`` of pairs (``cn`` = A^2, ``tied`` = A)."""
    walks3 = _walks3(ctx, rows, pr, pc)
    return KATZ_BETA * tied + KATZ_BETA**2 * cn + KATZ_BETA**3 * walks3


def pair_features(ctx: FeatureContext, rows: np.ndarray, pair_row: np.ndarray, pair_col: np.ndarray, *,
                  hop: "TwoHop | None" = None, katz: bool = True, walks: bool | None = None) -> np.ndarray:
    """The :data:`FEATURE_NAMES` of pairs (``rows[pair_row]``, ``pair_col``).

    Parameters
    ----------
    ctx : FeatureContext
    rows : ndarray of int, shape (b,)
        Positions of the block's query people.
    pair_row : ndarray of int, shape (m,)
        Index into ``rows`` of each pair.
    pair_col : ndarray of int, shape (m,)
        Position of each pair's other person.
    hop : TwoHop, optional
        :func:`two_hop_paths` of ``rows`` if already computed.
    katz : bool, default True
        False: the ``katz`` column is left 0 (training rows for a ranker that gives it no weight).
    walks : bool or None, default None
        Compute the :data:`WALK_FEATURES` (:func:`walk_columns`) or leave them 0;
        None: :func:`walk_rule` (computed on networks of at most :data:`GLOBAL_MAX_N` people).

    Returns
    -------
    ndarray of float, shape (m, len(FEATURE_NAMES))
    """
    rows = np.asarray(rows, dtype=np.int64)
    pr = np.asarray(pair_row, dtype=np.int64)
    pc = np.asarray(pair_col, dtype=np.int64)
    if len(pr) == 0:
        return np.zeros((0, len(FEATURE_NAMES)))
    hop = two_hop_paths(ctx, rows) if hop is None else hop
    hidx = hop.locate(pr, pc)
    tied = _tied(ctx, rows, pr * len(ctx) + pc)
    return stack_features(feature_columns(ctx, rows, pr, pc, hop, hidx, tied, katz=katz, walks=walks))


#: Scratch cells (rows x people) used at a time by :func:`_walks3`.
_SCRATCH_CELLS = 1 << 22


def _walks3(ctx: FeatureContext, rows: np.ndarray, pr: np.ndarray, pc: np.ndarray) -> np.ndarray:
    """Walks of length 3 from ``rows[pr]`` to ``pc``: ``sum_y (A^2)[u, y] A[y, v]``, per pair.

    ``A^2`` rows of a few query rows at a time are made dense (at most
    :data:`_SCRATCH_CELLS` cells) and read back at the neighbours
    of each candidate, so the cost is about ``sum deg(v)`` per row, not a
    three-hop product.
    """
    n = len(ctx)
    m = len(pr)
    out = np.zeros(m)
    if m == 0 or n == 0:
        return out
    step = max(1, min(len(rows), _SCRATCH_CELLS // n))  # a block of one query fills one row, not 4M cells
    A = ctx.A
    order = np.argsort(pr, kind="stable")
    bounds = np.searchsorted(pr[order], np.arange(0, len(rows) + step, step))
    for j, r0 in enumerate(range(0, len(rows), step)):
        sel = order[bounds[j]:bounds[j + 1]]
        if len(sel) == 0:
            continue
        # the block's rows of A^2, dense (n, rows): each tie u - w spread over w's row of A (the same numbers as
        # the sparse product A[rows] @ A)
        blk = rows[r0:r0 + step]
        lo = A.indptr[blk].astype(np.int64)
        cnt = A.indptr[blk + 1].astype(np.int64) - lo
        e1 = _ranges(lo, cnt)
        dense = spread_product(A, A.indices[e1].astype(np.int64), np.repeat(np.arange(len(blk)), cnt), A.data[e1],
                               len(blk))
        v = pc[sel]
        s = A.indptr[v].astype(np.int64)
        c = A.indptr[v + 1].astype(np.int64) - s
        y = A.indices[_ranges(s, c)]
        out[sel] = np.bincount(np.repeat(np.arange(len(sel)), c), weights=dense[y, np.repeat(pr[sel] - r0, c)],
                               minlength=len(sel))
    return out
