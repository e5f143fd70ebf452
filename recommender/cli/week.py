"""``fracnet week``: follow-ups due, people I am losing touch with, new suggestions, referrals awaiting an
outcome and my go-giver balance, each line with its action."""

from __future__ import annotations

from recommender.cli._common import add_command, open_store, positive_int, print_json


def register(sub) -> None:
    p = add_command(sub, "week", run, "this week: follow-ups, losing touch, new suggestions, referrals, balance",
                    """This week's view for me. Each line has its action: a draft, the touch to log, or the
                    snooze command. Needs 'me'.""")
    p.add_argument("--today", metavar="DATE", help="pretend today is DATE (YYYY-MM-DD)")
    p.add_argument("--k", type=positive_int, default=5, metavar="K", help="suggestions looked at per group (default 5)")


def run(args) -> int:
    from recommender.model_cache import meet_model
    from recommender.practice.owner import require_me
    from recommender.practice.week import format_week, this_week
    with open_store(args) as store:
        require_me(store, "week")
        w = this_week(store, model=lambda: meet_model(store), today=args.today, k=args.k)
    if args.json:
        print_json(w)
    else:
        print(format_week(w))
    return 0
