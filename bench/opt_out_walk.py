"""The thorough opt-out walk (tests/test_opt_out.py walks a sample): every person's "who to meet" answer and
every opportunity's routing on a network, rendered as text and JSON, searched for opted-out people.

Usage::

    python bench/opt_out_walk.py [--db PATH | --people 400 --seed 0] [--json]

Prints each figure with its target: 0 opted-out candidates, introducers, trust-path hops and names shown.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _timing import network_of, network_options  # noqa: E402  (this folder, as a script)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    network_options(ap)
    args = ap.parse_args(argv)

    from recommender.meet.model import MeetModel
    from recommender.meet.text import format_recommendations, recommendation_dict
    from recommender.people import opt_out_flags
    from recommender.refer.router import Router
    from recommender.refer.text import format_routing, routing_to_dict

    net = network_of(args)
    people = net.people
    flags = opt_out_flags(people["opt_out"])
    opted = dict(zip(people["id"][flags].astype(str), people["name"][flags].astype(str)))
    names = people["name"].astype(str)
    only_theirs = {nm for nm in opted.values() if (names == nm).sum() == 1}
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, opted)) + r")(?![\w-])") if opted else None

    def named(text: str, me: str) -> int:
        ids = {m for m in pattern.findall(text) if m != me} if pattern else set()
        return len(ids) + sum(nm in text and opted.get(me) != nm for nm in only_theirs)

    t0 = time.perf_counter()
    model = MeetModel().fit(net)
    counts = {"candidates": 0, "introducers": 0, "hops": 0, "named": 0, "answers": 0, "routings": 0}
    for pid in people["id"].astype(str):
        recs = model.recommend(pid, k=10)
        me = model.person(pid)
        them = {r.candidate_id: model.person(r.candidate_id) for r in recs}
        counts["candidates"] += sum(r.candidate_id in opted for r in recs)
        counts["introducers"] += sum(r.introducer_id in opted for r in recs)
        text = format_recommendations(me, recs, them=them) + json.dumps(
            [recommendation_dict(r, me, them[r.candidate_id]) for r in recs], ensure_ascii=False)
        counts["named"] += named(text, pid)
        counts["answers"] += 1
    router = Router().fit(net)
    opps = net.opportunities
    for oid, frm in zip(opps["id"].astype(str), opps["brought_by"].astype(str)):
        if frm not in router.position_:
            continue
        for widen in (False, True):
            routing = router.route(frm, oid, k=3, widen=widen)
            counts["candidates"] += sum(p.person_id in opted for p in routing.picks)
            counts["hops"] += sum(h in opted for p in routing.picks for h, _ in p.trust_path[1:])
            text = format_routing(routing) + json.dumps(routing_to_dict(routing), default=str, ensure_ascii=False)
            counts["named"] += named(text, frm)
            counts["routings"] += 1
    res = {"people": int(len(people)), "opted_out": len(opted), **counts, "seconds": round(time.perf_counter() - t0, 1),
           "target": 0}
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"{res['people']} people ({len(opted)} opted out): {res['answers']} meet answers, "
              f"{res['routings']} routings in {res['seconds']} s")
        for k in ("candidates", "introducers", "hops", "named"):
            print(f"opted-out {k}: {res[k]} (target 0)")
    return res


if __name__ == "__main__":
    main()
