"""The batch job's compiled path (recommender/batch/fast.py, compiled.py) gives the numpy path's answers."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.batch import fast
from recommender.demo import generate_network
from recommender.meet.model import MeetModel
from recommender.meet.twohop import two_hop_paths
from recommender.network import Network

pytestmark = [pytest.mark.skipif(fast.compiled() is None, reason="numba is not installed"),
              pytest.mark.usefixtures("compiled_kernels")]  # the session's numba warm-up (root conftest.py)


@pytest.fixture(scope="module")
def demo_model():
    """A linear stage 1 that gives the walk columns weight 0, as every model above GLOBAL_MAX_N people has (the
    compiled path's case), with the spectral and clustering columns a network of 1,500 people has."""
    from recommender.meet import features

    # 1,500 people: three blocks of 700 rows (the last one short), and a dozen people whose two hops pass the
    # model's cap (max_two_hop=400), so the kernel's capped path is compared too (6 s to fit; 2,500 took 12 s)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(features, "WALK_MAX_N", 0)  # fitted as above the cap: walk columns 0, so their weights are 0
        model = MeetModel(estimator="logistic").fit(Network.from_frames(**generate_network(1500, seed=3)))
    A = model.context_.A
    two_hops = np.diff(((A @ A) > 0).tocsr().indptr)
    assert (two_hops > model.max_two_hop).sum() >= 5
    return model


def test_a_model_that_weighs_the_walk_columns_takes_the_numpy_path_with_the_same_answers():
    """At most GLOBAL_MAX_N people the answer weighs the walk columns, which the kernel does not compute: the
    batch job says so and scores on the numpy path (the very answers of recommend)."""
    from recommender.meet.features import FEATURE_NAMES, WALK_FEATURES

    model = MeetModel(estimator="logistic", rerank=False).fit(Network.from_frames(**generate_network(600, seed=4)))
    a, _ = model.ranker_.linear_form()
    assert np.any(a[[FEATURE_NAMES.index(f) for f in WALK_FEATURES]] != 0)
    assert "walk columns" in fast.path_reason(model) and not fast.usable(model)
    rows = np.arange(0, 200)
    _assert_same(model.score_block(rows, k=10, introducers=True, katz=False), fast.score_block(model, rows))


def _blocks(n, size):
    return [np.arange(r0, min(n, r0 + size)) for r0 in range(0, n, size)]


def _assert_same(numpy_out, compiled_out):
    names = ("pair_row", "pair_col", "score", "X", "introducer")
    for name, a, b in zip(names, numpy_out, compiled_out):
        assert a.shape == b.shape, name
        if name in ("score", "X"):
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-12, err_msg=name)
        else:
            np.testing.assert_array_equal(b, a, err_msg=name)


@pytest.mark.parametrize("group,k", [("all", 10), ("all", 3), ("peers", 5), ("adjacent", 10), ("executives", 2)])
def test_compiled_blocks_equal_the_numpy_path(demo_model, group, k):
    assert fast.usable(demo_model)
    n = len(demo_model.context_)
    for rows in _blocks(n, 700):
        want = demo_model.score_block(rows, k=k, group=group, introducers=True, katz=False)
        _assert_same(want, fast.score_block(demo_model, rows, k=k, group=group))


def test_kept_columns_are_the_matrix_columns_bit_for_bit(demo_model):
    """The batch job reads the compiled path's features a column at a time (KeptColumns, no matrix): each column,
    and the matrix it stacks, are the stacked matrix's, bit for bit; the groups, trust and reasons from them too."""
    from recommender.batch.meet import top_reasons
    from recommender.meet.features import FEATURE_NAMES
    from recommender.meet.scoring import KeptColumns, _group_codes, feature_column

    import copy

    model = copy.copy(demo_model)  # stage 1 alone (a stage 2 reranks from the matrix, which it then returns)
    model.reranker_ = None
    rows = np.arange(100, 800)
    pr, pc, score, X, intro = fast.score_block(model, rows)
    pr2, pc2, score2, cols, intro2 = fast.score_block(model, rows, stacked=False)
    assert isinstance(cols, KeptColumns) and len(cols) == len(X) > 1000
    for a, b in ((pr, pr2), (pc, pc2), (score, score2), (intro, intro2)):
        np.testing.assert_array_equal(a, b)
    for j in range(len(FEATURE_NAMES)):
        np.testing.assert_array_equal(cols.column(j), X[:, j], err_msg=FEATURE_NAMES[j])
        assert cols.column(j).flags.c_contiguous
    np.testing.assert_array_equal(cols.column(-1), X[:, -1])
    np.testing.assert_array_equal(cols.matrix(), X)
    np.testing.assert_array_equal(feature_column(cols, 5), feature_column(X, 5))
    np.testing.assert_array_equal(_group_codes(cols), _group_codes(X))
    assert len(set(_group_codes(X).tolist())) == 3
    np.testing.assert_array_equal(top_reasons(model, cols), top_reasons(model, X))
    assert isinstance(fast.score_block(demo_model, rows, stacked=False)[3], np.ndarray)  # with stage 2


