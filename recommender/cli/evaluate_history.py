"""``fracnet evaluate history``: replay the network's history (recall@10, MRR, NDCG@10).

:func:`register_history` adds the ``history`` subcommand to the subparsers of
``fracnet evaluate``.
"""

from __future__ import annotations

from recommender.cli._common import add_command, open_store, positive_int, print_json
from recommender.words import plural


def register_history(evaluate_subparsers) -> None:
    p = add_command(evaluate_subparsers, "history", run_history,
                    "temporal replay: would fracnet have predicted the ties people formed?",
                    """Cut the network's history at a date (default: two thirds of the way through), fit the meet
                    model on what was known before, and rank candidates for every person who formed new ties or
                    connected introductions afterwards. Prints recall@K, MRR and NDCG@K for fracnet, each classic
                    heuristic and random, over the same candidate sets.""")
    p.add_argument("--as-of", "--split-date", dest="split_date", metavar="DATE",
                   help="the cut date (YYYY-MM-DD); default: 2/3 of the history")
    p.add_argument("--k", type=positive_int, default=10, metavar="K", help="list length (default: 10)")


def run_history(args) -> int:
    from recommender.network import load_network
    from recommender.evaluation.history import evaluate_history

    with open_store(args) as store:
        net = load_network(store)
    res = evaluate_history(net, split_date=args.split_date, k=args.k)
    if args.json:
        print_json(res)
        return 0
    k = res["k"]
    print(f"History replay: fit before {res['split_date']}, ranked ties formed up to {res['end_date']}")
    print(f"  {plural(res['n_queries'], 'person', 'people')} formed {plural(res['n_positives'], 'new tie')}; "
          f"{res['candidate_recall']:.1%} of them were among the candidates "
          f"(~{res['mean_candidates']:.0f} per person)")
    print_model_line(res["model"])
    cols = [f"recall@{k}", "mrr", f"ndcg@{k}"]
    print()
    print(f"  {'method':<10}" + "".join(f"{c:>11}" for c in cols))
    for name, vals in res["methods"].items():
        print(f"  {name:<10}" + "".join(f"{vals[c]:>11.3f}" for c in cols))
    best = max((v[cols[0]], n) for n, v in res["methods"].items() if n not in ("fracnet", "random"))
    if best[0] > 0:
        lift = res["methods"]["fracnet"][cols[0]] / best[0] - 1
        print(f"\n  fracnet vs best heuristic ({best[1]}): {lift:+.1%} {cols[0]}")
    return 0


def print_model_line(m: dict) -> None:
    """What the evaluated model learned from, in one line (shared by the evaluate commands)."""
    if m.get("description"):
        print(f"  model: {m['description']}")
    elif m["fallback_reason"]:
        print(f"  note: {m['fallback_reason']}")
    else:
        print(f"  ranker: {m['kind']}, learned from {m['training_rows']:,} pairs ({m['training_positives']:,} positive)")
