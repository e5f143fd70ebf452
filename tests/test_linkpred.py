"""Tests of recommender.evaluation.linkpred: heuristics vs networkx, features, the estimator."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from recommender.errors import NotFittedError, UnknownIdError, UsageError
from recommender.evaluation.linkpred import LinkPredictor, sample_non_edges
from recommender.evaluation.heuristics import adjacency_from_edges, score_aa, score_cn, score_jaccard, score_katz, score_pa, score_ppr, score_ra
from recommender.evaluation.graph_features import graph_pair_features


def as_adjacency(G: nx.Graph, n=None):
    e = np.array(G.edges(), dtype=np.int64).reshape(-1, 2)
    return adjacency_from_edges(e[:, 0], e[:, 1], n=n or G.number_of_nodes())


def all_pairs(n):
    return np.array([(u, v) for u in range(n) for v in range(u + 1, n)], dtype=np.int64)


def nx_scores(func, G, pairs):
    return np.array([s for _, _, s in func(G, [tuple(map(int, p)) for p in pairs])], dtype=float)


CANONICAL = {
    "K5": nx.complete_graph(5),
    "P3": nx.path_graph(3),
    "star": nx.star_graph(4),
    "karate": nx.Graph(nx.karate_club_graph().edges()),  # unweighted
}
NX_METRICS = {
    "jaccard": (score_jaccard, nx.jaccard_coefficient),
    "aa": (score_aa, nx.adamic_adar_index),
    "ra": (score_ra, nx.resource_allocation_index),
    "pa": (score_pa, nx.preferential_attachment),
}


class TestAdjacency:
    def test_symmetric_binary_no_loops(self):
        A = adjacency_from_edges([0, 1, 0, 2], [1, 0, 0, 1], n=4)
        assert A.shape == (4, 4)
        assert (A != A.T).nnz == 0
        assert A.diagonal().sum() == 0
        assert set(A.data) == {1.0}
        assert A.nnz == 4  # edges 0-1 and 1-2, both directions

    def test_bad_ids(self):
        with pytest.raises(UsageError):
            adjacency_from_edges([0, 5], [1, 2], n=3)
        with pytest.raises(UsageError):
            adjacency_from_edges([0], [1, 2])

    def test_empty(self):
        A = adjacency_from_edges([], [], n=3)
        assert A.shape == (3, 3) and A.nnz == 0


class TestCommonNeighbours:
    def test_k5(self):
        A = as_adjacency(CANONICAL["K5"])
        assert score_cn(A, all_pairs(5)) == pytest.approx(np.full(10, 3.0))

    def test_p3(self):
        A = as_adjacency(CANONICAL["P3"])
        assert score_cn(A, [[0, 2], [0, 1]]) == pytest.approx([1.0, 0.0])

    def test_star_leaves_share_the_centre(self):
        A = as_adjacency(CANONICAL["star"])
        assert score_cn(A, [[1, 2], [3, 4], [0, 1]]) == pytest.approx([1.0, 1.0, 0.0])

    @pytest.mark.parametrize("name", list(CANONICAL))
    def test_matches_networkx(self, name):
        G = CANONICAL[name]
        A = as_adjacency(G)
        pairs = all_pairs(G.number_of_nodes())
        ref = [len(list(nx.common_neighbors(G, int(u), int(v)))) for u, v in pairs]
        assert score_cn(A, pairs) == pytest.approx(ref)


class TestAgainstNetworkx:
    @pytest.mark.parametrize("name", list(CANONICAL))
    @pytest.mark.parametrize("metric", list(NX_METRICS))
    def test_all_pairs(self, name, metric):
        ours, theirs = NX_METRICS[metric]
        G = CANONICAL[name]
        A = as_adjacency(G)
        pairs = all_pairs(G.number_of_nodes())
        assert ours(A, pairs) == pytest.approx(nx_scores(theirs, G, pairs), abs=1e-12)

    def test_hand_computed_k5(self):
        A = as_adjacency(CANONICAL["K5"])
        p = [[0, 1]]
        assert score_jaccard(A, p) == pytest.approx([3 / 5])  # {2,3,4} / {0..4}
        assert score_aa(A, p) == pytest.approx([3 / np.log(4)])
        assert score_ra(A, p) == pytest.approx([3 / 4])
        assert score_pa(A, p) == pytest.approx([16.0])

    def test_hand_computed_star(self):
        A = as_adjacency(CANONICAL["star"])  # centre 0 with leaves 1..4
        assert score_ra(A, [[1, 2]]) == pytest.approx([1 / 4])
        assert score_aa(A, [[1, 2]]) == pytest.approx([1 / np.log(4)])
        assert score_jaccard(A, [[1, 2]]) == pytest.approx([1.0])
        assert score_pa(A, [[0, 1]]) == pytest.approx([4.0])


class TestEdgeCases:
    def setup_method(self):
        # path 0-1-2 plus an isolated node 3
        self.A = adjacency_from_edges([0, 1], [1, 2], n=4)

    @pytest.mark.parametrize("scorer", [score_cn, score_jaccard, score_aa, score_ra, score_pa, score_katz, score_ppr])
    def test_isolated_node_scores_zero(self, scorer):
        s = scorer(self.A, [[0, 3], [3, 2]])
        assert np.all(np.isfinite(s))
        assert s == pytest.approx([0.0, 0.0])

    def test_no_common_neighbour(self):
        A = as_adjacency(nx.path_graph(4))
        p = [[0, 3]]
        for scorer in (score_cn, score_jaccard, score_aa, score_ra):
            assert scorer(A, p) == pytest.approx([0.0])
        assert score_katz(A, p, beta=0.1) > 0  # a walk of length 3 exists

    def test_empty_pairs(self):
        for scorer in (score_cn, score_ra, score_katz, score_ppr):
            assert scorer(self.A, np.zeros((0, 2), dtype=int)).shape == (0,)

    def test_unknown_node(self):
        with pytest.raises(UnknownIdError):
            score_cn(self.A, [[0, 9]])

    def test_bad_pairs_shape(self):
        with pytest.raises(UsageError):
            score_cn(self.A, [0, 1, 2])

    def test_generator_pairs_are_materialised(self):
        pairs = (p for p in [(0, 2), (1, 2)])
        assert score_cn(self.A, list(pairs)) == pytest.approx([1.0, 0.0])

    def test_bad_knobs(self):
        with pytest.raises(UsageError):
            score_katz(self.A, [[0, 2]], beta=1.5)
        with pytest.raises(UsageError):
            score_katz(self.A, [[0, 2]], max_length=7)
        with pytest.raises(UsageError):
            score_ppr(self.A, [[0, 2]], alpha=0)


class TestKatz:
    @pytest.mark.parametrize("max_length", [1, 2, 3, 4])
    def test_matches_matrix_powers(self, max_length):
        G = CANONICAL["karate"]
        A = as_adjacency(G)
        Ad = A.toarray()
        beta = 0.05
        K = sum(beta**l * np.linalg.matrix_power(Ad, l) for l in range(1, max_length + 1))
        pairs = all_pairs(34)
        got = score_katz(A, pairs, beta=beta, max_length=max_length)
        assert got == pytest.approx(K[pairs[:, 0], pairs[:, 1]], rel=1e-10)

    def test_p3_hand_computed(self):
        A = as_adjacency(CANONICAL["P3"])
        # walks 0->2: one of length 2, none of length 1 or 3, two of length 4 (0-1-0-1-2, 0-1-2-1-2)
        assert score_katz(A, [[0, 2]], beta=0.1, max_length=4) == pytest.approx([0.01 + 2e-4])


class TestPPR:
    @pytest.mark.parametrize("name", ["P3", "star", "karate"])
    def test_matches_networkx_pagerank(self, name):
        G = CANONICAL[name]
        n = G.number_of_nodes()
        A = as_adjacency(G)
        rows = [nx.pagerank(G, alpha=0.85, personalization={u: 1}, tol=1e-12, max_iter=1000) for u in range(n)]
        pr = np.array([[row[v] for v in range(n)] for row in rows])
        pairs = all_pairs(n)
        ref = pr[pairs[:, 0], pairs[:, 1]] + pr[pairs[:, 1], pairs[:, 0]]
        assert score_ppr(A, pairs, alpha=0.15, tol=1e-12, max_iter=1000) == pytest.approx(ref, abs=1e-8)

    def test_symmetric(self):
        A = as_adjacency(CANONICAL["karate"])
        p = all_pairs(34)
        assert score_ppr(A, p) == pytest.approx(score_ppr(A, p[:, ::-1]), abs=1e-6)

    def test_truncated_ranks_like_exact(self):
        A = as_adjacency(CANONICAL["karate"])
        p = all_pairs(34)
        exact = score_ppr(A, p, method="power")
        trunc = score_ppr(A, p, method="truncated")
        assert np.corrcoef(exact, trunc)[0, 1] > 0.9


class TestFeatures:
    def test_shape_names_and_values(self):
        G = CANONICAL["karate"]
        A = as_adjacency(G)
        pairs = all_pairs(34)
        X, names = graph_pair_features(A, pairs)
        assert X.shape == (len(pairs), len(names))
        assert len(set(names)) == len(names)
        assert np.isfinite(X).all()
        assert X[:, names.index("cn")] == pytest.approx(score_cn(A, pairs))
        assert X[:, names.index("ra")] == pytest.approx(score_ra(A, pairs))
        assert X[:, names.index("aa")] == pytest.approx(score_aa(A, pairs))

    def test_distance_matches_bfs(self):
        G = nx.path_graph(7)
        G.add_edge(7, 8)  # a second component
        A = as_adjacency(G)
        pairs = np.array([[0, 1], [0, 2], [0, 3], [0, 4], [0, 6], [0, 8]])
        X, names = graph_pair_features(A, pairs)
        # capped at 4; 5 = farther in the same component; 6 = another component
        assert X[:, names.index("distance")] == pytest.approx([1, 2, 3, 4, 5, 6])
        assert X[:, names.index("same_component")] == pytest.approx([1, 1, 1, 1, 1, 0])

    def test_clustering_matches_networkx(self):
        G = CANONICAL["karate"]
        A = as_adjacency(G)
        pairs = all_pairs(34)
        X, names = graph_pair_features(A, pairs)
        c = nx.clustering(G)
        ref = [max(c[int(u)], c[int(v)]) for u, v in pairs]
        assert X[:, names.index("clustering_max")] == pytest.approx(ref)

    def test_isolated_nodes_and_tiny_graph(self):
        A = adjacency_from_edges([0], [1], n=4)
        X, names = graph_pair_features(A, [[2, 3], [0, 1]])
        assert np.isfinite(X).all()


def random_graph(n=60, m=300, seed=0):
    from recommender.demo.graphs import geometric_edges

    e = geometric_edges(n, m, seed)
    return adjacency_from_edges(e[:, 0], e[:, 1], n=n)


class TestSampling:
    def test_non_edges_are_distinct_non_edges(self):
        A = random_graph()
        neg = sample_non_edges(A, 200, np.random.default_rng(1))
        assert neg.shape == (200, 2)
        assert np.all(neg[:, 0] < neg[:, 1])
        assert np.asarray(A[neg[:, 0], neg[:, 1]]).sum() == 0
        assert len({tuple(p) for p in neg.tolist()}) == 200

    def test_too_dense(self):
        A = as_adjacency(CANONICAL["K5"])
        with pytest.raises(UsageError):
            sample_non_edges(A, 1, np.random.default_rng(0))


class TestLinkPredictor:
    def test_init_only_stores_params(self):
        model = LinkPredictor(n_holdouts=2, random_state=3)
        assert model.get_params()["n_holdouts"] == 2
        assert not hasattr(model, "estimator_")
        assert "n_holdouts=2" in repr(model)

    def test_fit_returns_self_and_learned_state(self):
        A = random_graph()
        model = LinkPredictor(n_holdouts=1, min_train_edges=0)
        assert model.fit(A) is model
        assert model.feature_names_ and model.n_train_pairs_ > 0
        proba = model.predict_proba([[0, 1], [2, 3], [4, 5]])
        assert proba.shape == (3, 2)
        assert proba.sum(axis=1) == pytest.approx(np.ones(3))
        assert model.score_pairs([[0, 1]]).shape == (1,)

    def test_not_fitted(self):
        with pytest.raises(NotFittedError):
            LinkPredictor().score_pairs([[0, 1]])
        with pytest.raises(NotFittedError):
            LinkPredictor().predict_proba([[0, 1]])

    def test_deterministic_with_random_state(self):
        A = random_graph(seed=2)
        pairs = all_pairs(60)[:300]
        a = LinkPredictor(n_holdouts=2, min_train_edges=0, random_state=7).fit(A).score_pairs(pairs)
        b = LinkPredictor(n_holdouts=2, min_train_edges=0, random_state=7).fit(A).score_pairs(pairs)
        assert np.array_equal(a, b)

    def test_too_small_graph(self):
        with pytest.raises(UsageError, match="at least 20"):
            LinkPredictor().fit(as_adjacency(CANONICAL["K5"]))

    def test_bad_params_fail_in_fit(self):
        with pytest.raises(UsageError, match="holdout_frac"):
            LinkPredictor(holdout_frac=2.0).fit(random_graph())

    def test_custom_estimator_is_cloned(self):
        from sklearn.linear_model import LogisticRegression

        est = LogisticRegression(max_iter=500)
        model = LinkPredictor(n_holdouts=1, min_train_edges=0, estimator=est).fit(random_graph())
        assert model.estimator_ is not est
        assert not hasattr(est, "coef_")

    def test_ranks_held_out_edges_above_non_edges(self):
        from sklearn.metrics import roc_auc_score

        A = random_graph(n=120, m=700, seed=4)
        rng = np.random.default_rng(0)
        E = np.array(sp.triu(A, 1).nonzero()).T
        test = E[rng.choice(len(E), 70, replace=False)]
        from recommender.evaluation.linkpred import _remove_edges

        A_train = _remove_edges(A, test)
        neg = sample_non_edges(A, 70, rng)
        model = LinkPredictor(random_state=0).fit(A_train)
        y = np.r_[np.ones(70), np.zeros(70)]
        assert roc_auc_score(y, model.score_pairs(np.vstack([test, neg]))) > 0.9

    def test_works_with_sparse_and_dense_input(self):
        A = random_graph()
        a = LinkPredictor(n_holdouts=1, min_train_edges=0).fit(A).score_pairs([[0, 1]])
        b = LinkPredictor(n_holdouts=1, min_train_edges=0).fit(A.toarray()).score_pairs([[0, 1]])
        assert a == pytest.approx(b)


def test_link_predictor_is_the_meet_rankers_structural_part():
    """evaluate links scores with the answer's stage 1 (PairRanker, the same estimator rule) restricted to the
    structural columns the answer weighs."""
    from recommender.evaluation.linkpred import _graph_context, meet_pair_features
    from recommender.meet.features import FEATURE_NAMES
    from recommender.meet.ranker import PairRanker, stage1_estimator, stage1_features

    A = random_graph()
    model = LinkPredictor(n_holdouts=1, min_train_edges=0).fit(A)
    assert isinstance(model.estimator_, PairRanker)
    assert model.feature_names_ == list(stage1_features("structural"))
    assert set(model.feature_names_) == set(stage1_features()) & set(stage1_features("structural"))
    assert model.estimator_.estimator == stage1_estimator(A.shape[0]) == "auto"  # MeetModel's default rule
    w = model.estimator_.weights()
    assert all(w[f] == 0.0 for f in FEATURE_NAMES if f not in model.feature_names_)
    assert any(w[f] != 0.0 for f in model.feature_names_)
    pairs = np.array([[0, 1], [2, 3], [4, 5]])
    ctx, pos = _graph_context(model.A_)
    expected = model.estimator_.score(meet_pair_features(ctx, pos, pairs))
    np.testing.assert_allclose(model.score_pairs(pairs), expected)


def test_link_predictor_chooses_its_estimator_on_held_out_rounds_and_reads_the_walk_columns():
    """Enough held-out edges: the estimator is chosen on held-out holdout rounds (the figures kept) and the
    learned model reads the walk columns (a network under GLOBAL_MAX_N people computes them)."""
    from recommender.evaluation.linkpred import _graph_context
    from recommender.meet.features import WALK_FEATURES, walk_columns
    from recommender.meet.ranker import AUTO_CANDIDATES, AUTO_MIN_TREE_POSITIVES

    A = random_graph(n=150, m=700, seed=1)
    model = LinkPredictor(n_holdouts=4, min_train_edges=0, random_state=0).fit(A)
    rk = model.estimator_
    assert rk.fallback_reason_ is None and rk.kind_ in ("logistic", "blend")
    ch = rk.choice_
    assert set(ch["heldout_ap"]) == {f"{k} C={c:g}" for k, c in AUTO_CANDIDATES
                                     if k == "logistic" or rk.n_positive_ >= AUTO_MIN_TREE_POSITIVES}
    assert ch["best"] == max(ch["heldout_ap"], key=ch["heldout_ap"].get)
    assert ch["chosen"] in ch["heldout_ap"] and ch["heldout_ap"][ch["chosen"]] <= ch["heldout_ap"][ch["best"]]
    assert ch["heldout_queries"] == 2  # half of the 4 rounds
    assert set(WALK_FEATURES) <= set(model.feature_names_)
    assert any(rk.weights()[f] != 0.0 for f in WALK_FEATURES)  # learned, not assumed
    pairs = np.array([[0, 1], [2, 3], [4, 50], [7, 120]])
    ctx, pos = _graph_context(model.A_)
    want = walk_columns(ctx, pos[pairs[:, 0]], pos[pairs[:, 1]])
    X = model.transform(pairs)
    for f in WALK_FEATURES:
        np.testing.assert_allclose(X[:, model.feature_names_.index(f)], want[f])
