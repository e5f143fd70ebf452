"""The ``fracnet`` command line: parse, call the library, print.

Each subcommand lives in its own module in this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a
function ``run(args) -> int``. :func:`main` takes a plain argv list so tests
call it directly.

Exit codes
----------
0 success; 1 unexpected error; 2 usage error; 3 invalid input data;
4 database problem; 5 unknown id; 6 model not fitted; 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from recommender import __version__
from recommender.errors import DataValidationError, FracnetError

#: Subcommand modules, in the order ``fracnet --help`` lists them.
COMMAND_MODULES = (
    "demo_data",
    "importing",
    "exporting",
    "stats",
    "meet",
    "refer",
    "referral",
    "ledger",
    "me",
    "outreach",
    "touch",
    "week",
    "connect",
    "batch",
    "evaluate",
    "backup",
    "app",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit code 2
        self.print_usage(sys.stderr)
        self.exit(2, f"fracnet: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="fracnet",
        description="fracnet: who should I meet next, and who do I refer this opportunity to?",
    )
    parser.add_argument("--version", action="version", version=f"fracnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(f"recommender.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (without the program name); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except DataValidationError as exc:
        for p in exc.problems:
            print(f"fracnet: error: {p}", file=sys.stderr)
        if exc.hint:
            print(f"fracnet: hint: {exc.hint}", file=sys.stderr)
        if len(exc.problems) > 1:
            print(f"fracnet: {len(exc.problems)} problems; nothing was written", file=sys.stderr)
        return exc.exit_code
    except FracnetError as exc:
        print(f"fracnet: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("fracnet: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def entrypoint() -> None:
    """Console-script entry point."""
    sys.exit(main())
