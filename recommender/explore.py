"""Pictures of the network for browsing: the neighbourhood of a person by strongest trust paths,
brokers (betweenness), communities (Louvain) and referral outcomes over time. Opted-out people are left out.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from recommender.errors import UsageError
from recommender.network import Network
from recommender.people import group_of

#: The most people the neighbourhood map shows.
MAP_LIMIT_MAX = 300


def neighbourhood(trust: nx.Graph, facts: pd.DataFrame, center: str, *, hops: int = 2, limit: int = 150,
                  functions=(), industries=(), tags=(), groups=()) -> tuple[list[str], dict]:
    """People within ``hops`` ties of ``center``, strongest trust paths first, at most ``limit``.

    Opted-out people are never included (the centre excepted, if it is them).
    Filters (function, industry, specialty tag, group relative to the centre)
    apply to everyone but the centre. Returns (ids, info) where ids starts
    with the centre and info holds ``hop`` and ``trust`` per id and the counts
    ``total`` (matching, before the cut), ``filtered_out`` and ``opted_out``.
    """
    if center not in trust:
        raise UsageError(f"{center!r} is not in the network")
    limit = max(1, min(int(limit), MAP_LIMIT_MAX))
    # strongest path (product of tie weights) using at most `hops` ties: a hop-bounded Bellman-Ford
    best: dict[str, float] = {center: 1.0}
    frontier = {center: 1.0}
    for _ in range(int(hops)):
        nxt: dict[str, float] = {}
        for u, w in frontier.items():
            for v, d in trust[u].items():
                nw = w * float(d.get("weight", 0.5))
                if nw > best.get(v, 0.0) and nw > nxt.get(v, 0.0):
                    nxt[v] = nw
        best.update(nxt)
        frontier = nxt
    # hop = the fewest ties (BFS) for display
    bfs = nx.single_source_shortest_path_length(trust, center, cutoff=hops)
    functions, industries, tags, groups = set(functions), set(industries), set(tags), set(groups)
    me = facts.loc[center] if center in facts.index else None
    keep, filtered, opted = [], 0, 0
    for pid in bfs:
        if pid == center:
            continue
        if pid not in facts.index:
            continue
        r = facts.loc[pid]
        if r["opt_out"]:
            opted += 1
            continue
        if functions and (r["function"] or ("executive" if r["kind"] == "executive" else "")) not in functions:
            filtered += 1
            continue
        if industries and not (r["industries"] & industries):
            filtered += 1
            continue
        if tags and not (r["specialties"] & tags):
            filtered += 1
            continue
        if groups and (me is None or group_of(me, r) not in groups):
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


def brokers(trust: nx.Graph, facts: pd.DataFrame, *, n: int = 15, sample: int = 300, seed: int = 0) -> pd.DataFrame:
    """The people who bridge the network most: betweenness on the trust graph
    (estimated from ``sample`` sources on big graphs), opted-out people left out."""
    g = trust
    if g.number_of_nodes() == 0:
        return pd.DataFrame(columns=["id", "name", "kind", "function", "betweenness", "ties"])
    # sources sampled so the work stays bounded on big networks (about 2M edge relaxations)
    k = min(sample, g.number_of_nodes(), max(20, 2_000_000 // max(1, g.number_of_edges())))
    dist = nx.Graph()
    dist.add_nodes_from(g.nodes)
    dist.add_edges_from((u, v, {"cost": d.get("cost", 1.0)}) for u, v, d in g.edges(data=True))
    bc = nx.betweenness_centrality(dist, k=k if k < g.number_of_nodes() else None, weight="cost", seed=seed)
    rows = []
    for pid, b in sorted(bc.items(), key=lambda kv: (-kv[1], kv[0])):
        if pid not in facts.index or facts.at[pid, "opt_out"]:
            continue
        r = facts.loc[pid]
        rows.append({"id": pid, "name": r["name"], "kind": r["kind"],
                     "function": "executive" if r["kind"] == "executive" else (r["function"] or "other"),
                     "betweenness": round(float(b), 4), "ties": int(g.degree(pid))})
        if len(rows) >= n:
            break
    return pd.DataFrame(rows)


def communities(trust: nx.Graph, seed: int = 0) -> dict[str, int]:
    """Community number per person (Louvain on trust weights; largest community is 0)."""
    if trust.number_of_nodes() == 0:
        return {}
    comms = nx.community.louvain_communities(trust, weight="weight", seed=seed)
    comms = sorted(comms, key=lambda c: (-len(c), min(c)))
    return {pid: i for i, c in enumerate(comms) for pid in c}


def community_table(labels: dict[str, int], facts: pd.DataFrame, *, top: int = 12) -> pd.DataFrame:
    """One row per community: size, executives, most common function and industry."""
    if not labels:
        return pd.DataFrame(columns=["community", "people", "fractionals", "executives", "top function", "top industry"])
    df = pd.DataFrame({"id": list(labels), "community": list(labels.values())})
    df = df[df["id"].isin(facts.index)]
    df = df.join(facts[["kind", "function", "industries"]], on="id")
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
