"""``fracnet connect``: give first: pairs of my contacts to introduce to each other."""

from __future__ import annotations

from recommender.cli._common import add_command, open_store, positive_int, print_json


def register(sub) -> None:
    p = add_command(sub, "connect", run, "give first: two of my contacts who should meet, with a note to each",
                    """Pairs of PERSON's (default: my) contacts who do not know each other and could help each
                    other (complementary specialties, the same kind of client, an ICP fit), scored by the 'who to
                    meet' model, each with a draft double-opt-in note to both. Opted-out people never appear.""")
    p.add_argument("person", metavar="PERSON", nargs="?", help="person id (default: me)")
    p.add_argument("--k", type=positive_int, default=10, metavar="K", help="number of pairs (default: 10)")


def run(args) -> int:
    from recommender.connect import connection_dict, format_connections, suggest_connections
    from recommender.model_cache import meet_model
    from recommender.practice.owner import resolve_person
    from recommender.practice.pipeline import excluded_people
    with open_store(args) as store:
        pid = resolve_person(store, args.person, "connect")
        model = meet_model(store)
        excluded = excluded_people(store, pid)
    items = suggest_connections(model, pid, k=args.k, exclude_ids=excluded)
    me = model.person(pid)
    if args.json:
        print_json({"person": pid, "name": me["name"], "pairs": [connection_dict(c) for c in items]})
    else:
        print(format_connections(me, items))
    return 0
