"""PairRanker contract: fit/score, fallback, contributions, save/load, training set."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from recommender.errors import FracnetError, NotFittedError, UsageError
from recommender.meet.features import FEATURE_NAMES
from recommender.network import Network
from recommender.meet.ranker import DEFAULT_WEIGHTS, PairRanker
from recommender.meet.persistence import ModelFileError, load_object, save_object
from recommender.meet.training import build_training_set, formed_pairs

F = len(FEATURE_NAMES)


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(0)
    X = rng.exponential(1.0, size=(600, F))
    logit = 1.5 * np.log1p(X[:, FEATURE_NAMES.index("ra")]) + np.log1p(X[:, FEATURE_NAMES.index("icp_fit")]) - 2.5
    y = (rng.random(600) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


@pytest.mark.parametrize("estimator", ["logistic", "hgb"])
def test_fit_returns_self_and_scores_in_unit_interval(rows, estimator):
    X, y = rows
    r = PairRanker(estimator=estimator)
    assert r.fit(X, y) is r
    assert r.fallback_reason_ is None
    s = r.score(X)
    assert s.shape == (len(X),) and np.isfinite(s).all() and ((s > 0) & (s < 1)).all()


def test_not_fitted():
    with pytest.raises(NotFittedError):
        PairRanker().score(np.zeros((1, F)))


def test_bad_inputs():
    with pytest.raises(UsageError, match="estimator"):
        PairRanker(estimator="svm").fit(np.zeros((2, F)), np.array([0, 1]))
    with pytest.raises(UsageError, match="expected X"):
        PairRanker().fit(np.zeros((2, 3)), np.array([0, 1]))


def test_learns_the_planted_weights(rows):
    X, y = rows
    w = PairRanker().fit(X, y).weights()
    assert w["ra"] > 0.3 and w["icp_fit"] > 0.2
    assert abs(w["pa"]) < w["ra"]


def test_fallback_with_thin_history():
    X = np.zeros((50, F))
    y = np.zeros(50, dtype=int)
    y[:5] = 1
    r = PairRanker(min_positives=30).fit(X, y)
    assert r.kind_ == "default"
    assert "only 5 positive pairs" in r.fallback_reason_
    assert r.weights() == pytest.approx(DEFAULT_WEIGHTS)


@pytest.mark.parametrize("estimator", ["logistic", "hgb"])
def test_contributions_add_up(rows, estimator):
    X, y = rows
    r = PairRanker(estimator=estimator).fit(X, y)
    contrib, base = r.contributions(X[:20])
    assert contrib.shape == (20, F)
    assert contrib.sum(axis=1) + base == pytest.approx(r.decision(X[:20]))


def test_score_of_a_row_does_not_depend_on_the_batch(rows):
    X, y = rows
    r = PairRanker().fit(X, y)
    whole = r.score(X)
    assert np.array_equal(np.concatenate([r.score(X[i:i + 1]) for i in range(len(X))]), whole)


@pytest.mark.parametrize("estimator", ["logistic", "hgb"])
def test_one_columns_contributions_are_that_column_of_all_of_them(rows, estimator):
    from recommender.meet.reasons import WEIGHT_COLUMNS

    X, y = rows
    r = PairRanker(estimator=estimator).fit(X, y)
    full, base = r.contributions(X)
    cols = list(WEIGHT_COLUMNS)
    assert np.any(full[:, cols] != 0)
    if estimator == "logistic":  # a column alone, from a contiguous copy: the same bits
        assert r.per_column
        for j in cols:
            assert np.array_equal(r.column_contribution(j, np.ascontiguousarray(X[:, j])), full[:, j])
    else:  # the trees need every column
        assert not r.per_column
        with pytest.raises(ValueError, match="trees need every column"):
            r.column_contribution(cols[0], X[:, cols[0]])


@pytest.mark.parametrize("estimator", ["hgb", "blend"])
def test_trees_score_many_rows_in_blocks_with_the_same_bits(rows, estimator, monkeypatch):
    from recommender.meet import pair_scorer

    X, y = rows
    r = PairRanker(estimator=estimator).fit(X, y)
    whole = r.decision(X)
    n_trees = len(r.trees_["roots"])
    monkeypatch.setattr(pair_scorer, "_TREE_CELLS", 7 * n_trees)  # blocks of 7 rows, the last one shorter
    assert len(X) % 7 and np.array_equal(r.decision(X), whole)


def test_save_load_round_trip(rows, tmp_path):
    X, y = rows
    r = PairRanker().fit(X, y)
    path = save_object(r, tmp_path / "r.model", kind="PairRanker")
    back = load_object(path, kind="PairRanker")
    assert np.array_equal(back.score(X), r.score(X))
    with pytest.raises(ModelFileError, match="expected 'MeetModel'"):
        load_object(path, kind="MeetModel")


@pytest.mark.parametrize("content", [b"", b"not a pickle at all", pickle.dumps({"hello": 1})])
def test_corrupt_or_foreign_file(tmp_path, content):
    path = tmp_path / "bad.model"
    path.write_bytes(content)
    with pytest.raises(ModelFileError) as exc:
        load_object(path, kind="PairRanker")
    assert isinstance(exc.value, FracnetError)
    assert str(path) in str(exc.value)


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        load_object(tmp_path / "nope.model", kind="PairRanker")


def test_wrong_version(tmp_path):
    import json
    import zipfile

    path = tmp_path / "old.model"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("meta.json", json.dumps({"format": "fracnet-model", "version": 0, "kind": "PairRanker",
                                             "state": {}}))
    with pytest.raises(ModelFileError, match="format version 0"):
        load_object(path, kind="PairRanker")


def test_an_old_pickle_model_file_is_refused_without_being_unpickled(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "old.model"
    with open(path, "wb") as fh:
        pickle.dump({"format": "fracnet-model", "version": 10, "kind": "PairRanker"}, fh)
        pickle.dump(Exploit(), fh)
    with pytest.raises(ModelFileError, match="not a readable fracnet model file"):
        load_object(path, kind="PairRanker")
    assert not marker.exists()


@pytest.fixture(scope="module")
def demo_net():
    from recommender.demo import generate_network

    return Network.from_frames(**generate_network(200, seed=5))


def test_formed_pairs_are_ordered_and_in_window(demo_net):
    f = formed_pairs(demo_net, "2025-06-30", "2026-01-01")
    assert len(f)
    assert (f["a"] < f["b"]).all()
    assert ((f["date"] > "2025-06-30") & (f["date"] <= "2026-01-01")).all()
    assert not f.duplicated(["a", "b"]).any()


def test_training_set_uses_only_the_past(demo_net):
    end = "2025-12-31"
    ts = build_training_set(demo_net, end, horizon_days=180, n_windows=2)
    assert ts.X.shape[1] == F and len(ts.X) == len(ts.y) == len(ts.qid)
    assert ts.n_positive > 0
    assert ts.cutoffs == ["2025-07-04", "2025-01-05"]
    # the same training set when the future is removed first
    ts2 = build_training_set(demo_net.until(end), end, horizon_days=180, n_windows=2)
    assert np.array_equal(ts.X, ts2.X) and np.array_equal(ts.y, ts2.y)


def test_a_small_network_trains_on_every_candidate_and_a_big_one_on_a_sample(demo_net, monkeypatch):
    """Within the row budget each queried person's rows are all of their candidates (no random sample, so no
    seed in the rows); past it, every positive and ``max_negatives`` sampled negatives per person."""
    from recommender.meet import training
    from recommender.meet.candidates import candidate_pairs
    from recommender.meet.context import build_context
    from recommender.meet.twohop import two_hop_paths

    end = "2025-12-31"
    ts = build_training_set(demo_net, end, horizon_days=180, n_windows=1, random_state=0)
    again = build_training_set(demo_net, end, horizon_days=180, n_windows=1, random_state=1)
    assert np.array_equal(ts.X, again.X) and np.array_equal(ts.y, again.y)  # the seed draws nothing
    ctx = build_context(demo_net, as_of=ts.cutoffs[0])
    rows = np.unique(ts.qid - len(ctx))  # window 1's queries are numbered from n
    pr, _ = candidate_pairs(ctx, rows, hop=two_hop_paths(ctx, rows))
    per_person = np.bincount(pr, minlength=len(rows))
    assert per_person.max() > 100  # more than the sample of 100 a person kept before
    assert np.array_equal(np.bincount(np.searchsorted(rows, ts.qid - len(ctx)), minlength=len(rows)), per_person)
    # a budget of 1 row: every positive and at most 5 negatives per person, drawn by the seed
    monkeypatch.setattr(training, "ROW_BUDGET", 1)
    small = build_training_set(demo_net, end, horizon_days=180, n_windows=1, max_negatives=5)
    q = np.searchsorted(rows, small.qid - len(ctx))
    neg = np.bincount(q, weights=1 - small.y, minlength=len(rows))
    assert neg.max() == 5 and small.n_positive == ts.n_positive
    assert np.array_equal(np.bincount(q, weights=small.y, minlength=len(rows)),
                          np.bincount(np.searchsorted(rows, ts.qid - len(ctx)), weights=ts.y, minlength=len(rows)))


def test_save_object_leaves_no_temp_file_when_writing_fails(tmp_path):
    class State:
        def __init__(self, state):
            self.state = state

        def to_state(self):
            return self.state

    path = tmp_path / "m.model"
    save_object(State({"a": 1, "x": np.arange(3)}), path, kind="PairRanker")
    before = path.read_bytes()
    with pytest.raises(TypeError):  # an object is not an array, a CSR matrix or a JSON value
        save_object(State({"a": 1, "x": np.arange(3), "bad": object()}), path, kind="PairRanker")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.model"]


def test_blend_is_the_mean_of_the_logistic_and_tree_log_odds(rows, tmp_path):
    X, y = rows
    blend = PairRanker(estimator="blend").fit(X, y)
    lin = PairRanker(estimator="logistic").fit(X, y)
    trees = PairRanker(estimator="hgb").fit(X, y)
    assert blend.kind_ == "blend" and blend.linear_form() is None
    np.testing.assert_allclose(blend.decision(X), 0.5 * (lin.decision(X) + trees.decision(X)), rtol=1e-9, atol=1e-9)
    assert blend.weights() == pytest.approx(lin.weights())
    contrib, base = blend.contributions(X[:10])
    assert contrib.sum(axis=1) + base == pytest.approx(blend.decision(X[:10]))
    back = load_object(save_object(blend, tmp_path / "b.model", kind="PairRanker"), kind="PairRanker")
    assert np.array_equal(back.score(X), blend.score(X))


def test_a_column_without_signal_does_not_hurt_the_blend():
    """A used column of pure noise: held-out AUC stays that of the model without it."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    m = 6000
    X = np.zeros((m, F))
    X[:, FEATURE_NAMES.index("ra")] = rng.exponential(1.0, m)
    X[:, FEATURE_NAMES.index("walk3")] = rng.exponential(1.0, m)  # no signal
    logit = 2.0 * np.log1p(X[:, FEATURE_NAMES.index("ra")]) - 1.5
    y = (rng.random(m) < 1 / (1 + np.exp(-logit))).astype(int)
    tr, te = slice(0, 4000), slice(4000, m)
    auc = {}
    for name, cols in {"signal": ("ra",), "with noise": ("ra", "walk3")}.items():
        r = PairRanker(estimator="blend", features=cols, C=1.0).fit(X[tr], y[tr])
        auc[name] = roc_auc_score(y[te], r.score(X[te]))
    assert auc["with noise"] >= auc["signal"] - 0.005
    assert abs(PairRanker(estimator="blend", features=("ra", "walk3"), C=1.0).fit(X[tr], y[tr]).weights()["walk3"]) < 0.1


