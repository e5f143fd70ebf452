"""The network as of one date, encoded for feature work (:class:`FeatureContext`, :func:`build_context`).

A :class:`FeatureContext` is arrays only and is what a fitted model answers
from; building one (:func:`build_context`) reads a Network, so pandas and the
network module are imported there, not when a cached model is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from recommender.kernels import _bitmask, _ranges
from recommender.people import PeopleColumns

if TYPE_CHECKING:  # annotations only
    from recommender.network import Network, TieTable
    from recommender.people import PeopleEncoding
    from recommender.similarity import ProfileModel


FRESH_DAYS = 365.0


ACTIVITY_DAYS = 365


@dataclass(eq=False)
class FeatureContext(PeopleColumns):
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
        ``log1p`` of ties formed in the last :data:`ACTIVITY_DAYS` days (fewer on a history shorter
        than three years: :func:`history_time_scale`).
    vocab : dict of str to list of str
        Tag names of the columns of S, I, Z, G and the function codes.
    as_of : str
    """

    # the people's fields (ids, names, is_exec, opt_out, function, S, I, Z, G, profile, vocab) are
    # recommender.people.PeopleColumns'; these are the network's as of ``as_of``
    A: sp.csr_matrix
    W: sp.csr_matrix
    F: sp.csr_matrix
    deg: np.ndarray
    affinity: np.ndarray
    activity: np.ndarray
    as_of: str
    never_suggested: np.ndarray | None = None  # PeopleEncoding.never_suggested: opted out, or a plain contact

    def __post_init__(self):
        if self.never_suggested is None:
            self.never_suggested = self.opt_out
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
        # tag sets as bit masks: pair intersections are popcounts, never (block x n) products
        self.S_bits = _bitmask(self.S)
        self.I_bits = _bitmask(self.I)
        self.Z_bits = _bitmask(self.Z)
        self.G_bits = _bitmask(self.G)
        self.indptr64 = self.A.indptr.astype(np.int64)
        # 1 for who may introduce (people.PeopleEncoding.can_introduce): opted-out people are never an introducer
        self.introducer_ok = (~self.opt_out).astype(np.float32)
        has_fn = self.function >= 0
        # squared norms of the weighted tag vectors used to pre-score pool candidates
        self.tag_norm = 9.0 * self.n_spec + 4.0 * self.n_ind + (self.n_market - self.n_ind) + self.n_reg + has_fn
        self._pools: dict = {}

    @property
    def position(self) -> dict:
        """Person id -> row, built when first asked for (answers look people up; fitting never does: at 1M
        people the dict takes 0.7 s and ~100 MB)."""
        pos = self.__dict__.get("_position")
        if pos is None:
            pos = self.__dict__["_position"] = {pid: i for i, pid in enumerate(self.ids)}
        return pos

    def pools(self, size: int) -> dict:
        """Static candidate pools: per market industry (executives, fractionals) and per specialty.

        Each pool holds at most ``size`` people who may be suggested (not opted out, not a plain contact), the
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
            ok = ~self.never_suggested
            self._pools[size] = {
                "exec": _pool(self.I, ok & self.is_exec, rank, order, size),
                "frac": _pool(self.I, ok & ~self.is_exec, rank, order, size),
                "spec": _pool(self.S, ok & ~self.is_exec, rank, order, size),
                "exec_size": _pool(self.Z, ok & self.is_exec, rank, order, size),
                "frac_size": _pool(self.Z, ok & ~self.is_exec, rank, order, size),
                # the most active people of the whole network, a candidate for everyone: on networks where new
                # ties go to hubs (messages, follows) they are where a person's next tie often is
                "active": (np.array([0, min(size, int(ok.sum()))], np.int64), order[ok[order]][:size].astype(np.int64)),
            }
        return self._pools[size]

    def active_mask(self, size: int) -> np.ndarray:
        """True for the members of the ``"active"`` pool of :meth:`pools` (cached)."""
        key = ("active", size)
        if key not in self._pools:
            m = np.zeros(len(self.ids), dtype=bool)
            m[self.pools(size)["active"][1]] = True
            self._pools[key] = m
        return self._pools[key]

    def pool_index(self, size: int) -> dict:
        """The pools of :meth:`pools` as one CSR over pool tags, with a compact index of their members.

        ``tags`` (n x pool tags, a 0/1 pattern) lists each person's pool tags (industry for
        executives and fractionals, specialty, size band for both, and the
        network's most active people for everyone), ``indptr``
        and ``members`` the people of each pool tag, ``compact`` maps a person
        to 0 .. ``n_members`` - 1 (-1: in no pool).
        """
        key = ("index", size)
        if key not in self._pools:
            p = self.pools(size)
            everyone = sp.csr_matrix((np.ones(len(self.ids), dtype=bool), np.zeros(len(self.ids), np.int64),
                                      np.arange(len(self.ids) + 1)), shape=(len(self.ids), 1))
            parts = [(self.I, p["exec"]), (self.I, p["frac"]), (self.S, p["spec"]), (self.Z, p["exec_size"]),
                     (self.Z, p["frac_size"]), (everyone, p["active"])]
            # only which pool tags a person has is read (indptr, indices): one-byte values and the index type
            # scipy picks (32 bits where they fit), 60 MB at 1M people rather than 190 MB of float64 and int64
            tags = sp.hstack([sp.csr_matrix((np.ones(M.nnz, dtype=bool), M.indices, M.indptr), shape=M.shape)
                              for M, _ in parts], format="csr")
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

    # -- persistence (recommender.meet.persistence) -------------------------------------------------
    _STATE_FIELDS = ("ids", "names", "A", "deg", "is_exec", "opt_out", "function", "S", "I", "Z", "G", "profile",
                     "affinity", "activity", "vocab", "as_of", "never_suggested")

    def to_state(self) -> dict:
        """The encoded graph as arrays; W and F keep only their values (they share A's pattern)."""
        state = {f: getattr(self, f) for f in self._STATE_FIELDS}
        for name in ("W", "F"):
            m = getattr(self, name)
            if not (m.indptr is self.A.indptr or np.array_equal(m.indptr, self.A.indptr)) or not np.array_equal(
                    m.indices, self.A.indices):
                raise ValueError(f"FeatureContext.{name} does not share A's sparsity pattern")
            state[name + "_data"] = m.data
        st = self.__dict__.get("_structure")  # the graph-level columns' inputs (meet.features.structure), if made
        if st is not None:
            state["structure"] = {k: v for k, v in st.items() if v is not None}
        return state

    @classmethod
    def from_state(cls, state: dict) -> "FeatureContext":
        """The context whose :meth:`to_state` gave ``state`` (derived arrays rebuilt as at construction)."""
        A = state["A"]
        shared = {name: sp.csr_matrix((state[name + "_data"], A.indices, A.indptr), shape=A.shape)
                  for name in ("W", "F")}
        for m in (A, *shared.values()):
            m.indices, m.indptr = A.indices, A.indptr  # one index array for the three, as build_context makes them
            m.has_sorted_indices = True
            m.has_canonical_format = True
        fields = {f: state[f] for f in cls._STATE_FIELDS}
        ctx = cls(**fields, **shared)
        if "structure" in state:
            ctx.__dict__["_structure"] = {"clustering": None, **state["structure"]}
        return ctx

    def __len__(self) -> int:
        return len(self.ids)


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


def history_time_scale(age: np.ndarray) -> float:
    """How much shorter than three years the dated ties span, in (0, 1]: freshness and activity windows shrink by it.

    A network whose ties span three years or more (or are undated) keeps :data:`FRESH_DAYS` and
    :data:`ACTIVITY_DAYS`; one whose history covers weeks measures "recent" in days, on its own time scale.
    """
    a = age[np.isfinite(age)] if len(age) else age
    if len(a) == 0:
        return 1.0
    span = float(a.max())
    return float(np.clip(span / (3.0 * ACTIVITY_DAYS), 7.0 / ACTIVITY_DAYS, 1.0))


def context_day(net: Network, as_of=None) -> str:
    """The day (``YYYY-MM-DD``) :func:`build_context` sees ``net`` as of: ``as_of``, else the latest date."""
    import pandas as pd

    from recommender.network import parse_as_of

    return pd.Timestamp(parse_as_of(as_of) or net.reference_date).strftime("%Y-%m-%d")


def build_context(net: Network, profile: ProfileModel | None = None, *, as_of=None,
                  people: PeopleEncoding | None = None, ties: TieTable | None = None,
                  time_scale: float | None = None) -> FeatureContext:
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

    time_scale : float, optional
        Shrinks the freshness and activity windows (see :func:`history_time_scale`; default 1:
        :data:`FRESH_DAYS` and :data:`ACTIVITY_DAYS`). A model passes its network's one scale to every
        context it builds (history windows, holdouts, the current graph), so a feature means the same in each.

    Returns
    -------
    FeatureContext
    """
    from recommender.network import TieTable, day_number, parse_as_of
    from recommender.people import encode_people

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
    # exp(-clip(age, 0) / days) of each distinct date of the ties (a few thousand), read per tie
    age = day_number(day_str) - ties.since.unique_days  # the last value (NaN) is the missing date's
    scale = float(time_scale) if time_scale else 1.0
    undated = np.isnan(age)
    recent = ~undated & (age <= ACTIVITY_DAYS * scale)
    fresh = np.clip(age, 0, None)
    np.negative(fresh, out=fresh)
    fresh /= FRESH_DAYS * scale
    np.exp(fresh, out=fresh)
    fresh[undated] = np.exp(-3.0)
    codes = ties.since.codes[tie]
    recent, fresh = recent[codes], fresh[codes]
    del age, undated, codes
    if in_window is not None:
        recent &= in_window
    recent = tie[recent]
    rec_count = np.bincount(np.r_[ties.a[recent], ties.b[recent]], minlength=n).astype(float)

    # both directions, one record per directed pair (the strongest; the first of equals), in CSR order
    c, rec = d["col"], d["rec"]
    r = np.repeat(np.arange(n, dtype=c.dtype), np.diff(d["indptr"]))  # the records' rows (kept as counts)
    if in_window is not None:
        keep = in_window[rec]
        r, c, rec = r[keep], c[keep], rec[keep]
        del keep
    if d["repeated"]:  # the strongest of a pair's records is chosen in double precision, before clipping
        wv, fv = weight[rec], fresh[rec]
    else:  # single precision before the gather to both directions (half the bytes; W and F are stored so): casting
        # and clipping commute with a gather, and clipping to [1e-6, 1] before or after rounding gives the same numbers
        weight = weight.astype(np.float32)
        np.clip(weight, np.float32(1e-6), np.float32(1.0), out=weight)
        wv, fv = weight[rec], fresh.astype(np.float32)[rec]
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
    # path, so half the bytes is time saved; every feature is still computed in double precision
    W = sp.csr_matrix((np.clip(wv, 1e-6, 1.0, out=wv).astype(np.float32, copy=False), indices, indptr), shape=(n, n))
    Fm = sp.csr_matrix((fv.astype(np.float32, copy=False), indices, indptr), shape=(n, n))
    for m in (A, W, Fm):  # sorted by construction: sets the flags without sorting
        m.has_sorted_indices = True
        m.has_canonical_format = True
    deg = np.diff(indptr).astype(float)

    affinity = _specialty_affinity(enc.S, A, groups=enc.spec_groups(), ends=(r, c))

    return FeatureContext(
        **{**enc.columns(), "ids": ids}, A=A, W=W, F=Fm, deg=deg, affinity=affinity, activity=np.log1p(rec_count),
        as_of=day_str, never_suggested=enc.never_suggested,
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
        M = np.zeros(g * g, dtype=np.int64)
        step = 1 << 22  # ties at a time: the pair codes of 20M directed ties would be 160 MB at once
        for s0 in range(0, len(r), step):
            code = group[r[s0:s0 + step]].astype(np.int64)
            code *= g
            code += group[c[s0:s0 + step]]
            M += np.bincount(code, minlength=g * g)
        M = M.reshape(g, g).astype(float)
        obs = C.T @ M @ C
    else:
        obs = np.asarray((S.T.tocsr() @ (T @ S)).todense())
    deg_s = np.asarray((S.T @ deg)).ravel()
    total = max(float(T.nnz), 1.0)
    expected = np.outer(deg_s, deg_s) / total
    return (obs + prior) / (expected + prior)
