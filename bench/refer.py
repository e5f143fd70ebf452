"""Benchmark: routing latency on a generated 10,000-person network.

Fits a Router without and with learning its weights from the network's referral history (the cost of
learning, in the same run), then times one routing answer (lane check, reach, scoring, choice and the
picks with reasons) for ~200 random opportunities.

Usage::

    python bench/refer.py [--people 10000] [--n 200] [--seed 42] [--max-hops 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from _timing import generated_network, latency_ms, timed

from recommender.refer.router import Router


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=10_000)
    ap.add_argument("--n", type=int, default=200, help="routing requests to time")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--max-hops", type=int, default=2)
    ap.add_argument("--everyone", action="store_true", help="time --everyone routing instead")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    net, t_gen = generated_network(args.people, args.seed)
    c0 = time.process_time()
    _, t_prior = timed(Router(learn=False).fit, net)
    c_prior = time.process_time() - c0
    c0 = time.process_time()
    router, t_fit = timed(Router().fit, net)
    c_fit = time.process_time() - c0

    rng = np.random.default_rng(args.seed)
    opps = net.opportunities.dropna(subset=["brought_by"])
    sample = opps.iloc[rng.choice(len(opps), size=min(args.n, len(opps)), replace=False)]
    router.route(sample.iloc[0]["brought_by"], sample.iloc[0]["id"])  # warm-up
    times, n_picks, n_cand = [], [], []
    for opp in sample.itertuples():
        t0 = time.perf_counter()
        ans = router.route(opp.brought_by, opp.id, k=3, max_hops=args.max_hops, widen=args.everyone)
        times.append((time.perf_counter() - t0) * 1000)
        n_picks.append(len(ans.picks))
        n_cand.append(ans.reach["candidates"])
    t = np.array(times)
    report = {
        "people": args.people, "ties": int(len(net.ties)), "referrals": int(len(net.referrals)),
        "requests": len(t), "max_hops": None if args.everyone else args.max_hops,
        "generate_s": round(t_gen, 2), "fit_s": round(t_fit, 2), "fit_cpu_s": round(c_fit, 2),
        "fit_without_learning_s": round(t_prior, 2), "fit_without_learning_cpu_s": round(c_prior, 2),
        "weights": router.weights_.description,
        "route_ms": latency_ms(t, digits=2),
        "mean_candidates": round(float(np.mean(n_cand)), 1), "mean_picks": round(float(np.mean(n_picks)), 2),
        "target_ms": 50,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        r = report["route_ms"]
        print(f"{report['people']:,} people, {report['ties']:,} ties, {report['referrals']:,} referrals; fit "
              f"{report['fit_s']} s wall / {report['fit_cpu_s']} s CPU, of which learning the weights "
              f"{report['fit_s'] - report['fit_without_learning_s']:.2f} s wall / "
              f"{report['fit_cpu_s'] - report['fit_without_learning_cpu_s']:.2f} s CPU (generate {report['generate_s']} s)")
        print(f"  {report['weights']}")
        print(f"route ({report['requests']} opportunities, max hops {report['max_hops']}): "
              f"p50 {r['p50']} ms, p95 {r['p95']} ms, max {r['max']} ms (target < 50 ms); "
              f"{report['mean_candidates']} candidates on average")
    return report


if __name__ == "__main__":
    main()