def test_compiled_path_keeps_few_pairs_but_every_top_pair(demo_model):
    rows = np.arange(0, 500)
    kept = fast.prune(demo_model, rows, demo_model.stage1_k(10), "all")  # stage 1's top M when stage 2 reranks
    pr, pc, *_ = demo_model.score_block(rows, k=10, introducers=True, katz=False)
    assert len(kept["row"]) < kept["candidates"] / 2  # the bound does prune
    have = set(zip(kept["row"].tolist(), kept["col"].tolist()))
    assert set(zip(pr.tolist(), pc.tolist())) <= have


def test_the_kernels_profile_similarity_is_block_tag_similarity_bit_for_bit(demo_model):
    from recommender.meet.features import block_tag_similarity

    rows = np.arange(200, 900)
    kept = fast.prune(demo_model, rows, demo_model.stage1_k(10), "all")
    want = block_tag_similarity(demo_model.context_, rows, kept["row"], kept["col"])
    assert (want > 0).sum() > len(want) / 2  # most kept pairs share profile terms: the sums are compared
    np.testing.assert_array_equal(kept["tag_sim"], want)  # the numpy stage uses it in place of its own


def test_scattered_rows_and_a_block_of_one(demo_model):
    rng = np.random.default_rng(0)
    rows = rng.choice(len(demo_model.context_), size=300, replace=False)
    _assert_same(demo_model.score_block(rows, k=10, introducers=True, katz=False), fast.score_block(demo_model, rows))
    one = rows[:1]
    _assert_same(demo_model.score_block(one, k=10, introducers=True, katz=False), fast.score_block(demo_model, one))


def test_tag_masks_wider_than_one_word_give_the_same_answers(demo_model):
    import copy
    import dataclasses

    import scipy.sparse as sp

    model = copy.deepcopy(demo_model)
    ctx = model.context_
    k = ctx.S.shape[1]
    width = 150  # the same specialties spread over three 64-bit words, in the same order
    cols = np.linspace(0, width - 1, k).round().astype(np.int32)
    assert len(set(cols.tolist())) == k and cols.max() >= 128
    S = sp.csr_matrix((ctx.S.data, cols[ctx.S.indices], ctx.S.indptr), shape=(len(ctx), width))
    affinity = np.zeros((width, width))
    affinity[np.ix_(cols, cols)] = ctx.affinity
    model.context_ = dataclasses.replace(ctx, S=S, affinity=affinity)
    assert fast.usable(model)
    assert fast._people_arrays(model, model._candidate_kw["n_pool"])["extra"].shape[1] == 2  # two more words
    rows = np.arange(0, 500)
    wide = model.score_block(rows, k=10, introducers=True, katz=False)
    _assert_same(wide, fast.score_block(model, rows))
    _assert_same(demo_model.score_block(rows, k=10, introducers=True, katz=False), wide)  # the same tag sets


def test_a_count_too_large_for_the_kernels_record_takes_the_numpy_path(demo_model):
    import copy

    model = copy.deepcopy(demo_model)
    ctx = model.context_
    for key in [k for k in ctx._pools if k == "compiled_ok" or (isinstance(k, tuple) and k[0] == "compiled_people")]:
        del ctx._pools[key]
    ctx.n_market = ctx.n_market.copy()
    ctx.n_market[3] = 300  # the record keeps counts in one byte
    assert fast.path_reason(model) == "a count or code too large for the kernel's record"
    rows = np.arange(0, 60)
    _assert_same(model.score_block(rows, k=10, introducers=True, katz=False), fast.score_block(model, rows))


