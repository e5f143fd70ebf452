"""Each rule is defined once and every place that uses it agrees: groups (model and explorer), reasons
(recommend and the batch job), people's facts."""

from __future__ import annotations

import numpy as np
import pytest

from recommender import people as people_rules
from recommender.meet.features import FEATURE_NAMES


@pytest.fixture(scope="module")
def fitted(sample_net, sample_model):
    return sample_net, sample_model  # fitted once per session (tests/conftest.py)


def test_the_explorer_and_the_model_share_one_group_rule(fitted):
    from recommender.meet.features import pair_features
    from recommender.meet.model import _group_codes
    from recommender.ui import views

    assert views.group_of is people_rules.group_of and views.GROUPS is people_rules.GROUPS
    net, model = fitted
    facts = views.people_facts(net)
    ctx = model.context_
    rng = np.random.default_rng(0)
    u = rng.integers(0, len(ctx), 3000)
    v = rng.integers(0, len(ctx), 3000)
    keep = u != v
    u, v = u[keep], v[keep]
    X = pair_features(ctx, u, np.arange(len(u)), v)
    codes = _group_codes(X)
    seen = set()
    for a, b, c in zip(ctx.ids[u], ctx.ids[v], codes):
        mine = people_rules.group_of(facts.loc[a], facts.loc[b])
        assert mine == (people_rules.GROUPS[c] if c >= 0 else None), (a, b)
        seen.add(mine)
    assert seen == set(people_rules.GROUPS)  # since issue 14 every pair has a group (none dropped silently)


def test_batch_top_reason_is_recommends_first_reason(fitted):
    from recommender.batch.meet import top_reasons
    from recommender.meet.reasons import REASON_ORDER

    net, model = fitted
    for pid in net.people["id"].astype(str)[:80]:
        recs = model.recommend(pid, k=10)
        if not recs:
            continue
        X = np.array([[r.features[f] for f in r.features] for r in recs])
        top = top_reasons(model, X)
        assert [REASON_ORDER[t] if t >= 0 else None for t in top] == [
            r.reasons[0].kind if r.reasons else None for r in recs]


def test_batch_reasons_from_contiguous_columns_are_the_matrix_rule(fitted):
    from recommender.batch.meet import top_reasons
    from recommender.meet import reasons as rule

    net, model = fitted
    _, _, X, _ = model.answer_candidates(np.arange(0, 120))
    assert len(X) > 1000
    full = model.ranker_.contributions(X)[0]
    np.testing.assert_array_equal(top_reasons(model, X), rule.top_reasons(X, full))
    # each kind's weight: its columns summed left to right, the bits of a row sum of those columns
    want = np.column_stack([full[:, cols].sum(axis=1) for cols in rule._KIND_COLS])
    np.testing.assert_array_equal(rule.reason_weights(full), want)
    # ties in weight keep the building order, as the stable sort of recommend does
    tied = np.zeros((3, len(FEATURE_NAMES)))
    tied[:, FEATURE_NAMES.index("cn")] = 1
    tied[:, FEATURE_NAMES.index("complementarity")] = 1
    c = np.zeros_like(tied)
    c[:, FEATURE_NAMES.index("cn")] = [1.0, 2.0, 1.0]
    c[:, FEATURE_NAMES.index("complementarity")] = [1.0, 1.0, 3.0]
    got = rule.top_reasons(tied, c).tolist()
    assert got == [rule.reason_order(p, w)[0] for p, w in zip(rule.reasons_present(tied), rule.reason_weights(c))]
    assert got == [0, 0, 1]
    assert rule.top_reasons(np.zeros((2, len(FEATURE_NAMES))), np.zeros((2, len(FEATURE_NAMES)))).tolist() == [-1, -1]


def test_one_reason_class_per_answer():
    from recommender.meet import model, reasons
    from recommender.refer import request

    assert model.Reason is reasons.Reason
    assert request.Reason is not reasons.Reason  # a pick's reasons are another thing, with their own fields


def test_one_reading_of_people(fitted):
    """The explorer's facts, the model's facts, its encoding and the router read people the same way."""
    from recommender.refer.router import Router
    from recommender.ui import views

    net, model = fitted
    facts = views.people_facts(net)
    enc = people_rules.encode_people(net, model.profile_)
    router = Router().fit(net)
    assert list(facts.index) == list(enc.ids) == list(router.ids_)
    assert facts["opt_out"].tolist() == enc.opt_out.tolist() == router.opt_out_.tolist()
    assert facts["opt_out"].any()
    for i in range(0, len(facts), 7):
        f, row = model.people_[i], facts.iloc[i]
        assert f["id"] == row["id"] and f["name"] == row["name"]
        assert frozenset(f["specialties"]) == row["specialties"]
        assert frozenset(f["industries"]) == row["industries"] and frozenset(f["sizes"]) == row["sizes"]
        assert f["is_exec"] == (row["kind"] == "executive") == bool(enc.is_exec[i])


def test_one_trust_rule(fitted):
    """The encoded ties (meet, batch) and the trust frame (refer, explorer) give each tie the same trust."""
    from recommender import network, trust
    from recommender.network import TieTable

    net, model = fitted
    assert network.trust_weights is trust.trust_weights and network.build_trust_graph is trust.build_trust_graph
    ties = TieTable.encode(net, model.context_.ids)
    day = str(net.reference_date)[:10]
    mine = np.sort(ties.trust(np.arange(len(ties.a)), day))
    frame = np.sort(trust.trust_weights(net)["weight"].to_numpy(float))
    assert len(mine) == len(frame)
    np.testing.assert_allclose(mine, frame, rtol=1e-12)


def test_group_codes_are_the_first_maximum_of_the_indicators():
    from recommender.meet.scoring import _group_codes

    rng = np.random.default_rng(3)
    X = rng.integers(-1, 3, size=(5000, 6)).astype(float)  # ties, zeros and negatives among the last three
    X[:7, -3:] = [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [-1, 0, 0]]
    gi = X[:, -3:]
    want = np.where(gi.any(axis=1), gi.argmax(axis=1), -1)
    np.testing.assert_array_equal(_group_codes(X), want)
    assert _group_codes(X[:7]).tolist() == [-1, 0, 1, 2, 0, 1, 1]
    assert _group_codes(np.zeros((0, 6))).shape == (0,)
