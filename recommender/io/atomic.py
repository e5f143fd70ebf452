"""Atomic file writes: a temporary file in the same folder, then a rename.

The one place fracnet writes output files. An interrupted or failed write
(disk full, permission denied) never leaves a half-written file at the target
path: the temporary file is removed, the previous file (if any) is kept, and
the failure is one :class:`~recommender.errors.FileAccessError` naming the path.
Files get the user's usual permissions (``0666`` less the umask), as any other
program's output would, unless a ``mode`` is given (the model cache uses ``0600``).

Example
-------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
>>> _ = atomic_write(p, lambda fh: fh.write(b"hello"))
>>> p.read_bytes()
b'hello'
>>> oct(p.stat().st_mode & 0o777) == oct(usual_file_mode())
True
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, IO, Iterable

from recommender.store.files import file_error, usual_file_mode  # noqa: F401  (the rules, at the bottom)


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], object], *, mode: int | None = None) -> Path:
    """Call ``write(fh)`` on a binary temp file beside ``path``, then rename it to ``path``.

    Raises
    ------
    FileAccessError
        The folder cannot be written, the disk is full, ...; ``path`` is untouched.
    """
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + path.name[:200] + ".", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise file_error(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.chmod(tmp, usual_file_mode() if mode is None else mode)
        os.replace(tmp, path)
    except OSError as exc:
        _discard(tmp)
        raise file_error(path, exc) from None
    except BaseException:
        _discard(tmp)
        raise
    return path


def atomic_write_many(items: Iterable[tuple[str | os.PathLike, Callable[[IO[bytes]], object]]]) -> list[Path]:
    """Write several files all or nothing: every temp file is written first, then all are renamed.

    A failure while writing (e.g. the disk fills up on the third file) leaves
    every target exactly as before.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, write in items:
            path = Path(path)
            try:
                fd, tmp = tempfile.mkstemp(prefix="." + path.name[:200] + ".", suffix=".tmp", dir=path.parent)
            except OSError as exc:
                raise file_error(path, exc) from None
            staged.append((tmp, path))
            try:
                with os.fdopen(fd, "wb") as fh:
                    write(fh)
                os.chmod(tmp, usual_file_mode())
            except OSError as exc:
                raise file_error(path, exc) from None
        for tmp, path in staged:
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise file_error(path, exc) from None
    except BaseException:
        for tmp, _ in staged:
            _discard(tmp)
        raise
    return [p for _, p in staged]


def _discard(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass


def ensure_writable_folder(folder: str | os.PathLike) -> Path:
    """Create ``folder`` if needed and check it can be written; UsageError otherwise (before any work)."""
    from recommender.errors import UsageError

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise UsageError(f"cannot write to {folder}: permission denied")
    return folder
