"""``fracnet backup OUT`` and ``fracnet restore IN``: consistent copies, safe while in use."""

from __future__ import annotations

from pathlib import Path

from recommender.cli._common import add_db_option, add_json_option, open_store, print_json
from recommender.errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("backup", help="write a consistent copy of the database (safe while it is in use)")
    p.add_argument("out", help="the backup file to write")
    add_db_option(p)
    add_json_option(p)
    p.set_defaults(func=run_backup)

    r = sub.add_parser("restore", help="replace the database with a backup (checked first)")
    r.add_argument("backup", help="a file written by 'fracnet backup'")
    add_db_option(r)
    add_json_option(r)
    r.set_defaults(func=run_restore)


def run_backup(args) -> int:
    out = Path(args.out)
    if out.is_dir():
        raise UsageError(f"{out} is a folder", hint=f"give a file name, e.g. {out / 'fracnet-backup.db'}")
    if not out.parent.exists():
        raise UsageError(f"cannot write {out}: folder {out.parent} does not exist")
    with open_store(args) as store:
        store.backup(out)
        counts = store.counts()
    if args.json:
        print_json({"backup": str(out), "counts": counts})
    else:
        print(f"Backed up {store.path} to {out} (" + ", ".join(f"{n} {k}" for k, n in counts.items()) + ").")
    return 0


def run_restore(args) -> int:
    from recommender.store.db import Store, default_db_path, restore

    target = Path(args.db) if args.db else default_db_path()
    restore(args.backup, target)
    with Store(target) as s:
        counts = s.counts()
    if args.json:
        print_json({"restored": str(target), "from": args.backup, "counts": counts})
    else:
        print(f"Restored {target} from {args.backup} (" + ", ".join(f"{n} {k}" for k, n in counts.items()) + ").")
    return 0
