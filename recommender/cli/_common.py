"""Helpers shared by the subcommands: adding a command with its --db and --json options, option types, output.

Everything here runs while the command line is parsed, so it imports nothing
heavy: a usage error is printed before numpy, pandas or a model is loaded.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def positive_int(text: str) -> int:
    """An argparse type: a positive integer (a usage error before any heavy import)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def check_positive(value, option: str) -> None:
    """Refuse a count option below 1 with the one usage message (for counts not parsed by :func:`positive_int`)."""
    from recommender.errors import UsageError

    if value < 1:
        raise UsageError(f"{option} must be a positive integer, got {value}")


def int_between(low: int, high: int, option: str):
    """An argparse type: a whole number from ``low`` to ``high`` (the message names ``option``)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{option} must be a whole number from {low} to {high}, got {text}")
        return value

    parse.__name__ = "whole number"  # argparse names the type in its messages
    return parse


def hops(text: str) -> int:
    """An argparse type for ``--max-hops``: a whole number from 1 to :data:`recommender.refer.MAX_HOPS`."""
    from recommender.refer import MAX_HOPS

    return int_between(1, MAX_HOPS, "--max-hops")(text)


def add_command(sub, name: str, run, help: str, description: str | None = None, *, db: bool = True,
                json: bool = True) -> argparse.ArgumentParser:
    """Add subcommand ``name`` to ``sub`` and bind ``run`` (``args -> exit code``) to it.

    ``help`` is its line in the command list, ``description`` its own ``--help``
    text (whitespace is reflowed, so it may be a triple-quoted paragraph). The
    options every command shares, ``--db`` and ``--json``, are added in a
    section of their own (``db=False`` / ``json=False`` leave one out). Returns
    the parser for the command's own arguments.
    """
    p = sub.add_parser(name, help=help, description=description)
    p.set_defaults(func=run)
    if db or json:
        shared = p.add_argument_group(" and ".join(t for t, on in (("database", db), ("output", json)) if on))
        if db:
            add_db_option(shared)
        if json:
            add_json_option(shared)
    return p


def add_group(sub, name: str, help: str, description: str | None = None, *, dest: str, metavar: str,
              code: int = 2):
    """Add a command made of subcommands (``fracnet referral log|outcome``); returns its subparsers.

    Without a subcommand it prints its help and exits with ``code``.
    """
    p = sub.add_parser(name, help=help, description=description)
    p.set_defaults(func=lambda args: (p.print_help(), code)[1])
    return p.add_subparsers(dest=dest, metavar=metavar, parser_class=type(p))


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=None,
        help="SQLite database (default: $FRACNET_DB or ~/.fracnet/fracnet.db, created from the bundled sample)",
    )


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for machines instead of text")


def print_json(obj: Any) -> None:
    from recommender.cli.terminal import json_safe

    sys.stdout.write(json_safe(json.dumps(obj, indent=2, default=str, ensure_ascii=False)) + "\n")


def open_store(args: argparse.Namespace, *, create_sample: bool = True, create: bool = False):
    """Open the store named by ``--db`` (or the default one).

    A ``--db`` file that does not exist is an error (a mistyped path must not quietly become a new, empty
    network that every answer then misses), unless the command makes a network (``create``: ``import``,
    ``me --new``). The default database is created from the bundled sample on first use; its models are fitted
    when a command first answers with them, not on creation (an unknown id or ``stats`` fits nothing).
    """
    from recommender.sample import open_default_store
    from recommender.store.db import Store

    if getattr(args, "db", None):
        if not create:
            require_db(args.db)
        return Store(args.db)
    return open_default_store(create_sample=create_sample, warm=False)


def require_db(db) -> None:
    """Refuse a ``--db`` file that does not exist (StoreError, exit 4), naming the databases beside it and how to
    make one."""
    from recommender.errors import StoreError

    path = Path(db)
    if not path.exists():
        raise StoreError(f"database {path} does not exist", hint=_missing_db_hint(path))


def _missing_db_hint(path: Path) -> str:
    """What to try instead of a missing ``--db`` file: the databases beside it, or how to make one."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        near = sorted(p.name for p in folder.glob("*.db") if p.is_file())[:5]
    except OSError:
        near = []
    make = f"create it with 'fracnet import FOLDER --db {path}', or leave out --db for the bundled sample"
    if near:
        return f"databases in {folder}: {', '.join(near)}; or {make}"
    return make
