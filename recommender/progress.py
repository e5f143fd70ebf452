"""Progress bars for long work: shown on a terminal, silent otherwise."""

from __future__ import annotations

import sys

def wants_progress(quiet: bool = False) -> bool:
    """True when a bar should be drawn: stderr is a terminal and not ``--quiet``."""
    return (not quiet) and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()


def progress_bar(total: int | None = None, desc: str = "", enabled: bool | None = None, unit: str = "it"):
    """A tqdm bar on stderr (or a silent stand-in with the same ``update``/``close`` API)."""
    if enabled is None:
        enabled = wants_progress()
    if not enabled:
        return _Silent()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True)


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def set_description(self, desc: str) -> None:
        pass

    def set_postfix_str(self, s: str) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass
