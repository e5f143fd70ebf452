"""Data for the explorer's pages, as plain tables: no Streamlit here.

The pages only lay out what these functions return, so everything the app
shows can be tested without a browser: the map layout around a person
(:func:`map_layout`), a person's ties, introductions and referrals, group
coverage and labels. The library work the pages show is re-exported here from
its home: the neighbourhood, brokers and communities (:mod:`recommender.explore`),
uploads (:mod:`recommender.io.uploads`) and the routed-referral write
(:func:`recommender.ledger.log_routed_referral`).

Example
-------
>>> md_escape("<b>Ada</b> *x*")
'\\\\<b\\\\>Ada\\\\</b\\\\> \\\\*x\\\\*'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd

from recommender.explore import MAP_LIMIT_MAX, brokers, communities, community_table, neighbourhood, outcomes_over_time  # noqa: F401  (re-exported for the pages)
from recommender.io.uploads import PROBLEM_COLUMNS, UploadResult, import_linkedin_upload, import_uploads, problems_frame  # noqa: F401
from recommender.ledger import log_routed_referral  # noqa: F401
from recommender.network import Network
from recommender.people import GROUPS, PeopleFacts, group_of  # noqa: F401  (the one group rule; pages read it here)
from recommender.taxonomy import split_tags
from recommender.words import plural

GROUP_LABELS = {"peers": "Peers", "adjacent": "Adjacent fractionals", "executives": "Executives (ICP)"}


#: Starter list size per group (design: 10-20 people per group).
TARGET = (10, 20)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&:])")


def md_escape(text) -> str:
    """``text`` safe to place inside Markdown: every Markdown/HTML character backslash-escaped,
    so a name like ``<b>Ada</b>`` shows as written."""
    return _MD_SPECIAL.sub(r"\\\1", "" if text is None else str(text))


def people_facts(net: Network) -> pd.DataFrame:
    """One row per person (indexed by id): :meth:`recommender.people.PeopleFacts.frame`."""
    return PeopleFacts(net).frame()


def person_label(facts: pd.DataFrame, pid: str) -> str:
    """"Name (id)" for pickers; plain text."""
    if pid in facts.index:
        r = facts.loc[pid]
        extra = f" · {r['title']}" if r["title"] else ""
        out = " · opted out" if r["opt_out"] else ""
        return f"{r['name']} ({pid}){extra}{out}"
    return str(pid)


@dataclass
class MapData:
    """Nodes (id, name, x, y, hop, colour group, ...) and edges (x, y, x2, y2, weight) to draw."""

    nodes: pd.DataFrame
    edges: pd.DataFrame
    total: int
    shown: int
    cut: bool
    filtered_out: int = 0
    opted_out_hidden: int = 0
    notes: list[str] = field(default_factory=list)


def map_layout(trust: nx.Graph, facts: pd.DataFrame, center: str, ids: list[str], info: dict,
               seed: int = 7) -> MapData:
    """Positions and drawing tables for the chosen people (never more than :data:`MAP_LIMIT_MAX`)."""
    ids = ids[:MAP_LIMIT_MAX]
    sub = trust.subgraph(ids)
    pos = nx.spring_layout(sub, weight="weight", seed=seed, iterations=60,
                           k=1.6 / max(1.0, np.sqrt(len(ids))), fixed=[center], pos={center: (0.0, 0.0)})
    me = facts.loc[center] if center in facts.index else None
    rows = []
    for pid in ids:
        r = facts.loc[pid]
        colour = "executive" if r["kind"] == "executive" else (r["function"] or "other")
        grp = "you" if pid == center else ((group_of(me, r) if me is not None else None) or "other")
        rows.append({
            "id": pid, "name": r["name"], "title": r["title"], "company": r["company"],
            "kind": r["kind"], "function": r["function"] or "—", "colour": colour, "group": grp,
            "specialties": ", ".join(sorted(r["specialties"])), "industries": ", ".join(sorted(r["industries"])),
            "hop": int(info["hop"].get(pid, 0)), "trust": round(float(info["trust"].get(pid, 0.0)), 3),
            "x": float(pos[pid][0]), "y": float(pos[pid][1]),
            "size": 420 if pid == center else (150 if info["hop"].get(pid) == 1 else 60),
        })
    nodes = pd.DataFrame(rows)
    erows = []
    for u, v, d in sub.edges(data=True):
        erows.append({"a": u, "b": v, "x": pos[u][0], "y": pos[u][1], "x2": pos[v][0], "y2": pos[v][1],
                      "weight": round(float(d.get("weight", 0.5)), 3)})
    edges = pd.DataFrame(erows, columns=["a", "b", "x", "y", "x2", "y2", "weight"])
    shown = len(ids)
    cut = info["total"] > shown
    notes = []
    if cut:
        notes.append(f"Showing {shown} of {plural(info['total'], 'person', 'people')} within reach, strongest ties first; "
                     "raise the node limit or narrow the filters to see others.")
    if info.get("opted_out"):
        notes.append(f"{plural(info['opted_out'], 'person', 'people')} who opted out "
                     f"{'is' if info['opted_out'] == 1 else 'are'} not shown.")
    return MapData(nodes, edges, info["total"], shown, cut, info.get("filtered_out", 0), info.get("opted_out", 0), notes)


def ties_table(net: Network, facts: pd.DataFrame, pid: str, rows=None) -> pd.DataFrame:
    """The person's ties: who, their function and group, strength, since, last contact, source.
    ``rows``: the positions of the person's ties (:class:`recommender.explore.RowIndex`), else the table is scanned."""
    t = _rows(net.ties, rows)
    mine = t[(t["a"] == pid) | (t["b"] == pid)]
    me = facts.loc[pid]
    rows = []
    for a, b, s, since, last, src in mine[["a", "b", "strength", "since", "last_contact", "source"]].itertuples(index=False):
        other = b if a == pid else a
        if _opted_out(facts, other):
            continue  # never named; the page says how many are not shown (hidden_ties)
        r = facts.loc[other] if other in facts.index else None
        rows.append({"name": r["name"] if r is not None else other, "id": other,
                     "kind": r["kind"] if r is not None else "", "function": r["function"] if r is not None else "",
                     "group": (group_of(me, r) or "") if r is not None else "",
                     "strength": float(s) if s is not None and s == s else None,
                     "since": since, "last contact": last, "source": src})
    df = pd.DataFrame(rows, columns=["name", "id", "kind", "function", "group", "strength", "since",
                                     "last contact", "source"])
    return df.sort_values(["strength", "name"], ascending=[False, True], na_position="last").reset_index(drop=True)


