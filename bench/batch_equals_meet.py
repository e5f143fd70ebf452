"""The thorough batch check (tests/test_batch.py checks a sample): the batch job's lists against
``recommend`` one person at a time, for everyone in a network.

Usage::

    python bench/batch_equals_meet.py [--db PATH | --people 400 --seed 0] [--block-size 64] [--json]

Prints the people compared, the differing lists (target 0), and the time of both paths (batch / single).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _timing import network_of, network_options  # noqa: E402  (this folder, as a script)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    network_options(ap)
    ap.add_argument("--block-size", type=int, default=64)
    args = ap.parse_args(argv)

    from recommender.batch.meet import meet_frame
    from recommender.meet.model import MeetModel

    net = network_of(args)
    model = MeetModel().fit(net)
    t = time.perf_counter()
    frame = meet_frame(model, k=10, block_size=args.block_size)
    batch_s = time.perf_counter() - t
    by_person = dict(tuple(frame.groupby("person_id", sort=False)))
    differ = compared = 0
    t = time.perf_counter()
    for pid in by_person:
        recs = model.recommend(pid, k=10)
        got = by_person[pid]
        same = (got["candidate_id"].tolist() == [r.candidate_id for r in recs]
                and got["group"].tolist() == [r.group for r in recs]
                and np.allclose(got["score"].to_numpy(), [r.score for r in recs], rtol=0, atol=1e-9)
                and got["introducer_id"].fillna("").tolist() == [r.introducer_id or "" for r in recs])
        differ += not same
        compared += 1
    single_s = time.perf_counter() - t
    res = {"people": compared, "differing": differ, "target": 0, "batch_s": round(batch_s, 2),
           "single_s": round(single_s, 2), "batch_over_single": round(batch_s / max(single_s, 1e-9), 3)}
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"{compared} people compared: {differ} differing lists (target 0)")
        print(f"batch {batch_s:.2f} s, one by one {single_s:.2f} s (ratio {res['batch_over_single']})")
    return res


if __name__ == "__main__":
    main()
