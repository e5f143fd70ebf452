"""The estimators follow scikit-learn's conventions: __init__ only stores its parameters,
get_params/set_params work, and sklearn.base.clone gives an unfitted copy."""

from __future__ import annotations

import pytest
from sklearn.base import BaseEstimator, clone

from recommender.evaluation.linkpred import LinkPredictor
from recommender.meet.model import MeetModel
from recommender.meet.ranker import PairRanker
from recommender.refer.router import Router
from recommender.similarity import ProfileModel

ESTIMATORS = [PairRanker, MeetModel, ProfileModel, LinkPredictor, Router]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_estimator_conventions(cls):
    est = cls()
    assert isinstance(est, BaseEstimator)
    params = est.get_params()
    assert params and vars(est) == params  # __init__ stores its parameters and nothing else
    name = sorted(params)[0]
    copy = clone(est)
    assert type(copy) is cls and copy.get_params() == params and copy is not est
    assert est.set_params(**{name: params[name]}) is est
    with pytest.raises(ValueError):
        est.set_params(no_such_parameter=1)
    assert cls.__name__ in repr(est)


def test_clone_of_a_fitted_model_is_unfitted(sample_db):
    from recommender.network import load_network
    from recommender.store.db import Store

    with Store(sample_db) as store:
        net = load_network(store)
    profile = ProfileModel(use_bio=False).fit(net.people)
    again = clone(profile)
    assert again.get_params() == {"use_bio": False, "min_df": 1}
    assert not hasattr(again, "matrix_")
