"""The history replay for referrals on a generated network."""

from __future__ import annotations

import pytest

from recommender.demo import generate_network
from recommender.network import Network
from recommender.evaluation.referrals import evaluate_referrals, won_cases


@pytest.fixture(scope="module")
def network() -> Network:
    return Network.from_frames(**generate_network(250, seed=11))


@pytest.fixture(scope="module")
def report(network) -> dict:
    """``evaluate_referrals(network)``, replayed once for the tests that read it (read-only)."""
    return evaluate_referrals(network)


def test_won_cases_are_won_and_dated(network):
    cases = won_cases(network)
    assert len(cases) > 5
    assert cases["opportunity_id"].is_unique
    won = network.referrals[network.referrals["outcome"] == "won"]
    assert set(zip(cases["opportunity_id"], cases["winner"])) <= set(zip(won["opportunity_id"], won["to_id"]))


def test_evaluate_referrals_sane(network, report):
    rep = report
    assert rep["n"] + rep["unreachable_via_opted_out"] == len(won_cases(network)) - rep["skipped"] and rep["n"] > 5
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


def test_a_winner_reachable_only_through_an_opted_out_person_is_counted_apart_not_as_a_miss():
    """r -> o (opted out) -> w: w won r's referral, but no trust path may pass through o."""
    import pandas as pd

    from recommender.evaluation.referrals import report_notes

    ids = ["r", "o", "w", "v"]
    people = pd.DataFrame({"id": ids, "name": ["Rae", "Oz", "Wyn", "Val"], "kind": "fractional",
                           "function": "marketing", "specialties": ["brand", "seo", "abm", "abm"],
                           "opt_out": [0, 1, 0, 0], "capacity": 2})
    ties = pd.DataFrame({"a": ["r", "o", "r"], "b": ["o", "w", "v"], "strength": 0.8, "since": "2023-01-01"})
    opps = pd.DataFrame({"id": ["o1", "o2"], "needs": ["abm", "abm"], "date": ["2024-03-01", "2024-04-01"],
                         "status": "won", "brought_by": "r"})
    refs = pd.DataFrame({"id": ["x1", "x2"], "opportunity_id": ["o1", "o2"], "from_id": "r", "to_id": ["w", "v"],
                         "date": ["2024-03-02", "2024-04-02"], "outcome": "won"})
    rep = evaluate_referrals(Network.from_frames(people=people, ties=ties, opportunities=opps, referrals=refs))
    assert rep["unreachable_via_opted_out"] == 1 and rep["cases"] == 2 and rep["n"] == 1
    assert rep["methods"]["fracnet"]["hit@3"] == 1.0  # v, the one reachable winner, is picked
    assert rep["methods"]["fracnet"]["hit@3_all"] == 0.5
    notes = report_notes(rep)
    assert any(n.startswith("1 winner reachable only through someone who opted out") and "a miss" in n for n in notes)
    assert any("prior weights (only 1 referral taken on or won in the history; learning needs 30)" in n
               for n in notes)


def test_every_miss_says_why_and_an_outranked_winner_is_ranked_below_the_picks(report):
    rep = report
    misses = rep["misses"]
    n_hits = round(rep["methods"]["fracnet"]["hit@3"] * rep["n"])
    assert len(misses) == rep["n"] - n_hits
    assert {m["cause"] for m in misses} <= {"outranked", "listed_for_none", "no_capacity", "out_of_reach"}
    assert sum(m["cause"] == "listed_for_none" for m in misses) <= rep["winner_covers_none"]
    for m in misses:
        if m["cause"] == "outranked":  # routing picks 3 of the listed people: the winner was not among the top
            assert 1 <= m["rank"] <= m["listed"] and m["listed"] >= 1
            assert all(v < 0 for v in m.get("lost_on", {}).values())


def _full_winner_network() -> Network:
    """r refers abm work to w (zero open slots today) and wins; v, also abm, has slots but is weaker."""
    import pandas as pd

    people = pd.DataFrame({"id": ["r", "w", "v"], "name": ["Rae", "Wyn", "Val"], "kind": "fractional",
                           "function": "marketing", "specialties": ["brand", "abm", "abm"],
                           "industries": ["saas", "saas", "retail"], "capacity": [2, 0, 2]})
    ties = pd.DataFrame({"a": ["r", "r"], "b": ["w", "v"], "strength": [0.9, 0.3], "since": "2023-01-01"})
    opps = pd.DataFrame({"id": ["o1"], "needs": ["abm"], "industry": "saas", "date": ["2024-03-01"],
                         "status": "won", "brought_by": "r"})
    refs = pd.DataFrame({"id": ["x1"], "opportunity_id": ["o1"], "from_id": "r", "to_id": ["w"],
                         "date": ["2024-03-02"], "outcome": "won"})
    return Network.from_frames(people=people, ties=ties, opportunities=opps, referrals=refs)


def test_the_replay_keeps_people_without_open_slots_today_with_the_penalty_unless_asked():
    """Capacity is stored as it is now: a winner at zero open slots today is kept (ranked with the routing
    penalty) at a replayed date, not left out; include_full=False leaves them out."""
    from recommender.evaluation.referrals import report_notes

    net = _full_winner_network()
    rep = evaluate_referrals(net, k=1)
    assert rep["n"] == 1 and rep["winner_no_capacity"] == 1 and rep["include_full"]
    # kept, but the penalty ranks w below v, who has slots: w is outranked, on the penalty first
    [miss] = rep["misses"]
    assert miss["cause"] == "outranked" and miss["rank"] == 2
    assert list(miss["lost_on"])[0] == "no open slots today" and miss["lost_on"]["no open slots today"] == -4.0
    assert any("kept with the routing penalty" in n for n in report_notes(rep))
    assert evaluate_referrals(net, k=2)["methods"]["fracnet"]["hit@2"] == 1.0  # the second pick
    out = evaluate_referrals(net, k=2, include_full=False)
    assert out["methods"]["fracnet"]["hit@2"] == 0.0
    assert [m["cause"] for m in out["misses"]] == ["no_capacity"]
    assert any("left out, as asked" in n for n in report_notes(out))
