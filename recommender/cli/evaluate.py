"""``fracnet evaluate ...``: evaluation protocols from the command line.

Each protocol is a nested subcommand (``evaluate links``; ``history`` and
``referrals`` join later) with its own ``run_*`` function set through
``set_defaults(func=...)``.
"""

from __future__ import annotations

import argparse
import sys

from recommender.cli._common import add_command, add_group, positive_int, print_json


def register(subparsers) -> None:
    """Add ``evaluate`` and its nested protocol subcommands."""
    sub = add_group(subparsers, "evaluate", "measure recommendation quality (link prediction, history replay, ...)",
                    "Measure quality with a standard protocol, always beside classic baselines.",
                    dest="protocol", metavar="PROTOCOL")
    _register_links(sub)
    from recommender.cli.evaluate_history import register_history
    from recommender.cli.evaluate_referrals import register_referrals
    from recommender.cli.evaluate_ties import register_ties

    register_history(sub)
    register_referrals(sub)
    register_ties(sub)


# ---------------------------------------------------------------------------
# evaluate links
# ---------------------------------------------------------------------------


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}")
    return value


def _register_links(sub) -> None:
    p = add_command(sub, "links", run_links, "link-prediction AUC/AP of fracnet vs CN, Jaccard, AA, RA, PA, Katz, PPR",
                    """Hold out a random fraction of the edges (plus as many sampled non-edges), rebuild the graph
                    from the rest, score the held-out pairs with every method, and report AUC and average
                    precision over several runs.""", db=False)
    p.add_argument("edges", metavar="EDGES", help="edge list: CSV with two id columns (header optional) or whitespace-separated")
    p.add_argument("--runs", type=positive_int, default=10, help="number of random runs / splits (default 10)")
    p.add_argument("--test-frac", type=_fraction, default=0.1, help="fraction of edges held out per run (default 0.1)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--splits", metavar="DIR", default=None, help="use the fixed split_*.csv files (u,v,label,part) in DIR")
    p.add_argument("--plot", metavar="FILE.png", default=None, help="save the ROC curves of every method to FILE.png")


def _progress_bar(total_hint: int | None = None):
    """The progress bar (recommender.progress) on a terminal, with an ``update(done, total, label)`` for it."""
    from recommender.progress import progress_bar, wants_progress

    if not wants_progress():
        return None, None
    bar = progress_bar(total_hint, "evaluate links", enabled=True, unit="step")

    def update(done: int, total: int, label: str) -> None:
        if bar.total != total:
            bar.total = total
        bar.set_postfix_str(label, refresh=False)
        bar.update(done - bar.n)

    return bar, update


def run_links(args: argparse.Namespace) -> int:
    from recommender.evaluation.links import evaluate_links, plot_roc

    bar, progress = _progress_bar()
    try:
        result = evaluate_links(
            args.edges,
            runs=args.runs,
            test_frac=args.test_frac,
            seed=args.seed,
            splits_dir=args.splits,
            progress=progress,
        )
    finally:
        if bar is not None:
            bar.close()
    plot_path = None
    if args.plot:
        plot_path = str(plot_roc(result, args.plot))
    if args.json:
        out = {k: v for k, v in result.items() if k != "roc"}
        if plot_path:
            out["plot"] = plot_path
        print_json(out)
        return 0
    _print_links_table(result)
    if plot_path:
        print(f"ROC curves written to {plot_path}")
    return 0


def _print_links_table(result: dict) -> None:
    methods = result["methods"]
    bold = sys.stdout.isatty()
    heuristics = {k: v for k, v in methods.items() if k != "fracnet"}
    best = max(heuristics, key=lambda k: heuristics[k]["auc"]) if heuristics else None
    print(
        f"Link prediction on {result['dataset']}: {result['n_nodes']} nodes, "
        f"{result['n_edges']} edges; {result['runs']} run(s), {result['protocol']}"
    )
    header = f"  {'method':<10} {'AUC % (mean ± std)':>20} {'AP % (mean ± std)':>20}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    for name, m in methods.items():
        auc = f"{100 * m['auc']:6.2f} ± {100 * m['auc_std']:5.2f}"
        ap = f"{100 * m['ap']:6.2f} ± {100 * m['ap_std']:5.2f}"
        line = f"{name:<10} {auc:>20} {ap:>20}"
        if name == "fracnet":
            line = "* " + line
            if bold:
                line = f"\033[1m{line}\033[0m"
        else:
            line = "  " + line
        print(line)
    if "fracnet" in methods and best is not None:
        margin = 100 * (methods["fracnet"]["auc"] - heuristics[best]["auc"])
        print(f"* fracnet (learned); {margin:+.2f} AUC points vs the best baseline ({best})")
