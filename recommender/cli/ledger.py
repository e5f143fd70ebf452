"""``fracnet ledger PERSON``: referrals given and received, the go-giver balance."""

from __future__ import annotations

from recommender.cli._common import add_command, open_store, print_json


def register(sub) -> None:
    p = add_command(sub, "ledger", run, "referrals PERSON gave and received, per peer and over time",
                    """The go-giver ledger: referrals given and received per peer, per quarter or year, the balance
                    (given - received; won given vs won received) and PERSON's track record.""")
    p.add_argument("person", metavar="PERSON", nargs="?", help="person id (default: me)")
    p.add_argument("--by", choices=("quarter", "year"), default="quarter", help="period (default: quarter)")


def run(args) -> int:
    from recommender.network import load_network
    from recommender.ledger import referral_ledger
    from recommender.refer.text import track_record_text

    with open_store(args) as store:
        from recommender.practice.owner import resolve_person

        args.person = resolve_person(store, args.person, "ledger")
        led = referral_ledger(load_network(store), args.person, by=args.by)
    if args.json:
        print_json(led)
        return 0
    b, tr = led["balance"], led["track_record"]
    print(f"Referral ledger of {led['person']['name']} ({led['person']['id']})")
    print(f"  given    {b['given']:>4}  ({_outcomes(led['given']['by_outcome'])})")
    print(f"  received {b['received']:>4}  ({_outcomes(led['received']['by_outcome'])})")
    sign = "+" if b["net"] > 0 else ""
    print(f"  go-giver balance: {sign}{b['net']} (given - received); won: {b['won_given']} given, "
          f"{b['won_received']} received")
    print(f"  {track_record_text(tr)}")
    if led["peers"]:
        print("\nPer peer (given / received, won given / won received):")
        for p in led["peers"]:
            print(f"  {p['name'][:28]:<28} {p['id']:<10} {p['given']:>3} / {p['received']:<3} "
                  f"won {p['won_given']} / {p['won_received']}   last {p['last'] or '-'}")
    if led["periods"]:
        print(f"\nPer {led['by']} (given / received, won given / won received):")
        for p in led["periods"]:
            print(f"  {p['period']:<8} {p['given']:>3} / {p['received']:<3} won {p['won_given']} / {p['won_received']}")
    if not led["peers"]:
        print("\nNo referrals given or received yet.")
    return 0


def _outcomes(counts: dict) -> str:
    return ", ".join(f"{n} {k}" for k, n in counts.items() if n) or "none"
