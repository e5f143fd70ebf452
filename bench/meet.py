"""Benchmark "who should I meet next?": fit time and per-call latency.

Generates a synthetic network (default 10,000 people), fits a MeetModel on
its history, then times ``recommend(person, k=10, group="all")`` for ~200
random people and a batched ``recommend_many`` over the same people; then saves
the model and times the same calls on the model loaded from the file (a
MeetScorer, the way ``fracnet meet`` answers from the model cache), with each
call's thread CPU beside its wall time.

Usage::

    python bench/meet.py [--people 10000] [--queries 200] [--seed 0] [--json]

Targets: p50 and p95 of one ``recommend`` call under 50 ms on 10,000 people, once the model is loaded.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

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
    lat_ms, cpu_ms, n_recs, answers = _latencies(model, ids)

    many, batch_s = timed(model.recommend_many, ids, k=10, group="all")
    same = all([r.candidate_id for r in many[pid]] == [r.candidate_id for r in model.recommend(pid)] for pid in ids[:20])

    # the model saved and loaded (a MeetScorer, as the CLI's model cache loads it): the target's reading
    from recommender.meet.persistence import load_object

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "meet.model"
        model.save(path)
        loaded, load_s = timed(load_object, path, kind="MeetModel")
    lat_loaded, cpu_loaded, _, answers_loaded = _latencies(loaded, ids)

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
        "recommend_cpu_ms": latency_ms(cpu_ms),
        "load_s": round(load_s, 2),
        "loaded_recommend_ms": latency_ms(lat_loaded),
        "loaded_recommend_cpu_ms": latency_ms(cpu_loaded),
        "loaded_equals_fitted": answers_loaded == answers,
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
        r, c = res["recommend_ms"], res["recommend_cpu_ms"]
        print(f"recommend (k=10 per group, {res['queries']} people, ~{res['mean_recommendations']} recs each): "
              f"p50 {r['p50']} ms, p95 {r['p95']} ms, max {r['max']} ms (thread CPU p50 {c['p50']}, p95 {c['p95']} ms)")
        r, c = res["loaded_recommend_ms"], res["loaded_recommend_cpu_ms"]
        print(f"the model loaded from its file ({res['load_s']:.2f} s): p50 {r['p50']} ms, p95 {r['p95']} ms, "
              f"max {r['max']} ms (thread CPU p50 {c['p50']}, p95 {c['p95']} ms); "
              f"the same answers as the fitted model: {res['loaded_equals_fitted']}")
        print(f"recommend_many over the same people: {batch_s:.2f} s "
              f"({res['recommend_many_ms_per_person']} ms per person); identical to single calls: {same}")
    return res


def _latencies(model, ids):
    """Wall and thread-CPU milliseconds of ``recommend(pid, k=10, group="all")`` per person (after one warm-up
    call), the number of recommendations and the answers."""
    model.recommend(ids[0])  # warm-up (imports, caches)
    wall, cpu, answers = [], [], {}
    for pid in ids:
        t, c = time.perf_counter(), time.thread_time()
        answers[pid] = model.recommend(pid, k=10, group="all")
        cpu.append(time.thread_time() - c)
        wall.append(time.perf_counter() - t)
    return np.array(wall) * 1000, np.array(cpu) * 1000, sum(len(r) for r in answers.values()), answers


if __name__ == "__main__":
    main()
