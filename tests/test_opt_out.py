"""Opted-out people are never recommended, never an introducer, a named mutual contact or a trust-path hop,
and never named in a note or an export: meet (every person), batch meet, refer and the outreach exports."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from recommender.people import is_opted_out, opt_out_flags


@pytest.fixture(scope="module")
def sample(sample_net, sample_model):
    net, model = sample_net, sample_model
    people = net.people
    flags = opt_out_flags(people["opt_out"])
    opted = dict(zip(people["id"][flags].astype(str), people["name"][flags].astype(str)))
    assert opted, "the sample has opted-out people"
    names = people["name"].astype(str)
    # names that only opted-out people carry (a shared name could belong to someone else)
    only_theirs = {nm for nm in opted.values() if (names == nm).sum() == 1}
    return net, model, opted, only_theirs


def _near_opted_out(net, opted) -> set[str]:
    """People tied to an opted-out person: whose introducers, mutual contacts and trust paths could name one."""
    ties = net.ties
    a, b = ties["a"].astype(str), ties["b"].astype(str)
    return set(b[a.isin(list(opted))]) | set(a[b.isin(list(opted))])


def _walked(net, opted, n_random: int = 40, seed: int = 13) -> list[str]:
    """Whose answers the walks render: every opted-out person (their own answers), everyone tied to one, and a
    seeded sample of the others (the whole network: ``python bench/opt_out_walk.py``)."""
    ids = net.people["id"].astype(str).tolist()
    near = _near_opted_out(net, opted)
    rest = [p for p in ids if p not in opted and p not in near]
    picked = set(np.random.default_rng(seed).choice(rest, size=min(n_random, len(rest)), replace=False))
    return [p for p in ids if p in opted or p in near or p in picked]


def _leaks(text: str, opted: dict, names: set, allow: tuple = ()) -> list[str]:
    found = [i for i in opted if i not in allow and _has_id(text, i)]
    found += [n for n in names if n in text and not any(opted.get(a) == n for a in allow)]
    return found


def _has_id(text: str, pid: str) -> bool:
    import re

    return re.search(rf"(?<![\w-]){re.escape(pid)}(?![\w-])", text) is not None


def test_one_opt_out_rule():
    assert [is_opted_out(v) for v in (1, "1", " yes ", "TRUE", True, 2, "1.0")] == [True] * 7
    assert [is_opted_out(v) for v in (0, "0", "", None, float("nan"), "no", False, "maybe")] == [False] * 8
    assert opt_out_flags(pd.Series([1, None, "0", "y"], dtype=object)).tolist() == [True, False, False, True]


def test_meet_for_everyone_never_names_an_opted_out_person(sample):
    from recommender.meet.text import format_recommendations, recommendation_dict

    net, model, opted, names = sample
    walked = _walked(net, opted)  # everyone's ids in the batch frame: test_batch_meet_never_names_...
    assert set(opted) <= set(walked) and len(_near_opted_out(net, opted) & set(walked)) >= 10
    introduced = 0
    for pid in walked:
        recs = model.recommend(pid, k=10)
        me = model.person(pid)
        them = {r.candidate_id: model.person(r.candidate_id) for r in recs}
        for r in recs:
            assert r.candidate_id not in opted
            assert r.introducer_id not in opted, (pid, r.candidate_id, r.introducer_id)
            introduced += r.introducer_id is not None
        text = format_recommendations(me, recs, them=them)
        js = json.dumps([recommendation_dict(r, me, them[r.candidate_id]) for r in recs], ensure_ascii=False)
        assert not _leaks(text + js, opted, names, allow=(pid,)), pid
    assert introduced, "some answers name an introducer"


@pytest.mark.usefixtures("compiled_kernels")  # the session's numba warm-up (root conftest.py)
def test_batch_meet_never_names_an_opted_out_person(sample):
    from recommender.batch.meet import meet_frame

    net, model, opted, names = sample
    df = meet_frame(model, k=10, block_size=64)
    for col in ("person_id", "candidate_id", "introducer_id"):
        assert not df[col].astype(str).isin(list(opted)).any(), col


def test_refer_never_routes_through_an_opted_out_person(sample, sample_router):
    from recommender.refer.text import format_routing, routing_to_dict

    net, model, opted, names = sample
    router = sample_router
    opps = net.opportunities
    assert len(opps)
    walked = set(_walked(net, opted))
    paths = near = 0
    for oid, frm in zip(opps["id"].astype(str), opps["brought_by"].astype(str)):
        if frm not in router.position_ or frm not in walked:
            continue
        near += frm in _near_opted_out(net, opted)
        for widen in (False, True):
            routing = router.route(frm, oid, k=3, widen=widen)
            for p in routing.picks:
                assert p.person_id not in opted
                hops = [h for h, _ in p.trust_path]
                paths += len(hops) > 2
                assert not set(hops[1:]) & set(opted), (oid, hops)
            text = format_routing(routing) + json.dumps(routing_to_dict(routing), default=str, ensure_ascii=False)
            assert not _leaks(text, opted, names, allow=(frm,)), (oid, widen)
    assert paths, "some trust paths have intermediate hops"
    assert near >= 10, "routed for people tied to an opted-out person"


def test_outreach_exports_never_name_an_opted_out_person(sample, tmp_path):
    from recommender.outreach import outreach_csv_bytes, outreach_rows, write_outreach_lists

    net, model, opted, names = sample
    walked = _walked(net, opted)
    ids = [p for p in walked if p not in opted]
    recs = [r for lst in model.recommend_many(ids, k=15).values() for r in lst]
    rows = outreach_rows(recs, net, model)
    text = outreach_csv_bytes(rows).decode("utf-8")
    assert rows and not _leaks(text, opted, names)
    summary = write_outreach_lists(model, net, tmp_path / "lists", per_group=5, person_ids=walked)
    assert summary["files"] == len(ids) and summary["skipped_opted_out"] == len(opted)
    for f in (tmp_path / "lists").iterdir():
        assert not _leaks(f.read_text(encoding="utf-8"), opted, names), f.name


def test_pick_may_be_reached_but_never_passed_through():
    """A chain me - x (opted out) - ann: ann is out of reach within two hops, not reached through x."""
    from recommender.network import Network
    from recommender.refer.router import Router

    people = pd.DataFrame({"id": ["me", "x", "ann", "bo"], "name": ["Me", "X", "Ann", "Bo"],
                           "kind": ["fractional"] * 4, "function": ["finance", "marketing", "marketing", "marketing"],
                           "specialties": ["fundraising", "brand", "demand-gen", "demand-gen"],
                           "industries": ["saas"] * 4, "opt_out": [0, 1, 0, 0]})
    ties = pd.DataFrame({"a": ["me", "x", "me"], "b": ["x", "ann", "bo"], "strength": [0.9, 0.9, 0.2]})
    router = Router().fit(Network.from_frames(people=people, ties=ties))
    answer = router.route("me", needs=["demand gen"], industry="saas", k=2)
    assert [p.person_id for p in answer.picks] == ["bo"]
    dist, _ = router.strongest_paths(router.person_index("me"), None)
    assert np.isinf(dist[router.person_index("ann")])
