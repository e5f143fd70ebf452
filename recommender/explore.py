"""Pictures of the network for browsing: the neighbourhood of a person by strongest trust paths,
brokers (betweenness), communities (Louvain) and referral outcomes over time. Opted-out people are left out.

Scales to 100k people (issue 17): the trust graph is a sparse matrix built once per revision
(:class:`TrustAdjacency`); a person's neighbourhood is read from it in milliseconds, and brokers
and communities are computed on demand on that neighbourhood (:func:`brokers`, :func:`communities`:
networkx, betweenness sampled from pivots, seeded Louvain). The whole-network versions
(:func:`whole_network_insights`) take tens of seconds at 100k, so the explorer computes them once per
revision and caches them on disk beside the model (:mod:`recommender.result_cache`).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
from scipy import sparse

from recommender.errors import UsageError
from recommender.kernels import _ranges
from recommender.network import Network
from recommender.people import group_of

#: The disk cache entry of :func:`whole_network_insights` (:mod:`recommender.result_cache`).
INSIGHTS_CACHE = "insights"


def insights_cache_key(store) -> tuple:
    """The disk key of the whole-network insights: the structure's revision
    (:func:`recommender.model_cache.tables_key`) without the path, so a copied database keeps them."""
    from recommender.model_cache import STRUCTURE_TABLES, tables_key

    return tables_key(store, STRUCTURE_TABLES)[1:]


#: The most people the neighbourhood map shows (and the neighbourhood brokers and communities read).
MAP_LIMIT_MAX = 300
#: Betweenness pivots (sampled sources) on a neighbourhood, and on the whole network.
NEIGHBOURHOOD_PIVOTS = 100
NETWORK_PIVOTS = 200


@dataclass
class TrustAdjacency:
    """The trust graph as a symmetric sparse matrix of tie trust (:func:`recommender.trust.trust_weights`).

    Built once per revision (vectorised, ~1 s at 1M ties, against ~15 s for the networkx graph);
    :meth:`subgraph` makes the small networkx graph of a neighbourhood (``weight``, ``cost = -log weight``).
    """

    ids: np.ndarray
    index: pd.Index
    weights: sparse.csr_matrix

    @classmethod
    def from_network(cls, net: Network) -> "TrustAdjacency":
        from recommender.trust import trust_weights

        w = trust_weights(net)
        index = pd.Index(pd.unique(np.r_[net.people["id"].to_numpy(dtype=object),
                                         w["a"].to_numpy(dtype=object), w["b"].to_numpy(dtype=object)]))
        a, b = index.get_indexer(w["a"]), index.get_indexer(w["b"])
        keep = a != b
        a, b, wv = a[keep], b[keep], w["weight"].to_numpy(float)[keep]
        rows, cols, vals = np.r_[a, b], np.r_[b, a], np.r_[wv, wv]
        n = len(index)
        # a pair tied twice keeps its strongest tie
        key = rows.astype(np.int64) * n + cols
        order = np.argsort(key, kind="stable")
        key, vals = key[order], vals[order]
        start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)
        best = np.maximum.reduceat(vals, start) if len(key) else vals
        key = key[start]
        m = sparse.csr_matrix((best, (key // n, key % n)), shape=(n, n))
        return cls(index.to_numpy(dtype=object), index, m)

    @classmethod
    def from_model(cls, model) -> "TrustAdjacency":
        """The trust graph a fitted :class:`~recommender.meet.model.MeetModel` already holds (its context's
        trust weights ``W``: the same rule, as of the fit), in milliseconds instead of seconds."""
        ctx = model.context_
        m = sparse.csr_matrix(ctx.W, dtype=np.float64)
        if m.diagonal().any():
            m.setdiag(0)
            m.eliminate_zeros()
        index = pd.Index(ctx.ids)
        return cls(index.to_numpy(dtype=object), index, m)

    def __contains__(self, pid) -> bool:
        return pid in self.index

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def edges(self) -> int:
        return int(self.weights.nnz // 2)

    def degree(self, pid) -> int:
        i = self.index.get_loc(pid)
        return int(self.weights.indptr[i + 1] - self.weights.indptr[i])

    def subgraph(self, ids) -> nx.Graph:
        """The networkx graph among ``ids`` (weight, cost)."""
        pos = self.index.get_indexer(list(ids))
        sub = self.weights[pos][:, pos].tocoo()
        g = nx.Graph()
        g.add_nodes_from(ids)
        ids = list(ids)
        g.add_edges_from((ids[i], ids[j], {"weight": float(w), "cost": float(-np.log(max(w, 1e-9)))})
                         for i, j, w in zip(sub.row, sub.col, sub.data) if i < j)
        return g


class RowIndex:
    """Row positions of a table per person id found in any of ``columns``, built once per revision
    (vectorised: ~1 s for 1M ties), so one person's rows are a slice instead of a scan of the table."""

    def __init__(self, frame: pd.DataFrame, columns):
        vals = np.concatenate([frame[c].to_numpy(dtype=object) for c in columns]) if len(frame) else np.zeros(0, object)
        rows = np.tile(np.arange(len(frame)), len(columns))
        ok = np.asarray(pd.notna(vals), dtype=bool)
        codes, uniques = pd.factorize(vals[ok])
        order = np.argsort(codes, kind="stable")
        self._rows = rows[ok][order]
        self._starts = np.r_[0, np.cumsum(np.bincount(codes, minlength=len(uniques)))]
        self._ids = pd.Index(uniques)

    def __call__(self, pid) -> np.ndarray:
        """The positions of the rows naming ``pid``, in table order."""
        i = self._ids.get_indexer([pid])[0]
        if i < 0:
            return np.zeros(0, np.int64)
        return np.unique(self._rows[self._starts[i]:self._starts[i + 1]])


