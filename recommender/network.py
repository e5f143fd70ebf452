"""The network: its tables as of a date, the weighted trust graph,
and a sparse adjacency for whole-network work, each ``as_of`` a date so history
can be replayed.

Example
-------
>>> import pandas as pd
>>> net = Network.from_frames(
...     people=pd.DataFrame({"id": ["a", "b", "c"], "name": ["A", "B", "C"], "kind": ["fractional"] * 3}),
...     ties=pd.DataFrame({"a": ["a", "b"], "b": ["b", "c"], "strength": [0.9, 0.5],
...                        "since": ["2020-01-01", "2025-01-01"]}),
... )
>>> from recommender.trust import build_trust_graph
>>> round(build_trust_graph(net, as_of="2025-06-01")["b"]["c"]["weight"], 3)
0.467
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from recommender.dates import parse_as_of  # noqa: F401  (its home is recommender.dates)
from recommender.kernels import match_keys
from recommender.store.schema import TABLES
from recommender.trust import DEFAULT_HALF_LIFE_DAYS, bonus_events, decayed_strength, tie_strength, trust_weights
from recommender.trust import INTRO_TRUST_BONUS, REFERRAL_TRUST_BONUS, build_trust_graph  # noqa: F401  (the trust rule's home is recommender.trust)


@dataclass(frozen=True)
class Network:
    """The network's tables (DataFrames with the schema's columns)."""

    people: pd.DataFrame
    companies: pd.DataFrame
    ties: pd.DataFrame
    introductions: pd.DataFrame
    opportunities: pd.DataFrame
    referrals: pd.DataFrame
    as_of: str | None = None

    @classmethod
    def from_frames(cls, **frames) -> "Network":
        """A network from some tables; missing tables and columns are empty."""
        out = {}
        for f in fields(cls):
            if f.name == "as_of":
                continue
            df = frames.get(f.name)
            cols = TABLES[f.name].column_names
            if df is None:
                df = pd.DataFrame(columns=cols)
            else:
                df = df.copy()
                for c in cols:
                    if c not in df.columns:
                        df[c] = None
                df = df[cols]
            out[f.name] = df.reset_index(drop=True)
        return cls(**out, as_of=frames.get("as_of"))

    def until(self, as_of) -> "Network":
        """The network as it was known on ``as_of`` (records dated after it dropped)."""
        day = parse_as_of(as_of)
        if day is None:
            return self

        def upto(df: pd.DataFrame, col: str) -> pd.DataFrame:
            d = df[col]
            return df[d.isna() | (d <= day)].reset_index(drop=True)

        return replace(
            self,
            ties=upto(self.ties, "since"),
            introductions=upto(self.introductions, "date"),
            opportunities=upto(self.opportunities, "date"),
            referrals=upto(self.referrals, "date"),
            as_of=day,
        )

    @property
    def reference_date(self) -> str:
        """``as_of`` if set, else the latest date in the data (or today)."""
        if self.as_of:
            return self.as_of
        dates = [self.ties["since"], self.ties["last_contact"], self.introductions["date"],
                 self.opportunities["date"], self.referrals["date"]]
        latest = max((d.dropna().max() for d in dates if d.notna().any()), default=None)
        return latest or date.today().isoformat()


def load_network(store, as_of=None) -> Network:
    """Read the whole network from a :class:`~recommender.store.db.Store`, as of a date."""
    net = Network.from_frames(**{name: store.read_table(name) for name in TABLES})
    return net.until(as_of)


_EPOCH = pd.Timestamp("1970-01-01")


def day_number(day) -> int:
    """Whole days from 1970-01-01 to ``day`` (a date-like; a time of day is floored away)."""
    return int((pd.Timestamp(day) - _EPOCH).days)


@dataclass(eq=False)
class DateColumn:
    """A column of date strings encoded once, so cuts at a date are integer comparisons.

    ``codes`` index ``uniques`` (the distinct values in string order; -1:
    missing), so ``value <= day`` as strings is ``code < rank(day)``, exactly
    :meth:`Network.until`'s comparison. ``unique_days`` are the distinct
    values read as ``%Y-%m-%d`` (days from 1970-01-01, NaN where not such a
    date) and a last NaN for missing values, so ``unique_days[codes]`` reads
    every row (:meth:`days`); ``strict`` says every present value is such a date.
    """

    codes: np.ndarray
    uniques: np.ndarray
    unique_days: np.ndarray
    strict: bool
    raw: pd.Series | None = None  # kept only when some value is not a string (cuts compare it as before)

    @classmethod
    def encode(cls, series: pd.Series) -> "DateColumn":
        codes, uniq = pd.factorize(series, use_na_sentinel=True)
        uniq = np.asarray(uniq, dtype=object)
        texts = all(isinstance(u, str) for u in uniq)
        if texts and len(uniq):  # string order, whatever order factorize gave
            order = np.argsort(uniq)
            rank = np.empty(len(uniq), dtype=np.int64)
            rank[order] = np.arange(len(uniq))
            uniq = uniq[order]
            codes = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1)
        parsed = pd.to_datetime(pd.Series(uniq, dtype=object), format="%Y-%m-%d", errors="coerce")
        udays = np.where(parsed.isna(), np.nan, (parsed - _EPOCH).dt.days.to_numpy(dtype=float))
        # a column of dates has a few thousand distinct values: two bytes a row where they fit (20 MB, not 40,
        # per 10M ties; ranks compared with the codes are at most len(uniques))
        ctype = np.int16 if len(uniq) < np.iinfo(np.int16).max else np.int32
        return cls(codes=codes.astype(ctype), uniques=uniq, unique_days=np.r_[udays, np.nan],
                   strict=bool(parsed.notna().all()), raw=None if texts else series)

    def days(self, rows=slice(None)) -> np.ndarray:
        """The ``rows`` as day numbers (NaN: missing or not a ``%Y-%m-%d`` date)."""
        return self.unique_days[self.codes[rows]]  # code -1 reads the final NaN

    def _rank(self, day: str) -> int:
        return int(np.searchsorted(self.uniques, day, side="right"))

    def upto(self, day: str) -> np.ndarray:
        """Missing or ``<= day``: the rows :meth:`Network.until` keeps."""
        if self.raw is not None:
            return (self.raw.isna() | (self.raw <= day)).to_numpy(dtype=bool)
        return (self.codes < self._rank(day)) | (self.codes < 0)

    def within(self, after: str | None, until: str | None) -> np.ndarray:
        """Present and in ``(after, until]`` (an open end where None)."""
        if self.raw is not None:
            keep = self.raw.notna()
            keep = keep & (self.raw > after) if after else keep
            keep = keep & (self.raw <= until) if until else keep
            return keep.to_numpy(dtype=bool)
        keep = self.codes >= 0
        if after:
            keep &= self.codes >= self._rank(after)
        if until:
            keep &= self.codes < self._rank(until)
        return keep

    def span(self) -> tuple[str | None, str | None]:
        """Earliest and latest value (string order), or None."""
        return (self.uniques[0], self.uniques[-1]) if len(self.uniques) else (None, None)


def _unique_slots(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sorted_unique(key)`` and each key's position in it (``match_keys``), from one sort (no binary searches)."""
    order = np.argsort(key, kind="stable")
    s = key[order]
    new = np.empty(len(s), dtype=bool)
    new[:1] = True
    np.not_equal(s[1:], s[:-1], out=new[1:])
    slot = np.empty(len(s), dtype=np.int64)
    slot[order] = np.cumsum(new) - 1
    return s[new], slot


