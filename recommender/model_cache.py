"""Fitted models cached on disk, keyed by the database's write revision.

Fitting the "who to meet" ranker takes seconds on a sample and longer on a
big network; answering with a fitted model takes milliseconds. The CLI and the
explorer therefore keep the fitted :class:`~recommender.meet.model.MeetModel` in a
folder beside the database (``<db>.models/``), named by the database's
:attr:`~recommender.store.db.Store.revision`, the ``as_of`` date and the fracnet
version. Any write to the database raises the revision, so a stale model is
never used; old files are removed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from recommender import __version__
from recommender.errors import FracnetError

KEEP = 3  # cached model files kept per database


def cache_dir(store) -> Path:
    return store.path.with_name(store.path.name + ".models")


def revision_key(store) -> tuple[str, int]:
    """The one cache key of a database's contents: its path and write revision (every commit raises it)."""
    return str(store.path.resolve()), store.revision


def cache_key(store, as_of=None) -> str:
    """The file name key of a cached model: :func:`revision_key`, the ``as_of`` date and the fracnet version."""
    path, revision = revision_key(store)
    raw = f"{path}|{revision}|{as_of or ''}|{__version__}"
    return hashlib.sha1(raw.encode()).hexdigest()[:16]


def meet_model(store, as_of=None, *, network=None, use_cache: bool = True):
    """A fitted MeetModel for ``store`` (as of ``as_of``): from the cache, or fitted and cached.

    Parameters
    ----------
    store : Store
    as_of : str, optional
    network : Network, optional
        The network already loaded from ``store`` (saves reading it again).
    use_cache : bool
        False always fits (and does not write the cache).
    """
    from recommender.network import load_network, parse_as_of
    from recommender.meet.model import MeetModel

    day = parse_as_of(as_of)
    folder = cache_dir(store)
    path = folder / f"meet-{cache_key(store, day)}.pkl"
    if use_cache and path.exists():
        try:
            return MeetModel.load(path)
        except FracnetError:
            path.unlink(missing_ok=True)  # unreadable: fit again
    net = network if network is not None else load_network(store)
    model = MeetModel().fit(net, as_of=day)
    if use_cache:
        try:
            folder.mkdir(exist_ok=True)
            model.save(path)
            _prune(folder)
        except OSError:
            pass  # a read-only folder: answer without caching
    return model


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("meet-*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        try:
            os.unlink(old)
        except OSError:
            pass
