"""Give memory freed by large temporaries back to the operating system (:func:`release_freed_memory`).

Building a graph of millions of ties allocates many short-lived arrays of
tens to hundreds of megabytes. Freed, they are not always returned: glibc's
allocator keeps freed heap pages (its threshold for mapping an allocation on
its own grows with the largest one freed, up to 32 MB, so later arrays below
that come from the heap) and Arrow's memory pool keeps what pandas' Arrow
strings released. At 1M people the fit's resident memory grew by 1.5 GB while
encoding the ties, for 0.6 GB of arrays actually alive. A long job calls
:func:`release_freed_memory` between its stages, so what one stage freed does
not add to the next stage's peak.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_LIBC = None


def _libc():
    global _LIBC
    if _LIBC is None:
        _LIBC = False
        if sys.platform.startswith("linux"):
            try:
                lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                _LIBC = lib if hasattr(lib, "malloc_trim") else False
            except OSError:
                pass
    return _LIBC


def release_freed_memory() -> None:
    """Return freed heap pages (glibc ``malloc_trim``) and Arrow's unused pool memory to the system.

    Changes no data; a no-op where neither applies (another C library, no pyarrow loaded).
    """
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        try:
            arrow.default_memory_pool().release_unused()
        except Exception:  # an old pyarrow without release_unused: nothing to give back
            pass
    lib = _libc()
    if lib:
        lib.malloc_trim(0)
