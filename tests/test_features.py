"""Pair features: values against networkx on small graphs, block invariance, candidates."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from recommender.meet.features import FEATURE_NAMES, pair_features
from recommender.people import GROUPS
from recommender.meet.twohop import best_introducers, two_hop_paths
from recommender.meet.context import build_context
from recommender.meet.candidates import candidate_pairs
from recommender.network import Network

COL = {f: i for i, f in enumerate(FEATURE_NAMES)}


def _network_from_graph(g: nx.Graph, **people_cols) -> Network:
    nodes = sorted(g.nodes)  # position i is node i
    ids = [f"n{i:02d}" for i in nodes]
    people = pd.DataFrame({"id": ids, "name": [f"Person {i}" for i in nodes], "kind": "fractional", **people_cols})
    ties = pd.DataFrame({"a": [f"n{u:02d}" for u, v in g.edges], "b": [f"n{v:02d}" for u, v in g.edges],
                         "strength": 0.5, "since": "2024-01-01"})
    return Network.from_frames(people=people, ties=ties)


@pytest.fixture(scope="module")
def karate():
    g = nx.karate_club_graph()
    g = nx.Graph(g.edges)  # drop weights
    return g, build_context(_network_from_graph(g))


def _all_non_edges(g):
    return [(u, v) for u in g for v in g if u != v and not g.has_edge(u, v)]


class TestAgainstNetworkx:
    @pytest.mark.parametrize("name, nx_fn", [
        ("jaccard", nx.jaccard_coefficient),
        ("aa", nx.adamic_adar_index),
        ("ra", nx.resource_allocation_index),
        ("pa", nx.preferential_attachment),
    ])
    def test_metric(self, karate, name, nx_fn):
        g, ctx = karate
        pairs = _all_non_edges(g)
        u = np.array([p[0] for p in pairs])
        v = np.array([p[1] for p in pairs])
        rows = np.arange(len(ctx))
        X = pair_features(ctx, rows, u, v)  # rows[u] == u
        expected = {(a, b): s for a, b, s in nx_fn(g, pairs)}
        got = X[:, COL[name]]
        assert got == pytest.approx([expected[p] for p in pairs])

    def test_common_neighbours(self, karate):
        g, ctx = karate
        pairs = _all_non_edges(g)
        X = pair_features(ctx, np.arange(len(ctx)), np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
        assert X[:, COL["cn"]] == pytest.approx([len(list(nx.common_neighbors(g, a, b))) for a, b in pairs])

    def test_katz_is_truncated_walk_count(self, karate):
        g, ctx = karate
        A = nx.to_numpy_array(g, nodelist=sorted(g))
        beta = 0.05
        K = beta * A + beta**2 * A @ A + beta**3 * A @ A @ A
        pairs = _all_non_edges(g)[:200]
        u = np.array([p[0] for p in pairs])
        v = np.array([p[1] for p in pairs])
        X = pair_features(ctx, np.arange(len(ctx)), u, v)
        assert X[:, COL["katz"]] == pytest.approx(K[u, v])


def test_block_of_one_equals_block_of_many(karate):
    _, ctx = karate
    rows = np.array([0, 5, 33, 12])
    pr, pc = candidate_pairs(ctx, rows)
    X = pair_features(ctx, rows, pr, pc)
    for i, r in enumerate(rows):
        pr1, pc1 = candidate_pairs(ctx, np.array([r]))
        np.testing.assert_array_equal(pc1, pc[pr == i])
        np.testing.assert_array_equal(pair_features(ctx, np.array([r]), pr1, pc1), X[pr == i])


def test_two_hop_introducer_is_strongest_mutual_contact():
    # a - b - c and a - d - c; the a-d-c path is stronger (min of the two trusts)
    people = pd.DataFrame({"id": list("abcd"), "name": list("ABCD"), "kind": "fractional"})
    ties = pd.DataFrame({"a": ["a", "b", "a", "d"], "b": ["b", "c", "d", "c"],
                         "strength": [0.9, 0.3, 0.7, 0.6], "since": "2025-01-01", "last_contact": "2025-06-01"})
    ctx = build_context(Network.from_frames(people=people, ties=ties))
    hop = two_hop_paths(ctx, np.array([0]))
    n = len(ctx)
    assert (hop.key % n).tolist() == [0, 2]  # a itself (through b and d), and c
    assert hop.tied.tolist() == [True, False]  # a's own entry is never a candidate
    assert hop.cn.tolist() == [2.0, 2.0]
    assert ctx.ids[hop.introducer[1]] == "d"
    who, trust = best_introducers(ctx, np.array([0]), np.array([0]), np.array([2]))
    assert ctx.ids[who[0]] == "d"
    expect = min(ctx.W[0, 3], ctx.W[3, 2])
    assert trust[0] == pytest.approx(expect)


def _two_hop_reference(ctx, u):
    """Per person v two hops from u: cn, aa, ra, trust, recency, tied, best introducer (loops over dicts)."""
    A, W, F = ctx.A, ctx.W, ctx.F

    def nbrs(x):
        s = slice(A.indptr[x], A.indptr[x + 1])
        return dict(zip(A.indices[s].tolist(), zip(W.data[s].tolist(), F.data[s].tolist())))

    mine, out = nbrs(u), {}
    for w, (wuw, fuw) in mine.items():
        for v, (wwv, fwv) in nbrs(w).items():
            if v == u:
                continue
            r = out.setdefault(v, {"cn": 0, "aa": 0.0, "ra": 0.0, "trust": -1.0, "recency": -1.0, "who": None})
            r["cn"] += 1
            r["ra"] += 1.0 / ctx.deg[w]
            r["aa"] += 1.0 / np.log(ctx.deg[w]) if ctx.deg[w] > 1 else 0.0
            t = 0.0 if ctx.opt_out[w] else min(wuw, wwv)  # opted-out contacts never introduce
            if t > r["trust"] or (t == r["trust"] and w < r["who"]):
                r["trust"], r["who"] = t, w
            r["recency"] = max(r["recency"], min(fuw, fwv))
    for v, r in out.items():
        r["tied"] = v in mine
        if r["trust"] == 0:  # every mutual contact opted out: no introducer
            r["who"] = -1
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_hop_paths_match_a_loop_reference(seed):
    from recommender.demo import generate_network

    ctx = build_context(Network.from_frames(**generate_network(150, seed=seed)))
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(ctx), 40, replace=False))
    rows[0] = int(np.argmin(ctx.deg))  # include the least connected person (maybe no two-hop pairs)
    hop = two_hop_paths(ctx, rows)
    assert np.all(np.diff(hop.key) > 0)  # sorted by (row, person), each pair once
    who = hop.introducer
    got: dict = {}
    for j in range(len(hop)):
        if hop.col[j] == rows[hop.row[j]]:  # the row's own entry: marked tied, never a candidate
            assert hop.tied[j]
            continue
        got.setdefault(int(hop.row[j]), {})[int(hop.col[j])] = j
    for i, u in enumerate(rows.tolist()):
        ref = _two_hop_reference(ctx, u)
        mine = got.get(i, {})
        assert sorted(mine) == sorted(ref)
        for v, r in ref.items():
            j = mine[v]
            assert hop.cn[j] == r["cn"]
            assert hop.ra[j] == pytest.approx(r["ra"], rel=1e-12)
            assert hop.aa[j] == pytest.approx(r["aa"], rel=1e-12)
            assert hop.trust[j] == r["trust"] and hop.recency[j] == r["recency"]
            assert bool(hop.tied[j]) == r["tied"]
            assert who[j] == r["who"]


def test_isolated_person_has_no_graph_features():
    people = pd.DataFrame({"id": ["a", "b", "c"], "name": list("ABC"), "kind": "fractional",
                           "function": "finance", "specialties": ["fp-and-a", "m-and-a", "fp-and-a"]})
    ties = pd.DataFrame({"a": ["b"], "b": ["c"], "since": ["2024-01-01"]})
    ctx = build_context(Network.from_frames(people=people, ties=ties))
    X = pair_features(ctx, np.array([0]), np.array([0, 0]), np.array([1, 2]))
    assert np.all(X[:, [COL["cn"], COL["aa"], COL["ra"], COL["pa"], COL["introducer_trust"]]] == 0)
    assert X[:, COL["complementarity"]].tolist() == [1.0, 0.0]  # different vs identical specialties
    assert np.isfinite(X).all()


@pytest.fixture(scope="module")
def demo_ctx():
    from recommender.demo import generate_network

    net = Network.from_frames(**generate_network(150, seed=11))
    return net, build_context(net)


def test_candidates_exclude_self_ties_and_opted_out(demo_ctx):
    _, ctx = demo_ctx
    rows = np.arange(len(ctx))
    pr, pc = candidate_pairs(ctx, rows)
    assert len(pr) > 0
    u = rows[pr]
    assert not np.any(u == pc)
    assert not np.any(np.asarray(ctx.A[u, pc]).ravel() > 0)
    assert not np.any(ctx.opt_out[pc])
    keys = u * len(ctx) + pc
    assert len(np.unique(keys)) == len(keys)


@pytest.mark.parametrize("group", GROUPS)
def test_group_filter(demo_ctx, group):
    _, ctx = demo_ctx
    rows = np.flatnonzero(~ctx.is_exec)[:30]
    pr, pc = candidate_pairs(ctx, rows, group=group)
    X = pair_features(ctx, rows, pr, pc)
    col = {"peers": "group_peer", "adjacent": "group_adjacent", "executives": "group_executive"}[group]
    assert np.all(X[:, COL[col]] == 1)
    if group == "executives":
        assert ctx.is_exec[pc].all()
    else:
        assert not ctx.is_exec[pc].any()
        same = ctx.function[rows[pr]] == ctx.function[pc]
        assert same.all() if group == "peers" else not same.any()


@pytest.mark.parametrize("cells", [1 << 21, 700])  # one dense block; a few query rows at a time
def test_block_tag_similarity_equals_pairwise_cosine(demo_ctx, monkeypatch, cells):
    _, demo_ctx = demo_ctx
    import recommender.meet.features as features

    monkeypatch.setattr(features, "_PROFILE_CELLS", cells)
    rng = np.random.default_rng(3)
    rows = rng.choice(len(demo_ctx), 37, replace=False)
    pr = rng.integers(0, len(rows), 900)  # not grouped by row
    pc = rng.integers(0, len(demo_ctx), 900)
    got = features.block_tag_similarity(demo_ctx, rows, pr, pc)
    P = demo_ctx.profile  # the plain definition: row dots of the L2-normalised profiles
    want = np.asarray(P[rows[pr]].multiply(P[pc]).sum(axis=1)).ravel()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert got.max() > 0.5  # some pairs are similar (the test is not all zeros)


def test_a_person_is_never_two_hops_from_themself(demo_ctx):
    _, ctx = demo_ctx
    u = int(np.argmax(ctx.deg))  # reached back through every contact
    hop = two_hop_paths(ctx, np.array([u]))
    assert hop.locate(np.array([0]), np.array([u]))[0] == -1
    who, trust = best_introducers(ctx, np.array([u]), np.array([0]), np.array([u]))
    assert who[0] == -1 and trust[0] == 0
    X = pair_features(ctx, np.array([u]), np.array([0]), np.array([u]))
    assert np.all(X[0, [COL["cn"], COL["aa"], COL["ra"], COL["introducer_trust"], COL["mutual_recency"]]] == 0)
    assert u not in candidate_pairs(ctx, np.array([u]))[1]


def test_structural_columns_against_networkx():
    """Degrees, components and clustering of the graph-level columns; the embedding's cosine is in [-1, 1]."""
    g = nx.karate_club_graph()
    g = nx.Graph(g.edges)
    g.add_edges_from([(40, 41), (41, 42), (40, 42)])  # a second component (a triangle)
    g.add_nodes_from(range(34, 40))  # and isolated people
    ctx = build_context(_network_from_graph(g))
    pos = {int(pid[1:]): i for i, pid in enumerate(ctx.ids)}
    pairs = [(0, 33), (0, 40), (40, 41), (2, 35)]
    rows = np.array(sorted({pos[u] for u, _ in pairs}))
    pr = np.array([np.searchsorted(rows, pos[u]) for u, _ in pairs])
    pc = np.array([pos[v] for _, v in pairs])
    X = pair_features(ctx, rows, pr, pc)
    clust = nx.clustering(g)
    for i, (u, v) in enumerate(pairs):
        assert X[i, COL["deg_min"]] == min(g.degree[u], g.degree[v])
        assert X[i, COL["deg_max"]] == max(g.degree[u], g.degree[v])
        assert X[i, COL["same_component"]] == float(nx.has_path(g, u, v))
        assert X[i, COL["clust_min"]] == pytest.approx(min(clust[u], clust[v]))
        assert X[i, COL["clust_max"]] == pytest.approx(max(clust[u], clust[v]))
    assert np.all(np.abs(X[:, COL["spec_cos"]]) <= 1 + 1e-9)
    assert X[3, COL["spec"]] == 0.0  # an isolated person has no embedding
    # the embedding's columns are sums over the dimensions in order, to the bit (every pair of people)
    from recommender.meet import features

    st = features.structure(ctx)
    n = len(ctx)
    u, v = np.repeat(np.arange(n), n), np.tile(np.arange(n), n)
    dot, proj = np.zeros(len(u)), np.zeros(len(u))
    for j, lam in enumerate(st["vals"]):
        p = st["vecs"][u, j] * st["vecs"][v, j]
        dot += lam * p
        proj += p
    Xall = pair_features(ctx, np.arange(n), u, v)
    np.testing.assert_array_equal(Xall[:, COL["spec"]], dot)
    den = st["norm"][u] * st["norm"][v]
    np.testing.assert_array_equal(Xall[:, COL["spec_cos"]], np.divide(proj, den, out=np.zeros(len(u)), where=den > 0))