def test_degrees_past_the_table_compute_their_terms(demo_model, monkeypatch):
    rows = np.arange(100, 500)
    want = fast.prune(demo_model, rows, 10, "all")
    assert np.median(demo_model.context_.deg) > 4
    monkeypatch.setattr(fast, "DEGREE_TABLE", 4)  # most degrees past the table: the kernel computes their terms
    got = fast.prune(demo_model, rows, 10, "all")
    for name in ("row", "col", "group", "has_hop", "aggregates", "introducer", "tag_sim"):
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    _assert_same(demo_model.score_block(rows, k=10, introducers=True, katz=False), fast.score_block(demo_model, rows))


def test_stamps_start_again_before_they_overflow(demo_model, monkeypatch):
    rows = np.arange(0, 300)
    want = fast.prune(demo_model, rows, 10, "all")
    monkeypatch.setattr(fast, "STAMP_LIMIT", 700)  # int32 stamps: cleared and reused after the limit
    spa, _, first = fast._THREAD.stamps(len(demo_model.context_), 1)
    assert first + 1 <= 700 and (spa["seen"] < 700).all()
    for _ in range(3):  # 300 rows a block: the second block past the limit restarts the stamps
        got = fast.prune(demo_model, rows, 10, "all")
        for name in ("row", "col", "group", "has_hop", "aggregates", "introducer", "tag_sim"):
            np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    assert fast._THREAD.stamps(len(demo_model.context_), 1)[2] < 700
    with pytest.raises(ValueError, match="more than the kernels"):
        fast._THREAD.stamps(len(demo_model.context_), 701)


def test_compiled_graph_stage_equals_two_hop_paths(demo_model):
    ctx = demo_model.context_
    rows = np.arange(0, 400)
    g = fast.graph_arrays(ctx)
    spa, touched, stamp = fast._THREAD.stamps(len(ctx), len(rows))
    ptr, col, cn, ra, aa, tr, rc, intro = fast.compiled().two_hop_block(
        rows, g["nbr"], g["edges"], spa, touched, stamp)
    hop = two_hop_paths(ctx, rows)
    row = np.repeat(np.arange(len(rows)), np.diff(ptr))
    o = np.lexsort((col, row))
    np.testing.assert_array_equal(col[o], hop.col)
    np.testing.assert_array_equal(cn[o], hop.cn)
    np.testing.assert_array_equal(ra[o], hop.ra)  # the same additions in the same order: the same bits
    np.testing.assert_array_equal(aa[o], hop.aa)
    np.testing.assert_array_equal(tr[o].astype(float), hop.trust)
    np.testing.assert_array_equal(rc[o].astype(float), hop.recency)
    np.testing.assert_array_equal(intro[o], hop.introducer)


def test_reference_kernel_is_adamic_adar_top_k(demo_model):
    ctx = demo_model.context_
    rows = np.arange(0, 200)
    g = fast.graph_arrays(ctx)
    ref, touched, stamp = fast._THREAD.stamps(len(ctx), len(rows), "ref")
    ptr, col, score = fast.compiled().reference_aa_topk(rows, g["indptr"], g["indices"], g["inv_log_deg"], 5,
                                                        ref, touched, stamp)
    A = ctx.A
    for i, u in enumerate(rows.tolist()):
        aa = (A[u].multiply(ctx.inv_log_deg[None, :]) @ A).toarray().ravel()
        aa[A[u].indices] = 0
        aa[u] = 0
        reach = np.flatnonzero((A[u] @ A).toarray().ravel())
        reach = np.setdiff1d(reach, np.r_[A[u].indices, u])
        want = np.sort(aa[reach])[::-1][:5]
        np.testing.assert_allclose(np.sort(score[ptr[i]:ptr[i + 1]])[::-1], want, rtol=1e-12)


def test_falls_back_to_numpy_without_numba(demo_model, monkeypatch):
    rows = np.arange(0, 300)
    monkeypatch.setattr(fast, "compiled", lambda: None)
    assert not fast.usable(demo_model)
    _assert_same(demo_model.score_block(rows, k=10, introducers=True, katz=False), fast.score_block(demo_model, rows))


