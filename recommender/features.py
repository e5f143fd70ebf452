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
>>> from recommender.graph import Network
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

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.graph import Network, trust_weights
from recommender.similarity import ProfileModel
from recommender.taxonomy import split_tags

__all__ = [
    "FEATURE_NAMES",
    "GROUPS",
    "FeatureContext",
    "build_context",
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
#: The three groups, in the order of their codes 0, 1, 2 (-1: no group).
GROUPS = ("peers", "adjacent", "executives")

KATZ_BETA = 0.05
FRESH_DAYS = 365.0
ACTIVITY_DAYS = 365

_COL = {name: i for i, name in enumerate(FEATURE_NAMES)}


@dataclass(eq=False)
class FeatureContext:
    """The network as of one date, as sparse matrices aligned on ``ids``.

    Attributes
    ----------
    ids, names : ndarray of str, shape (n,)
    A : csr_matrix, shape (n, n)
        Binary, symmetric tie matrix with sorted indices.
    W, F : csr_matrix, shape (n, n)
        Trust weight and tie freshness, on exactly ``A``'s sparsity pattern.
    deg : ndarray, shape (n,)
    is_exec, opt_out : ndarray of bool, shape (n,)
    function : ndarray of int, shape (n,)
        Function code (-1 for none).
    S, I, Z, G : csr_matrix, shape (n, n_tags)
        Indicators of specialties, market industries, market size bands and
        market regions (an executive's market is their company's, plus any
        listed tags).
    profile : csr_matrix, shape (n, n_terms)
        L2-normalised TF-IDF rows.
    affinity : ndarray, shape (n_specialties, n_specialties)
        Specialty co-occurrence lift among ties formed so far.
    activity : ndarray, shape (n,)
        ``log1p`` of ties formed in the last :data:`ACTIVITY_DAYS` days.
    vocab : dict of str to list of str
        Tag names of the columns of S, I, Z, G and the function codes.
    as_of : str
    """

    ids: np.ndarray
    names: np.ndarray
    A: sp.csr_matrix
    W: sp.csr_matrix
    F: sp.csr_matrix
    deg: np.ndarray
    is_exec: np.ndarray
    opt_out: np.ndarray
    function: np.ndarray
    S: sp.csr_matrix
    I: sp.csr_matrix  # noqa: E741
    Z: sp.csr_matrix
    G: sp.csr_matrix
    profile: sp.csr_matrix
    affinity: np.ndarray
    activity: np.ndarray
    vocab: dict
    as_of: str
    position: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.position:
            self.position = {pid: i for i, pid in enumerate(self.ids)}
        self.exec_idx = np.flatnonzero(self.is_exec & ~self.opt_out)
        self.frac_idx = np.flatnonzero(~self.is_exec & ~self.opt_out)
        self.n_spec = np.diff(self.S.indptr).astype(float)
        self.market = sp.hstack([self.I, self.Z], format="csr")
        self.n_market = np.diff(self.market.indptr).astype(float)
        self.n_ind = np.diff(self.I.indptr).astype(float)
        self.n_reg = np.diff(self.G.indptr).astype(float)
        self.has_region = self.n_reg > 0
        inv_log = np.zeros(len(self.deg))
        np.divide(1.0, np.log(np.maximum(self.deg, 2.0)), out=inv_log, where=self.deg > 1)
        self.inv_log_deg = inv_log
        self.inv_deg = np.where(self.deg > 0, 1.0 / np.maximum(self.deg, 1), 0.0)
        # transposes, stored once (row-block products ``X[rows] @ X_t``)
        self.S_t = self.S.T.tocsr()
        self.I_t = self.I.T.tocsr()
        self.Z_t = self.Z.T.tocsr()
        self.G_t = self.G.T.tocsr()
        self.profile_t = self.profile.T.tocsr()
        # tag sets as bit masks: pair intersections are popcounts, never (block x n) products
        self.S_bits = _bitmask(self.S)
        self.I_bits = _bitmask(self.I)
        self.Z_bits = _bitmask(self.Z)
        self.G_bits = _bitmask(self.G)
        self._pools: dict = {}

    def pools(self, size: int) -> dict:
        """Static candidate pools: per market industry (executives, fractionals) and per specialty.

        Each pool holds at most ``size`` people who are not opted out, the
        most active first (ties formed in the last year, then degree, then
        position); computed once per size and cached. Returns a dict of
        ``(indptr, indices)`` CSR pairs keyed ``"exec"``, ``"frac"`` (by
        industry), ``"spec"`` (fractionals by specialty), ``"exec_size"`` and
        ``"frac_size"`` (by size band).
        """
        if size not in self._pools:
            order = np.lexsort((np.arange(len(self.ids)), -self.deg, -self.activity))
            rank = np.empty(len(order), np.int64)
            rank[order] = np.arange(len(order))
            ok = ~self.opt_out
            self._pools[size] = {
                "exec": _pool(self.I, ok & self.is_exec, rank, order, size),
                "frac": _pool(self.I, ok & ~self.is_exec, rank, order, size),
                "spec": _pool(self.S, ok & ~self.is_exec, rank, order, size),
                "exec_size": _pool(self.Z, ok & self.is_exec, rank, order, size),
                "frac_size": _pool(self.Z, ok & ~self.is_exec, rank, order, size),
            }
        return self._pools[size]

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_pools"] = {}  # cheap to rebuild, deterministic
        return state

    def __len__(self) -> int:
        return len(self.ids)


# ---------------------------------------------------------------------------
# Building the context
# ---------------------------------------------------------------------------


def _indicator(lists: list[list[str]], vocab: list[str] | None = None) -> tuple[sp.csr_matrix, list[str]]:
    if vocab is None:
        vocab = sorted({t for tags in lists for t in tags})
    pos = {t: j for j, t in enumerate(vocab)}
    rows, cols = [], []
    for i, tags in enumerate(lists):
        for t in set(tags):
            j = pos.get(t)
            if j is not None:
                rows.append(i)
                cols.append(j)
    m = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(lists), len(vocab)))
    m.sum_duplicates()
    m.data[:] = 1.0
    m.sort_indices()
    return m, vocab