def test_walk_columns_equal_matrix_powers():
    """walk<t> = (A (D^-1 A)^(t-1))_uv / sqrt(d_u d_v); ret<t> = (D^-1 A)^t_xx, by dense numpy on a small graph."""
    from recommender.meet.features import WALK_FEATURES, walk_columns

    g = nx.karate_club_graph()
    g = nx.Graph(g.edges)
    g.add_node(34)  # an isolated person: every walk column 0 there
    ctx = build_context(_network_from_graph(g))
    n = len(ctx)
    assert [int(i[1:]) for i in ctx.ids] == list(range(n))
    A = nx.to_numpy_array(g, nodelist=range(n))
    d = A.sum(axis=1)
    P = np.divide(A, d[:, None], out=np.zeros_like(A), where=d[:, None] > 0)
    pairs = np.array([(u, v) for u in range(n) for v in range(n) if u != v])
    u, v = pairs[:, 0], pairs[:, 1]
    got = walk_columns(ctx, u, v)
    assert set(got) == set(WALK_FEATURES)
    M = A.copy()
    norm = np.sqrt(d[u] * d[v])
    for t in (2, 3, 4, 5):
        M = M @ P
        want = np.divide(M[u, v], norm, out=np.zeros(len(u)), where=norm > 0)
        np.testing.assert_allclose(got[f"walk{t}"], want, rtol=1e-10, atol=1e-12)
    Pt = P.copy()
    for t in (2, 3, 4):
        Pt = Pt @ P
        r = np.diag(Pt)
        np.testing.assert_allclose(got[f"ret{t}_min"], np.minimum(r[u], r[v]), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(got[f"ret{t}_max"], np.maximum(r[u], r[v]), rtol=1e-10, atol=1e-12)
    assert got["walk2"][(u == 34) | (v == 34)].max() == 0.0
    # in the feature matrix by the rule (networks of at most GLOBAL_MAX_N people), or as asked
    rows = np.arange(n)
    X_rule = pair_features(ctx, rows, u, v)
    X_off = pair_features(ctx, rows, u, v, walks=False)
    np.testing.assert_allclose(X_rule[:, COL["walk4"]], got["walk4"])
    assert not X_off[:, [COL[f] for f in WALK_FEATURES]].any()
    # each pair's numbers depend on that pair alone (a block of one row gives the same bits)
    one = walk_columns(ctx, u[:7], v[:7])
    for f in WALK_FEATURES:
        np.testing.assert_array_equal(one[f], got[f][:7])
    # the same bits as four sparse products of the dense rows (the first spread, the last read at the pairs)
    As = ctx.A.astype(np.float64)
    dinv = np.divide(1.0, d, out=np.zeros(n), where=d > 0)
    R = As[np.arange(n)].toarray().T
    for t in (2, 3, 4, 5):
        R = As @ (R * dinv[:, None])
        want = np.divide(R[v, u], norm, out=np.zeros(len(u)), where=norm > 0)
        np.testing.assert_array_equal(got[f"walk{t}"], want)


def test_walk_columns_follow_the_network_size_rule(monkeypatch):
    """Computed on networks of at most WALK_MAX_N (= GLOBAL_MAX_N) people, zeros above (as the spectral embedding is)."""
    import recommender.meet.features as F

    g = nx.Graph(nx.karate_club_graph().edges)
    ctx = build_context(_network_from_graph(g))
    rows, u, v = np.arange(len(ctx)), np.array([0, 1, 2]), np.array([5, 9, 33])
    walk = [COL[f] for f in F.WALK_FEATURES]
    assert pair_features(ctx, rows, u, v)[:, walk].any()
    monkeypatch.setattr(F, "WALK_MAX_N", len(ctx) - 1)  # = GLOBAL_MAX_N, named apart
    assert not pair_features(ctx, rows, u, v)[:, walk].any()