def _query_rows(seed, n_queries=300, per_query=40, noise_col=None):
    """Rows grouped by query: 2 positives per query, ranked by ra (and nothing else); optional noise column."""
    rng = np.random.default_rng(seed)
    m = n_queries * per_query
    X = np.zeros((m, F))
    X[:, FEATURE_NAMES.index("ra")] = rng.exponential(1.0, m)
    X[:, FEATURE_NAMES.index("cn")] = rng.poisson(2.0, m)
    g = np.repeat(np.arange(n_queries), per_query)
    logit = 2.5 * np.log1p(X[:, FEATURE_NAMES.index("ra")]) + rng.normal(0, 1.0, m)
    y = np.zeros(m, dtype=int)
    order = np.lexsort((-logit, g))
    first = np.r_[0, np.flatnonzero(np.diff(g[order])) + 1]
    rank = np.arange(m) - np.repeat(first, np.diff(np.r_[first, m]))
    y[order[rank < 2]] = 1
    if noise_col:
        X[:, FEATURE_NAMES.index(noise_col)] = np.random.default_rng(seed + 100).exponential(1.0, m)
    return X, y, g


def test_grouped_ap_is_average_precision_within_each_query():
    from sklearn.metrics import average_precision_score

    from recommender.meet.ranker import grouped_ap

    X, y, g = _query_rows(0, n_queries=20)
    s = X[:, FEATURE_NAMES.index("ra")]
    want = np.mean([average_precision_score(y[g == q], s[g == q]) for q in range(20)])
    assert grouped_ap(s, y, g) == pytest.approx(want)
    assert grouped_ap(np.zeros(len(y)), y, g) < 0.2  # a constant score earns nothing