def _bitmask(M: sp.csr_matrix) -> np.ndarray:
    """Rows of a 0/1 matrix as bit masks, shape (n, ceil(n_cols / 64)) of uint64."""
    n, t = M.shape
    words = max(1, -(-t // 64))
    out = np.zeros(n * words, dtype=np.uint64)
    r = np.repeat(np.arange(n, dtype=np.int64), np.diff(M.indptr))
    c = M.indices.astype(np.int64)
    np.bitwise_or.at(out, r * words + c // 64, np.left_shift(np.uint64(1), (c % 64).astype(np.uint64)))
    return out.reshape(n, words)


def _popcount_and(bits: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Sizes of the intersections of the tag sets of ``u[i]`` and ``v[i]``, as float."""
    if bits.shape[1] == 1:
        return np.bitwise_count(bits[u, 0] & bits[v, 0]).astype(float)
    return np.bitwise_count(bits[u] & bits[v]).sum(axis=1).astype(float)


def _pool(M: sp.csr_matrix, ok: np.ndarray, rank: np.ndarray, order: np.ndarray, size: int):
    """Per column of ``M``: at most ``size`` rows with ``ok``, lowest ``rank`` first, as (indptr, indices)."""
    C = M[ok].T.tocsr() if ok.any() else sp.csr_matrix((M.shape[1], 0))
    rows_ok = np.flatnonzero(ok)
    # column j -> people (rank order), truncated
    ranked = rank[rows_ok[C.indices]] if C.nnz else np.zeros(0, np.int64)
    seg = np.repeat(np.arange(C.shape[0]), np.diff(C.indptr))
    o = np.lexsort((ranked, seg))
    seg, ranked = seg[o], ranked[o]
    first = np.r_[0, np.cumsum(np.bincount(seg, minlength=C.shape[0]))][:-1] if len(seg) else np.zeros(C.shape[0], np.int64)
    pos = np.arange(len(seg)) - first[seg] if len(seg) else np.zeros(0, np.int64)
    keep = pos < size
    seg, people = seg[keep], order[ranked[keep]]
    indptr = np.r_[0, np.cumsum(np.bincount(seg, minlength=C.shape[0]))].astype(np.int64)
    return indptr, people.astype(np.int64)


def _tags(series: pd.Series) -> list[list[str]]:
    return [split_tags(v) if isinstance(v, str) else [] for v in series]


def build_context(net: Network, profile: ProfileModel | None = None, *, as_of=None) -> FeatureContext:
    """Encode the network as of ``as_of`` (default: ``net.as_of``) for feature work.

    Parameters
    ----------
    net : Network
    profile : ProfileModel, optional
        A fitted profile model over (at least) ``net.people``; fitted here if omitted.
    as_of : date-like, optional
        Cut the network at this date first (see :meth:`Network.until`). Tie
        ``last_contact`` dates after the cut are treated as unknown, so replayed
        history does not see the future.

    Returns
    -------
    FeatureContext
    """
    net = net.until(as_of)
    day = pd.Timestamp(net.reference_date)
    people = net.people.reset_index(drop=True)
    ids = people["id"].astype(str).to_numpy()
    n = len(ids)
    index = pd.Index(ids)

    # ties: both directions, deduplicated, one pattern for A, W and F
    ties = net.ties.copy()
    if len(ties):
        late = pd.to_datetime(ties["last_contact"], errors="coerce") > day
        ties.loc[late, "last_contact"] = None
    view = Network.from_frames(people=people, ties=ties, introductions=net.introductions,
                               referrals=net.referrals, as_of=day.strftime("%Y-%m-%d"))
    tw = trust_weights(view) if len(ties) else pd.DataFrame({"a": [], "b": [], "weight": []})
    ia = index.get_indexer(ties["a"].astype(str))
    ib = index.get_indexer(ties["b"].astype(str))
    since = pd.to_datetime(ties["since"], errors="coerce")
    age = (day - since).dt.days.to_numpy(dtype=float)
    fresh = np.where(np.isnan(age), np.exp(-3.0), np.exp(-np.clip(age, 0, None) / FRESH_DAYS))
    recent = (~np.isnan(age)) & (age <= ACTIVITY_DAYS)
    weight = tw["weight"].to_numpy(float) if len(tw) == len(ties) else np.full(len(ties), 0.5)
    keep = (ia >= 0) & (ib >= 0) & (ia != ib)
    ia, ib, fresh, weight, recent = ia[keep], ib[keep], fresh[keep], weight[keep], recent[keep]
    rows = np.r_[ia, ib]
    cols = np.r_[ib, ia]
    key = rows.astype(np.int64) * n + cols
    # strongest record per directed pair
    order = np.lexsort((-np.r_[weight, weight], key))
    key_s = key[order]
    first = np.r_[True, key_s[1:] != key_s[:-1]] if len(key_s) else np.zeros(0, bool)
    sel = order[first]
    r, c = rows[sel], cols[sel]
    wv = np.r_[weight, weight][sel]
    fv = np.r_[fresh, fresh][sel]  # freshness of the kept record
    A = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, n))
    W = sp.csr_matrix((np.clip(wv, 1e-6, 1.0), (r, c)), shape=(n, n))
    Fm = sp.csr_matrix((fv, (r, c)), shape=(n, n))
    for m in (A, W, Fm):
        m.sort_indices()
    deg = np.diff(A.indptr).astype(float)
    rec_count = np.bincount(np.r_[ia[recent], ib[recent]], minlength=n).astype(float)

    kind = people["kind"].fillna("fractional").astype(str).to_numpy()
    is_exec = kind == "executive"
    opt_out = pd.to_numeric(people["opt_out"], errors="coerce").fillna(0).astype(int).to_numpy() == 1
    names = people["name"].where(people["name"].notna(), people["id"]).astype(str).to_numpy()
    func = people["function"].where(people["function"].notna(), "").astype(str).str.strip().str.lower().to_numpy()
    func_vocab = sorted({f for f in func if f})
    fpos = {f: i for i, f in enumerate(func_vocab)}
    function = np.array([fpos.get(f, -1) for f in func], dtype=np.int64)

    comp = net.companies.set_index("id") if len(net.companies) else None

    def company_attr(col: str) -> list[list[str]]:
        if comp is None:
            return [[] for _ in range(n)]
        vals = people["company_id"].map(comp[col]) if col in comp else pd.Series([None] * n)
        return [[v] if isinstance(v, str) and v and ex else [] for v, ex in zip(vals, is_exec)]

    spec_lists = _tags(people["specialties"])
    ind_lists = [a + b for a, b in zip(_tags(people["industries"]), company_attr("industry"))]
    size_lists = [a + b for a, b in zip(_tags(people["icp_sizes"]), company_attr("size_band"))]
    reg_lists = [a + b for a, b in zip(_tags(people["regions"]), company_attr("region"))]
    S, spec_vocab = _indicator(spec_lists)
    I, ind_vocab = _indicator(ind_lists)
    Z, size_vocab = _indicator(size_lists)
    G, reg_vocab = _indicator(reg_lists)

    if profile is None:
        profile = ProfileModel().fit(people)
    pos = np.array([profile.position_.get(pid, -1) for pid in ids])
    P = profile.matrix_[np.maximum(pos, 0)].tocsr()
    if (pos < 0).any():
        P = sp.diags((pos >= 0).astype(float)) @ P
        P = P.tocsr()

    affinity = _specialty_affinity(S, r, c)

    return FeatureContext(
        ids=ids, names=names, A=A, W=W, F=Fm, deg=deg, is_exec=is_exec, opt_out=opt_out,
        function=function, S=S, I=I, Z=Z, G=G, profile=P, affinity=affinity,
        activity=np.log1p(rec_count),
        vocab={"function": func_vocab, "specialty": spec_vocab, "industry": ind_vocab,
               "size_band": size_vocab, "region": reg_vocab},
        as_of=day.strftime("%Y-%m-%d"),
    )


def _specialty_affinity(S: sp.csr_matrix, r: np.ndarray, c: np.ndarray, prior: float = 5.0) -> np.ndarray:
    """Lift of specialty pairs among tied people, smoothed towards 1."""
    k = S.shape[1]
    if k == 0:
        return np.ones((0, 0))
    n = S.shape[0]
    T = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, n))
    obs = np.asarray((S.T @ T @ S).todense())
    deg_s = np.asarray((S.T @ np.asarray(T.sum(axis=1)).ravel())).ravel()
    total = max(float(T.sum()), 1.0)
    expected = np.outer(deg_s, deg_s) / total
    return (obs + prior) / (expected + prior)


# ---------------------------------------------------------------------------
# Two-hop paths: mutual contacts, vectorised
# ---------------------------------------------------------------------------


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for every (s, c), without a loop."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    offsets = np.repeat(ends - counts, counts)
    return np.arange(total, dtype=np.int64) - offsets + np.repeat(starts, counts)


@dataclass
class TwoHop:
    """Aggregates over the mutual contacts of (row, person) pairs two hops apart.

    ``key = row * n + person`` is sorted and unique; the other arrays align with it.
    """

    key: np.ndarray
    cn: np.ndarray
    aa: np.ndarray
    ra: np.ndarray
    trust: np.ndarray
    introducer: np.ndarray
    recency: np.ndarray


def two_hop_paths(ctx: FeatureContext, rows: np.ndarray) -> TwoHop:
    """Expand every path ``u - w - v`` from the block's rows and aggregate per (u, v).

    Parameters
    ----------
    ctx : FeatureContext
    rows : ndarray of int, shape (b,)
        Positions of the block's query people.

    Returns
    -------
    TwoHop
        One entry per (row index in the block, person) pair with at least one
        mutual contact, ``v != u``; ``introducer`` is the mutual contact ``w``
        maximising ``min(W[u, w], W[w, v])`` (ties: the lowest position).
    """
    n = len(ctx)
    rows = np.asarray(rows, dtype=np.int64)
    indptr, indices = ctx.A.indptr.astype(np.int64), ctx.A.indices.astype(np.int64)
    s1 = indptr[rows]
    c1 = indptr[rows + 1] - s1
    r1 = np.repeat(np.arange(len(rows), dtype=np.int64), c1)
    e1 = _ranges(s1, c1)
    mid = indices[e1]
    s2 = indptr[mid]
    c2 = indptr[mid + 1] - s2
    e2 = _ranges(s2, c2)
    r2 = np.repeat(r1, c2)
    w2 = np.repeat(mid, c2)
    v = indices[e2]
    trust = np.minimum(np.repeat(ctx.W.data[e1], c2), ctx.W.data[e2])
    fresh = np.minimum(np.repeat(ctx.F.data[e1], c2), ctx.F.data[e2])
    ok = v != rows[r2]
    r2, w2, v, trust, fresh = r2[ok], w2[ok], v[ok], trust[ok], fresh[ok]
    key = r2 * n + v
    # sort by key, then strongest trust first, then lowest introducer position
    order = np.lexsort((w2, -trust, key))
    key, w2, trust, fresh = key[order], w2[order], trust[order], fresh[order]
    if len(key) == 0:
        z = np.zeros(0)
        return TwoHop(np.zeros(0, np.int64), z, z, z, z, np.zeros(0, np.int64), z)
    start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    return TwoHop(
        key=key[start],
        cn=np.diff(np.r_[start, len(key)]).astype(float),
        aa=np.add.reduceat(ctx.inv_log_deg[w2], start),
        ra=np.add.reduceat(ctx.inv_deg[w2], start),
        trust=trust[start],
        introducer=w2[start],
        recency=np.maximum.reduceat(fresh, start),
    )


def _lookup(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``keys`` in ``sorted_keys`` and whether they were found."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), np.int64), np.zeros(len(keys), bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return pos, sorted_keys[pos] == keys


def best_introducers(ctx: FeatureContext, rows: np.ndarray, pair_row: np.ndarray, pair_col: np.ndarray):
    """The best introducer of each pair (position or -1) and its trust (min of the two ties)."""
    return lookup_introducers(ctx, two_hop_paths(ctx, rows), pair_row, pair_col)


def lookup_introducers(ctx: FeatureContext, hop: "TwoHop", pair_row: np.ndarray, pair_col: np.ndarray):
    """:func:`best_introducers` from an already computed :func:`two_hop_paths` of the block."""
    pos, found = _lookup(hop.key, pair_row.astype(np.int64) * len(ctx) + pair_col)
    who = np.where(found, hop.introducer[pos] if len(hop.key) else -1, -1)
    trust = np.where(found, hop.trust[pos] if len(hop.key) else 0.0, 0.0)
    return who, trust


# ---------------------------------------------------------------------------
# Groups and candidates
# ---------------------------------------------------------------------------


def _gather(M: sp.csr_matrix, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``M[r[i], c[i]]`` for all i, by binary search over the (canonicalised, in place) entries."""
    if len(r) == 0:
        return np.zeros(0)
    if not M.has_canonical_format:
        M.sum_duplicates()
    if M.shape[0] > 4 * len(r):  # a whole-network matrix with short rows: scipy's per-row scan is fine
        return np.asarray(M[r, c]).ravel().astype(float)
    ncol = M.shape[1]
    keys = np.repeat(np.arange(M.shape[0], dtype=np.int64), np.diff(M.indptr)) * ncol + M.indices
    pos, found = _lookup(keys, np.asarray(r, dtype=np.int64) * ncol + np.asarray(c, dtype=np.int64))
    return np.where(found, M.data[pos] if len(keys) else 0.0, 0.0).astype(float)


def _groups(ctx: FeatureContext, u: np.ndarray, v: np.ndarray, ind: np.ndarray, size: np.ndarray,
            spec_inter: np.ndarray) -> np.ndarray:
    """Group code (0 peers, 1 adjacent, 2 executives, -1 none) of pairs (u, v)."""
    ue, ve = ctx.is_exec[u], ctx.is_exec[v]
    fu, fv = ctx.function[u], ctx.function[v]
    same_func = (fu == fv) & (fu >= 0)
    same_specs = (spec_inter == ctx.n_spec[u]) & (spec_inter == ctx.n_spec[v])
    market = (ind > 0) | (size > 0)
    g = np.full(len(u), -1, dtype=np.int64)
    both_frac = ~ue & ~ve
    g[both_frac & same_func & ~same_specs] = 0
    g[both_frac & ~same_func & market] = 1
    g[~ue & ve & market] = 2
    g[ue & ~ve & market] = 1
    g[ue & ve & (ind > 0)] = 2
    return g


def candidate_pairs(ctx: FeatureContext, rows: np.ndarray, *, group: str = "all", n_similar: int = 50,
                    n_market: int = 50, max_two_hop: int = 400, n_pool: int = 64, hop: "TwoHop | None" = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Candidates for each query row of a block.

    Work per row is bounded by the row's neighbourhood and the pool size,
    never by the network: two-hop people come from :func:`two_hop_paths`;
    profile and market candidates come from the static pools of
    :meth:`FeatureContext.pools` (per market industry, size band and specialty),
    pre-scored with tag bit masks.

    Parameters
    ----------
    ctx : FeatureContext
    rows : ndarray of int, shape (b,)
        Positions of the query people.
    group : {"all", "peers", "adjacent", "executives"}
    n_similar : int
        Per row, the pool members with the most similar tags (weighted cosine
        of specialties, industries, size bands, regions and function).
    n_market : int
        Per row, the fractionals of another function and the executives with
        the best market match.
    max_two_hop : int
        At most this many two-hop people per row (highest resource allocation).
    n_pool : int
        Pool size per industry and specialty.
    hop : TwoHop, optional
        :func:`two_hop_paths` of ``rows`` if already computed.

    Returns
    -------
    pair_row, pair_col : ndarray of int, shape (m,)
        ``pair_row`` indexes ``rows`` (the block), ``pair_col`` is a person
        position. Sorted by (row, person); no self, tie, opted-out person or
        pair outside the requested group(s).
    """
    rows = np.asarray(rows, dtype=np.int64)
    n = len(ctx)
    b = len(rows)
    if b == 0 or n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    parts = []
    hop = two_hop_paths(ctx, rows) if hop is None else hop
    if len(hop.key) and max_two_hop:
        hr, hc = hop.key // n, hop.key % n
        parts.append(_top_per_row(hr, hop.key, hop.ra, ~ctx.opt_out[hc], max_two_hop))

    pools = ctx.pools(n_pool)
    pr_list, pc_list = [], []
    for M, name in ((ctx.I, "exec"), (ctx.I, "frac"), (ctx.S, "spec"), (ctx.Z, "exec_size"), (ctx.Z, "frac_size")):
        r, c = _expand_pools(M, rows, *pools[name])
        pr_list.append(r)
        pc_list.append(c)
    pkeys = _sorted_unique(np.concatenate(pr_list) * n + np.concatenate(pc_list))
    if len(pkeys):
        pr, pc = pkeys // n, pkeys % n
        u = rows[pr]
        valid = (pc != u) & ~_tied(ctx, rows, pkeys)
        spec = _popcount_and(ctx.S_bits, u, pc)
        ind = _popcount_and(ctx.I_bits, u, pc)
        size = _popcount_and(ctx.Z_bits, u, pc)
        reg = _popcount_and(ctx.G_bits, u, pc)
        has_fn = ctx.function >= 0
        same_fn = (ctx.function[u] == ctx.function[pc]) & has_fn[u]
        norm = 9.0 * ctx.n_spec + 4.0 * ctx.n_ind + (ctx.n_market - ctx.n_ind) + ctx.n_reg + has_fn
        dot = 9.0 * spec + 4.0 * ind + size + reg + same_fn
        den = np.sqrt(norm[u] * norm[pc])
        tag = np.divide(dot, den, out=np.zeros(len(dot)), where=den > 0)
        parts.append(_top_per_row(pr, pkeys, tag, valid, n_similar))
        inter = ind + size
        union = ctx.n_market[u] + ctx.n_market[pc] - inter
        jac = np.divide(inter, union, out=np.zeros(len(inter)), where=union > 0)
        fit = (ind > 0).astype(float) + (size > 0) + 0.5 * (reg > 0) + 0.1 * jac + 0.01 * tag
        parts.append(_top_per_row(pr, pkeys, fit, valid & ~ctx.is_exec[pc] & (ctx.function[u] != ctx.function[pc]),
                                  n_market))
        parts.append(_top_per_row(pr, pkeys, fit, valid & ctx.is_exec[pc], n_market))

    keys = _sorted_unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
    pr, pc = keys // n, keys % n
    ok = (pc != rows[pr]) & ~ctx.opt_out[pc] & ~_tied(ctx, rows, keys)
    pr, pc = pr[ok], pc[ok]
    u = rows[pr]
    g = _groups(ctx, u, pc, _popcount_and(ctx.I_bits, u, pc), _popcount_and(ctx.Z_bits, u, pc),
                _popcount_and(ctx.S_bits, u, pc))
    want = g >= 0 if group == "all" else g == GROUPS.index(group)
    return pr[want], pc[want]


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    """``np.unique`` for int keys, by one in-place sort."""
    a = np.sort(a)
    return a[np.r_[True, a[1:] != a[:-1]]] if len(a) else a


def _top_per_row(pr: np.ndarray, keys: np.ndarray, score: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    """Keys of the ``k`` best positive scores per row (ties: lowest key) among ``mask``."""
    if k <= 0:
        return np.zeros(0, np.int64)
    idx = np.flatnonzero(mask & (score > 0))
    if len(idx) == 0:
        return np.zeros(0, np.int64)
    idx = idx[np.lexsort((keys[idx], -score[idx], pr[idx]))]
    p = pr[idx]
    first = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
    rank = np.arange(len(idx)) - np.repeat(first, np.diff(np.r_[first, len(idx)]))
    return keys[idx[rank < k]]


def _expand_pools(M: sp.csr_matrix, rows: np.ndarray, indptr: np.ndarray, indices: np.ndarray):
    """(block row, person) for every pool of every tag of each row."""
    s = M.indptr[rows].astype(np.int64)
    c = M.indptr[rows + 1].astype(np.int64) - s
    r1 = np.repeat(np.arange(len(rows), dtype=np.int64), c)
    tags = M.indices[_ranges(s, c)].astype(np.int64)
    s2 = indptr[tags]
    c2 = indptr[tags + 1] - s2
    return np.repeat(r1, c2), indices[_ranges(s2, c2)]


def _tied(ctx: FeatureContext, rows: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Whether each ``key = block_row * n + person`` is an existing tie."""
    n = len(ctx)
    s = ctx.A.indptr[rows].astype(np.int64)
    c = ctx.A.indptr[rows + 1].astype(np.int64) - s
    tie_keys = np.repeat(np.arange(len(rows), dtype=np.int64), c) * n + ctx.A.indices[_ranges(s, c)]
    return _lookup(np.sort(tie_keys), keys)[1]


# ---------------------------------------------------------------------------
# Features
# ---------------------------------------------------------------------------


def pair_features(ctx: FeatureContext, rows: np.ndarray, pair_row: np.ndarray, pair_col: np.ndarray, *,
                  hop: "TwoHop | None" = None) -> np.ndarray:
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

    Returns
    -------
    ndarray of float, shape (m, len(FEATURE_NAMES))
    """
    rows = np.asarray(rows, dtype=np.int64)
    pr = np.asarray(pair_row, dtype=np.int64)
    pc = np.asarray(pair_col, dtype=np.int64)
    n = len(ctx)
    m = len(pr)
    X = np.zeros((m, len(FEATURE_NAMES)))
    if m == 0:
        return X
    u = rows[pr]
    hop = two_hop_paths(ctx, rows) if hop is None else hop
    pos, found = _lookup(hop.key, pr * n + pc)

    def at(arr):
        return np.where(found, arr[pos], 0.0) if len(hop.key) else np.zeros(m)

    cn = at(hop.cn)
    du, dv = ctx.deg[u], ctx.deg[pc]
    tied = _tied(ctx, rows, pr * n + pc).astype(float)
    union = du + dv - cn - tied
    X[:, _COL["cn"]] = cn
    X[:, _COL["jaccard"]] = np.divide(cn, union, out=np.zeros(m), where=union > 0)
    X[:, _COL["aa"]] = at(hop.aa)
    X[:, _COL["ra"]] = at(hop.ra)
    X[:, _COL["pa"]] = du * dv
    walks3 = _walks3(ctx, rows, pr, pc)
    X[:, _COL["katz"]] = KATZ_BETA * tied + KATZ_BETA**2 * cn + KATZ_BETA**3 * walks3
    X[:, _COL["tag_sim"]] = _row_dots(ctx.profile, u, pc)

    spec_inter = _popcount_and(ctx.S_bits, u, pc)
    spec_union = ctx.n_spec[u] + ctx.n_spec[pc] - spec_inter
    spec_jac = np.divide(spec_inter, spec_union, out=np.zeros(m), where=spec_union > 0)
    same_func = (ctx.function[u] == ctx.function[pc]) & (ctx.function[u] >= 0) & ~ctx.is_exec[u] & ~ctx.is_exec[pc]
    X[:, _COL["complementarity"]] = np.where(same_func, 1.0 - spec_jac, 0.0)
    if ctx.affinity.size:
        SL = ctx.S[rows] @ ctx.affinity  # (b, k) dense
        num = np.asarray(ctx.S[pc].multiply(SL[pr]).sum(axis=1)).ravel()
        den = ctx.n_spec[u] * ctx.n_spec[pc]
        X[:, _COL["specialty_affinity"]] = np.divide(num, den, out=np.zeros(m), where=den > 0)

    ind = _popcount_and(ctx.I_bits, u, pc)
    size = _popcount_and(ctx.Z_bits, u, pc)
    reg = _popcount_and(ctx.G_bits, u, pc)
    m_union = ctx.n_market[u] + ctx.n_market[pc] - ind - size
    X[:, _COL["client_overlap"]] = np.divide(ind + size, m_union, out=np.zeros(m), where=m_union > 0)
    X[:, _COL["industry_overlap"]] = _jaccard(ind, ctx.n_ind[u], ctx.n_ind[pc])
    X[:, _COL["region_overlap"]] = _jaccard(reg, ctx.n_reg[u], ctx.n_reg[pc])
    mixed = ctx.is_exec[u] != ctx.is_exec[pc]
    region_ok = (reg > 0) | ~ctx.has_region[u] | ~ctx.has_region[pc]
    X[:, _COL["icp_fit"]] = np.where(mixed, ((ind > 0).astype(float) + (size > 0) + region_ok) / 3.0, 0.0)

    X[:, _COL["introducer_trust"]] = at(hop.trust)
    X[:, _COL["mutual_recency"]] = at(hop.recency)
    X[:, _COL["cand_activity"]] = ctx.activity[pc]

    g = _groups(ctx, u, pc, ind, size, spec_inter)
    X[:, _COL["group_peer"]] = g == 0
    X[:, _COL["group_adjacent"]] = g == 1
    X[:, _COL["group_executive"]] = g == 2
    return X


def _row_dots(M: sp.csr_matrix, u: np.ndarray, v: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
    """``M[u[i]] . M[v[i]]`` for all i (sparse rows), in chunks."""
    out = np.zeros(len(u))
    for s0 in range(0, len(u), chunk):
        a, b = u[s0:s0 + chunk], v[s0:s0 + chunk]
        out[s0:s0 + chunk] = np.asarray(M[a].multiply(M[b]).sum(axis=1)).ravel()
    return out


#: Scratch cells (rows x people) used at a time by :func:`_walks3`.
_SCRATCH_CELLS = 1 << 22


def _walks3(ctx: FeatureContext, rows: np.ndarray, pr: np.ndarray, pc: np.ndarray) -> np.ndarray:
    """Walks of length 3 from ``rows[pr]`` to ``pc``: ``sum_y (A^2)[u, y] A[y, v]``, per pair.

    ``A^2`` rows of a few query rows at a time are scattered into a dense
    scratch of :data:`_SCRATCH_CELLS` cells and read back at the neighbours
    of each candidate, so the cost is about ``sum deg(v)`` per row, not a
    three-hop product.
    """
    n = len(ctx)
    m = len(pr)
    out = np.zeros(m)
    if m == 0 or n == 0:
        return out
    step = max(1, _SCRATCH_CELLS // n)
    scratch = np.zeros(step * n)
    A = ctx.A
    order = np.argsort(pr, kind="stable")
    bounds = np.searchsorted(pr[order], np.arange(0, len(rows) + step, step))
    for j, r0 in enumerate(range(0, len(rows), step)):
        sel = order[bounds[j]:bounds[j + 1]]
        if len(sel) == 0:
            continue
        A2 = A[rows[r0:r0 + step]] @ A
        cells = np.repeat(np.arange(A2.shape[0], dtype=np.int64), np.diff(A2.indptr)) * n + A2.indices
        scratch[cells] = A2.data
        v = pc[sel]
        s = A.indptr[v].astype(np.int64)
        c = A.indptr[v + 1].astype(np.int64) - s
        y = A.indices[_ranges(s, c)]
        base = np.repeat((pr[sel] - r0) * n, c)
        out[sel] = np.bincount(np.repeat(np.arange(len(sel)), c), weights=scratch[base + y], minlength=len(sel))
        scratch[cells] = 0.0
    return out


def _jaccard(inter: np.ndarray, na: np.ndarray, nb: np.ndarray) -> np.ndarray:
    union = na + nb - inter
    return np.divide(inter, union, out=np.zeros(len(inter)), where=union > 0)


def pair_groups(X: np.ndarray) -> np.ndarray:
    """Group codes (0, 1, 2; -1 none) from the indicator columns of a feature matrix."""
    gi = X[:, [_COL["group_peer"], _COL["group_adjacent"], _COL["group_executive"]]]
    return np.where(gi.any(axis=1), gi.argmax(axis=1), -1)
