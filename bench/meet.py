"""Benchmark "who should I meet next?": fit time and per-call latency.

Generates a synthetic network (default 10,000 people), fits a MeetModel on
its history, then times ``recommend(person, k=10, group="all")`` for ~200
random people and a batched ``recommend_many`` over the same people.

Usage::

    python bench/meet.py [--people 10000] [--queries 200] [--seed 0] [--json]

Targets: p50 and p95 of one ``recommend`` call under 50 ms on 10,000 people.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from _timing import generated_network, latency_ms, timed


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--people", type=int, default=10_000)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)

    from recommender.meet.model import MeetModel

    net, gen_s = generated_network(args.people, args.seed)
    model, fit_s = timed(MeetModel().fit, net)

    rng = np.random.default_rng(args.seed)
    ids = rng.choice(net.people["id"].to_numpy(), size=min(args.queries, len(net.people)), replace=False)
    model.recommend(ids[0])  # warm-up (imports, caches)
    lat = []
    n_recs = 0
    for pid in ids:
        t = time.perf_counter()
        recs = model.recommend(pid, k=10, group="all")
        lat.append(time.perf_counter() - t)
        n_recs += len(recs)
    lat_ms = np.array(lat) * 1000

    many, batch_s = timed(model.recommend_many, ids, k=10, group="all")
    same = all([r.candidate_id for r in many[pid]] == [r.candidate_id for r in model.recommend(pid)] for pid in ids[:20])

    res = {
        "people": int(len(net.people)),
        "ties": int(len(net.ties)),
        "generate_s": round(gen_s, 2),
        "fit_s": round(fit_s, 2),
        "ranker": model.ranker_.kind_,
        "fallback_reason": model.fallback_reason_,
        "training_positives": model.ranker_.n_positive_,
        "queries": int(len(ids)),
        "mean_recommendations": round(n_recs / len(ids), 1),
        "recommend_ms": latency_ms(lat_ms),
        "recommend_many_s": round(batch_s, 2),
        "recommend_many_ms_per_person": round(1000 * batch_s / len(ids), 1),
        "batch_equals_single": bool(same),
    }
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"{res['people']:,} people, {res['ties']:,} ties (generated in {gen_s:.1f} s)")
        print(f"fit: {fit_s:.1f} s ({res['ranker']}, {res['training_positives']:,} training positives"
              + (f"; {res['fallback_reason']}" if res["fallback_reason"] else "") + ")")
        r = res["recommend_ms"]
        print(f"recommend (k=10 per group, {res['queries']} people, ~{res['mean_recommendations']} recs each): "
              f"p50 {r['p50']} ms, p95 {r['p95']} ms, max {r['max']} ms")
        print(f"recommend_many over the same people: {batch_s:.2f} s "
              f"({res['recommend_many_ms_per_person']} ms per person); identical to single calls: {same}")
    return res


if __name__ == "__main__":
    main()