class PeopleRows:
    """``id -> the person's row as a dict`` (missing values None), made when asked for: the people half of
    :func:`recommender.outreach.outreach_row`'s ``lookup``, without building 100k dicts up front."""

    def __init__(self, people: pd.DataFrame):
        self._people = people
        self._pos = pd.Index(people["id"].astype(str))

    def get(self, pid, default=None):
        i = self._pos.get_indexer([str(pid)])[0]
        if i < 0:
            return default
        row = self._people.iloc[i]
        return {k: (None if not isinstance(v, (list, set, frozenset)) and pd.isna(v) else v) for k, v in row.items()}

    def __getitem__(self, pid):
        row = self.get(pid)
        if row is None:
            raise KeyError(pid)
        return row

    def __contains__(self, pid) -> bool:
        return self._pos.get_indexer([str(pid)])[0] >= 0

    def positions(self, ids) -> np.ndarray:
        """Row positions of the known ``ids`` in the people table, in table order."""
        pos = self._pos.get_indexer(list(ids))
        return np.sort(pos[pos >= 0])


def people_lookup(net: Network) -> tuple[PeopleRows, dict]:
    """The ``lookup`` :func:`recommender.outreach.outreach_row` reads (people rows, company names), made in
    milliseconds; build it once per revision and pass it to every row."""
    comps = net.companies
    return PeopleRows(net.people), {str(i): n for i, n in zip(comps["id"], comps["name"]) if isinstance(n, str)}


