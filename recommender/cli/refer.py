"""``fracnet refer``: who do I refer this opportunity to?"""

from __future__ import annotations

from recommender.cli._common import add_command, hops, open_store, positive_int, print_json


def register(sub) -> None:
    p = add_command(sub, "refer", run, "lane check and the 2-3 best peers to refer an opportunity to",
                    """Is this opportunity in PERSON's lane? If not, which 2-3 fractionals in their trust network
                    fit best together (needs coverage, industry, size band, trust path, track record, capacity),
                    with reasons, alternatives and a draft double-opt-in introduction.""")
    p.add_argument("--from", dest="from_id", metavar="PERSON", help="the referrer's person id (default: me)")
    what = p.add_argument_group("the opportunity (an id, or its needs)")
    what.add_argument("--opportunity", metavar="ID", help="an opportunity in the database")
    what.add_argument("--needs", metavar="TAGS", help="needed specialties, ';'- or ','-separated")
    what.add_argument("--industry", metavar="X", help="the client's industry")
    what.add_argument("--size", dest="size_band", metavar="BAND", help="the client's size band, e.g. 5-50m")
    what.add_argument("--region", metavar="R", help="the client's region")
    what.add_argument("--description", metavar="TEXT", help="free text, matched against peers' bios and tags")
    p.add_argument("--k", type=positive_int, default=3, metavar="K", help="number of picks (default: 3)")
    p.add_argument("--max-hops", type=hops, default=2, metavar="H",
                   help="candidates within H ties of PERSON (default: 2)")
    p.add_argument("--everyone", action="store_true", help="consider every fractional in the network")
    p.add_argument("--include-full", action="store_true",
                   help="keep people with no open slots (penalised) instead of leaving them out")
    p.add_argument("--anyway", action="store_true",
                   help="route an opportunity that is closed (won, lost, closed) or that someone else brought")


def run(args) -> int:
    from recommender.errors import UsageError

    if not args.opportunity and not args.needs and not args.description:
        raise UsageError("say what to route: --opportunity ID, or --needs TAGS (and --industry, --size, ...)",
                         hint="e.g. fracnet refer --from p0001 --needs 'demand gen;abm' --industry saas")
    from recommender.model_cache import router
    from recommender.practice.owner import resolve_person
    from recommender.refer.request import check_opportunity
    from recommender.refer.text import format_routing, routing_to_dict

    with open_store(args) as store:
        args.from_id = resolve_person(store, args.from_id, "refer")  # an id or a unique name (default: me)
        concerns = ()
        if args.opportunity:
            args.opportunity = store.resolve("opportunities", args.opportunity)
            concerns = check_opportunity(store.get("opportunities", args.opportunity), args.from_id,
                                         anyway=args.anyway, name_of=lambda pid: store.get_person(pid)["name"] or pid)
        fitted = router(store)  # cached beside the database: routes without scikit-learn or pandas
    routing = fitted.route(args.from_id, args.opportunity, needs=args.needs, industry=args.industry,
                           size_band=args.size_band, region=args.region, description=args.description,
                           k=args.k, max_hops=args.max_hops, widen=args.everyone, include_full=args.include_full)
    if args.json:
        print_json(routing_to_dict(routing, concerns))
    else:
        print(format_routing(routing, concerns))
    return 0
