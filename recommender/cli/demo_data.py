"""``fracnet demo-data``: write a synthetic referral network as a CSV folder."""

from __future__ import annotations

import argparse

from recommender.cli._common import add_command, print_json
from recommender.errors import UsageError


def register(sub) -> None:
    p = add_command(sub, "demo-data", run, "generate a realistic synthetic network (CSV folder)",
                    """Generate a synthetic referral network of fractional executives: people, companies, ties,
                    three years of introductions, opportunities and referrals, with the structure the recommender
                    learns planted in it. Deterministic for a seed.""", db=False)
    p.add_argument("--people", type=int, default=400, metavar="N", help="number of people (default: 400)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default: 0)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing; files replaced)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from recommender import demo

    if args.people < demo.MIN_PEOPLE or args.people > demo.MAX_PEOPLE:
        raise UsageError(f"--people must be between {demo.MIN_PEOPLE} and {demo.MAX_PEOPLE:,}, got {args.people}")
    from recommender.progress import progress_bar, wants_progress

    bar = None
    progress = None
    if wants_progress(args.quiet):
        bar = progress_bar(len(demo.STAGES), "demo-data", enabled=True, unit="step")

        def progress(stage: str) -> None:
            bar.set_postfix_str(stage)
            bar.update(1)

    try:
        counts = demo.generate_demo_data(args.people, args.seed, args.out, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        print_json({"out": str(args.out), "seed": args.seed, "counts": counts})
    else:
        parts = ", ".join(f"{v:,} {k}" for k, v in counts.items())
        print(f"wrote {parts} to {args.out}")
    return 0
