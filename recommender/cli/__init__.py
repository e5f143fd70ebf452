"""The ``fracnet`` command line: parse, call the library, print.

Each subcommand lives in its own module in this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a
function ``run(args) -> int``. :func:`main` takes a plain argv list so tests
call it directly.

Exit codes
----------
0 success; 1 unexpected error; 2 usage error; 3 invalid input data;
4 database problem; 5 unknown id; 6 model not fitted; 7 Dask scheduler unreachable;
8 a file could not be read or written (disk full, permission denied); 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from typing import Sequence

from recommender import __version__
from recommender.cli.terminal import terminal_safe
from recommender.errors import DataValidationError, FracnetError, FracnetWarning, bounded

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
    "users",
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
    """Run the CLI with ``argv`` (without the program name); return the exit code.

    Every failure is one line on stderr and a documented exit code; text
    output passes through :func:`~recommender.cli.terminal.terminal_safe`.
    """
    from recommender.cli.terminal import SafeStream

    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    out = sys.stdout
    sys.stdout = SafeStream(out)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", FracnetWarning)
            warnings.showwarning = _show_warning
            return _run(args)
    finally:
        sys.stdout = out


def _error(text: str) -> None:
    print(f"fracnet: error: {terminal_safe(text)}", file=sys.stderr)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    if issubclass(category, FracnetWarning):
        print(f"fracnet: warning: {terminal_safe(bounded(str(message)))}", file=sys.stderr)
    else:  # a library's warning: one line, not the source excerpt
        print(f"fracnet: warning: {category.__name__}: {terminal_safe(bounded(str(message)))}", file=sys.stderr)


def _db_of(args) -> str:
    from recommender.store.db import default_db_path

    return str(getattr(args, "db", None) or default_db_path())


def _run(args) -> int:
    import sqlite3

    try:
        return int(args.func(args) or 0)
    except DataValidationError as exc:
        for p in exc.problems:
            _error(str(p))
        if exc.hint:
            print(f"fracnet: hint: {terminal_safe(exc.hint)}", file=sys.stderr)
        if len(exc.problems) > 1:
            print(f"fracnet: {len(exc.problems)} problems; nothing was written", file=sys.stderr)
        return exc.exit_code
    except FracnetError as exc:
        _error(bounded(str(exc), 1000))
        return exc.exit_code
    except KeyboardInterrupt:
        print("fracnet: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except sqlite3.Error as exc:  # a database fault the library did not name: still one line, exit 4
        from recommender.store.db import sqlite_error

        err = sqlite_error(_db_of(args), exc)
        _error(str(err))
        return err.exit_code
    except OSError as exc:  # disk full, permission denied, ...: one line naming the path
        from recommender.io.atomic import file_error

        err = file_error(exc.filename or _db_of(args), exc, "read or write" if exc.filename is None else "use")
        _error(str(err))
        return err.exit_code
    except MemoryError:
        _error("out of memory; try a smaller --block-size or a machine with more memory")
        return 1
    except Exception as exc:  # never a traceback; FRACNET_DEBUG=1 shows it
        if os.environ.get("FRACNET_DEBUG"):
            raise
        _error(f"unexpected {type(exc).__name__}: {bounded(str(exc), 300)} (run with FRACNET_DEBUG=1 for details, "
               "and please report it)")
        return 1


def entrypoint() -> None:
    """Console-script entry point."""
    sys.exit(main())
