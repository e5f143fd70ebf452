"""Data for the explorer's pages, as plain tables: no Streamlit here.

The pages only lay out what these functions return, so everything the app
shows can be tested without a browser: the network map around a person
(:func:`neighbourhood`, :func:`map_layout`), a person's ties, introductions and
referrals, group coverage, brokers and communities, referral outcomes over
time, uploads (:func:`import_uploads`, :func:`import_linkedin_upload`) and the
routed-referral write (:func:`log_routed_referral`).

Example
-------
>>> md_escape("<b>Ada</b> *x*")
'\\\\<b\\\\>Ada\\\\</b\\\\> \\\\*x\\\\*'
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from recommender.errors import DataValidationError, FracnetError, UsageError, ValidationProblem
from recommender.network import Network
from recommender.people import GROUPS, PeopleFacts, group_of  # noqa: F401  (the one group rule; pages read it here)
from recommender.store.schema import IMPORT_ORDER, TABLES
from recommender.taxonomy import split_tags

GROUP_LABELS = {"peers": "Peers", "adjacent": "Adjacent fractionals", "executives": "Executives (ICP)"}
#: Starter list size per group (design: 10-20 people per group).
TARGET = (10, 20)
MAP_LIMIT_MAX = 300

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&:])")


def md_escape(text) -> str:
    """``text`` safe to place inside Markdown: every Markdown/HTML character backslash-escaped,
    so a name like ``<b>Ada</b>`` shows as written."""
    return _MD_SPECIAL.sub(r"\\\1", "" if text is None else str(text))


# ---------------------------------------------------------------------------
# People facts and groups
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# The network map
# ---------------------------------------------------------------------------

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
        notes.append(f"Showing {shown} of {info['total']} people within reach, strongest ties first; "
                     "raise the node limit or narrow the filters to see others.")
    if info.get("opted_out"):
        notes.append(f"{info['opted_out']} people who opted out are not shown.")
    return MapData(nodes, edges, info["total"], shown, cut, info.get("filtered_out", 0), info.get("opted_out", 0), notes)


# ---------------------------------------------------------------------------
# A person's history
# ---------------------------------------------------------------------------

def ties_table(net: Network, facts: pd.DataFrame, pid: str) -> pd.DataFrame:
    """The person's ties: who, their function and group, strength, since, last contact, source."""
    t = net.ties
    mine = t[(t["a"] == pid) | (t["b"] == pid)]
    me = facts.loc[pid]
    rows = []
    for a, b, s, since, last, src in mine[["a", "b", "strength", "since", "last_contact", "source"]].itertuples(index=False):
        other = b if a == pid else a
        r = facts.loc[other] if other in facts.index else None
        rows.append({"name": r["name"] if r is not None else other, "id": other,
                     "kind": r["kind"] if r is not None else "", "function": r["function"] if r is not None else "",
                     "group": (group_of(me, r) or "") if r is not None else "",
                     "strength": float(s) if s is not None and s == s else None,
                     "since": since, "last contact": last, "source": src})
    df = pd.DataFrame(rows, columns=["name", "id", "kind", "function", "group", "strength", "since",
                                     "last contact", "source"])
    return df.sort_values(["strength", "name"], ascending=[False, True], na_position="last").reset_index(drop=True)


def introductions_table(net: Network, facts: pd.DataFrame, pid: str) -> pd.DataFrame:
    """Introductions the person made or was part of."""
    i = net.introductions
    mine = i[(i["a"] == pid) | (i["b"] == pid) | (i["introducer"] == pid)]
    name = lambda x: facts.at[x, "name"] if x in facts.index else (x or "")  # noqa: E731
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


def referrals_table(net: Network, facts: pd.DataFrame, pid: str) -> pd.DataFrame:
    """Referrals the person gave and received, newest first."""
    r = net.referrals
    mine = r[(r["from_id"] == pid) | (r["to_id"] == pid)]
    opps = net.opportunities.set_index("id") if len(net.opportunities) else None
    name = lambda x: facts.at[x, "name"] if x in facts.index else (x or "")  # noqa: E731
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


def coverage(net: Network, facts: pd.DataFrame, pid: str) -> pd.DataFrame:
    """How many of the person's ties fall in each group, against the 10-20 starter target."""
    t = net.ties
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


# ---------------------------------------------------------------------------
# Network-wide pictures
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Uploads
# ---------------------------------------------------------------------------

PROBLEM_COLUMNS = ["file", "line", "field", "message", "hint"]