def test_unknown_feature_columns_fall_back(demo_model, monkeypatch):
    monkeypatch.setattr(fast, "FEATURE_NAMES", fast.FEATURE_NAMES + ("a_new_feature",))
    assert not fast.usable(demo_model)
    assert "a_new_feature" in fast.path_reason(demo_model)
    assert fast.path_taken(demo_model).startswith("numpy (")


def test_a_model_with_the_current_columns_takes_the_compiled_path(demo_model):
    from recommender.meet.features import FEATURE_NAMES, STRUCTURAL_FEATURES

    assert set(STRUCTURAL_FEATURES) <= set(FEATURE_NAMES)  # the model carries the structural columns
    assert fast.path_reason(demo_model) == ""
    assert fast.path_taken(demo_model) == "compiled"
    before = dict(fast.RUNS)
    rows = np.arange(0, 200)
    _assert_same(demo_model.score_block(rows, k=10, introducers=True, katz=False), fast.score_block(demo_model, rows))
    assert fast.RUNS["compiled"] == before.get("compiled", 0) + 1
    assert fast.RUNS["numpy"] == before.get("numpy", 0)


def test_structural_columns_move_the_kernel_bound(demo_model, monkeypatch):
    """The kernel reads the structural columns' weights: changing one changes what it keeps, as numpy does."""
    from recommender.meet.features import FEATURE_NAMES

    a, c0 = demo_model.ranker_.linear_form()
    rows = np.arange(0, 300)
    for name, w in (("spec", 50.0), ("clust_max", 5.0), ("deg_max", 3.0)):
        b = a.copy()
        b[FEATURE_NAMES.index(name)] = w
        monkeypatch.setattr(demo_model.ranker_, "linear_form", lambda b=b: (b, c0))
        _assert_same(demo_model.score_block(rows, k=10, introducers=True, katz=False),
                     fast.score_block(demo_model, rows))


def test_above_the_global_cap_the_structural_columns_are_zero_and_still_exact(monkeypatch):
    """Networks over GLOBAL_MAX_N have no embedding and no clustering: the kernel path is taken and exact."""
    from recommender.meet import features

    monkeypatch.setattr(features, "GLOBAL_MAX_N", 100)
    monkeypatch.setattr(features, "WALK_MAX_N", 100)
    model = MeetModel().fit(Network.from_frames(**generate_network(500, seed=5)))  # 5 times the (patched) cap
    assert features.structure(model.context_)["vecs"].shape[1] == 0
    assert fast.path_taken(model) == "compiled"
    for rows in _blocks(len(model.context_), 200):
        _assert_same(model.score_block(rows, k=10, introducers=True, katz=False), fast.score_block(model, rows))


def test_the_session_warm_up_takes_the_compiled_path():
    """tests/numba_warmup.py (the root conftest's background warm-up) scores on the compiled path, so it compiles
    the kernels these tests load; on the numpy path it would compile nothing and a worker would compile them."""
    from recommender.meet import features
    from tests.numba_warmup import warm

    cap = features.WALK_MAX_N
    assert warm() == "compiled"
    assert features.WALK_MAX_N == cap  # put back after the fit


@pytest.mark.parametrize("seed", range(4))
def test_selection_helpers_equal_numpy(seed):
    """The kernels' selection (compiled_graph._select, _topk_keep, _top_lowest) against numpy on arrays with
    many ties: the k-th value of np.partition, the k largest with ties to the earliest entries, and with ties to
    the lowest ids."""
    from recommender.batch import compiled_graph as cg

    rng = np.random.default_rng(seed)
    for _ in range(200):
        n = int(rng.integers(1, 60))
        vals = rng.integers(0, int(rng.integers(1, 8)), n).astype(np.float64) / 4  # few distinct values
        m = int(rng.integers(0, n))
        assert cg._select(vals.copy(), m) == np.partition(vals, m)[m]
        k = int(rng.integers(0, n + 3))
        keep = np.zeros(n, bool)
        cg._topk_keep(vals, np.int64(n), k, keep, np.empty(n))
        want = np.zeros(n, bool)
        want[np.lexsort((np.arange(n), -vals))[:k]] = True
        np.testing.assert_array_equal(keep, want)
        ids = rng.permutation(10 * n)[:n].astype(np.int64)
        keep[:] = False
        cg._top_lowest(vals, ids, np.int64(n), k, keep, np.empty(n))
        want[:] = False
        want[np.lexsort((ids, -vals))[:k]] = True
        np.testing.assert_array_equal(keep, want)