def _positions(ids: np.ndarray, columns: list[pd.Series]) -> list[np.ndarray]:
    """``pd.Index(ids).get_indexer(column.astype(str))`` (int32) of each column.

    With unique ids, one Arrow hash lookup per value (``pyarrow.compute.index_in``,
    twice as fast as factorizing the ids and the columns together), in one call
    for the ids themselves and every column: the hash table of the ids is built
    once (at 1M people 0.4 s a build), and the ids' own positions say whether
    they are unique (each its own first occurrence); missing values and unknown
    ids read -1.
    """
    value_set = pa.array(pd.Series(ids, dtype=object).astype(str)).cast(pa.large_string())
    chunks = [value_set] + [pa.array(pd.Series(c).astype(str)).cast(pa.large_string()) for c in columns]
    pos = pc.index_in(pa.chunked_array(chunks, type=pa.large_string()), value_set=value_set).fill_null(-1)
    pos = pos.to_numpy()
    if pos.dtype != np.int32 or not pos.flags.writeable:
        pos = pos.astype(np.int32)
    n = len(value_set)
    if not np.array_equal(pos[:n], np.arange(n, dtype=np.int32)):  # repeated ids: get_indexer says
        index = pd.Index(ids)                                          # what it says about them
        return [index.get_indexer(pd.Series(c).astype(str)).astype(np.int32) for c in columns]
    ends = np.cumsum([n] + [len(c) for c in chunks[1:]])
    return [pos[lo:hi] for lo, hi in zip(ends[:-1], ends[1:])]


