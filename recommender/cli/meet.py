"""``fracnet meet PERSON``: who should this person meet next, per group, with reasons."""

from __future__ import annotations

from recommender.cli._common import add_command, open_store, positive_int, print_json


def register(sub) -> None:
    p = add_command(sub, "meet", run, "who should PERSON meet next (peers, adjacent fractionals, ICP executives)",
                    """Recommend people to meet, per group: peers (same function, complementary specialty),
                    adjacent fractionals (other functions, same kind of client) and executives whose company fits
                    the person's ICP. Each comes with its reasons, the best mutual contact to introduce you, and a
                    draft note. The ranker is learned from the network's own history.""")
    p.add_argument("person", metavar="PERSON", nargs="?", help="person id, or a name only one person has (default: me, see 'fracnet me')")
    p.add_argument("--k", type=positive_int, default=10, metavar="K", help="recommendations per group (default: 10)")
    p.add_argument("--group", choices=("all", "peers", "adjacent", "executives"), default="all",
                   help="one group, or all three (default: all)")
    p.add_argument("--as-of", metavar="DATE", help="recommend as of DATE (YYYY-MM-DD): the network as it was then")
    p.add_argument("--model", metavar="PATH", help="use a model saved with --save-model instead of fitting one")
    p.add_argument("--save-model", metavar="PATH", help="save the fitted model to PATH")
    p.add_argument("--no-cache", action="store_true",
                   help="fit afresh instead of reusing the model cached beside the database (refitted after any write)")


def run(args) -> int:
    from recommender.model_cache import meet_model
    from recommender.practice.owner import get_me, resolve_person
    from recommender.practice.pipeline import introduced_by, recommend_for

    with open_store(args) as store:
        args.person = resolve_person(store, args.person, "meet")  # an id or a unique name (default: me)
        if args.model:
            from recommender.meet.model import MeetModel

            model = MeetModel.load(args.model)
        else:  # a cached model answers without scikit-learn; a fit (no cache, --as-of) loads it
            model = meet_model(store, args.as_of, use_cache=not args.no_cache)
        recs = recommend_for(store, model, args.person, k=args.k, group=args.group)  # "not relevant" left out
        if not args.as_of and not args.model and args.person == get_me(store):
            _remember(store, args.person, model)
        introduced = introduced_by(store, args.person, [r.candidate_id for r in recs])
    if args.save_model:
        model.save(args.save_model)
    from recommender.meet.text import format_recommendations, recommendation_dict

    me = model.person(args.person)
    them = {r.candidate_id: model.person(r.candidate_id) for r in recs}
    notes = []
    if model.fallback_reason_:
        notes.append(f"the history is too thin to learn from ({model.fallback_reason_})")
    if args.json:
        print_json({
            "person": args.person,
            "name": me["name"],
            "group": args.group,
            "as_of": model.as_of_,
            "model": {"kind": model.ranker_.kind_, "fallback_reason": model.fallback_reason_},
            "recommendations": [recommendation_dict(r, me, them[r.candidate_id],
                                                    introduced_by=introduced.get(r.candidate_id)) for r in recs],
        })
        return 0
    print(format_recommendations(me, recs, notes=notes, them=them, introduced=introduced))
    return 0


def _remember(store, me: str, model) -> None:
    """Keep my suggestions for 'fracnet week' (so it need not load the model): an optimisation, never a failure."""
    import sqlite3

    from recommender.errors import FracnetError
    from recommender.practice.week import remember_suggestions

    try:
        remember_suggestions(store, me, model)
    except (sqlite3.Error, FracnetError):
        pass
