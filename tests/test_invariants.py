"""Invariants of both answers on random generated networks (hypothesis), and
no opted-out person on any path of the bundled sample."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from recommender.demo import generate_network
from recommender.network import Network
from recommender.meet.model import MeetModel
from recommender.refer.router import Router

SETTINGS = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _opted_out(net: Network) -> set[str]:
    flags = net.people["opt_out"].fillna(0).astype(int)
    return set(net.people.loc[flags == 1, "id"])


def _tied(net: Network) -> set[frozenset]:
    return {frozenset(p) for p in zip(net.ties["a"], net.ties["b"])}


@SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(60, 160), opt_out_frac=st.floats(0, 0.3))
def test_meet_invariants_on_random_networks(seed, n, opt_out_frac):
    tables = generate_network(n, seed=seed)
    people = tables["people"].copy()
    rng = np.random.default_rng(seed)
    people.loc[rng.random(len(people)) < opt_out_frac, "opt_out"] = 1
    tables["people"] = people
    net = Network.from_frames(**tables)
    model = MeetModel().fit(net)
    out = _opted_out(net)
    ties = _tied(net)
    ids = list(net.people["id"].sample(min(15, len(net.people)), random_state=seed))
    many = model.recommend_many(ids, k=5)
    for pid in ids:
        recs = model.recommend(pid, k=5)
        assert [(r.candidate_id, r.score) for r in recs] == [(r.candidate_id, r.score) for r in many[pid]]
        for r in recs:
            assert r.candidate_id != pid
            assert r.candidate_id not in out
            assert frozenset((pid, r.candidate_id)) not in ties
            assert math.isfinite(r.score)
            if r.introducer_id is not None:
                assert frozenset((pid, r.introducer_id)) in ties
                assert frozenset((r.candidate_id, r.introducer_id)) in ties
    # same input, same output
    again = MeetModel().fit(net).recommend_many(ids, k=5)
    assert {p: [(r.candidate_id, round(r.score, 12)) for r in v] for p, v in many.items()} == \
           {p: [(r.candidate_id, round(r.score, 12)) for r in v] for p, v in again.items()}


@SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(60, 160))
def test_refer_invariants_on_random_networks(seed, n):
    net = Network.from_frames(**generate_network(n, seed=seed))
    router = Router().fit(net)
    out = _opted_out(net)
    opps = net.opportunities.head(10)
    for opp in opps.itertuples():
        if opp.brought_by in out:
            continue
        routing = router.route(opp.brought_by, opportunity=opp.id, widen=True)
        chosen = [p.person_id for p in routing.picks + routing.alternatives]
        assert opp.brought_by not in chosen
        assert not (set(chosen) & out)
        assert len(routing.picks) <= 3
        assert all(math.isfinite(p.score) for p in routing.picks)
        if not routing.picks:
            assert routing.explanation is not None  # never a silent empty answer


# sample_net, sample_model, sample_router: session fixtures (tests/conftest.py)


def test_sample_has_opted_out_people(sample_net):
    assert _opted_out(sample_net), "the bundled sample should exercise opt-out"


def test_no_opted_out_in_any_meet_answer(sample_net, sample_model):
    model = sample_model
    out = _opted_out(sample_net)
    recs = model.recommend_many(list(sample_net.people["id"]), k=10)
    for pid, rs in recs.items():
        assert not ({r.candidate_id for r in rs} & out), pid


def test_no_opted_out_in_any_referral_pick(sample_net, sample_router):
    router = sample_router
    out = _opted_out(sample_net)
    for opp in sample_net.opportunities.itertuples():
        if opp.brought_by in out:
            continue
        routing = router.route(opp.brought_by, opportunity=opp.id, widen=True)
        assert not ({p.person_id for p in routing.picks + routing.alternatives} & out), opp.id
