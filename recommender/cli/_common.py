"""Helpers shared by the subcommands: --db and --json options, output."""

from __future__ import annotations

import argparse
import json
import sys
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
    """Refuse a count option below 1 with the one usage message."""
    from recommender.errors import UsageError

    if value < 1:
        raise UsageError(f"{option} must be a positive integer, got {value}")


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


def open_store(args: argparse.Namespace, *, create_sample: bool = True):
    """Open the store named by ``--db`` (or the default one)."""
    from recommender.sample import open_default_store
    from recommender.store.db import Store

    if getattr(args, "db", None):
        return Store(args.db)
    return open_default_store(create_sample=create_sample)
