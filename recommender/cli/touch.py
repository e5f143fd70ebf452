"""``fracnet touch PERSON --kind K``: log a meeting, call, email, introduction or referral."""

from __future__ import annotations

from recommender.cli._common import add_command, open_store, print_json


def register(sub) -> None:
    p = add_command(sub, "touch", run, "log a contact with PERSON (keeps our tie's last contact true)",
                    """Log a touch with PERSON. Our tie's last contact moves to its date (a tie is created when
                    we had none), so recency, trust and 'losing touch' see it. Needs 'me'.""")
    p.add_argument("person", metavar="PERSON")
    p.add_argument("--kind", required=True, help="meeting, call, email, intro or referral")
    p.add_argument("--date", metavar="D", help="YYYY-MM-DD (default: today)")
    p.add_argument("--note")


def run(args) -> int:
    from recommender.practice.touches import log_touch

    with open_store(args) as store:
        t = log_touch(store, args.person, args.kind, date=args.date, note=args.note)
    if args.json:
        print_json(t)
        return 0
    tie = {"created": "a new tie was created", "updated": "our tie's last contact is now " + t["date"],
           "unchanged": "our tie already had a later contact"}[t["tie"]]
    print(f"Logged a {t['kind']} with {t['name']} ({t['person_id']}) on {t['date']}; {tie}.")
    return 0
