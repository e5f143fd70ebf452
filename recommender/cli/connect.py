"""``fracnet connect``: give first: pairs of my contacts to introduce to each other."""

from __future__ import annotations

from recommender.cli._common import add_db_option, add_json_option, open_store, print_json, check_positive


def register(sub) -> None:
    p = sub.add_parser("connect", help="give first: two of my contacts who should meet, with a note to each",
                       description="Pairs of PERSON's (default: my) contacts who do not know each other and could "
                                   "help each other (complementary specialties, the same kind of client, an "
                                   "ICP fit), scored by the 'who to meet' model, each with a draft "
                                   "double-opt-in note to both. Opted-out people never appear.")
    p.add_argument("person", metavar="PERSON", nargs="?", help="person id (default: me)")
    p.add_argument("--k", type=int, default=10, metavar="K", help="number of pairs (default: 10)")
    add_db_option(p)
    add_json_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from recommender.connect import connection_dict, format_connections, suggest_connections
    from recommender.model_cache import meet_model
    from recommender.practice.owner import resolve_person
    from recommender.practice.pipeline import excluded_people

    check_positive(args.k, "--k")
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
