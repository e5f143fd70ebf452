"""The history replay for referrals on a generated network."""

from __future__ import annotations

import pytest

from recommender.demo import generate_network
from recommender.network import Network
from recommender.evaluation.referrals import evaluate_referrals, won_cases


@pytest.fixture(scope="module")
def network() -> Network:
    return Network.from_frames(**generate_network(250, seed=11))


def test_won_cases_are_won_and_dated(network):
    cases = won_cases(network)
    assert len(cases) > 5
    assert cases["opportunity_id"].is_unique
    won = network.referrals[network.referrals["outcome"] == "won"]
    assert set(zip(cases["opportunity_id"], cases["winner"])) <= set(zip(won["opportunity_id"], won["to_id"]))


def test_evaluate_referrals_sane(network):
    rep = evaluate_referrals(network)
    assert rep["n"] == len(won_cases(network)) - rep["skipped"] and rep["n"] > 5
    assert 0 <= rep["reachable"] <= 1
    for name in ("fracnet", "similarity", "most_connected"):
        m = rep["methods"][name]
        assert 0 <= m["hit@3"] <= 1 and 0 <= m["coverage"] <= 1
    f = rep["methods"]["fracnet"]
    # the generator plants fit and trust: fracnet beats the most-connected baseline clearly
    assert f["hit@3"] > rep["methods"]["most_connected"]["hit@3"]
    assert f["hit@3"] >= rep["methods"]["similarity"]["hit@3"]
    assert f["coverage"] > rep["methods"]["most_connected"]["coverage"]


def test_evaluate_referrals_without_history():
    net = Network.from_frames(**generate_network(40, seed=2))
    net = Network.from_frames(people=net.people, ties=net.ties)
    rep = evaluate_referrals(net)
    assert rep["n"] == 0 and rep["methods"]["fracnet"]["hit@3"] is None
