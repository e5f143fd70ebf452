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

import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.network import Network
from recommender.similarity import ProfileModel
from recommender.taxonomy import split_tags

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
    "tune_allocator",
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
        Trust weight and tie freshness (float32), on exactly ``A``'s sparsity pattern.
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
        self.n_spec = np.diff(self.S.indptr).astype(float)
        self.n_spec_i = np.diff(self.S.indptr).astype(np.uint8 if self.S.shape[1] < 256 else np.int64)
        self.market = sp.hstack([self.I, self.Z], format="csr")
        self.n_market = np.diff(self.market.indptr).astype(float)
        self.n_ind = np.diff(self.I.indptr).astype(float)
        self.n_reg = np.diff(self.G.indptr).astype(float)
        self.has_region = self.n_reg > 0
        inv_log = np.zeros(len(self.deg))
        np.divide(1.0, np.log(np.maximum(self.deg, 2.0)), out=inv_log, where=self.deg > 1)
        self.inv_log_deg = inv_log
        self.inv_deg = np.where(self.deg > 0, 1.0 / np.maximum(self.deg, 1), 0.0)
        self.inv_deg_log = self.inv_deg + 1j * self.inv_log_deg  # both two-hop weights in one gather
        # tag sets as bit masks: pair intersections are popcounts, never (block x n) products
        self.S_bits = _bitmask(self.S)
        self.I_bits = _bitmask(self.I)
        self.Z_bits = _bitmask(self.Z)
        self.G_bits = _bitmask(self.G)
        self.indptr64 = self.A.indptr.astype(np.int64)
        has_fn = self.function >= 0
        # squared norms of the weighted tag vectors used to pre-score pool candidates
        self.tag_norm = 9.0 * self.n_spec + 4.0 * self.n_ind + (self.n_market - self.n_ind) + self.n_reg + has_fn
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

    def pool_index(self, size: int) -> dict:
        """The pools of :meth:`pools` as one CSR over pool tags, with a compact index of their members.

        ``tags`` (n x pool tags) lists each person's pool tags (industry for
        executives and fractionals, specialty, size band for both), ``indptr``
        and ``members`` the people of each pool tag, ``compact`` maps a person
        to 0 .. ``n_members`` - 1 (-1: in no pool).
        """
        key = ("index", size)
        if key not in self._pools:
            p = self.pools(size)
            parts = [(self.I, p["exec"]), (self.I, p["frac"]), (self.S, p["spec"]), (self.Z, p["exec_size"]),
                     (self.Z, p["frac_size"])]
            tags = sp.hstack([M for M, _ in parts], format="csr")
            tags.indices = tags.indices.astype(np.int64)
            indptr, members, off = [np.zeros(1, np.int64)], [], 0
            for _, (ip, mem) in parts:
                indptr.append(ip[1:] + off)
                members.append(mem)
                off += len(mem)
            members = np.concatenate(members).astype(np.int64)
            uniq = np.unique(members)
            compact = np.full(len(self.ids), -1, dtype=np.int32 if len(uniq) < 2**31 else np.int64)
            compact[uniq] = np.arange(len(uniq))
            self._pools[key] = {"tags": tags, "indptr": np.concatenate(indptr), "members": members,
                                "compact": compact, "n_members": len(uniq)}
        return self._pools[key]

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_pools"] = {}  # cheap to rebuild, deterministic
        return state

    def __len__(self) -> int:
        return len(self.ids)


# ---------------------------------------------------------------------------
# Building the context
# ---------------------------------------------------------------------------

from recommender.network import TieTable, day_number, parse_as_of  # noqa: E402  (kept with the code that uses them)