def test_auto_chooses_on_held_out_queries_and_says_so(rows):
    """estimator='auto' fits the candidates on half the queries, compares their mean per-query average precision
    on the other half, keeps the simplest within one standard error of the best, and refits it on every row."""
    from recommender.meet.ranker import AUTO_CANDIDATES, AUTO_MIN_TREE_POSITIVES

    X, y, g = _query_rows(1, n_queries=1100, per_query=20)  # 2,200 positives: the blends are tried too
    assert y.sum() >= AUTO_MIN_TREE_POSITIVES
    r = PairRanker(estimator="auto").fit(X, y, groups=g)
    ch = r.choice_
    assert set(ch["heldout_ap"]) == {f"{k} C={c:g}" for k, c in AUTO_CANDIDATES}
    assert ch["heldout_queries"] == 550 and ch["fit_rows"] + ch["heldout_rows"] == len(y)
    assert ch["best"] == max(ch["heldout_ap"], key=ch["heldout_ap"].get)
    assert r.kind_ == ch["chosen"].split()[0] and r.C_ == float(ch["chosen"].split("C=")[1])
    assert r.n_rows_ == len(y)  # refitted on all rows
    assert ch["chosen"] in r.choice_text()
    # fewer positives: logistic candidates only
    Xs, ys, gs = _query_rows(1)
    assert set(PairRanker(estimator="auto").fit(Xs, ys, groups=gs).choice_["heldout_ap"]) == {
        f"{k} C={c:g}" for k, c in AUTO_CANDIDATES if k == "logistic"}
    # the latest window as the held-out part when given
    X, y, g = Xs, ys, gs
    val = g >= 250
    r2 = PairRanker(estimator="auto").fit(X, y, groups=g, validation=val)
    assert r2.choice_["heldout_queries"] == 50 and r2.choice_["split"] == "the latest history window"