OPTED_OUT_NAME = "a person who opted out"


def _rows(table: pd.DataFrame, rows) -> pd.DataFrame:
    """The rows at ``rows`` (a person's, from a :class:`recommender.explore.RowIndex`), or the whole table."""
    return table if rows is None else table.iloc[rows]


def _opted_out(facts: pd.DataFrame, pid) -> bool:
    return pid in facts.index and bool(facts.at[pid, "opt_out"])


def shown_name(facts: pd.DataFrame, pid) -> str:
    """The name the explorer may show for ``pid``: never an opted-out person's."""
    if _opted_out(facts, pid):
        return OPTED_OUT_NAME
    return facts.at[pid, "name"] if pid in facts.index else (pid or "")


def hidden_ties(net: Network, facts: pd.DataFrame, pid: str, rows=None) -> int:
    """How many of the person's ties are with people who opted out (left out of :func:`ties_table`)."""
    t = _rows(net.ties, rows)
    others = pd.concat([t.loc[t["a"] == pid, "b"], t.loc[t["b"] == pid, "a"]])
    return int(sum(_opted_out(facts, o) for o in others))


def introductions_table(net: Network, facts: pd.DataFrame, pid: str, rows=None) -> pd.DataFrame:
    """Introductions the person made or was part of."""
    i = _rows(net.introductions, rows)
    mine = i[(i["a"] == pid) | (i["b"] == pid) | (i["introducer"] == pid)]
    name = lambda x: shown_name(facts, x)  # noqa: E731
    rows = []
    for r in mine.to_dict("records"):
        if r["introducer"] == pid:
            role, who = "made", f"{name(r['a'])} ↔ {name(r['b'])}"
        else:
            other = r["b"] if r["a"] == pid else r["a"]
            role, who = "received", f"{name(other)} (via {name(r['introducer'])})" if r["introducer"] else name(other)
        rows.append({"date": r["date"], "role": role, "introduction": who, "outcome": r["outcome"], "id": r["id"]})
    df = pd.DataFrame(rows, columns=["date", "role", "introduction", "outcome", "id"])
    return df.sort_values("date", ascending=False, na_position="last").reset_index(drop=True)


def referrals_table(net: Network, facts: pd.DataFrame, pid: str, rows=None) -> pd.DataFrame:
    """Referrals the person gave and received, newest first."""
    r = _rows(net.referrals, rows)
    mine = r[(r["from_id"] == pid) | (r["to_id"] == pid)]
    opps = net.opportunities.set_index("id") if len(net.opportunities) else None
    name = lambda x: shown_name(facts, x)  # noqa: E731
    rows = []
    for rec in mine.to_dict("records"):
        given = rec["from_id"] == pid
        needs = ""
        if opps is not None and rec["opportunity_id"] in opps.index:
            needs = ", ".join(split_tags(opps.at[rec["opportunity_id"], "needs"]))
        rows.append({"date": rec["date"], "direction": "given" if given else "received",
                     "peer": name(rec["to_id"] if given else rec["from_id"]),
                     "opportunity": rec["opportunity_id"], "needs": needs, "outcome": rec["outcome"] or "pending",
                     "id": rec["id"]})
    df = pd.DataFrame(rows, columns=["date", "direction", "peer", "opportunity", "needs", "outcome", "id"])
    return df.sort_values(["date", "id"], ascending=False, na_position="last").reset_index(drop=True)


def coverage(net: Network, facts: pd.DataFrame, pid: str, rows=None) -> pd.DataFrame:
    """How many of the person's ties fall in each group, against the 10-20 starter target."""
    t = _rows(net.ties, rows)
    others = pd.concat([t.loc[t["a"] == pid, "b"], t.loc[t["b"] == pid, "a"]]).unique()
    me = facts.loc[pid]
    counts = {g: 0 for g in GROUPS}
    for o in others:
        if o in facts.index and not facts.at[o, "opt_out"]:
            g = group_of(me, facts.loc[o])
            if g:
                counts[g] += 1
    lo, hi = TARGET
    rows = []
    for g in GROUPS:
        n = counts[g]
        status = "below target" if n < lo else ("on target" if n <= hi else "above target")
        rows.append({"group": g, "label": GROUP_LABELS[g], "ties": n, "target_low": lo, "target_high": hi,
                     "to_go": max(0, lo - n), "status": status})
    return pd.DataFrame(rows)