@dataclass(eq=False)
class TieTable:
    """A network's ties and dated events encoded once against a list of person ids.

    Built by :meth:`encode`, it lets the graph be rebuilt as of any date
    (:func:`~recommender.meet.features.build_context` per history window) with
    array filters only: ``a``/``b`` are positions in ``ids`` (-1: not a
    person), strengths are read once, dates are :class:`DateColumn`.

    Attributes
    ----------
    source : DataFrame
        The ``ties`` frame encoded (``build_context`` checks it is the one it gets).
    ids : ndarray
    a, b : ndarray of int32
        Positions of each tie's people (``astype(str)``), -1 for unknown ids.
    named : ndarray of bool
        Both ids present (not missing).
    strength : ndarray of float
        :func:`tie_strength`.
    since, last_contact : DateColumn
    bonus, bonus_slot, bonus_date
        :func:`bonus_events` between two people: the bonus, which pair it goes
        to (an index into the sorted pair keys) and its date.
    bonus_tie, bonus_tie_slot
        The ties whose (a, b) as stored is such a pair, and the pair.
    intro_a, intro_b, intro_date
        Connected introductions (for pairs formed in a window), positions and date.
    span : tuple
        Earliest and latest date of ties (``since``) and introductions, as
        :func:`~recommender.meet.ranker.history_span` gives them.
    """

    source: pd.DataFrame
    ids: np.ndarray
    a: np.ndarray
    b: np.ndarray
    named: np.ndarray
    strength: np.ndarray
    since: DateColumn
    last_contact: DateColumn
    bonus: np.ndarray
    bonus_slot: np.ndarray
    bonus_date: DateColumn
    bonus_tie: np.ndarray
    bonus_tie_slot: np.ndarray
    intro_a: np.ndarray
    intro_b: np.ndarray
    intro_date: DateColumn
    span: tuple

    @classmethod
    def encode(cls, net: Network, ids: np.ndarray) -> "TieTable":
        ties = net.ties
        intro = net.introductions
        lo, hi, bonus, row = bonus_events(net)
        conn = intro[(intro["outcome"] == "connected") & intro["a"].notna() & intro["b"].notna()]
        a, b, lo, hi, conn_a, conn_b = _positions(ids, [ties["a"], ties["b"], lo, hi, conn["a"], conn["b"]])
        n = len(ids)
        ok = (lo >= 0) & (hi >= 0)
        bonus_key = lo[ok].astype(np.int64) * n + hi[ok]
        pairs, bonus_slot = _unique_slots(bonus_key)
        tie_slot = match_keys(pairs, np.where((a >= 0) & (b >= 0), a.astype(np.int64) * n + b, -1))
        bonus_tie = np.flatnonzero(tie_slot >= 0)
        dates = pd.concat([net.referrals["date"], intro["date"], intro["date"]], ignore_index=True)
        since = DateColumn.encode(ties["since"])
        intro_all = DateColumn.encode(intro["date"])
        if since.raw is None and intro_all.raw is None:
            ends = [u for c in (since, intro_all) for u in c.span() if u is not None]
            span = (min(ends), max(ends)) if ends else (None, None)
        else:
            d = pd.concat([ties["since"], intro["date"]]).dropna().astype(str)
            span = (None, None) if d.empty else (d.min(), d.max())
        return cls(
            source=ties, ids=ids, a=a, b=b,
            named=(ties["a"].notna() & ties["b"].notna()).to_numpy(dtype=bool),
            strength=tie_strength(ties["strength"]),
            since=since, last_contact=DateColumn.encode(ties["last_contact"]),
            bonus=bonus[ok], bonus_slot=bonus_slot,
            bonus_date=DateColumn.encode(dates.iloc[row[ok]].reset_index(drop=True)),
            bonus_tie=bonus_tie, bonus_tie_slot=tie_slot[bonus_tie],
            intro_a=conn_a, intro_b=conn_b,
            intro_date=DateColumn.encode(conn["date"].reset_index(drop=True)), span=span,
        )

    def directed(self) -> dict:
        """Both directions of every tie between two different people, in CSR order (computed once).

        Returns a dict: ``tie`` (int32, indices into the table of the ties
        used), ``col`` (int32) and ``rec`` (int32, index into ``tie``)
        of the directed records sorted by (row, col), records of one pair in
        their order in ``r_[a -> b, b -> a]``, and ``indptr`` (int64, n + 1:
        the records of row ``i`` are ``indptr[i]:indptr[i + 1]``; the rows
        themselves are not kept, 80 MB at 1M people); ``repeated`` says whether
        some directed pair has several records.
        """
        if getattr(self, "_directed", None) is None:
            ok = (self.a >= 0) & (self.b >= 0) & (self.a != self.b)
            tie = np.flatnonzero(ok).astype(np.int32 if len(ok) < 2**31 else np.int64)
            m, n = len(tie), len(self.ids)
            row = np.r_[self.a[tie], self.b[tie]]
            col = np.r_[self.b[tie], self.a[tie]]
            # a CSR build sorts the records (row, then col); with every pair once its data is the permutation
            # (integers: half the bytes of floats at 1M people; with repeated pairs the summed data are not read)
            idx_t = np.int32 if 2 * m < 2**31 - 1 else np.int64
            P = sparse.csr_matrix((np.arange(1, 2 * m + 1, dtype=idx_t), (row, col)), shape=(n, n))
            repeated = P.nnz != 2 * m
            if repeated:
                order = np.argsort(row.astype(np.int64) * n + col, kind="stable")
            else:
                P.sort_indices()
                order = P.data
                order -= 1
            del P
            rec = np.where(order < m, order, order - m).astype(np.int32)
            indptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.bincount(row, minlength=n), out=indptr[1:])
            self._directed = {"tie": tie, "indptr": indptr, "col": col[order], "rec": rec, "repeated": repeated}
        return self._directed

    def trust(self, sel: np.ndarray, day: str, half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
              cut: str | None = None) -> np.ndarray:
        """:func:`trust_weights` of the ties ``sel`` (indices) as of ``day``.

        With ``cut``, the network is seen as :meth:`Network.until` it: events
        after ``cut`` give no bonus and ``last_contact`` dates after ``day``
        count as unknown (the tie's ``since`` is used), as
        :func:`~recommender.meet.features.build_context` does.
        """
        dn = day_number(day)
        since, last = self.since, self.last_contact
        if since.strict and last.strict:
            # the decay of each distinct date (a few thousand), then read per tie: the same numbers as computed per
            # tie (one function of the age), without a power per tie
            lc = last.codes[sel]
            known = (lc >= 0) & ~(last.unique_days[lc] > dn)  # a last contact after the day is unknown
            ones = np.ones(1)
            by_last = decayed_strength(ones, dn - last.unique_days, half_life_days)
            by_since = decayed_strength(ones, dn - since.unique_days, half_life_days)
            weight = np.where(known, by_last[lc], by_since[since.codes[sel]])
            weight *= self.strength[sel]
        else:  # dates that are not all YYYY-MM-DD: read them as trust_weights does
            t = self.source.iloc[sel]
            lc = t["last_contact"].copy()
            lc[(last.days(sel) > dn)] = None
            parsed = pd.to_datetime(lc.fillna(t["since"]), errors="coerce")
            age = (pd.Timestamp(day) - parsed).dt.days.to_numpy(dtype=float)
            weight = decayed_strength(self.strength[sel], age, half_life_days)
        if not len(self.bonus_tie) or not len(sel):
            return weight
        ev = self.bonus_date.upto(cut) if cut is not None else np.ones(len(self.bonus), dtype=bool)
        total = np.bincount(self.bonus_slot[ev], weights=self.bonus[ev], minlength=self.bonus_slot.max() + 1)
        at = np.minimum(np.searchsorted(sel, self.bonus_tie), len(sel) - 1)  # sel is sorted
        hit = sel[at] == self.bonus_tie
        at = at[hit]
        weight[at] = np.minimum(weight[at] + total[self.bonus_tie_slot[hit]], 1.0)
        return weight