def test_a_noise_column_cannot_hurt_the_chosen_stage_1():
    """Whatever estimator the choice keeps, a column of pure noise leaves its ranking of new queries as good."""
    from recommender.meet.ranker import grouped_ap

    X, y, g = _query_rows(2)
    Xn, yn, gn = _query_rows(2, noise_col="tag_sim")
    assert np.array_equal(y, yn)
    Xt, yt, gt = _query_rows(3, noise_col="tag_sim")
    clean = PairRanker(estimator="auto").fit(X, y, groups=g)
    noisy = PairRanker(estimator="auto").fit(Xn, yn, groups=gn)
    assert grouped_ap(noisy.decision(Xt), yt, gt) >= grouped_ap(clean.decision(Xt), yt, gt) - 0.01
    assert abs(noisy.weights()["tag_sim"]) < 0.1


def test_the_stage_1_rule_weighs_the_walk_columns_at_most_global_max_n_people(monkeypatch):
    """A network of at most GLOBAL_MAX_N people computes and weighs the walk columns and chooses its estimator;
    above it (caps lowered here) they are 0 with weight 0 and the ranker is logistic (the batch kernel's)."""
    from recommender.demo import generate_network
    from recommender.meet import features
    from recommender.meet.features import WALK_FEATURES
    from recommender.meet.model import MeetModel

    net = Network.from_frames(**generate_network(300, seed=2))
    small = MeetModel(rerank=False).fit(net)
    rk = small.ranker_
    assert rk.estimator == "auto" and rk.choice_ and "walk columns computed and weighed" in small.description()
    assert set(FEATURE_NAMES.index(f) for f in WALK_FEATURES) <= set(rk.used_.tolist())
    assert any(rk.weights()[f] != 0.0 for f in WALK_FEATURES)
    monkeypatch.setattr(features, "GLOBAL_MAX_N", 100)
    monkeypatch.setattr(features, "WALK_MAX_N", 100)
    big = MeetModel(rerank=False).fit(net)
    assert big.ranker_.estimator == "logistic" and big.ranker_.kind_ == "logistic"
    assert all(big.ranker_.weights()[f] == 0.0 for f in WALK_FEATURES)
    assert "walk columns 0" in big.description()


