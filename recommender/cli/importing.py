"""``fracnet import``: load a folder of CSVs or a LinkedIn export."""

from __future__ import annotations

import sys

from recommender.cli._common import add_command, open_store, print_json
from recommender.errors import UsageError
from recommender.progress import wants_progress
from recommender.words import plural


def register(sub) -> None:
    p = add_command(sub, "import", run, "import a folder of CSVs, or a LinkedIn Connections.csv",
                    """Import a folder of CSVs (people.csv required; companies, ties, introductions, opportunities,
                    referrals optional) or LinkedIn's Connections.csv. All or nothing: on any problem nothing is
                    written.""")
    p.add_argument("path", help="a folder of CSVs, or Connections.csv with --format linkedin")
    p.add_argument("--format", choices=("csv", "linkedin"), default="csv", help="input format (default: csv folder)")
    p.add_argument("--owner", metavar="PERSON_ID", help="whose LinkedIn connections these are (with --format linkedin; default: me)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    from recommender.io.csv_folder import import_folder
    from recommender.io.linkedin import import_linkedin

    progress = wants_progress(args.quiet or args.json)
    no_owner = UsageError("--format linkedin needs --owner PERSON_ID, or 'me' set",
                          hint="the person whose connections these are; or run 'fracnet me --set-id ID' "
                               "or 'fracnet me --new --name NAME' first")
    if args.format == "linkedin" and not args.owner:
        from pathlib import Path

        from recommender.store import default_db_path

        if not Path(args.db or default_db_path()).exists():  # a new database has no 'me': refuse before creating it
            raise no_owner
    store = open_store(args, create=True)
    try:
        if args.format == "linkedin" and not args.owner:
            from recommender.practice.owner import get_me

            args.owner = get_me(store)
            if not args.owner:
                raise no_owner
        if args.format == "linkedin":
            report = import_linkedin(store, args.path, args.owner, progress=progress)
        else:
            report = import_folder(store, args.path, progress=progress)
        counts = store.counts()
    finally:
        store.close()
    if args.json:
        print_json({"db": str(store.path), **report.as_dict(), "counts": counts})
        return 0
    for w in report.warnings[:20]:
        print(f"fracnet: warning: {w}", file=sys.stderr)
    if len(report.warnings) > 20:
        print(f"fracnet: {len(report.warnings) - 20} more warnings (see --json)", file=sys.stderr)
    written = ", ".join(f"{n} {name}" for name, n in report.written.items()) or "nothing"
    print(f"Imported {written} into {store.path}.")
    if report.merged_people:
        print(f"{plural(report.merged_people, 'person', 'people')} matched "
              f"{'one' if report.merged_people == 1 else 'ones'} already in the database (by email or profile URL).")
    print("Database now holds " + ", ".join(f"{n} {name}" for name, n in counts.items()) + ".")
    return 0
