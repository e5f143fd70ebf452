"""``fracnet export``: write the database back out as CSVs."""

from __future__ import annotations

from recommender.cli._common import add_db_option, add_json_option, open_store, print_json


def register(sub) -> None:
    p = sub.add_parser("export", help="export every table as CSV (the import format)",
                       description="Write people, companies, ties, introductions, opportunities and referrals "
                                   "as CSVs in DIR; 'fracnet import DIR' reads them back.")
    p.add_argument("dir", help="output folder (created if missing)")
    add_db_option(p)
    add_json_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from recommender.io.csv_folder import export_folder

    with open_store(args) as store:
        counts = export_folder(store, args.dir)
    if args.json:
        print_json({"dir": args.dir, "written": counts})
    else:
        print(f"Wrote {', '.join(f'{n} {k}' for k, n in counts.items())} to {args.dir}/")
    return 0
