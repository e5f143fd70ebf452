"""``fracnet backup OUT`` and ``fracnet restore IN``: consistent copies, safe while in use."""

from __future__ import annotations

from pathlib import Path

from recommender.cli._common import add_command, open_store, print_json
from recommender.errors import UsageError


def register(sub) -> None:
    p = add_command(sub, "backup", run_backup, "write a consistent copy of the database (safe while it is in use)")
    p.add_argument("out", help="the backup file to write")

    r = add_command(sub, "restore", run_restore, "replace the database with a backup (checked first)")
    r.add_argument("backup", help="a file written by 'fracnet backup'")
    r.add_argument("--yes", "-y", action="store_true",
                   help="replace the database without asking (needed when stdin is not a terminal)")
    r.add_argument("--wait", type=float, default=5.0, metavar="SECONDS",
                   help="how long to wait for a running writer (e.g. an import) before refusing (default: 5)")


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
    import sys

    from recommender.store.backup import check_backup, check_restore_target, restore
    from recommender.store.db import default_db_path

    target = Path(args.db) if args.db else default_db_path()
    if not 0 <= args.wait <= 3600:
        raise UsageError(f"--wait must be between 0 and 3600 seconds, got {args.wait}")
    counts = check_backup(args.backup)  # an empty, corrupt or foreign backup is refused before anything else
    check_restore_target(target)
    if target.exists() and target.stat().st_size and not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(f"restore replaces {target} with {args.backup}; confirm with --yes",
                             hint="stdin is not a terminal, so fracnet cannot ask")
        answer = input(f"Replace {target} with {args.backup} (" + ", ".join(f"{n} {k}" for k, n in counts.items())
                       + f")? A copy of the current database is kept beside it. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing restored.")
            return 1
    result = restore(args.backup, target, wait=args.wait)
    if args.json:
        print_json(result)
    else:
        kept = f"; the replaced database is kept as {result['kept']}" if result["kept"] else ""
        print(f"Restored {target} from {args.backup} (" + ", ".join(f"{n} {k}" for k, n in result["counts"].items())
              + f"){kept}.")
    return 0