@pytest.mark.parametrize("estimator", ["hgb", "blend"])
def test_trees_are_scored_by_the_exit_leaf_rule_with_the_leaves_of_a_walk_down_each_tree(rows, estimator):
    """The trees' scoring (one comparison per row and split, QuickScorer's exit leaf) reaches the very leaves a
    walk down every tree reaches, so the score has the same bits as scikit-learn's sum; rows with a missing
    value take the walk; every contribution is the drop in log-odds when its one cell is set to the reference."""
    from recommender.meet.pair_scorer import _transform

    X, y = rows
    r = PairRanker(estimator=estimator).fit(X, y)
    Z = np.ascontiguousarray(_transform(X)[:, r.used_])
    m, n_trees = len(Z), len(r.trees_["roots"])
    walked = r._descend(Z, np.repeat(np.arange(m), n_trees), np.tile(np.arange(n_trees), m)).reshape(m, n_trees)
    assert r._exit_leaf_tables() is not None
    assert np.array_equal(r._leaves(Z), walked)
    np.testing.assert_allclose(r._tree_sum(walked), r.model_.decision_function(Z), rtol=0, atol=1e-12)
    Zn = Z[:5].copy()
    Zn[0, 0] = np.nan
    assert np.array_equal(r._leaves(Zn)[1:], walked[1:5])
    # all 600 rows: the occlusion works a block of rows at a time; a row with a missing value walks the trees
    Xn = X.copy()
    Xn[3, FEATURE_NAMES.index("ra")] = np.nan
    for rows_ in (X, Xn[:15]):
        contrib, base = r.contributions(rows_)
        full = r.decision(rows_)
        Zall = _transform(rows_)
        for j in range(F):
            Zj = Zall.copy()
            Zj[:, j] = r.reference_[j]
            np.testing.assert_allclose(contrib[:, j], full - r._decision_z(Zj), rtol=0, atol=1e-12)
        np.testing.assert_allclose(contrib.sum(axis=1) + base, full, rtol=0, atol=1e-12)
    # a row's contributions do not depend on the other rows of the call (the same bits alone)
    assert np.array_equal(r.contributions(X[7:8])[0][0], r.contributions(X)[0][7])


