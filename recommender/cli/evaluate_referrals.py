"""``fracnet evaluate referrals``: replay past won referrals against baselines."""

from __future__ import annotations

from recommender.cli._common import add_command, open_store, positive_int, print_json


def register_referrals(evaluate_subparsers) -> None:
    """Add ``referrals`` to the ``evaluate`` subcommand's subparsers."""
    p = add_command(evaluate_subparsers, "referrals", run_referrals,
                    "history replay: would fracnet have picked the winner? (hit@3, needs coverage)",
                    """For each past opportunity that was referred and won, route it with only what was known the
                    day before, and report hit@K (the winner among the picks) and the mean share of the needs the
                    picks cover, for fracnet and two baselines: tag similarity alone and the most-connected peers
                    within reach.""")
    p.add_argument("--k", type=positive_int, default=3, metavar="K", help="picks per opportunity (default: 3)")
    p.add_argument("--max-hops", type=positive_int, default=2, metavar="H", help="reach (default: 2)")
    full = p.add_mutually_exclusive_group()
    full.add_argument("--include-full", dest="include_full", action="store_true", default=True,
                      help="keep people with no open slots today, with the routing penalty (the default: the stored "
                           "capacity is today's, not what it was at each replayed date)")
    full.add_argument("--exclude-full", dest="include_full", action="store_false",
                      help="leave out people with no open slots today, as routing does for a live request")
    p.add_argument("--misses", action="store_true",
                   help="also list, case by case, why fracnet did not pick the winner (rank, the features it lost on)")


def run_referrals(args) -> int:
    from recommender.errors import UsageError
    from recommender.network import load_network
    from recommender.evaluation.referrals import evaluate_referrals

    k, hops = getattr(args, "k", 3), getattr(args, "max_hops", 2)
    if k < 1 or hops < 1:
        raise UsageError(f"--k and --max-hops must be positive integers, got {k} and {hops}")
    with open_store(args) as store:
        network = load_network(store)
    report = evaluate_referrals(network, k=k, max_hops=hops, include_full=getattr(args, "include_full", True))
    if args.json:
        print_json(report)
        return 0
    key = f"hit@{k}"
    print(f"Referral replay: {report['n']} won opportunities (k={k}, max hops {hops}; "
          f"winner within reach in {_pct(report['reachable'])}; best possible coverage within reach "
          f"{_pct(report['coverage_bound'])})")
    if report["n"] == 0:
        print("No past opportunity was referred and won; log outcomes with 'fracnet referral outcome'.")
        return 0
    print(f"  {'method':<20} {key:>7} {'coverage':>9}")
    for name, m in report["methods"].items():
        print(f"  {name:<20} {_pct(m[key]):>7} {_pct(m['coverage']):>9}")
    from recommender.evaluation.referrals import report_notes

    for line in report_notes(report):
        print(line)
    if getattr(args, "misses", False):
        for m in report["misses"]:
            detail = ""
            if m["cause"] == "outranked":
                lost = ", ".join(f"{f} {v:+.2f}" for f, v in m.get("lost_on", {}).items())
                detail = f" rank {m['rank']} of {m['listed']} listed" + (f"; against the last pick: {lost}" if lost else "")
            weights = "learned" if m["learned"] else "prior"
            print(f"  {m['opportunity_id']} from {m['from_id']}, winner {m['winner']}: {m['cause']}{detail} ({weights} weights)")
    return 0


def _pct(x) -> str:
    return "-" if x is None else f"{x:.1%}"
