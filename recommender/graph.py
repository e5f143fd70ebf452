"""The network as graphs: the typed networkx graph, the weighted trust graph,
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
>>> sorted(build_graph(net, as_of="2024-12-31").edges(keys=True))
[('a', 'b', 'tie')]
>>> round(build_trust_graph(net, as_of="2025-06-01")["b"]["c"]["weight"], 3)
0.467
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date

import networkx as nx
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from recommender.errors import UsageError
from recommender.schema import TABLES

COMPANY_PREFIX = "company:"
DEFAULT_HALF_LIFE_DAYS = 730
REFERRAL_TRUST_BONUS = {"accepted": 0.1, "won": 0.2}
INTRO_TRUST_BONUS = 0.05


def parse_as_of(as_of) -> str | None:
    """``as_of`` as an ISO date string (accepts date, datetime, str or None)."""
    if as_of is None or as_of == "":
        return None
    if isinstance(as_of, (date, pd.Timestamp)):
        return pd.Timestamp(as_of).strftime("%Y-%m-%d")
    try:
        return pd.Timestamp(str(as_of)).strftime("%Y-%m-%d")
    except (ValueError, TypeError):
        raise UsageError(f"expected a date as YYYY-MM-DD, got {as_of!r}") from None


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
    """Read the whole network from a :class:`~recommender.store.Store`, as of a date."""
    net = Network.from_frames(**{name: store.read_table(name) for name in TABLES})
    return net.until(as_of)


def build_graph(net: Network, as_of=None) -> nx.MultiGraph:
    """The typed multigraph: people and companies as nodes; ties, introductions,
    referrals and employment as typed (keyed), dated edges.

    Nodes carry ``kind`` (fractional, executive, company) and their attributes;
    company nodes are ``"company:<id>"``. Edge keys are ``tie``,
    ``introduction``, ``referral:<id>`` and ``employment``; referral edges keep
    their direction in ``from_id``/``to_id``.
    """
    net = net.until(as_of)
    g = nx.MultiGraph(as_of=net.as_of)
    people = net.people.where(net.people.notna(), None)
    for rec in people.to_dict("records"):
        g.add_node(rec["id"], **{k: v for k, v in rec.items() if k != "id"})
    for rec in net.companies.where(net.companies.notna(), None).to_dict("records"):
        g.add_node(COMPANY_PREFIX + rec["id"], **{k: v for k, v in rec.items() if k != "id"}, kind="company")
    for a, b, s, since, last, src in net.ties[["a", "b", "strength", "since", "last_contact", "source"]].itertuples(index=False):
        g.add_edge(a, b, key="tie", type="tie", strength=_f(s, 0.5), since=since, last_contact=last, source=src)
    for rec in net.introductions.to_dict("records"):
        g.add_edge(rec["a"], rec["b"], key=f"introduction:{rec['id']}", type="introduction",
                   date=rec["date"], introducer=rec["introducer"], outcome=rec["outcome"])
    for rec in net.referrals.to_dict("records"):
        g.add_edge(rec["from_id"], rec["to_id"], key=f"referral:{rec['id']}", type="referral", date=rec["date"],
                   from_id=rec["from_id"], to_id=rec["to_id"], opportunity_id=rec["opportunity_id"], outcome=rec["outcome"])
    for pid, cid in net.people[["id", "company_id"]].dropna().itertuples(index=False):
        g.add_edge(pid, COMPANY_PREFIX + cid, key="employment", type="employment")
    return g


def trust_weights(net: Network, half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> pd.DataFrame:
    """Trust per tie: strength, decayed by time since last contact, raised by
    successful referrals and introductions between the two.

    Returns a frame ``a, b, weight`` with a < b and weight in (0, 1].
    """
    ref_day = pd.Timestamp(net.reference_date)
    ties = net.ties
    strength = pd.to_numeric(ties["strength"], errors="coerce").fillna(0.5).clip(0.01, 1.0).to_numpy(float)
    last = pd.to_datetime(ties["last_contact"].fillna(ties["since"]), errors="coerce")
    age = (ref_day - last).dt.days.to_numpy(dtype=float)
    age = np.where(np.isnan(age), half_life_days, np.clip(age, 0, None))
    decay = 0.5 + 0.5 * np.power(0.5, age / half_life_days)
    w = pd.DataFrame({"a": ties["a"].to_numpy(), "b": ties["b"].to_numpy(), "weight": strength * decay})

    bonus = []
    ref = net.referrals
    if len(ref):
        r = ref[ref["outcome"].isin(list(REFERRAL_TRUST_BONUS))]
        bonus.append(pd.DataFrame({"a": r["from_id"], "b": r["to_id"], "bonus": r["outcome"].map(REFERRAL_TRUST_BONUS)}))
    intro = net.introductions
    if len(intro):
        i = intro[intro["outcome"] == "connected"]
        i = i[i["introducer"].notna()]
        bonus.append(pd.DataFrame({"a": i["introducer"], "b": i["a"], "bonus": INTRO_TRUST_BONUS}))
        bonus.append(pd.DataFrame({"a": i["introducer"], "b": i["b"], "bonus": INTRO_TRUST_BONUS}))
    if bonus and len(w):
        bon = pd.concat(bonus, ignore_index=True).dropna()
        lo = bon[["a", "b"]].min(axis=1)
        hi = bon[["a", "b"]].max(axis=1)
        bon = pd.DataFrame({"a": lo, "b": hi, "bonus": bon["bonus"].astype(float)}).groupby(["a", "b"], as_index=False)["bonus"].sum()
        w = w.merge(bon, on=["a", "b"], how="left")
        w["weight"] = (w["weight"] + w["bonus"].fillna(0.0)).clip(upper=1.0)
        w = w.drop(columns="bonus")
    return w


def build_trust_graph(net: Network, as_of=None, half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> nx.Graph:
    """The weighted trust graph over people.

    Each tie is an edge with ``weight`` in (0, 1] (see :func:`trust_weights`)
    and ``cost = -log(weight)``, so the strongest path is the cheapest one.
    """
    net = net.until(as_of)
    g = nx.Graph(as_of=net.as_of)
    g.add_nodes_from(net.people["id"])
    w = trust_weights(net, half_life_days)
    g.add_weighted_edges_from(w.itertuples(index=False, name=None))
    for _, _, d in g.edges(data=True):
        d["cost"] = float(-np.log(max(d["weight"], 1e-9)))
    return g


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


def _f(x, default: float) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return default
    return default if np.isnan(v) else v
