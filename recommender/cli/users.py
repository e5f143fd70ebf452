"""``fracnet users add|remove|list``: who may sign in to the explorer when it is served beyond this machine."""

from __future__ import annotations

import sys

from recommender.cli._common import add_command, add_group, print_json
from recommender.errors import UsageError


def register(sub) -> None:
    usub = add_group(sub, "users", "users who may sign in to the explorer (needed to serve it beyond this machine)",
                     """Manage the explorer's users file (YAML, bcrypt-hashed passwords, mode 0600; default
                     ~/.fracnet/users.yaml). 'fracnet app --address 0.0.0.0' requires it; the Data page's import
                     and backup need an admin.""", dest="users_command", metavar="ACTION", code=0)

    a = add_command(usub, "add", run_add, "add a user, or change their password, person or role", db=False)
    a.add_argument("username")
    a.add_argument("--name", help="display name (default: the user name)")
    a.add_argument("--person", metavar="ID", help="the database's person this user is (their 'me')")
    a.add_argument("--admin", action="store_true", help="may import data and download backups")
    a.add_argument("--password-stdin", action="store_true",
                   help="read the password from the first line of stdin (for scripts) instead of asking")
    a.add_argument("--config", metavar="FILE", help="users file (default: ~/.fracnet/users.yaml)")
    a.add_argument("--db", metavar="PATH", help="check --person against this database (default: the default one)")

    r = add_command(usub, "remove", run_remove, "remove a user", db=False, json=False)
    r.add_argument("username")
    r.add_argument("--config", metavar="FILE", help="users file (default: ~/.fracnet/users.yaml)")

    ls = add_command(usub, "list", run_list, "list the users (never their passwords)", db=False)
    ls.add_argument("--config", metavar="FILE", help="users file (default: ~/.fracnet/users.yaml)")


def _config(args):
    from pathlib import Path

    from recommender.users import default_users_path

    return Path(args.config) if args.config else default_users_path()


def _password(args) -> str:
    if args.password_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            raise UsageError("no password on stdin", hint="echo 'PASSWORD' | fracnet users add NAME --password-stdin")
        return line.rstrip("\r\n")
    import getpass

    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise UsageError("the two passwords differ; nothing was changed")
    return first


def run_add(args) -> int:
    from recommender.users import add_user

    if args.person:
        from recommender.cli._common import open_store

        with open_store(args) as store:
            store.get_person(args.person)  # unknown id: "did you mean"
    path = add_user(_config(args), args.username, _password(args), name=args.name, person=args.person,
                    admin=args.admin)
    if args.json:
        print_json({"users_file": str(path), "user": args.username, "admin": args.admin, "person": args.person})
    else:
        role = "an admin" if args.admin else "a viewer"
        print(f"{args.username} is {role} in {path}" + (f", signed in as {args.person}" if args.person else "") + ".")
    return 0


def run_remove(args) -> int:
    from recommender.users import remove_user

    path = remove_user(_config(args), args.username)
    print(f"Removed {args.username} from {path}.")
    return 0


def run_list(args) -> int:
    from recommender.users import load_users

    users = load_users(_config(args))
    rows = [{"user": u, "name": r.get("name"), "person": r.get("person"), "roles": r.get("roles") or []}
            for u, r in users.usernames.items()]
    if args.json:
        print_json(rows)
    else:
        for r in rows:
            print(f"{r['user']}\t{r['name']}\t{r['person'] or '-'}\t{','.join(r['roles'])}")
    return 0