def _reach(adj: TrustAdjacency, center: int, hops: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions within ``hops`` ties of ``center``, their fewest ties (BFS) and strongest path (the product
    of tie weights over at most ``hops`` ties: a hop-bounded Bellman-Ford), vectorised over each frontier."""
    m = adj.weights
    best = {center: 1.0}
    hop = {center: 0}
    frontier, fw = np.array([center]), np.array([1.0])
    for h in range(1, int(hops) + 1):
        if not len(frontier):
            break
        starts = m.indptr[frontier]
        counts = m.indptr[frontier + 1] - starts
        if not counts.sum():
            break
        flat = _ranges(starts, counts)
        v, nw = m.indices[flat], np.repeat(fw, counts) * m.data[flat]
        order = np.lexsort((-nw, v))
        v, nw = v[order], nw[order]
        first = np.r_[True, v[1:] != v[:-1]]
        v, nw = v[first], nw[first]
        old = np.array([best.get(int(x), 0.0) for x in v])
        better = nw > old
        for x in v[better].tolist():
            hop.setdefault(x, h)
        best.update(zip(v[better].tolist(), nw[better].tolist()))
        frontier, fw = v[better], nw[better]
    pos = np.array(list(hop), dtype=np.int64)
    return pos, np.array([hop[p] for p in pos.tolist()]), np.array([best[p] for p in pos.tolist()])


def neighbourhood(adj: TrustAdjacency, facts: pd.DataFrame, center: str, *, hops: int = 2, limit: int = 150,
                  functions=(), industries=(), tags=(), groups=()) -> tuple[list[str], dict]:
    """People within ``hops`` ties of ``center``, strongest trust paths first, at most ``limit``.

    Opted-out people are never included (the centre excepted, if it is them).
    Filters (function, industry, specialty tag, group relative to the centre)
    apply to everyone but the centre. Returns (ids, info) where ids starts
    with the centre and info holds ``hop`` and ``trust`` per id and the counts
    ``total`` (matching, before the cut), ``filtered_out`` and ``opted_out``.
    """
    if center not in adj:
        raise UsageError(f"{center!r} is not in the network")
    limit = max(1, min(int(limit), MAP_LIMIT_MAX))
    pos, hop_of, best_of = _reach(adj, int(adj.index.get_loc(center)), hops)
    ids = adj.ids[pos]
    bfs = dict(zip(ids.tolist(), hop_of.tolist()))
    best = dict(zip(ids.tolist(), best_of.tolist()))
    functions, industries, tags, groups = set(functions), set(industries), set(tags), set(groups)
    me = facts.loc[center] if center in facts.index else None
    inside = [p for p in ids.tolist() if p != center and p in facts.index]
    sub = facts.loc[inside]
    keep, filtered, opted = [], 0, 0
    for pid, opt, fn, kind, inds, specs in zip(inside, sub["opt_out"], sub["function"], sub["kind"],
                                               sub["industries"], sub["specialties"]):
        if opt:
            opted += 1
            continue
        if functions and (fn or ("executive" if kind == "executive" else "")) not in functions:
            filtered += 1
            continue
        if industries and not (inds & industries):
            filtered += 1
            continue
        if tags and not (specs & tags):
            filtered += 1
            continue
        if groups and (me is None or group_of(me, facts.loc[pid]) not in groups):
            filtered += 1
            continue
        keep.append(pid)
    keep.sort(key=lambda p: (bfs[p], -best.get(p, 0.0), p))
    total = len(keep)
    chosen = [center] + keep[: limit - 1]
    info = {"hop": {p: bfs[p] for p in chosen}, "trust": {p: best.get(p, 0.0) for p in chosen},
            "total": total + 1, "filtered_out": filtered, "opted_out": opted}
    return chosen, info


def outcomes_over_time(net: Network, pid: str | None = None, by: str = "quarter") -> pd.DataFrame:
    """Referrals per period and outcome (long form: period, outcome, referrals)."""
    r = net.referrals
    if pid:
        r = r[(r["from_id"] == pid) | (r["to_id"] == pid)]
    d = pd.to_datetime(r["date"], errors="coerce")
    if by == "year":
        period = d.dt.year.astype("Int64").astype(str)
    else:
        period = d.dt.year.astype("Int64").astype(str) + "-Q" + d.dt.quarter.astype("Int64").astype(str)
    df = pd.DataFrame({"period": period.where(d.notna(), "undated"), "outcome": r["outcome"].fillna("pending")})
    if not len(df):
        return pd.DataFrame(columns=["period", "outcome", "referrals"])
    return df.groupby(["period", "outcome"]).size().rename("referrals").reset_index().sort_values("period")


BROKER_COLUMNS = ["id", "name", "kind", "function", "betweenness", "ties"]


def pivots_for(graph: nx.Graph, pivots: int = NEIGHBOURHOOD_PIVOTS) -> int:
    """How many sources :func:`brokers` samples on ``graph``: ``pivots``, or every node of a smaller graph."""
    return min(int(pivots), graph.number_of_nodes())


def _broker_rows(scores, facts: pd.DataFrame, degree, n: int) -> list[dict]:
    rows = []
    for pid, b in sorted(scores, key=lambda kv: (-kv[1], kv[0])):
        if pid not in facts.index or facts.at[pid, "opt_out"]:
            continue  # never named
        r = facts.loc[pid]
        rows.append({"id": pid, "name": r["name"], "kind": r["kind"],
                     "function": "executive" if r["kind"] == "executive" else (r["function"] or "other"),
                     "betweenness": round(float(b), 4), "ties": int(degree(pid))})
        if len(rows) >= n:
            break
    return rows


def brokers(graph: nx.Graph, facts: pd.DataFrame, *, n: int = 15, pivots: int = NEIGHBOURHOOD_PIVOTS,
            seed: int = 0, degree=None) -> pd.DataFrame:
    """The people who bridge ``graph`` (a neighbourhood: :meth:`TrustAdjacency.subgraph`) most:
    betweenness along the strongest paths (``cost``), estimated from ``pivots`` sampled sources
    (networkx, seeded; exact when the graph has no more nodes), opted-out people left out.
    ``degree(pid)`` gives the ``ties`` column (default: ties within ``graph``)."""
    if graph.number_of_nodes() == 0:
        return pd.DataFrame(columns=BROKER_COLUMNS)
    k = pivots_for(graph, pivots)
    bc = nx.betweenness_centrality(graph, k=k if k < graph.number_of_nodes() else None, weight="cost", seed=seed)
    return pd.DataFrame(_broker_rows(bc.items(), facts, degree or graph.degree, n), columns=BROKER_COLUMNS)


def communities(graph: nx.Graph, seed: int = 0) -> dict[str, int]:
    """Community number per person (seeded Louvain on trust weights; the largest community is 0)."""
    if graph.number_of_nodes() == 0:
        return {}
    comms = nx.community.louvain_communities(graph, weight="weight", seed=seed)
    comms = sorted(comms, key=lambda c: (-len(c), min(c)))
    return {pid: i for i, c in enumerate(comms) for pid in c}


def whole_network_insights(adj: TrustAdjacency, facts: pd.DataFrame, *, pivots: int = NETWORK_PIVOTS,
                           n: int = 15, seed: int = 0) -> dict:
    """Brokers and communities of the whole network, as plain JSON-able data (cached per revision).

    networkit (C++): betweenness along the strongest paths estimated from ``pivots`` sampled sources
    (``EstimateBetweenness``) and Louvain (``PLM``), one thread and a fixed seed, so a revision always
    gets the same answer. At 100k people and 1M ties: ~30 s and ~3 s of one core, against ~10 s per
    pivot and ~100 s for networkx. Returns ``{"brokers": rows, "ids": [...], "community": [...],
    "community_sizes", "table": community_table rows, "pivots", "people", "ties"}``.
    """
    import warnings

    with warnings.catch_warnings():  # networkit's optional notebook helpers import a deprecated IPython name
        warnings.simplefilter("ignore", DeprecationWarning)
        import networkit as nk

    nk.setNumberOfThreads(1)
    nk.engineering.setSeed(int(seed), False)
    coo = sparse.triu(adj.weights, k=1).tocoo()
    src, dst = coo.row.astype(np.uint64), coo.col.astype(np.uint64)
    out = {"pivots": 0, "people": len(adj), "ties": int(len(coo.data)), "brokers": [], "ids": [], "community": [],
           "table": []}
    if len(adj) == 0:
        return out
    cost = nk.graph.GraphFromCoo((-np.log(np.maximum(coo.data, 1e-9)), (src, dst)), n=len(adj), weighted=True,
                                 directed=False)
    k = min(int(pivots), len(adj))
    est = nk.centrality.EstimateBetweenness(cost, k, True, False)
    est.run()
    scores = est.scores()
    top = np.argsort(-np.asarray(scores), kind="stable")[: max(4 * n, n + 200)]
    deg = np.diff(adj.weights.indptr)
    out["brokers"] = _broker_rows([(adj.ids[i], scores[i]) for i in top], facts,
                                  lambda pid: deg[adj.index.get_loc(pid)], n)
    trust = nk.graph.GraphFromCoo((coo.data, (src, dst)), n=len(adj), weighted=True, directed=False)
    plm = nk.community.PLM(trust, refine=False)
    plm.run()
    part = np.asarray(plm.getPartition().getVector(), dtype=np.int64)
    # renumber: the largest community is 0, ties broken by the smallest member id
    sizes = np.bincount(part)
    first = pd.Series(adj.ids).groupby(part).min()
    order = sorted(range(len(sizes)), key=lambda c: (-sizes[c], first.get(c, "")))
    rank = np.empty(len(sizes), np.int64)
    rank[order] = np.arange(len(order))
    labels = rank[part]
    out.update(pivots=k, ids=[str(x) for x in adj.ids], community=labels.tolist(),
               community_sizes=np.bincount(labels).tolist(),
               table=community_table(dict(zip(adj.ids, labels.tolist())), facts).to_dict("records"))
    return out


def community_table(labels: dict[str, int], facts: pd.DataFrame, *, top: int = 12) -> pd.DataFrame:
    """One row per community: size, executives, most common function and industry."""
    if not labels:
        return pd.DataFrame(columns=["community", "people", "fractionals", "executives", "top function", "top industry"])
    ids = [p for p in labels if p in facts.index]  # the index's hash table, built once: no scan of 100k people
    df = facts.loc[ids, ["kind", "function", "industries"]].assign(community=[labels[p] for p in ids])
    rows = []
    for c, g in df.groupby("community"):
        funcs = g.loc[g["kind"] != "executive", "function"].replace("", np.nan).dropna()
        inds = pd.Series([t for s in g["industries"] for t in s])
        rows.append({"community": int(c), "people": len(g), "fractionals": int((g["kind"] != "executive").sum()),
                     "executives": int((g["kind"] == "executive").sum()),
                     "top function": funcs.mode().iat[0] if len(funcs) else "—",
                     "top industry": inds.mode().iat[0] if len(inds) else "—"})
    out = pd.DataFrame(rows).sort_values(["people", "community"], ascending=[False, True]).head(top)
    out["community"] = out["community"].map(lambda c: f"C{c + 1}")
    return out.reset_index(drop=True)