@dataclass
class UploadResult:
    """What an upload did: ``ok``; rows written per table; warnings and problems as tables."""

    ok: bool
    written: dict = field(default_factory=dict)
    new: dict = field(default_factory=dict)
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))
    warnings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))
    message: str = ""


def problems_frame(problems, rename: dict[str, str] | None = None) -> pd.DataFrame:
    """Validation problems as a table (file, line, field, message, hint)."""
    rename = rename or {}
    rows = [{"file": rename.get(p.file, p.file), "line": p.line, "field": p.field or "", "message": p.message,
             "hint": p.hint or ""} for p in problems]
    df = pd.DataFrame(rows, columns=PROBLEM_COLUMNS)
    df["line"] = df["line"].astype("Int64")
    return df


def import_uploads(store, files) -> UploadResult:
    """Import uploaded CSVs, given as ``(file name, bytes)`` pairs, matched to tables by
    file name (people.csv, ties.csv, ...). All or nothing: any problem in any file
    and nothing is written; every problem is reported with file, line and field."""
    from recommender.io.csv_folder import decode_text, import_frames, read_csv_text

    by_file = {TABLES[n].file: n for n in IMPORT_ORDER}
    frames, names, problems = {}, {}, []
    for fname, data in files:
        base = os.path.basename(str(fname))
        table = by_file.get(base.lower())
        if table is None:
            problems.append(ValidationProblem(base, None, None, "not a fracnet table file",
                                              "name files " + ", ".join(by_file) + " (people.csv at least)"))
            continue
        if table in frames:
            problems.append(ValidationProblem(base, None, None, "uploaded twice", "upload each table once"))
            continue
        try:
            frames[table] = read_csv_text(decode_text(bytes(data), base), base)
            names[table] = base
        except DataValidationError as exc:
            problems.extend(exc.problems)
    if not files:
        return UploadResult(False, message="No files uploaded.")
    if problems:
        return UploadResult(False, problems=problems_frame(problems), message="Nothing was written.")
    try:
        report = import_frames(store, frames, names)
    except DataValidationError as exc:
        return UploadResult(False, problems=problems_frame(exc.problems), message="Nothing was written.")
    except FracnetError as exc:
        return UploadResult(False, problems=problems_frame([ValidationProblem("", None, None, str(exc))]),
                            message="Nothing was written.")
    return UploadResult(True, dict(report.written), dict(report.new), warnings=problems_frame(report.warnings),
                        message="Imported " + ", ".join(f"{v} {k}" for k, v in report.written.items() if v) + ".")


def import_linkedin_upload(store, name: str, data: bytes, owner_id: str) -> UploadResult:
    """Import an uploaded LinkedIn Connections.csv for ``owner_id`` (all or nothing)."""
    from recommender.io.linkedin import import_linkedin

    base = os.path.basename(str(name)) or "Connections.csv"
    with tempfile.TemporaryDirectory(prefix="fracnet-upload-") as tmp:
        path = Path(tmp) / base
        path.write_bytes(bytes(data))
        try:
            report = import_linkedin(store, path, owner_id)
        except DataValidationError as exc:
            return UploadResult(False, problems=problems_frame(exc.problems, {str(path): base}),
                                message="Nothing was written.")
        except FracnetError as exc:
            return UploadResult(False, problems=problems_frame([ValidationProblem(base, None, None, str(exc))]),
                                message="Nothing was written.")
    return UploadResult(True, dict(report.written), dict(report.new),
                        warnings=problems_frame(report.warnings, {str(path): base}),
                        message="Imported " + ", ".join(f"{v} {k}" for k, v in report.written.items() if v) + ".")


# ---------------------------------------------------------------------------
# Logging a routed referral
# ---------------------------------------------------------------------------

def log_routed_referral(store, from_id: str, to_id: str, *, opportunity_id: str | None = None,
                        needs=(), industry=None, size_band=None, description=None, date=None) -> dict:
    """Log that ``from_id`` referred an opportunity to ``to_id`` through the ledger.

    One :func:`recommender.ledger.log_referral` call, one transaction: without
    ``opportunity_id`` the opportunity described by the form is recorded in
    that same transaction (brought by ``from_id``), so a refused referral
    leaves nothing behind. Returns the ledger's row (plus
    ``opportunity_created``).
    """
    from recommender.ledger import log_referral

    if opportunity_id:
        row = log_referral(store, opportunity_id, to_id, from_id=from_id, date=date)
        created = None
    else:
        row = log_referral(store, None, to_id, from_id=from_id, date=date,
                           new_opportunity={"needs": list(needs or ()), "industry": industry,
                                            "size_band": size_band, "description": description})
        created = row["opportunity_id"]
    return {**row, "opportunity_created": created}
