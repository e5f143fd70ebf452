"""``fracnet stats``: what the network holds."""

from __future__ import annotations

from recommender.cli._common import add_command, open_store, print_json


def register(sub) -> None:
    p = add_command(sub, "stats", run, "counts by kind, function and edge type; the largest component",
                    """Summarise the network: people by kind and function, edges by type, and the size of the
                    largest connected component of ties.""")
    p.add_argument("--as-of", metavar="DATE", help="the network as it was on DATE (YYYY-MM-DD)")


def run(args) -> int:
    from recommender.network import load_network, network_stats

    with open_store(args) as store:
        stats = network_stats(load_network(store, as_of=args.as_of))
        stats["db"] = str(store.path)
    if args.json:
        print_json(stats)
        return 0
    print(f"Network in {stats['db']}" + (f" as of {stats['as_of']}" if stats["as_of"] else ""))
    print(f"  people        {stats['people']:>9,}   " + ", ".join(f"{k} {v:,}" for k, v in stats["by_kind"].items()))
    print(f"  companies     {stats['companies']:>9,}")
    print(f"  opportunities {stats['opportunities']:>9,}")
    print(f"  opted out     {stats['opted_out']:>9,}")
    print("  fractionals by function: " + ", ".join(f"{k} {v:,}" for k, v in stats["by_function"].items()))
    print("  edges: " + ", ".join(f"{k} {v:,}" for k, v in stats["edges"].items()))
    print(f"  largest component: {stats['largest_component']:,} of {stats['people']:,} people "
          f"({stats['components']:,} components)")
    return 0
