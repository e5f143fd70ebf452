"""Two file rules at the bottom of the tree (the store uses them too; :mod:`recommender.io.atomic` writes with them).

* :func:`file_error`: an OSError (or SQLite's "disk is full") on a path as one
  line naming the path, with a suggestion (disk full, permissions, read-only).
* :func:`usual_file_mode`: ``0666`` less the umask, the mode every other
  program gives the files it creates (``mkstemp`` alone gives ``0600``).

>>> file_error("/x/out.csv", OSError(28, "No space left on device")).exit_code
8
>>> str(file_error("/x/out.csv", OSError(28, "No space left on device")))
'cannot write /x/out.csv: No space left on device (the disk is full; free some space and try again)'
"""

from __future__ import annotations

import errno
import os

from recommender.errors import FileAccessError

_HINTS = {
    errno.ENOSPC: "the disk is full; free some space and try again",
    errno.EDQUOT: "the disk quota is exceeded; free some space and try again",
    errno.EACCES: "check the permissions of the file and its folder",
    errno.EPERM: "check the permissions of the file and its folder",
    errno.EROFS: "the file system is read-only; choose another folder",
    errno.ENOENT: "check that the folder exists",
    errno.ELOOP: "the path is a symbolic link loop",
}


def file_error(path, exc: BaseException, verb: str = "write") -> FileAccessError:
    """The one-line error for an OSError (or SQLite I/O error) on ``path``: what, where, a suggestion."""
    code = getattr(exc, "errno", None)
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    if code is None and "full" in reason:  # SQLite: "database or disk is full"
        code = errno.ENOSPC
    return FileAccessError(f"cannot {verb} {path}: {reason}", hint=_HINTS.get(code))


def usual_file_mode() -> int:
    """``0o666`` less the process umask: the mode other programs give the files they create."""
    return 0o666 & ~_umask()


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask would race with other threads)
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    m = os.umask(0o022)
    os.umask(m)
    return m
