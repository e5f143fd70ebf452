"""Routing: lane check, picks, diversity, trust paths, track records, messages."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from recommender.errors import UnknownIdError, UsageError
from recommender.network import Network
from recommender.trust import build_trust_graph
from recommender.refer.router import Router
from recommender.refer.text import format_routing, routing_to_dict


def tiny_network(referrals=None) -> Network:
    """me (finance) knows ann and bo (demand-gen clones), cy (brand), dee (opted out),
    eve (no slots), gus (an executive); ann knows fay (abm, 2 hops); hal is isolated."""
    people = pd.DataFrame([
        # id, name, kind, function, specialties, industries, icp_sizes, capacity, opt_out, bio
        ("me", "Mia Ek", "fractional", "finance", "fundraising;fp-and-a", "saas", "5-50m", 1, 0, "CFO for SaaS"),
        ("ann", "Ann Lee", "fractional", "marketing", "demand-gen", "saas", "5-50m", 2, 0,
         "Pipeline generation for B2B SaaS"),
        ("bo", "Bo Lee", "fractional", "marketing", "demand-gen", "saas", "5-50m", 2, 0,
         "Pipeline generation for B2B SaaS"),
        ("cy", "Cy Park", "fractional", "marketing", "brand", "saas", "5-50m", None, 0, "Brand strategy and storytelling"),
        ("dee", "Dee Fox", "fractional", "marketing", "demand-gen;brand", "saas", "5-50m", 3, 1, "Opted out"),
        ("eve", "Eve Stone", "fractional", "marketing", "demand-gen;brand", "saas", "5-50m", 0, 0, "Fully booked"),
        ("gus", "Gus Ray", "executive", None, None, "saas", "5-50m", None, 0, "CEO"),
        ("fay", "Fay Wu", "fractional", "marketing", "abm", "fintech", "50-250m", 2, 0, "Account based marketing"),
        ("hal", "Hal Oz", "fractional", "sales", "revops", "saas", None, 1, 0, "RevOps"),
    ], columns=["id", "name", "kind", "function", "specialties", "industries", "icp_sizes", "capacity", "opt_out",
                "bio"])
    ties = pd.DataFrame([
        ("me", "ann", 0.9), ("me", "bo", 0.9), ("me", "cy", 0.6), ("me", "dee", 0.9), ("me", "eve", 0.9),
        ("me", "gus", 0.9), ("ann", "fay", 0.9),
    ], columns=["a", "b", "strength"]).assign(since="2024-01-01", last_contact="2025-01-01")
    return Network.from_frames(people=people, ties=ties, referrals=referrals, as_of="2025-01-01")


@pytest.fixture(scope="module")
def router() -> Router:
    return Router().fit(tiny_network())


# -- lane check -------------------------------------------------------------------------------------------------


class TestLane:
    def test_in_lane(self, router):
        ans = router.route("me", needs=["fundraising"], industry="saas", size_band="5-50m")
        assert ans.lane.in_lane
        assert ans.lane.covers == ("fundraising",)
        assert ans.lane.fit >= router.lane_threshold

    def test_out_of_lane_says_what_is_missing(self, router):
        ans = router.route("me", needs=["demand gen", "brand"], industry="saas")
        assert not ans.lane.in_lane
        assert ans.lane.missing == ("demand-gen", "brand")
        text = routing_to_dict(ans)["lane"]["reasons"]
        assert any("does not cover demand generation and brand strategy" in r for r in text)
        assert any("works in B2B SaaS" in r for r in text)

    def test_partly_in_lane_is_out(self, router):
        ans = router.route("me", needs=["fundraising", "demand-gen", "brand"], industry="fintech")
        assert not ans.lane.in_lane
        assert ans.lane.covers == ("fundraising",)

    def test_executive_is_never_in_lane(self, router):
        ans = router.route("gus", needs=["demand-gen"], industry="saas")
        assert not ans.lane.in_lane
        assert ans.lane.reasons[0].code == "not_fractional"


# -- picks ------------------------------------------------------------------------------------------------------


class TestPicks:
    def test_never_referrer_opted_out_or_full(self, router):
        ans = router.route("me", needs=["demand-gen", "brand"], industry="saas", k=5, max_hops=2)
        ids = {p.person_id for p in ans.picks + ans.alternatives}
        assert not ids & {"me", "dee", "eve", "gus"}
        assert {e["id"] for e in ans.excluded} == {"eve"}
        assert "no open slots" in format_routing(ans)

    def test_include_full_keeps_and_flags_zero_capacity(self, router):
        ans = router.route("me", needs=["demand-gen", "brand"], industry="saas", k=6, include_full=True)
        by_id = {p.person_id: p for p in ans.picks + ans.alternatives}
        assert "eve" in by_id and "dee" not in by_id
        eve = by_id["eve"]
        assert eve.capacity == 0
        assert eve.score < by_id["ann"].score  # heavily penalised despite covering both needs
        d = routing_to_dict(ans)
        eve_reasons = [p for p in d["picks"] + d["alternatives"] if p["id"] == "eve"][0]["reasons"]
        assert any("no open slots" in r for r in eve_reasons)

    def test_diversity_prefers_complementary_peer_to_a_clone(self, router):
        ans = router.route("me", needs=["demand-gen", "brand"], industry="saas", k=2)
        ids = [p.person_id for p in ans.picks]
        assert "cy" in ids
        assert len({"ann", "bo"} & set(ids)) == 1
        assert ans.uncovered_needs == ()
        # without the diversity terms the two clones come first (they are trusted more)
        plain = Router(coverage_gain=0.0, redundancy=0.0).fit(tiny_network())
        assert {p.person_id for p in plain.route("me", needs=["demand-gen", "brand"], industry="saas", k=2).picks} \
            == {"ann", "bo"}

    def test_covers_and_partial_credit(self, router):
        ans = router.route("me", needs=["demand-gen", "abm"], k=3)
        by_id = {p.person_id: p for p in ans.picks + ans.alternatives}
        assert by_id["ann"].covers == ("demand-gen",)
        assert by_id["ann"].partial == ("abm",)  # same function (marketing), another specialty
        assert by_id["fay"].covers == ("abm",)

    def test_max_hops_bounds_reach(self, router):
        one = router.route("me", needs=["abm"], k=5, max_hops=1)
        two = router.route("me", needs=["abm"], k=5, max_hops=2)
        ids1 = {p.person_id for p in one.picks + one.alternatives}
        ids2 = {p.person_id for p in two.picks + two.alternatives}
        assert "fay" not in ids1 and "fay" in ids2
        assert "abm" in one.uncovered_needs and one.suggestions  # says how to widen

    def test_everyone_reaches_the_unconnected(self, router):
        ans = router.route("me", needs=["revops"], k=1, widen=True)
        assert ans.picks[0].person_id == "hal"
        assert ans.picks[0].trust_path == ()
        assert ans.picks[0].components["trust"] == 0.0

    def test_description_alone_is_matched(self, router):
        ans = router.route("me", description="we need pipeline generation for our B2B SaaS", k=1)
        assert ans.picks[0].person_id in {"ann", "bo"}
        text = " ".join(routing_to_dict(ans)["picks"][0]["reasons"])
        assert "pipeline" in text

    def test_pick_shape(self, router):
        d = routing_to_dict(router.route("me", needs=["demand-gen", "brand"], industry="saas", k=2))
        assert set(d) >= {"lane", "picks", "alternatives", "message", "warnings", "uncovered_needs"}
        assert set(d["lane"]) >= {"fit", "in_lane", "reasons"}
        for p in d["picks"]:
            assert set(p) >= {"id", "name", "score", "covers", "reasons", "trust_path", "track_record"}
            assert p["trust_path"][0] == {"id": "me", "name": "Mia Ek"}
            assert all(isinstance(r, str) for r in p["reasons"])
        assert "Ann" in d["message"] or "Bo" in d["message"]
        assert "introduction" in d["message"]


# -- trust paths -------------------------------------------------------------------------------------------------


def _best_bounded(g: nx.Graph, s, t, max_hops: int) -> float:
    best = 0.0
    for path in nx.all_simple_paths(g, s, t, cutoff=max_hops):
        best = max(best, math.prod(g[u][v]["weight"] for u, v in zip(path, path[1:])))
    return best


def test_trust_path_is_the_strongest_real_path():
    from recommender.demo import generate_network

    net = Network.from_frames(**generate_network(120, seed=5))
    router = Router().fit(net)
    g = build_trust_graph(net)
    opps = net.opportunities.head(8)
    checked = 0
    for opp in opps.itertuples():
        ans = router.route(opp.brought_by, opp.id, k=3, max_hops=2)
        for p in ans.picks:
            ids = [i for i, _ in p.trust_path]
            assert ids[0] == opp.brought_by and ids[-1] == p.person_id and len(ids) - 1 <= 2
            assert all(g.has_edge(u, v) for u, v in zip(ids, ids[1:]))
            strength = math.prod(g[u][v]["weight"] for u, v in zip(ids, ids[1:]))
            assert 0 <= p.components["trust"] <= 1  # trust counts every path; the path shown is the strongest
            assert strength == pytest.approx(_best_bounded(g, ids[0], ids[-1], 2), abs=1e-6)
            checked += 1
    assert checked > 5


def test_bounded_paths_match_brute_force():
    # a - b - c - d weak, a - x - y - d strong (3 hops), a - c a weak shortcut (2 hops to d)
    people = pd.DataFrame({"id": list("abcdxy"), "kind": ["fractional"] * 6, "specialties": ["brand"] * 6})
    ties = pd.DataFrame({"a": ["a", "b", "c", "a", "x", "y", "a"], "b": ["b", "c", "d", "x", "y", "d", "c"],
                         "strength": [0.5, 0.5, 0.5, 0.9, 0.9, 0.9, 0.3]})
    net = Network.from_frames(people=people, ties=ties)
    g = build_trust_graph(net)
    r = Router().fit(net)
    d = r.position_["d"]
    for hops, expected_path in ((3, list("axyd")), (2, list("acd"))):
        dist, pred = r.strongest_paths(r.position_["a"], hops)
        assert math.exp(-dist[d]) == pytest.approx(_best_bounded(g, "a", "d", hops), rel=1e-6)
        assert [r.ids_[i] for i in r._path(d, pred)] == expected_path
    dist1, _ = r.strongest_paths(r.position_["a"], 1)
    assert not np.isfinite(dist1[d])


# -- track records ------------------------------------------------------------------------------------------------


def test_track_record_smoothing_and_as_of():
    refs = pd.DataFrame([
        ("r1", "o1", "me", "ann", "2024-01-01", "won"),
        ("r2", "o2", "me", "ann", "2024-02-01", "lost"),
        ("r3", "o3", "me", "ann", "2024-03-01", "declined"),
        ("r4", "o4", "me", "ann", "2024-04-01", "pending"),
        ("r5", "o5", "me", "ann", "2024-12-01", "won"),
    ], columns=["id", "opportunity_id", "from_id", "to_id", "date", "outcome"])
    r = Router(prior_mean=(0.5, 0.5), prior_strength=2).fit(tiny_network(refs))
    ann = r.position_["ann"]
    tr = r.track_records(as_of="2024-06-01")
    assert (tr["received"][ann], tr["accepted"][ann], tr["won"][ann], tr["declined"][ann]) == (4, 2, 1, 1)
    assert tr["accept_rate"][ann] == pytest.approx((2 + 1) / (3 + 2))  # Beta(1, 1): Laplace
    assert tr["win_rate"][ann] == pytest.approx((1 + 1) / (3 + 2))
    assert tr["accept_rate"][r.position_["bo"]] == pytest.approx(0.5)  # no history: the prior mean
    later = r.track_records()
    assert later["won"][ann] == 2
    ans = r.route("me", needs=["demand-gen"], date="2024-06-01", k=1)
    assert ans.picks[0].person_id == "ann"  # same fit and trust as bo, better record
    assert ans.picks[0].track_record.won == 1


# -- requests and errors ------------------------------------------------------------------------------------------


def test_an_unambiguous_misspelling_is_corrected_and_said(router):
    ans = router.route("me", needs=["demand genn", "brand"])
    assert ans.request.needs == ("demand-gen", "brand")
    warn = routing_to_dict(ans)["warnings"]
    assert any("read 'demand genn' as demand generation" in w for w in warn)


def test_an_unknown_tag_is_kept_with_a_suggestion(router):
    ans = router.route("me", needs=["demand-gen", "blockchainz"])
    assert "blockchainz" in ans.request.needs
    assert any("unknown needs 'blockchainz'" in w for w in routing_to_dict(ans)["warnings"])


def test_an_ambiguous_or_all_unknown_needs_list_is_refused(router):
    with pytest.raises(UsageError, match="could mean process improvement .* or supply chain"):
        router.route("me", needs=["sop"])
    with pytest.raises(UsageError, match="'blockchain' and 'quantum' are not known specialties"):
        router.route("me", needs="blockchain, quantum")


def test_no_eligible_peer_says_so(router):
    ans = router.route("hal", needs=["brand"], max_hops=2)
    assert ans.picks == () and ans.explanation["code"] == "no_peer_in_reach"
    d = routing_to_dict(ans)
    assert "No eligible fractional within 2 hops of hal" in d["explanation"]
    assert d["suggestions"] == ["--max-hops 3", "--everyone"]
    assert d["message"] is None
    assert "--everyone" in format_routing(ans)


def test_errors(router):
    with pytest.raises(UnknownIdError) as exc:
        router.route("ann2", needs=["brand"])
    assert "ann" in exc.value.suggestions
    with pytest.raises(UnknownIdError):
        router.route("me", "o404")
    with pytest.raises(UsageError):
        router.route("me")
    with pytest.raises(UsageError):
        router.route("me", needs=["brand"], k=0)
    with pytest.raises(UsageError):
        Router(weights={"fitt": 1}).fit(tiny_network())


def test_trust_counts_every_mutual_contact():
    """Equal tie strengths: the peer sharing three mutual contacts with the referrer is trusted more than
    the one reached through a single contact, and is picked first when both fit the need equally."""
    ids = ["r", "m1", "m2", "m3", "x", "y"]
    people = pd.DataFrame({"id": ids, "name": ids, "kind": "fractional", "function": "marketing",
                           "specialties": ["brand", "seo", "seo", "seo", "demand-gen", "demand-gen"]})
    ties = pd.DataFrame({"a": ["r", "r", "r", "m1", "m2", "m3", "m1"], "b": ["m1", "m2", "m3", "x", "x", "x", "y"],
                         "strength": 0.5})
    router = Router().fit(Network.from_frames(people=people, ties=ties))
    t = router.trust_scores(router.position_["r"], np.array([router.position_["x"], router.position_["y"]]))
    assert t[0] > t[1] > 0
    ans = router.route("r", needs=["demand-gen"], k=1, max_hops=2)
    assert ans.picks[0].person_id == "x"


def test_a_pick_lacking_the_requested_region_is_not_preferred():
    """A direct contact without the region loses to a two-hop peer who has it (same needs covered)."""
    ids = ["r", "a", "b"]
    people = pd.DataFrame({"id": ids, "name": ids, "kind": "fractional", "function": "marketing",
                           "specialties": ["brand", "seo", "seo"], "regions": ["", "emea", "north-america"]})
    ties = pd.DataFrame({"a": ["r", "a"], "b": ["a", "b"], "strength": [0.9, 0.5]})
    router = Router().fit(Network.from_frames(people=people, ties=ties))
    ans = router.route("r", needs=["seo"], region="north-america", k=1, max_hops=2)
    assert ans.picks[0].person_id == "b"


# -- the honest rule: a pick covers a need -------------------------------------------------------------------------


def test_a_same_function_peer_who_covers_no_need_is_nearby_not_a_pick(router):
    """fay (abm) is two hops away; with one hop nobody covers abm: no pick, and the marketing peers who
    only share the function are listed as nearby with what they are not listed for."""
    ans = router.route("me", needs=["abm"], k=3, max_hops=1)
    assert ans.picks == () and ans.explanation["code"] == "nobody_covers"
    assert {p.person_id for p in ans.nearby} >= {"ann", "bo"}
    assert all(not p.covers and p.reasons[0].code == "partial_fit" for p in ans.nearby)
    text = format_routing(ans)
    assert "Nobody within 1 hop of me covers ABM" in text and "Nearby, not listed for the needs" in text
    assert "Draft notes" not in text
    assert any(s.get("max_hops") == 2 and s["finds"]["abm"] == 1 for s in ans.suggestions)  # the wider search


def test_a_pick_that_lacks_a_need_says_so():
    ans = Router().fit(tiny_network()).route("me", needs=["demand-gen", "abm"], k=1, max_hops=1)
    pick = ans.picks[0]
    assert pick.covers == ("demand-gen",)
    assert any(r.code == "not_covered" and r.data["needs"] == ["abm"] for r in pick.reasons)
    assert "partial fit: not listed for ABM" in format_routing(ans)


# -- learned routing weights ---------------------------------------------------------------------------------------


def _history_network(n_refs: int, seed: int = 0):
    """A referrer tied to twenty marketing peers who all hold the needed tag; past referrals always went to
    (and were won by) the peers in the requested region, whatever their tie strength."""
    rng = np.random.default_rng(seed)
    ids = ["r"] + [f"q{i:02d}" for i in range(20)]
    regions = [""] + ["emea" if i % 2 else "north-america" for i in range(20)]
    people = pd.DataFrame({"id": ids, "name": ids, "kind": "fractional", "function": "marketing",
                           "specialties": ["fundraising"] + ["demand-gen"] * 20, "regions": regions, "capacity": 2})
    strength = [0.9 if i % 2 else 0.3 for i in range(20)]  # the emea peers are the strongly tied ones
    ties = pd.DataFrame({"a": "r", "b": ids[1:], "strength": strength, "since": "2023-01-01"})
    opps, refs = [], []
    in_na = [p for p, g in zip(ids, regions) if g == "north-america"]
    for j in range(n_refs):
        day = (pd.Timestamp("2024-01-01") + pd.Timedelta(days=7 * j)).strftime("%Y-%m-%d")
        opps.append({"id": f"o{j}", "needs": "demand-gen", "region": "north-america", "date": day, "status": "won",
                     "brought_by": "r"})
        to = in_na[int(rng.integers(len(in_na)))]
        refs.append({"id": f"x{j}", "opportunity_id": f"o{j}", "from_id": "r", "to_id": to, "date": day,
                     "outcome": "won"})
    return Network.from_frames(people=people, ties=ties, opportunities=pd.DataFrame(opps),
                               referrals=pd.DataFrame(refs), as_of="2026-01-01")


def test_learned_weights_move_toward_the_signal_in_the_history():
    from recommender.refer.model import PRIOR_WEIGHTS

    router = Router(weights={"region": 0.0}).fit(_history_network(60))
    w = router.weights_
    assert w.learned and w.positives == 60 and w.referrals == 60
    assert w.weights["region"] > 0.5  # the prior said 0 here; every past winner had the region
    assert "learned from 60 past referrals" in w.description
    # and routing follows: the strongly tied emea peers lose to the north-america ones
    ans = router.route("r", needs=["demand-gen"], region="north-america", k=3)
    assert all(p.person_id in {f"q{i:02d}" for i in range(0, 20, 2)} for p in ans.picks)
    assert PRIOR_WEIGHTS["region"] > 0  # the default prior already weighs a requested region


def test_a_short_history_falls_back_to_the_prior_and_says_so():
    router = Router().fit(_history_network(5))
    w = router.weights_
    assert not w.learned
    assert w.description == ("prior weights (only 5 referrals taken on or won in the history; learning needs 30)")
    assert Router().fit(tiny_network()).weights_.description == "prior weights (no referral history)"
    d = routing_to_dict(router.route("r", needs=["demand-gen"], k=1))
    assert d["weights"]["learned"] is False and "prior weights" in d["weights"]["description"]


def test_the_router_reads_people_from_the_one_people_encoding():
    """ids, names, kinds, opt-out and capacity are the encoding's; tags are its columns mapped through the
    taxonomy (a synonym is the canonical tag; a tag the taxonomy does not know is kept and is a known need)."""
    from recommender.people import encode_people

    net = tiny_network()
    people = net.people.copy()
    people.loc[people["id"] == "bo", "specialties"] = "Lead Generation;widget-tuning"
    net = Network.from_frames(people=people, ties=net.ties, as_of="2025-01-01")
    router = Router().fit(net)
    enc = encode_people(net)
    assert router.people_.ids.tolist() == enc.ids.tolist() == list(router.ids_)
    assert np.array_equal(router.opt_out_, enc.opt_out) and np.array_equal(router.is_fractional_, enc.is_fractional)
    assert np.array_equal(np.isnan(router.capacity_), np.isnan(enc.capacity))
    vocab = {j: t for t, j in router.spec_vocab_.items()}
    bo = router.position_["bo"]
    assert {vocab[j] for j in router.spec_[bo].indices} == {"demand-gen", "widget-tuning"}
    ans = router.route("me", needs=["widget-tuning"], k=1)  # held by someone here: a need, not an unknown tag
    assert ans.picks[0].person_id == "bo" and not ans.request.warnings
