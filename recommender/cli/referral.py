"""``fracnet referral log|outcome``: record referrals and what came of them."""

from __future__ import annotations

from recommender.cli._common import add_command, add_group, open_store, print_json
from recommender.store.schema import REFERRAL_OUTCOMES


def register(sub) -> None:
    inner = add_group(sub, "referral", "log a referral, or record its outcome",
                      """Write referrals and their outcomes to the database, one transaction each. Outcomes move
                      pending -> accepted|declined, accepted -> won|lost.""", dest="action", metavar="ACTION")

    log = add_command(inner, "log", run_log, "record that an opportunity was referred to someone",
                      "Record a referral (outcome pending). An open opportunity becomes referred.")
    log.add_argument("--opportunity", required=True, metavar="ID", help="the opportunity id")
    log.add_argument("--to", dest="to_id", required=True, metavar="PERSON", help="who it was referred to")
    log.add_argument("--from", dest="from_id", metavar="PERSON",
                     help="who referred it (default: the opportunity's brought_by)")
    log.add_argument("--date", metavar="D", help="YYYY-MM-DD (default: today)")
    log.add_argument("--anyway", action="store_true",
                     help="log it even though the opportunity is closed (won, lost, closed) or someone else brought it")

    out = add_command(inner, "outcome", run_outcome, "record what came of a referral",
                      """Set a referral's outcome. A won referral marks its opportunity won. Changes that make no
                      sense (e.g. won after declined) are refused.""")
    out.add_argument("referral_id", metavar="REFERRAL_ID")
    out.add_argument("outcome", choices=[o for o in REFERRAL_OUTCOMES if o != "pending"])


def run_log(args) -> int:
    from recommender.ledger import log_referral

    with open_store(args) as store:
        if args.opportunity:
            args.opportunity = store.resolve("opportunities", args.opportunity)
        args.to_id = store.resolve("people", args.to_id)
        from_me = False
        if args.from_id:
            args.from_id = store.resolve("people", args.from_id)
        else:  # the referrer is me when me is set (else the opportunity's bringer), and the answer says which
            from recommender.practice.owner import get_me

            args.from_id = get_me(store)
            from_me = args.from_id is not None
        row = log_referral(store, args.opportunity, args.to_id, from_id=args.from_id, date=args.date,
                           anyway=args.anyway)
    if args.json:
        print_json(dict(row, from_default="me" if from_me else ("brought_by" if not args.from_id else None)))
    else:
        who = " (you: fracnet me)" if from_me else (" (the opportunity's bringer; set yourself with 'fracnet me "
                                                     "PERSON')" if not args.from_id else "")
        print(f"Logged referral {row['id']}: {row['opportunity_id']} from {row['from_id']}{who} to {row['to_id']} "
              f"on {row['date']} (pending); opportunity is {row['opportunity_status']}")
    return 0


def run_outcome(args) -> int:
    from recommender.ledger import record_outcome

    with open_store(args) as store:
        args.referral_id = store.resolve("referrals", args.referral_id)
        res = record_outcome(store, args.referral_id, args.outcome)
    if args.json:
        print_json(res)
    elif res["changed"]:
        print(f"Referral {res['id']}: {res['previous']} -> {res['outcome']}; "
              f"opportunity {res['opportunity_id']} is {res['opportunity_status']}")
    else:
        print(f"Referral {res['id']} is already {res['outcome']}; nothing changed")
    return 0
