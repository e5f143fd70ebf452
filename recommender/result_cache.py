"""Results computed from a whole network (brokers, communities), cached on disk beside the model.

The explorer's whole-network insights take tens of seconds on a 100k-person
network, so they are computed once per revision of the data they read
(:func:`recommender.model_cache.tables_key`) and kept in the model cache folder
(``<db>.models/``), with the same rules as the model (issue 18):

* a file is written atomically (:func:`recommender.io.atomic.atomic_write`), mode ``0600``;
* its SHA-256 is recorded **in the database** (a ``meta`` row that raises no revision), and a file
  is read only when its bytes hash to the recorded value, so a restored database never reads a
  result computed for another, and a file someone placed in the folder is never read;
* results are JSON (never unpickled); the newest :data:`KEEP` per name are kept.

Example
-------
>>> import os, tempfile
>>> from recommender.store.db import Store
>>> with Store(os.path.join(tempfile.mkdtemp(), "x.db")) as s:
...     first = cached(s, "demo", ("k", 1), lambda: {"answer": 42})
...     again = cached(s, "demo", ("k", 1), lambda: {"answer": 0})
>>> first, again
(({'answer': 42}, False), ({'answer': 42}, True))
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

from recommender.errors import FracnetError
from recommender.model_cache import cache_dir

KEEP = 2  # result files kept per name
_META_PREFIX = "result:"


def digest(key) -> str:
    """A short stable name for a cache key (a tuple of plain values)."""
    return hashlib.sha256(repr(key).encode()).hexdigest()[:20]


def _meta_key(name: str, key) -> str:
    return f"{_META_PREFIX}{name}:{digest(key)}"


def _file(store, name: str, key, sha: str) -> Path:
    return cache_dir(store) / f"{name}-{digest(key)}-{sha[:16]}.json"


def load(store, name: str, key):
    """The result stored for ``(name, key)`` if its file hashes to the recorded SHA-256; else None."""
    recorded = store.meta(_meta_key(name, key))
    if not recorded:
        return None
    try:
        data = _file(store, name, key, recorded).read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != recorded:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def save(store, name: str, key, result) -> Path:
    """Write ``result`` (JSON-able) for ``(name, key)``, record its SHA-256, drop older files of ``name``."""
    from recommender.io.atomic import atomic_write

    data = json.dumps(result, separators=(",", ":"), sort_keys=True).encode()
    sha = hashlib.sha256(data).hexdigest()
    folder = cache_dir(store)
    folder.mkdir(mode=0o700, exist_ok=True)
    path = atomic_write(_file(store, name, key, sha), lambda fh: fh.write(data), mode=0o600)
    files = sorted(folder.glob(f"{name}-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    kept = {p.name.split("-")[-2] for p in files[:KEEP]} | {digest(key)}
    stale = [k for k in store.meta_like(f"{_META_PREFIX}{name}:") if k.rsplit(":", 1)[-1] not in kept]
    try:
        store.write_meta({_meta_key(name, key): sha}, delete=stale)
    except FracnetError:  # a read-only database: never leave an unrecorded file
        path.unlink(missing_ok=True)
        raise
    for p in files[KEEP:]:
        if p != path:
            try:
                os.unlink(p)
            except OSError:
                pass
    return path


def cached(store, name: str, key, compute: Callable[[], object]) -> tuple[object, bool]:
    """``(result, from_cache)``: the stored result for ``(name, key)``, or ``compute()`` stored for next time."""
    found = load(store, name, key)
    if found is not None:
        return found, True
    result = compute()
    try:
        save(store, name, key, result)
    except (OSError, FracnetError):
        pass  # a read-only folder or database: answer without caching
    return result, False
