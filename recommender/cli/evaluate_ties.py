"""``fracnet evaluate ties``: hide a random share of the ties, fit on the rest, rank the hidden ones.

:func:`register_ties` adds the ``ties`` subcommand to the subparsers of ``fracnet evaluate``.
The network is ``--db PATH`` (or the default database) or a fracnet CSV folder given as FOLDER.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from recommender.cli.evaluate_history import print_model_line
from recommender.cli._common import add_command, open_store, positive_int, print_json
from recommender.errors import UsageError


def _holdout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share of the ties in (0, 0.5], got {text!r}") from None
    if not 0 < value <= 0.5:
        raise argparse.ArgumentTypeError(f"expected a share of the ties in (0, 0.5], got {text!r}")
    return value


def register_ties(evaluate_subparsers) -> None:
    p = add_command(evaluate_subparsers, "ties", run_ties,
                    "hide random ties, fit on the rest: does fracnet's meet answer find them?",
                    """Hide a random share of the current ties, fit the meet model on the rest, and rank every
                    group's candidates for the people with hidden ties. Prints recall@K, recall@20, MRR, NDCG@K and
                    candidate recall for fracnet beside CN, Jaccard, AA, RA, PA, Katz, tag similarity and random on
                    the same observed graph, averaged over several runs.""")
    p.add_argument("folder", metavar="FOLDER", nargs="?", default=None,
                   help="a fracnet CSV folder (people.csv, ties.csv, ...) instead of --db")
    p.add_argument("--holdout", type=_holdout, default=0.1, help="share of the ties hidden per run, in (0, 0.5] (default 0.1)")
    p.add_argument("--runs", type=positive_int, default=3, help="number of random runs (default 3)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the first run (default 0)")
    p.add_argument("--k", type=positive_int, default=10, metavar="K", help="list length (default 10)")
    p.add_argument("--max-queries", type=positive_int, default=1000, metavar="N",
                   help="at most N people with hidden ties ranked per run (default 1000)")


def load_folder_network(folder: str):
    """A fracnet CSV folder, validated like ``fracnet import``, as a Network (nothing written to disk)."""
    import tempfile

    from recommender.network import load_network
    from recommender.io.csv_folder import import_folder
    from recommender.store.db import Store

    path = Path(folder)
    if not path.exists():
        raise UsageError(f"{folder} does not exist", hint="give a fracnet CSV folder (people.csv, ties.csv) or --db PATH")
    if not path.is_dir() or not (path / "people.csv").is_file():
        found = sorted(p.name for p in path.iterdir())[:8] if path.is_dir() else [path.name]
        raise UsageError(
            f"{folder}: unknown format (found {', '.join(found) or 'nothing'}); expected a fracnet folder with "
            f"people.csv and ties.csv",
            hint="convert events.csv message logs or nodes.csv + edges.csv graphs with python bench/convert.py SRC OUT")
    with tempfile.TemporaryDirectory(prefix="fracnet-ties-") as tmp:
        store = Store(Path(tmp) / "network.db")
        try:
            import_folder(store, path, progress=False)
            return load_network(store)
        finally:
            store.close()


def run_ties(args) -> int:
    from recommender.evaluation.ties import best_heuristic, evaluate_ties
    from recommender.network import load_network

    if args.folder and args.db:
        raise UsageError("give either FOLDER or --db, not both")
    if args.folder:
        net = load_folder_network(args.folder)
    else:
        with open_store(args) as store:
            net = load_network(store)
    progress = (lambda text: print(f"  {text}", file=sys.stderr)) if sys.stderr.isatty() and not args.json else None
    res = evaluate_ties(net, holdout=args.holdout, runs=args.runs, seed=args.seed, k=args.k,
                        max_queries=args.max_queries, progress=progress)
    if args.json:
        print_json(res)
        return 0
    k = res["k"]
    print(f"Held-out ties: {res['holdout']:.0%} of the ties hidden, {res['runs']} run(s) from seed {args.seed}; "
          f"{res['queries']:,} queries in all")
    print_model_line(res["model"])
    cols = [f"recall@{k}", "recall@20", "mrr", f"ndcg@{k}", "candidate_recall"]
    if k == 20:
        cols.remove("recall@20")
    print()
    print(f"  {'method':<10}" + "".join(f"{c:>17}" for c in cols))
    for name, vals in res["methods"].items():
        print(f"  {name:<10}" + "".join(f"{vals[c]:>17.3f}" for c in cols))
    per = res["per_run"]
    best, value = best_heuristic(res["methods"], cols[0])
    if best is not None:
        runs = ", ".join(f"{r[cols[0]]['fracnet']:.3f} vs {r[cols[0]][best]:.3f}" for r in per)
        print(f"\n  per run, fracnet vs {best}: {runs}")
    if best is not None and value > 0:
        lift = res["methods"]["fracnet"][cols[0]] / value - 1
        print(f"  fracnet vs best heuristic ({best}): {lift:+.1%} {cols[0]}")
    return 0
