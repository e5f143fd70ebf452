"""The fit's economies at scale keep the answers: sampled windows, skipped columns, shared values, freed memory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.meet.features import FEATURE_NAMES
from recommender.meet.training import build_training_set
from recommender.network import Network


@pytest.fixture(scope="module")
def demo_net():
    from recommender.demo import generate_network

    return Network.from_frames(**generate_network(300, seed=3))


def test_a_window_with_more_people_than_queried_samples_more_of_them(demo_net):
    """With few queries allowed, the first window samples more of its people instead of replaying older windows."""
    few = build_training_set(demo_net, horizon_days=180, n_windows=3, max_queries=10, enough_positives=30)
    assert len(few.cutoffs) == 1  # one graph of the network, not three
    assert 10 < few.queries <= 30 and few.queries < few.queriers
    assert few.n_positive >= 30  # as many positives as asked for (10% more queries than the first ones' rate says)
    assert len(np.unique(few.qid)) <= few.queries
    # without the target, the same window gives exactly its first 10 queries' rows (the draws of before)
    plain = build_training_set(demo_net, horizon_days=180, n_windows=1, max_queries=10)
    assert plain.queries == 10 and plain.cutoffs == few.cutoffs
    n = len(plain.y)
    np.testing.assert_array_equal(few.X[:n], plain.X)
    np.testing.assert_array_equal(few.y[:n], plain.y)


def test_a_window_with_fewer_people_than_queried_is_unchanged(demo_net):
    """Below max_queries nothing is sampled, so the training rows are the same with or without enough_positives."""
    a = build_training_set(demo_net, horizon_days=180, n_windows=2)
    b = build_training_set(demo_net, horizon_days=180, n_windows=2, enough_positives=10**6)
    assert a.queries == a.queriers
    np.testing.assert_array_equal(a.X, b.X)


def test_training_rows_without_katz_differ_only_in_that_column(demo_net):
    with_katz = build_training_set(demo_net, horizon_days=180, n_windows=2)
    without = build_training_set(demo_net, horizon_days=180, n_windows=2, katz=False)
    k = FEATURE_NAMES.index("katz")
    assert with_katz.X[:, k].any() and not without.X[:, k].any()
    others = np.arange(len(FEATURE_NAMES)) != k
    np.testing.assert_array_equal(with_katz.X[:, others], without.X[:, others])
    np.testing.assert_array_equal(with_katz.y, without.y)


def test_model_description_says_when_its_rows_are_a_sample(demo_net):
    from recommender.meet.model import MeetModel

    model = MeetModel().fit(demo_net)
    src = model.training_sources_
    assert src["queries"] <= src["queriers"]
    assert ("sampled from" in model.description()) == (src["queries"] < src["queriers"])


def test_facts_share_one_object_per_distinct_value():
    from recommender.people import _objects

    s = pd.Series(["saas", None, "saas", "fintech", np.nan] * 3, dtype="string")
    out = _objects(s)
    assert out.tolist() == ["saas", None, "saas", "fintech", None] * 3
    assert out[0] is out[2] is out[5]
    assert _objects(pd.Series([[1], [2]])).tolist() == [[1], [2]]  # unhashable values kept as they are


def test_release_freed_memory_changes_no_data():
    from recommender.memory import release_freed_memory

    x = np.arange(10)
    release_freed_memory()
    release_freed_memory()
    assert x.sum() == 45
