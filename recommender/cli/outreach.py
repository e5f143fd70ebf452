"""``fracnet outreach add|list|set|remove``: my saved outreach pipeline."""

from __future__ import annotations

from recommender.cli._common import add_command, add_group, open_store, print_json

STATUS_HELP = ("to_contact, asked_introducer, introduced, met, follow_up, closed, not_now, not_relevant "
               "(words work too: 'asked the introducer')")


def register(sub) -> None:
    inner = add_group(sub, "outreach", "my saved outreach pipeline: add, list, set a status, remove",
                      """The people I am working through, saved in the database: status (to contact -> asked the
                      introducer -> introduced -> met -> follow up -> closed, or not now / not relevant),
                      follow-up date, introducer and note. A 'not relevant' person is no longer suggested to me.
                      Needs 'me' (fracnet me --set-id ID).""", dest="action", metavar="ACTION")

    add = add_command(inner, "add", run_add, "put a person on my list")
    add.add_argument("person", metavar="PERSON")
    add.add_argument("--note")
    add.add_argument("--follow-up", dest="follow_up", metavar="DATE", help="YYYY-MM-DD, today, +7d or +2w")
    add.add_argument("--introducer", metavar="PERSON", help="who introduces us (default: the strongest mutual contact)")
    add.add_argument("--source", help="how I found them (default: added by hand)")

    ls = add_command(inner, "list", run_list, "my list, in pipeline order")
    ls.add_argument("--status", metavar="S", help=STATUS_HELP)

    st = add_command(inner, "set", run_set, "change an item's status, follow-up date or note")
    st.add_argument("item", metavar="ITEM", help="item id (or the person's id)")
    st.add_argument("status", metavar="STATUS", nargs="?", help=STATUS_HELP)
    st.add_argument("--follow-up", dest="follow_up", metavar="DATE", help="YYYY-MM-DD, today, +7d or +2w")
    st.add_argument("--note")

    rm = add_command(inner, "remove", run_remove, "take an item off my list")
    rm.add_argument("item", metavar="ITEM")


def _line(it: dict) -> str:
    fu = f"follow up {it['follow_up']}" + (" (due)" if it["due"] else "") if it["follow_up"] else "no follow-up"
    via = f", via {it['introducer']}" if it["introducer"] else ""
    note = f" | {it['note']}" if it["note"] else ""
    return f"[{it['id']}] {it['name']} ({it['person_id']}){via}: {it['status_label']}, {fu}{note}"


def run_add(args) -> int:
    from recommender.practice.pipeline import add_item

    with open_store(args) as store:
        it = add_item(store, args.person, note=args.note, follow_up=args.follow_up, source=args.source,
                      introducer_id=args.introducer)
    if args.json:
        print_json(it)
    else:
        print(("Added " if it["added"] else "Already on your list: ") + _line(it))
    return 0


def run_list(args) -> int:
    from recommender.practice.pipeline import list_items

    with open_store(args) as store:
        items = list_items(store, status=args.status)
    if args.json:
        print_json({"items": items})
        return 0
    if not items:
        print("Your outreach list is empty" + (f" for status {args.status}" if args.status else "")
              + "; add someone with 'fracnet outreach add PERSON'.")
    for it in items:
        print(_line(it))
    return 0


def run_set(args) -> int:
    from recommender.practice.pipeline import set_item

    with open_store(args) as store:
        it = set_item(store, args.item, args.status, follow_up=args.follow_up, note=args.note)
    if args.json:
        print_json(it)
    else:
        print(_line(it))
    return 0


def run_remove(args) -> int:
    from recommender.practice.pipeline import remove_item

    with open_store(args) as store:
        it = remove_item(store, args.item)
    if args.json:
        print_json({"removed": it})
    else:
        print(f"Removed [{it['id']}] {it['name']} ({it['person_id']}) from your list.")
    return 0
