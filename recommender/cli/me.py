"""``fracnet me``: who I am in the network (stored in the database), my profile and my cadence."""

from __future__ import annotations

from recommender.cli._common import add_command, open_store, print_json

_FIELDS = ("name", "kind", "function", "title", "specialties", "industries", "icp_sizes", "regions", "capacity",
           "email", "profile_url", "bio")


def register(sub) -> None:
    p = add_command(sub, "me", run, "show, choose, create or edit me (the person the tool is used as)",
                    """Without options, show me. --set-id ID makes a person already in the network me; --new
                    --name NAME ... creates my profile and makes it me; field options alone edit my profile. Tags
                    go through the taxonomy ("Demand Gen" is demand-gen). Every command that takes a person (meet,
                    refer --from, ledger, export outreach, import --format linkedin) defaults to me once set.""")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--set-id", metavar="ID", help="make person ID me")
    how.add_argument("--new", action="store_true", help="create my profile (with --name and the fields below)")
    f = p.add_argument_group("my profile (with --new, or alone to edit)")
    f.add_argument("--name")
    f.add_argument("--kind", choices=("fractional", "executive"))
    f.add_argument("--function", help="e.g. marketing, finance, operations")
    f.add_argument("--title", help="e.g. Fractional CMO")
    f.add_argument("--specialties", metavar="TAGS", help="';'- or ','-separated, e.g. 'demand gen, abm'")
    f.add_argument("--industries", metavar="TAGS")
    f.add_argument("--icp-sizes", dest="icp_sizes", metavar="BANDS", help="e.g. 5-50m")
    f.add_argument("--regions", metavar="TAGS")
    f.add_argument("--capacity", metavar="N", help="open engagement slots")
    f.add_argument("--email")
    f.add_argument("--profile-url", dest="profile_url")
    f.add_argument("--bio")
    p.add_argument("--cadence", metavar="GROUP=DAYS", action="append", default=[],
                   help="days without contact before a strong tie is 'losing touch' (peers, adjacent, "
                        "executives; default 90, 90, 180); repeatable")


def _parse_cadence(items) -> dict:
    from recommender.errors import UsageError

    out = {}
    for raw in items:
        if "=" not in raw:
            raise UsageError(f"--cadence expects GROUP=DAYS, got {raw!r}", hint="fracnet me --cadence executives=120")
        g, d = raw.split("=", 1)
        out[g.strip()] = d.strip()
    return out


def run(args) -> int:
    import sys

    from recommender.errors import UsageError
    from recommender.practice import owner

    fields = {k: getattr(args, k) for k in _FIELDS if getattr(args, k) is not None}
    cad = _parse_cadence(args.cadence)  # checked before anything is written
    warnings: list[str] = []
    with open_store(args, create=bool(args.new)) as store:
        if args.set_id:
            if fields:
                raise UsageError("--set-id takes no profile fields; set me first, then edit",
                                 hint=f"fracnet me --set-id {args.set_id}, then fracnet me --title ...")
            owner.set_me(store, args.set_id)
            action = "set"
        elif args.new:
            if not fields.get("name"):
                raise UsageError("--new needs --name", hint="fracnet me --new --name 'Ada Lovelace' --function marketing")
            name = fields.pop("name")
            warnings = owner.create_me(store, name=name, **fields)["warnings"]
            action = "created"
        elif fields:
            warnings = owner.update_me(store, **fields)["warnings"]
            action = "edited"
        else:
            action = "shown"
        if cad:
            owner.set_cadence(store, cad)
        me = owner.my_profile(store)
        cadence = owner.cadence(store)
    for w in warnings:
        print(f"fracnet: warning: {w}", file=sys.stderr)
    if me is None:
        if args.json:
            print_json({"me": None, "cadence": cadence})
            return 0
        print("'me' is not set. Run 'fracnet me --set-id ID' (yourself in the network) or "
              "'fracnet me --new --name NAME --function F --specialties ...'.")
        return 0
    if args.json:
        print_json({"action": action, "me": me, "cadence": cadence})
        return 0
    verb = {"set": "Now you are", "created": "Created your profile:", "edited": "Updated your profile:",
            "shown": "You are"}[action]
    print(f"{verb} {me['name'] or me['id']} ({me['id']})")
    for k in ("kind", "function", "title", "specialties", "industries", "icp_sizes", "regions", "capacity", "email"):
        if me.get(k) not in (None, ""):
            print(f"  {k.replace('_', ' ')}: {str(me[k]).replace(';', ', ')}")
    print(f"  cadence: peers {cadence['peers']} d, adjacent {cadence['adjacent']} d, executives {cadence['executives']} d")
    return 0
