"""``fracnet export``: the database as CSVs, or one person's outreach list.

* ``fracnet export DIR`` writes every table as CSV (the import format).
* ``fracnet export outreach [--person ID] [--per-group 15] --out FILE.{csv,xlsx}``
  writes the person's (default: my) saved pipeline, with status and follow-up
  date, then their "who to meet" suggestions, grouped, ready to work through.
* ``fracnet export followups --out FILE.ics`` writes my follow-up dates as iCalendar.
"""

from __future__ import annotations

from recommender.cli._common import add_command, open_store, positive_int, print_json
from recommender.errors import UsageError
from recommender.words import plural


def register(sub) -> None:
    p = add_command(sub, "export", run, "export every table as CSV, or a person's outreach list (export outreach ...)",
                    """'fracnet export DIR' writes people, companies, ties, introductions, opportunities and
                    referrals as CSVs in DIR ('fracnet import DIR' reads them back). 'fracnet export outreach
                    --person ID --out FILE.csv|.xlsx' writes that person's outreach list: name, company, title,
                    group, why, introducer, profile URL, email and a draft note. Opted-out people never appear;
                    cells a spreadsheet would run as a formula are neutralised.""")
    p.add_argument("target", metavar="DIR|outreach|followups",
                   help="output folder, or the word 'outreach' or 'followups'")
    p.add_argument("--person", metavar="ID", help="with 'outreach': whose list (default: me)")
    p.add_argument("--per-group", type=positive_int, default=15, metavar="N", help="with 'outreach': people per group (default 15)")
    p.add_argument("--out", metavar="FILE", help="with 'outreach': FILE.csv or FILE.xlsx; with 'followups': FILE.ics")


def run(args) -> int:
    if args.target == "outreach":
        return run_outreach(args)
    if args.target == "followups":
        return run_followups(args)
    if args.person or args.out:
        raise UsageError("--person and --out go with 'fracnet export outreach'",
                         hint="fracnet export outreach --person ID --out list.xlsx")
    from recommender.io.csv_folder import export_folder

    with open_store(args) as store:
        counts = export_folder(store, args.target)
    if args.json:
        print_json({"dir": args.target, "written": counts})
    else:
        print(f"Wrote {', '.join(f'{n} {k}' for k, n in counts.items())} to {args.target}/")
    return 0


def run_outreach(args) -> int:
    from pathlib import Path

    from recommender.network import load_network
    from recommender.model_cache import meet_model
    from recommender.outreach import write_outreach

    from recommender.practice.lists import outreach_list_rows
    from recommender.practice.owner import resolve_person

    if not args.out:
        raise UsageError("export outreach needs --out FILE.csv|.xlsx (and --person ID unless 'me' is set)",
                         hint="fracnet export outreach --person p0001 --out list.xlsx")
    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise UsageError(f"outreach lists are written as .csv or .xlsx, got {out.name!r}")
    if not out.parent.is_dir():
        raise UsageError(f"cannot write {out}: folder {out.parent} does not exist")
    with open_store(args) as store:
        from recommender.practice.owner import get_me

        if not args.person and get_me(store) is None:
            raise UsageError("export outreach needs --person ID, or 'me' set",
                             hint="fracnet export outreach --person p0001 --out list.xlsx, or run 'fracnet me --set-id ID'")
        args.person = resolve_person(store, args.person, "export outreach")  # unknown id: clear error, no work
        net = load_network(store)
        model = meet_model(store, network=net)
        rows = outreach_list_rows(store, args.person, model, net, per_group=args.per_group)
    write_outreach(rows, out)
    by_group: dict[str, int] = {}
    for r in rows:
        by_group[r["group"]] = by_group.get(r["group"], 0) + 1
    if args.json:
        print_json({"person": args.person, "out": str(out), "rows": len(rows), "by_group": by_group})
    else:
        print(f"Wrote {plural(len(rows), 'person', 'people')} to {out} (" + ", ".join(f"{g} {n}" for g, n in by_group.items()) + ").")
    return 0


def run_followups(args) -> int:
    from recommender.practice.calendar import write_followups_ics

    if not args.out:
        raise UsageError("export followups needs --out FILE.ics", hint="fracnet export followups --out followups.ics")
    with open_store(args) as store:
        res = write_followups_ics(store, args.out)
    if args.json:
        print_json(res)
    else:
        print(f"Wrote {res['events']} follow-ups to {res['out']} (iCalendar; import it into your calendar).")
    return 0