@dataclass(frozen=True)
class PeopleIndex:
    """Maps person ids to rows of sparse matrices and back."""

    ids: np.ndarray

    @property
    def position(self) -> dict[str, int]:
        return {pid: i for i, pid in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)


def people_adjacency(net: Network, weighted: bool = False, as_of=None) -> tuple[sparse.csr_matrix, PeopleIndex]:
    """The symmetric people-by-people tie matrix (binary, or trust-weighted)."""
    net = net.until(as_of)
    ids = net.people["id"].to_numpy()
    index = pd.Index(ids)
    if weighted:
        w = trust_weights(net)
        a, b, val = w["a"].to_numpy(), w["b"].to_numpy(), w["weight"].to_numpy(float)
    else:
        a, b = net.ties["a"].to_numpy(), net.ties["b"].to_numpy()
        val = np.ones(len(a))
    ia, ib = index.get_indexer(a), index.get_indexer(b)
    keep = (ia >= 0) & (ib >= 0) & (ia != ib)
    ia, ib, val = ia[keep], ib[keep], val[keep]
    n = len(ids)
    m = sparse.coo_matrix((np.r_[val, val], (np.r_[ia, ib], np.r_[ib, ia])), shape=(n, n)).tocsr()
    m.sum_duplicates()
    if not weighted:
        m.data[:] = 1.0
    return m, PeopleIndex(ids)


def network_stats(net: Network) -> dict:
    """Counts by kind, function and edge type, and the largest component's size."""
    people = net.people
    adj, _ = people_adjacency(net)
    if adj.shape[0]:
        _, labels = connected_components(adj, directed=False)
        sizes = np.bincount(labels)
        largest = int(sizes.max())
        n_components = int(len(sizes))
    else:
        largest = n_components = 0
    fractional = people[people["kind"] == "fractional"]
    return {
        "as_of": net.as_of,
        "people": int(len(people)),
        "companies": int(len(net.companies)),
        "by_kind": {str(k): int(v) for k, v in people["kind"].fillna("unknown").value_counts().sort_index().items()},
        "by_function": {str(k): int(v) for k, v in fractional["function"].fillna("unknown").value_counts().sort_index().items()},
        "edges": {
            "ties": int(len(net.ties)),
            "introductions": int(len(net.introductions)),
            "referrals": int(len(net.referrals)),
            "employment": int(people["company_id"].notna().sum()),
        },
        "opportunities": int(len(net.opportunities)),
        "opted_out": int(pd.to_numeric(people["opt_out"], errors="coerce").fillna(0).astype(int).sum()),
        "components": n_components,
        "largest_component": largest,
    }