def _bitmask(M: sp.csr_matrix) -> np.ndarray:
    """Rows of a 0/1 matrix as bit masks, shape (n, ceil(n_cols / 64)) of uint64."""
    n, t = M.shape
    words = max(1, -(-t // 64))
    out = np.zeros(n * words, dtype=np.uint64)
    r = np.repeat(np.arange(n, dtype=np.int64), np.diff(M.indptr))
    c = M.indices.astype(np.int64)
    np.bitwise_or.at(out, r * words + c // 64, np.left_shift(np.uint64(1), (c % 64).astype(np.uint64)))
    return out.reshape(n, words)


def _pool(M: sp.csr_matrix, ok: np.ndarray, rank: np.ndarray, order: np.ndarray, size: int):
    """Per column of ``M``: at most ``size`` rows with ``ok``, lowest ``rank`` first, as (indptr, indices).

    ``order`` lists the rows by ``rank``. The ``ok`` rows are taken in that
    order and the matrix converted to columns (CSC keeps each column's rows in
    row order, so in rank order); each column keeps its first ``size``. No sort.
    """
    rows_ok = order[ok[order]]
    C = M[rows_ok].tocsc()
    keep = np.minimum(np.diff(C.indptr), size)
    indptr = np.r_[0, np.cumsum(keep)].astype(np.int64)
    people = rows_ok[C.indices[_ranges(C.indptr[:-1], keep)]] if indptr[-1] else np.zeros(0, np.int64)
    return indptr, people.astype(np.int64)


def _tags(series: pd.Series) -> list[list[str]]:
    return [split_tags(v) if isinstance(v, str) else [] for v in series]


def _tag_lists(series: pd.Series) -> tuple[np.ndarray, list[list[str]]]:
    """``split_tags`` of a column, parsed once per distinct value: (codes per row, tags per code).

    Values that are not strings have no tags.
    """
    try:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    except TypeError:  # unhashable values (lists): none of them is a string
        codes, uniques = pd.factorize(series.where(series.map(lambda v: isinstance(v, str)), None),
                                      use_na_sentinel=True)
    return codes, [split_tags(v) if isinstance(v, str) else [] for v in uniques]


def _indicator_from(parts: list[tuple[np.ndarray, list[list[str]]]], n: int) -> tuple[sp.csr_matrix, list[str]]:
    """0/1 matrix (n x vocabulary) of the union of several tag columns given as :func:`_tag_lists`."""
    vocab = sorted({t for _, lists in parts for tags in lists for t in tags})
    pos = {t: j for j, t in enumerate(vocab)}
    rows, cols = [], []
    for codes, lists in parts:
        lens = np.array([len(t) for t in lists] + [0], dtype=np.int64)
        flat = np.array([pos[t] for tags in lists for t in tags], dtype=np.int64)
        offs = np.r_[0, np.cumsum(lens)][:-1]
        c = np.where(codes >= 0, codes, len(lists))  # the sentinel code has no tags
        cnt = lens[c]
        rows.append(np.repeat(np.arange(n, dtype=np.int64), cnt))
        cols.append(flat[_ranges(np.r_[offs, 0][c], cnt)] if cnt.sum() else np.zeros(0, np.int64))
    r, c = np.concatenate(rows), np.concatenate(cols)
    m = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, len(vocab)))
    m.sum_duplicates()
    m.data[:] = 1.0
    m.sort_indices()
    return m, vocab


@dataclass(eq=False)
class PeopleEncoding:
    """The parts of a :class:`FeatureContext` that depend only on the people table (not on a date)."""

    ids: np.ndarray
    names: np.ndarray
    is_exec: np.ndarray
    opt_out: np.ndarray
    function: np.ndarray
    S: sp.csr_matrix
    I: sp.csr_matrix  # noqa: E741
    Z: sp.csr_matrix
    G: sp.csr_matrix
    profile: sp.csr_matrix
    vocab: dict

    @property
    def position(self) -> dict:
        """Person id -> position, built once and shared by every context of these people."""
        if "_position" not in self.__dict__:
            self._position = dict(zip(self.ids.tolist(), range(len(self.ids))))
        return self._position

    def spec_groups(self) -> tuple[np.ndarray, np.ndarray]:
        """People grouped by their set of specialties: (group per person, 0/1 matrix groups x specialties)."""
        if "_spec_groups" not in self.__dict__:
            bits = _bitmask(self.S)
            if bits.shape[1] == 1:
                group, uniq = pd.factorize(bits[:, 0])
                first = np.zeros(len(uniq), dtype=np.int64)
                first[group] = np.arange(len(group))  # a member of each group
            else:
                _, first, group = np.unique(bits, axis=0, return_index=True, return_inverse=True)
                group = group.ravel()
            self._spec_groups = (group.astype(np.int32), self.S[first].toarray())
        return self._spec_groups


def encode_people(net: Network, profile: ProfileModel | None = None) -> PeopleEncoding:
    """Encode ``net.people`` (tags, kinds, profiles) once; reusable for every date of the same people."""
    people = net.people.reset_index(drop=True)
    ids = people["id"].astype(str).to_numpy()
    n = len(ids)
    kind = people["kind"].fillna("fractional").astype(str).to_numpy()
    is_exec = kind == "executive"
    opt_out = pd.to_numeric(people["opt_out"], errors="coerce").fillna(0).astype(int).to_numpy() == 1
    opt_out |= kind == "contact"  # plain contacts link and introduce people but are never suggested
    names = people["name"].where(people["name"].notna(), people["id"]).astype(str).to_numpy()
    func = people["function"].where(people["function"].notna(), "").astype(str).str.strip().str.lower()
    fcodes, funiq = pd.factorize(func)
    func_vocab = sorted(f for f in funiq if f)
    fpos = np.array([func_vocab.index(f) if f else -1 for f in funiq] + [-1], dtype=np.int64)
    function = fpos[np.where(fcodes >= 0, fcodes, len(funiq))]

    comp = net.companies.drop_duplicates("id").set_index("id") if len(net.companies) else None

    def company_attr(col: str):
        if comp is None or col not in comp:
            return np.full(n, -1, dtype=np.int64), []
        vals = people["company_id"].map(comp[col])
        codes, uniq = pd.factorize(vals, use_na_sentinel=True)
        ok = np.array([isinstance(v, str) and v != "" for v in uniq] + [False], dtype=bool)
        codes = np.where(is_exec & ok[np.where(codes >= 0, codes, len(uniq))], codes, -1)
        used = np.zeros(len(uniq), dtype=bool)
        used[codes[codes >= 0]] = True  # values only non-executives have are no tags
        return codes, [[v] if u else [] for v, u in zip(uniq, used)]

    S, spec_vocab = _indicator_from([_tag_lists(people["specialties"])], n)
    I, ind_vocab = _indicator_from([_tag_lists(people["industries"]), company_attr("industry")], n)
    Z, size_vocab = _indicator_from([_tag_lists(people["icp_sizes"]), company_attr("size_band")], n)
    G, reg_vocab = _indicator_from([_tag_lists(people["regions"]), company_attr("region")], n)

    if profile is None:
        profile = ProfileModel().fit(people)
    if len(profile.ids_) == n and np.array_equal(pd.Index(profile.ids_).astype(str).to_numpy(dtype=object), ids):
        P = profile.matrix_  # the same rows in the same order: shared, not copied
    else:
        P = _profile_rows(profile, ids)
    return PeopleEncoding(ids=ids, names=names, is_exec=is_exec, opt_out=opt_out, function=function,
                          S=S, I=I, Z=Z, G=G, profile=P,
                          vocab={"function": func_vocab, "specialty": spec_vocab, "industry": ind_vocab,
                                 "size_band": size_vocab, "region": reg_vocab})


def _profile_rows(profile: ProfileModel, ids: np.ndarray) -> sp.csr_matrix:
    """The profile rows of ``ids`` (zero rows for ids the profile model does not know)."""
    pos = pd.Series(np.arange(len(profile.ids_)), index=pd.Index(profile.ids_).astype(str))
    pos = pos[~pos.index.duplicated()].reindex(ids).to_numpy()
    missing = np.isnan(pos)
    P = profile.matrix_[np.where(missing, 0, pos).astype(np.int64)].tocsr()
    if missing.any():
        P = (sp.diags((~missing).astype(float)) @ P).tocsr()
    return P


def context_day(net: Network, as_of=None) -> str:
    """The day (``YYYY-MM-DD``) :func:`build_context` sees ``net`` as of: ``as_of``, else the latest date."""
    return pd.Timestamp(parse_as_of(as_of) or net.reference_date).strftime("%Y-%m-%d")


def build_context(net: Network, profile: ProfileModel | None = None, *, as_of=None,
                  people: PeopleEncoding | None = None, ties: TieTable | None = None) -> FeatureContext:
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
    people : PeopleEncoding, optional
        :func:`encode_people` of the same people table, when already computed
        (several dates of one network share it).
    ties : TieTable, optional
        ``TieTable.encode(net, people.ids)`` of this very ``net``, when already
        computed (several dates of one network share it; cutting it at a date
        is a filter).

    Returns
    -------
    FeatureContext
    """
    cut = parse_as_of(as_of)
    day_str = context_day(net, as_of)  # Network.until(as_of).reference_date
    enc = people if people is not None else encode_people(net, profile)
    ids = enc.ids
    n = len(ids)
    if ties is None or ties.source is not net.ties or not (ties.ids is ids or np.array_equal(ties.ids, ids)):
        ties = TieTable.encode(net, ids)

    # the ties between two people known at the cut (all of them without a cut), their trust and freshness
    d = ties.directed()
    tie = d["tie"]
    window = ties.since.upto(cut) if cut else None
    in_window = window[tie] if window is not None else None
    if ties.since.strict and ties.last_contact.strict:
        known = np.flatnonzero(in_window) if window is not None else slice(None)
        weight = np.zeros(len(tie))
        weight[known] = ties.trust(tie[known], day_str, cut=cut)
    else:  # trust reads the dates of every tie of the window (not only the ones between people)
        sel = np.flatnonzero(window) if window is not None else np.arange(len(ties.a))
        weight = np.zeros(len(ties.a))
        weight[sel] = ties.trust(sel, day_str, cut=cut)
        weight = weight[tie]
    age = day_number(day_str) - ties.since.days(tie)
    fresh = np.exp(-np.clip(age, 0, None) / FRESH_DAYS)
    fresh[np.isnan(age)] = np.exp(-3.0)
    recent = ~np.isnan(age) & (age <= ACTIVITY_DAYS)
    if in_window is not None:
        recent &= in_window
    recent = tie[recent]
    rec_count = np.bincount(np.r_[ties.a[recent], ties.b[recent]], minlength=n).astype(float)

    # both directions, one record per directed pair (the strongest; the first of equals), in CSR order
    r, c, rec = d["row"], d["col"], d["rec"]
    if in_window is not None:
        keep = in_window[rec]
        r, c, rec = r[keep], c[keep], rec[keep]
        del keep
    wv, fv = weight[rec], fresh[rec]
    del weight, fresh, rec
    if d["repeated"] and len(r):
        start = np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])]
        if not start.all():
            run = np.cumsum(start) - 1
            best = np.maximum.reduceat(wv, np.flatnonzero(start))
            cand = np.flatnonzero(wv == best[run])
            first = cand[np.r_[True, run[cand][1:] != run[cand][:-1]]]
            r, c, wv, fv = r[first], c[first], wv[first], fv[first]
    itype = np.int32 if len(r) < 2**31 else np.int64
    indptr = np.zeros(n + 1, dtype=itype)
    np.cumsum(np.bincount(r, minlength=n), out=indptr[1:])
    indices = c.astype(itype, copy=False)  # shared by A, W and F
    A = sp.csr_matrix((np.ones(len(r)), indices, indptr), shape=(n, n))
    # trust and freshness in single precision (seven significant digits): the two-hop stage reads them once per
    # path, so half the bytes is ~12% of its time; every feature is still computed in double precision
    W = sp.csr_matrix((np.clip(wv, 1e-6, 1.0, out=wv).astype(np.float32), indices, indptr), shape=(n, n))
    Fm = sp.csr_matrix((fv.astype(np.float32), indices, indptr), shape=(n, n))
    for m in (A, W, Fm):  # sorted by construction: sets the flags without sorting
        m.has_sorted_indices = True
        m.has_canonical_format = True
    deg = np.diff(indptr).astype(float)

    affinity = _specialty_affinity(enc.S, A, groups=enc.spec_groups(), ends=(r, c))

    return FeatureContext(
        ids=ids, names=enc.names, A=A, W=W, F=Fm, deg=deg, is_exec=enc.is_exec, opt_out=enc.opt_out,
        function=enc.function, S=enc.S, I=enc.I, Z=enc.Z, G=enc.G, profile=enc.profile, affinity=affinity,
        activity=np.log1p(rec_count), vocab=enc.vocab, as_of=day_str, position=enc.position,
    )


def _specialty_affinity(S: sp.csr_matrix, T: sp.csr_matrix, prior: float = 5.0, groups=None,
                        ends=None) -> np.ndarray:
    """Lift of specialty pairs among tied people (``T``: the 0/1 directed tie matrix), smoothed towards 1.

    ``groups`` (:meth:`PeopleEncoding.spec_groups`) counts ties between
    specialty sets first, when there are few sets; the counts are the same
    integers either way. ``ends`` are ``T``'s (row, column) arrays if at hand.
    """
    k = S.shape[1]
    if k == 0:
        return np.ones((0, 0))
    deg = np.diff(T.indptr).astype(float)
    if groups is not None and len(groups[1]) ** 2 <= 1 << 24:
        group, C = groups
        g = len(C)
        r, c = ends if ends is not None else (np.repeat(np.arange(T.shape[0]), np.diff(T.indptr)), T.indices)
        M = np.bincount(group[r] * g + group[c], minlength=g * g).reshape(g, g).astype(float)
        obs = C.T @ M @ C
    else:
        obs = np.asarray((S.T.tocsr() @ (T @ S)).todense())
    deg_s = np.asarray((S.T @ deg)).ravel()
    total = max(float(T.nnz), 1.0)
    expected = np.outer(deg_s, deg_s) / total
    return (obs + prior) / (expected + prior)


# ---------------------------------------------------------------------------
# Small vectorised helpers
# ---------------------------------------------------------------------------

_ALLOCATOR_TUNED = False


def tune_allocator() -> bool:
    """Let glibc keep freed block arrays for reuse (once per process; a no-op elsewhere).

    Block scoring allocates and frees arrays of a few MB per step. By default
    glibc serves those with fresh ``mmap`` pages and returns freed heap to the
    system, so every block pays page faults again (about half the time of a
    whole-network job). Raising the mmap and trim thresholds (``mallopt``)
    keeps that memory in the process; peak memory does not grow. Returns
    whether the settings were applied.
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return True
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
        ok = (libc.mallopt(m_trim_threshold, 1 << 30) == 1 and libc.mallopt(m_top_pad, 64 << 20) == 1
              and libc.mallopt(m_mmap_threshold, 32 << 20) == 1)
    except (OSError, AttributeError):  # not glibc
        ok = False
    _ALLOCATOR_TUNED = ok
    return ok



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


def _top_per_row(row: np.ndarray, val: np.ndarray, k: int, nrows: int, tiebreak: np.ndarray | None = None,
                 thr: np.ndarray | None = None) -> np.ndarray:
    """Mask of the ``k`` largest ``val`` per row (entries grouped by row).

    Ties at the ``k``-th value go to the lowest ``tiebreak`` (default: the
    earliest entry). The answer for a row depends only on that row's entries.
    """
    m = len(row)
    if m == 0 or k <= 0:
        return np.zeros(m, bool)
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
#: Cells of the per-thread scratch (int32) used for joins on a small column space; sized for the CPU cache.
_SCRATCH_JOIN = 1 << 20


# ---------------------------------------------------------------------------
# Two-hop aggregates: mutual contacts, vectorised, no global sort
# ---------------------------------------------------------------------------


@dataclass(eq=False)
class TwoHop:
    """Aggregates over the mutual contacts of (row, person) pairs two hops apart.

    One entry per pair, sorted by (block row, person). A row's own person
    (``v == u``, reached back through each contact) has an entry too, marked
    ``tied``: nothing takes tied pairs as candidates. ``cn``,
    ``aa``, ``ra`` sum over the mutual contacts ``w``; ``trust`` is
    ``max_w min(W[u, w], W[w, v])`` and ``recency`` the same over tie
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
        out[ok] = self._w[path[seg + first]]
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

    The second hops are read with scipy's row indexing (``W[w]``, ``F[w]``:
    one C++ pass each); the paths are grouped per pair by a counting sort (a
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
    W2, F2 = ctx.W[mid], ctx.F[mid]  # the second hops, in (row, mutual contact, person) order
    v, c2 = W2.indices, np.diff(W2.indptr)
    n_paths = len(v)
    if n_paths == 0:
        return _empty_two_hop(n, rows)
    # counting sort of the paths by (row, v): transpose twice; u - w - u paths are dropped as pairs below
    idx_t = np.int32 if n_paths < 2**31 and n < 2**31 else np.int64
    row_ptr = W2.indptr[np.r_[0, np.cumsum(c1)]].astype(idx_t)
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
    pt = np.minimum(np.repeat(ctx.W.data[e1], c2), W2.data)
    pf = np.minimum(np.repeat(ctx.F.data[e1], c2), F2.data)
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

    ra_aa = reduce(np.add, lambda p: ctx.inv_deg_log[w_path[p]], complex)  # resource allocation + 1j * AA
    ra, aa = ra_aa.real, ra_aa.imag  # views: no copy
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


# ---------------------------------------------------------------------------
# Groups and candidates
# ---------------------------------------------------------------------------


def _group_table() -> np.ndarray:
    t = np.full(64, -1, dtype=np.int8)
    for code in range(64):
        ue, ve, same_func, same_specs, market, ind = ((code >> b) & 1 for b in (5, 4, 3, 2, 1, 0))
        if not ue and not ve and same_func and not same_specs:
            t[code] = 0
        if not ue and not ve and not same_func and market:
            t[code] = 1
        if not ue and ve and market:
            t[code] = 2
        if ue and not ve and market:
            t[code] = 1
        if ue and ve and ind:
            t[code] = 2
    return t


_GROUP_TABLE = _group_table()


#: Per-person integers read for every candidate, kept side by side in one record (:func:`person_attrs`).
_PERSON_ATTRS = ("deg", "recent", "function", "n_spec", "n_market", "n_ind", "n_reg", "is_exec", "has_region")


def _int_type(lo: int, hi: int) -> np.dtype:
    """The smallest signed integer type holding ``lo`` .. ``hi``."""
    for t in (np.int8, np.int16, np.int32):
        if np.iinfo(t).min <= lo and hi <= np.iinfo(t).max:
            return np.dtype(t)
    return np.dtype(np.int64)


def _person_table(ctx: FeatureContext) -> tuple[np.ndarray, np.ndarray]:
    """One record per person of :data:`_PERSON_ATTRS` and ``spec`` (specialty codes), and ``log1p`` of each count.

    Each field has the smallest integer type that holds it and the record is
    padded to 32 bytes where it fits (else a multiple of 32): numpy gathers
    records of 32 bytes or less with a fixed-size copy, more than twice as
    fast as wider ones. ``spec`` lists the person's specialty codes, padded
    with ``k`` (the number of specialties), which reads a column of zeros in
    :func:`_affinity`. ``recent`` is the count behind ``ctx.activity``
    (``log1p(recent)``); the second array maps a count to that value (None if
    that does not reproduce ``ctx.activity`` exactly), so a candidate's
    activity is read from the record.
    """
    if "person_table" not in ctx._pools:
        n = len(ctx)
        recent = np.rint(np.expm1(ctx.activity)).astype(np.int64)
        n_spec = ctx.n_spec_i.astype(np.int64)
        cols = dict(zip(_PERSON_ATTRS, (ctx.deg, recent, ctx.function, n_spec, ctx.n_market, ctx.n_ind, ctx.n_reg,
                                        ctx.is_exec, ctx.has_region)))
        cols = {name: np.asarray(c).astype(np.int64) for name, c in cols.items()}
        k = ctx.S.shape[1]
        width = int(n_spec.max(initial=0))
        fields = [(name, _int_type(int(c.min(initial=0)), int(c.max(initial=0)))) for name, c in cols.items()]
        fields.append(("spec", _int_type(0, k)))
        fields.sort(key=lambda f: -f[1].itemsize)  # widest first: every field aligned
        names, formats, offsets, at = [], [], [], 0
        for name, t in fields:
            names.append(name)
            formats.append((t, (width,)) if name == "spec" else t)
            offsets.append(at)
            at += t.itemsize * (width if name == "spec" else 1)
        dt = np.dtype({"names": names, "formats": formats, "offsets": offsets,
                       "itemsize": 32 if at <= 32 else -(-at // 32) * 32})
        table = np.zeros(n, dtype=dt)
        for name, c in cols.items():
            table[name] = c
        if width:
            spec = np.full((n, width), k, dtype=dt["spec"].base)
            S = ctx.S
            row = np.repeat(np.arange(n), n_spec)
            spec[row, np.arange(S.nnz) - S.indptr[row]] = S.indices
            table["spec"] = spec
        activity = np.log1p(np.arange(int(recent.max(initial=0)) + 1, dtype=float))
        if not np.array_equal(activity[recent], ctx.activity):  # not the context's numbers: read those
            activity = None
        ctx._pools["person_table"] = (table, activity)
    return ctx._pools["person_table"]


def _group_keys(ctx: FeatureContext) -> np.ndarray:
    """Per person, what :func:`_groups` reads of the candidate, packed in one integer (built once)."""
    if "group_keys" not in ctx._pools:
        keys = ((ctx.function.astype(np.int64) + 1) | (ctx.is_exec.astype(np.int64) << 16)
                | (ctx.n_spec_i.astype(np.int64) << 17))
        ctx._pools["group_keys"] = keys.astype(np.int32) if keys.max(initial=0) < 2**31 else keys
    return ctx._pools["group_keys"]


def person_attrs(ctx: FeatureContext, people: np.ndarray) -> dict:
    """:data:`_PERSON_ATTRS` and ``spec`` of ``people`` (positions), read with one gather of their records.

    Candidates are scattered over the network; reading one record per
    candidate costs one cache miss where separate arrays cost ten. The values
    are views of the gathered records (small integer types). ``activity``
    (float) is added, equal to ``ctx.activity[people]``.
    """
    table, activity = _person_table(ctx)
    rec = np.take(table, people)
    out = {name: rec[name] for name in table.dtype.names}
    out["activity"] = activity[out["recent"]] if activity is not None else ctx.activity[people]
    return out


def _groups(ctx: FeatureContext, u: np.ndarray, v: np.ndarray, ind: np.ndarray, size: np.ndarray,
            spec_inter: np.ndarray, vattr: dict | None = None) -> np.ndarray:
    """Group code (0 peers, 1 adjacent, 2 executives, -1 none) of pairs (u, v), by a table lookup.

    ``vattr`` is :func:`person_attrs` of ``v`` when already read.
    """
    fu = ctx.function[u]
    if vattr is None:  # one gather of a packed key: function + 1, is_exec, number of specialties
        gk = _group_keys(ctx)[v]
        fv, ev, nsv = (gk & 0xFFFF) - 1, (gk >> 16) & 1, gk >> 17
    else:
        fv, ev, nsv = vattr["function"], vattr["is_exec"], vattr["n_spec"]
    code = ctx.is_exec[u].astype(np.uint8) << 5
    code |= ev.astype(np.uint8) << 4
    code |= (((fu == fv) & (fu >= 0)).astype(np.uint8) << 3)
    code |= (((spec_inter == ctx.n_spec_i[u]) & (spec_inter == nsv)).astype(np.uint8) << 2)
    ind_pos = ind > 0
    code |= ((ind_pos | (size > 0)).astype(np.uint8) << 1)
    code |= ind_pos
    return _GROUP_TABLE[code]


_TAG_FIELDS = ("spec", "ind", "size", "reg")


def _tag_bits(ctx: FeatureContext) -> np.ndarray | None:
    """The four tag bit masks side by side, shape (n, 4) (one cache line per person), or None if wider.

    Built once per context (kept with its pools; :meth:`FeatureContext.pools`).
    """
    if "tag_bits" not in ctx._pools:
        parts = (ctx.S_bits, ctx.I_bits, ctx.Z_bits, ctx.G_bits)
        ctx._pools["tag_bits"] = (np.ascontiguousarray(np.hstack(parts))
                                  if all(p.shape[1] == 1 for p in parts) else None)
    return ctx._pools["tag_bits"]


def tag_counts(ctx: FeatureContext, rows: np.ndarray, pr: np.ndarray, pc: np.ndarray) -> dict:
    """Shared specialties, industries, size bands and regions of pairs (``rows[pr]``, ``pc``), as uint8."""
    bits = _tag_bits(ctx)
    if bits is not None:  # one gather per pair for all four fields
        shared = np.bitwise_count(np.take(bits[rows], pr, axis=0) & np.take(bits, pc, axis=0)).T.copy()
        return dict(zip(_TAG_FIELDS, shared))
    out = {}
    for name, bits in (("spec", ctx.S_bits), ("ind", ctx.I_bits), ("size", ctx.Z_bits), ("reg", ctx.G_bits)):
        br = bits[rows]
        if bits.shape[1] == 1:
            out[name] = np.bitwise_count(br[:, 0][pr] & bits[:, 0][pc])
        else:
            out[name] = np.bitwise_count(br[pr] & bits[pc]).sum(axis=1).astype(np.uint8)
    return out


def block_candidates(ctx: FeatureContext, rows: np.ndarray, hop: TwoHop, *, group: str = "all",
                     n_similar: int = 50, n_market: int = 50, max_two_hop: int = 400, n_pool: int = 64):
    """Candidates of a block, grouped by row (see :func:`candidate_pairs`), with their two-hop index.

    Returns
    -------
    pair_row, pair_col, hop_index : ndarray of int, shape (m,)
        Grouped by row (within a row: two-hop candidates by person, then
        pool candidates); ``hop_index`` points into ``hop`` (-1: no mutual
        contact).
    tags : dict
        :func:`tag_counts` of the pairs.
    """
    rows = np.asarray(rows, dtype=np.int64)
    b = len(rows)
    e = np.zeros(0, np.int64)
    if b == 0 or len(ctx) == 0:
        return e, e, e, tag_counts(ctx, rows, e, e)
    gcode = None if group == "all" else GROUPS.index(group)

    def in_group(r, c, tg, va=None):
        g = _groups(ctx, rows[r], c, tg["ind"], tg["size"], tg["spec"], va)
        tg["group"] = g
        return np.flatnonzero(g >= 0 if gcode is None else g == gcode)

    # -- two hops in the wanted group(s): the best ``max_two_hop`` per row by resource allocation
    i2 = np.flatnonzero(~hop.tied & ~ctx.opt_out[hop.col]) if max_two_hop else e
    tags2 = tag_counts(ctx, rows, hop.row[i2], hop.col[i2])
    j = in_group(hop.row[i2], hop.col[i2], tags2)
    i2 = i2[j]
    tags2 = {k: v[j] for k, v in tags2.items()}
    j = _top_per_row(hop.row[i2], hop.ra[i2], max_two_hop, b) if len(i2) else np.zeros(0, bool)
    sel2 = i2[j]
    tags2 = {k: v[j] for k, v in tags2.items()}
    r2, c2 = hop.row[sel2], hop.col[sel2]

    # -- pools: people in the same market / specialty, deduplicated and joined to ``hop``
    pool = ctx.pool_index(n_pool)
    pr, pc = _expand(pool["tags"], rows, pool["indptr"], pool["members"])
    hidx = e
    tagsp = {k: v[:0] for k, v in tags2.items()}
    if len(pr):
        hidx, first, tied = _join_pool(ctx, rows, hop, pool, pr, pc)
        idx = np.flatnonzero(first & ~tied & (pc != rows[pr]))
        pr, pc, hidx = pr[idx], pc[idx], hidx[idx]
        tg = tag_counts(ctx, rows, pr, pc)
        va = person_attrs(ctx, pc)
        idx = in_group(pr, pc, tg, va)
        pr, pc, hidx = pr[idx], pc[idx], hidx[idx]
        tg = {k: v[idx] for k, v in tg.items()}
        va = {k: va[k][idx] for k in ("function", "n_spec", "n_ind", "n_market", "n_reg", "has_region", "is_exec")}
        spec, ind, size, reg = (tg[k].astype(float) for k in ("spec", "ind", "size", "reg"))
        u = rows[pr]
        fu, fv = ctx.function[u], va["function"]
        same_fn = (fu == fv) & (fu >= 0)
        norm = ctx.tag_norm
        # the candidate's squared tag norm, as FeatureContext.tag_norm computes it
        norm_v = (9.0 * va["n_spec"].astype(float) + 4.0 * va["n_ind"] + (va["n_market"] - va["n_ind"].astype(float))
                  + va["n_reg"] + (fv >= 0))
        dot = 9.0 * spec + 4.0 * ind + size + reg + same_fn
        den = np.sqrt(norm[u] * norm_v)
        tag = np.divide(dot, den, out=np.zeros(len(dot)), where=den > 0)
        keep = np.zeros(len(pr), dtype=bool)
        j = np.flatnonzero(tag > 0)
        keep[j[_top_per_row(pr[j], tag[j], n_similar, b)]] = True
        inter = ind + size
        union = ctx.n_market[u] + va["n_market"] - inter
        jac = np.divide(inter, union, out=np.zeros(len(inter)), where=union > 0)
        fit = (ind > 0).astype(float) + (size > 0) + 0.5 * (reg > 0) + 0.1 * jac + 0.01 * tag
        ve = va["is_exec"].astype(bool)
        for mask in (~ve & (fu != fv), ve):
            j = np.flatnonzero(mask & (fit > 0))
            if len(j):
                keep[j[_top_per_row(pr[j], fit[j], n_market, b)]] = True
        in_sel2 = np.zeros(len(hop) + 1, dtype=bool)
        in_sel2[sel2] = True
        keep &= ~in_sel2[hidx]  # already a two-hop candidate
        j = np.flatnonzero(keep)
        pr, pc, hidx = pr[j], pc[j], hidx[j]
        tagsp = {k: v[j] for k, v in tg.items()}
    # -- merge, grouped by row: two-hop candidates first; keep pairs in the wanted group(s)
    pos_a, pos_b = _merge_rows(r2, pr, b)
    m = len(sel2) + len(pr)

    def merged(a, bb):
        out = np.empty(m, dtype=np.result_type(a, bb))
        out[pos_a] = a
        out[pos_b] = bb
        return out

    out_r, out_c, out_h = merged(r2, pr), merged(c2, pc), merged(sel2, hidx)
    return out_r, out_c, out_h, {k: merged(tags2[k], tagsp[k]) for k in tags2}


def _expand(M: sp.csr_matrix, rows: np.ndarray, indptr: np.ndarray, indices: np.ndarray):
    """(block row, member) for every pool of every pool tag of each row, grouped by row."""
    s = M.indptr[rows].astype(np.int64)
    c = M.indptr[rows + 1].astype(np.int64) - s
    r1 = np.repeat(np.arange(len(rows), dtype=np.int64), c)
    tags = M.indices[_ranges(s, c)].astype(np.int64)
    s2 = indptr[tags]
    c2 = indptr[tags + 1] - s2
    return np.repeat(r1, c2), indices[_ranges(s2, c2)]


def _join_pool(ctx: FeatureContext, rows: np.ndarray, hop: TwoHop, pool: dict, pr: np.ndarray, pc: np.ndarray):
    """For pool pairs (grouped by row): their ``hop`` index (-1 none), first occurrence, and tie flags.

    Pool members are few (a compact index), so a per-thread scratch of
    (rows x members) cells, small enough for the CPU cache, replaces any sort.
    """
    b = len(rows)
    compact = pool["compact"]
    npp = max(int(pool["n_members"]), 1)
    step = max(1, _SCRATCH_JOIN // npp)
    scr = _SCRATCH.get(step * npp)
    cid = compact[pc].astype(np.int64)
    # hop entries and ties whose person is a pool member
    hc = compact[hop.col]
    hsel = np.flatnonzero(hc >= 0)
    A = ctx.A
    s1 = ctx.indptr64[rows]
    c1 = ctx.indptr64[rows + 1] - s1
    t_row = np.repeat(np.arange(b, dtype=np.int64), c1)
    t_c = compact[A.indices[_ranges(s1, c1)]]
    tsel = np.flatnonzero(t_c >= 0)
    t_row, t_c = t_row[tsel], t_c[tsel].astype(np.int64)
    h_row, h_c = hop.row[hsel], hc[hsel].astype(np.int64)
    bounds = np.arange(0, b + step, step)
    bp = np.searchsorted(pr, bounds)
    bh = np.searchsorted(h_row, bounds)
    bt = np.searchsorted(t_row, bounds)
    hidx = np.full(len(pr), -1, dtype=np.int64)
    tied = np.zeros(len(pr), dtype=bool)
    first = np.zeros(len(pr), dtype=bool)
    for j in range(len(bounds) - 1):
        p0, p1 = bp[j], bp[j + 1]
        if p0 == p1:
            continue
        r0 = bounds[j]
        kp = (pr[p0:p1] - r0) * npp + cid[p0:p1]
        kt = (t_row[bt[j]:bt[j + 1]] - r0) * npp + t_c[bt[j]:bt[j + 1]]
        kh = (h_row[bh[j]:bh[j + 1]] - r0) * npp + h_c[bh[j]:bh[j + 1]]
        # ties
        scr[kt] = 0
        tied[p0:p1] = scr[kp] == 0
        scr[kt] = -1
        # two-hop entries
        scr[kh] = hsel[bh[j]:bh[j + 1]]
        hidx[p0:p1] = scr[kp]
        scr[kh] = -1
        # first occurrence of each pool pair
        scr[kp] = np.arange(p1 - p0, dtype=np.int32)
        first[p0:p1] = scr[kp] == np.arange(p1 - p0)
        scr[kp] = -1
    return hidx, first, tied


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
        Per row, the pool members in the requested group(s) with the most
        similar tags (weighted cosine of specialties, industries, size bands,
        regions and function).
    n_market : int
        Per row, the fractionals of another function and the executives with
        the best market match.
    max_two_hop : int
        At most this many two-hop people per row (highest resource allocation
        among those in the requested group(s)).
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
    hop = two_hop_paths(ctx, rows) if hop is None else hop
    pr, pc, _, _ = block_candidates(ctx, rows, hop, group=group, n_similar=n_similar, n_market=n_market,
                                 max_two_hop=max_two_hop, n_pool=n_pool)
    o = np.lexsort((pc, pr))
    return pr[o], pc[o]


def _tied(ctx: FeatureContext, rows: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Whether each ``key = block_row * n + person`` is an existing tie."""
    n = len(ctx)
    s = ctx.indptr64[rows]
    c = ctx.indptr64[rows + 1] - s
    tie_keys = np.repeat(np.arange(len(rows), dtype=np.int64), c) * n + ctx.A.indices[_ranges(s, c)]
    if len(tie_keys) == 0 or len(keys) == 0:
        return np.zeros(len(keys), bool)
    pos = np.minimum(np.searchsorted(tie_keys, keys), len(tie_keys) - 1)  # rows ascending, A rows sorted
    return tie_keys[pos] == keys


# ---------------------------------------------------------------------------
# Features
# ---------------------------------------------------------------------------


def feature_columns(ctx: FeatureContext, rows: np.ndarray, pr: np.ndarray, pc: np.ndarray, hop: TwoHop,
                    hidx: np.ndarray, tied: np.ndarray | None = None, *, katz: bool = True,
                    tag_sim: bool = True, tags: dict | None = None) -> dict:
    """:data:`FEATURE_NAMES` of pairs as a dict of 1-D arrays (the one feature code path).

    ``hidx`` is each pair's index in ``hop`` (-1: no mutual contact) and
    ``tied`` whether the pair is already tied (default: none is). ``katz``
    and ``tag_sim`` can be left out (zeros) when the caller computes them
    later for fewer pairs (:func:`block_tag_similarity`, :func:`katz_scores`).
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
    f["katz"] = katz_scores(ctx, rows, pr, pc, cn, np.zeros(m) if tied is None else tied.astype(float)) \
        if katz else np.zeros(m)
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


def stack_features(cols: dict, idx: np.ndarray | None = None) -> np.ndarray:
    """Feature matrix (m, F) in :data:`FEATURE_NAMES` order from :func:`feature_columns` (rows ``idx``)."""
    m = len(cols["cn"]) if idx is None else len(idx)
    X = np.empty((m, len(FEATURE_NAMES)))
    for j, name in enumerate(FEATURE_NAMES):
        X[:, j] = cols[name] if idx is None else cols[name][idx]
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
        R = M[pc[idx]]
        cnt = np.diff(R.indptr)
        pair = np.repeat(np.arange(len(idx)), cnt)
        vals = R.data * Q[(prs[sel] - r0)[pair], R.indices]
        out[idx] = np.bincount(pair, weights=vals, minlength=len(idx))
    return out


def katz_scores(ctx: FeatureContext, rows, pr, pc, cn, tied) -> np.ndarray:
    """Truncated Katz ``b A + b^2 A^2 + b^3 A^3`` of pairs (``cn`` = A^2, ``tied`` = A)."""
    walks3 = _walks3(ctx, rows, pr, pc)
    return KATZ_BETA * tied + KATZ_BETA**2 * cn + KATZ_BETA**3 * walks3


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
    if len(pr) == 0:
        return np.zeros((0, len(FEATURE_NAMES)))
    hop = two_hop_paths(ctx, rows) if hop is None else hop
    hidx = hop.locate(pr, pc)
    tied = _tied(ctx, rows, pr * len(ctx) + pc)
    return stack_features(feature_columns(ctx, rows, pr, pc, hop, hidx, tied))


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