def test_the_pre_window_ranker_is_the_choice_fitted_on_every_earlier_row():
    """With a validation window the choice fits on every row before it (no sample), and keeps that fit: the
    same weights as the chosen estimator fitted on those rows alone."""
    X, y, g = _query_rows(5, n_queries=400)
    val = g >= 300  # the latest window: the last 100 queries
    r = PairRanker(estimator="auto").fit(X, y, groups=g, validation=val)
    assert r.choice_["split"] == "the latest history window"
    assert r.choice_["fit_rows"] == int((~val).sum())
    pre = r.pre_window()
    kind, C = r.choice_["chosen"].split(" C=")
    alone = PairRanker(estimator=kind, C=float(C)).fit(X[~val], y[~val])
    np.testing.assert_allclose(pre.decision(X), alone.decision(X), rtol=1e-10, atol=1e-10)
    assert pre.n_rows_ == int((~val).sum()) and pre.pre_window() is None
    # without a window there is none
    assert PairRanker(estimator="auto").fit(X, y, groups=g).pre_window() is None


def test_a_source_that_does_not_help_the_latest_window_is_left_out():
    """Rows of an optional source (holdouts beside a dated history) whose labels follow another rule than the
    window's are left out of the choice and the fit; rows that follow the same rule are kept."""
    X, y, g = _query_rows(7, n_queries=400)
    val = g >= 300
    opt = (g >= 150) & ~val  # 150 of the 300 earlier queries are the optional source
    y_bad = y.copy()
    cn = X[:, FEATURE_NAMES.index("cn")]
    for q in np.unique(g[opt]):  # its positives follow cn, not ra
        rows = np.flatnonzero(g == q)
        y_bad[rows] = 0
        y_bad[rows[np.argsort(-cn[rows], kind="stable")[:2]]] = 1
    bad = PairRanker(estimator="auto").fit(X, y_bad, groups=g, validation=val, optional=opt)
    assert bad.choice_["left_out"] and bad.choice_["sources"]["without"] > bad.choice_["sources"]["with"]
    assert bad.n_rows_ == int((~opt).sum())
    alone = PairRanker(estimator="auto").fit(X[~opt], y_bad[~opt], groups=g[~opt], validation=val[~opt])
    np.testing.assert_allclose(bad.decision(X), alone.decision(X), rtol=1e-10, atol=1e-10)
    good = PairRanker(estimator="auto").fit(X, y, groups=g, validation=val, optional=opt)
    assert good.choice_["left_out"] is False and good.n_rows_ == len(y)


def test_the_choice_tests_a_source_on_its_probe_as_of_the_cutoff():
    """With a probe (the optional source as it stood at the window's cutoff), the choice fits and tests the
    probe in place of the optional rows; the final fit has the optional rows when they are kept."""
    X, y, g = _query_rows(5, n_queries=400)
    val = g >= 300
    opt = (g >= 200) & ~val
    Xp, yp, gp = _query_rows(9, n_queries=100)
    r = PairRanker(estimator="auto").fit(X, y, groups=g, validation=val, optional=opt, probe=(Xp, yp, gp))
    assert r.choice_["sources"]["optional_rows"] == len(yp) and r.choice_["left_out"] is False
    assert r.choice_["fit_rows"] == int((~val & ~opt).sum()) + len(yp) and r.n_rows_ == len(y)
    kind, C = r.choice_["chosen"].split(" C=")
    before = ~val & ~opt
    alone = PairRanker(estimator=kind, C=float(C)).fit(np.vstack([X[before], Xp]), np.r_[y[before], yp])
    np.testing.assert_allclose(r.pre_window().decision(X), alone.decision(X), rtol=1e-10, atol=1e-10)
