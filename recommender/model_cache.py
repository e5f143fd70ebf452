"""Fitted models cached on disk, bound to the data they were fitted on.

Fitting the "who to meet" ranker takes seconds on a sample and longer on a
big network; answering with a fitted model takes milliseconds. The CLI and the
explorer therefore keep the fitted :class:`~recommender.meet.model.MeetModel` in a
folder beside the database (``<db>.models/``), and the CLI the fitted referral
:class:`~recommender.refer.router.Router` too (:func:`router`).

Rules (issue 18)
----------------
* A cached model is keyed by the database's **identity** (a random id made
  when the database was created, :attr:`Store.identity`), its write
  **revision**, the ``as_of`` date and the fracnet version. A replaced file or
  a restore from another database has another identity, so it never matches.
* When a model is cached, the SHA-256 of its file is recorded **in the
  database** (a ``meta`` row, written in a transaction that does not raise the
  revision). A model file is read only when its bytes hash to the value
  the database records for its key: a restore brings back the backup's
  records, so a model fitted after the backup was taken (say, before a new
  opt-out) is never used again; a file someone placed in the folder is never
  read. Anything else is ignored, with a warning, and the model refitted.
* Files are written atomically with mode ``0600``; old files are removed.

The file holds the model's state, arrays and JSON
(:mod:`recommender.meet.persistence`), never a pickle: reading one runs no
code, and a cached model loads as a
:class:`~recommender.meet.scoring.MeetScorer`, which answers without
importing scikit-learn or pandas. The key includes
:data:`~recommender.meet.persistence.MODEL_FORMAT_VERSION`, so a cache
written by another format is simply not found, and refitted.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

from recommender import __version__
from recommender.errors import FracnetError, FracnetWarning

KEEP = 3  # cached model files kept per database
_HASH_CHUNK = 1 << 20


def cache_dir(store) -> Path:
    return store.path.with_name(store.path.name + ".models")


def revision_key(store) -> tuple[str, int, str | None]:
    """The one cache key of a database's contents: its path, write revision (every commit raises it) and
    identity (a restore gives the database a new one, so a restored revision number never repeats a key)."""
    return str(store.path.resolve()), store.revision, store.identity


#: What the explorer's caches read (issue 17), the one rule for their keys: the network's **structure**
#: (the who-to-meet model, people facts, the trust graph, the router's people, brokers, communities)
#: and its referral **history** (the ledger, the router's track records). Logging a referral or an
#: outreach item leaves the structure as it was.
STRUCTURE_TABLES = ("people", "companies", "ties", "introductions")
HISTORY_TABLES = ("referrals", "opportunities")


def tables_key(store, tables=STRUCTURE_TABLES) -> tuple:
    """The cache key of what ``store`` holds in ``tables``: its path, identity and the tables' write counts
    (:meth:`Store.table_revisions`; the whole revision when an unstamped write makes them unknown)."""
    revs = store.table_revisions(tables)
    return (str(store.path.resolve()), store.identity, tuple(tables),
            revs if revs is not None else ("revision", store.revision))


def cache_key(store, as_of=None, tables=STRUCTURE_TABLES) -> str | None:
    """The key of a model fitted on what ``store`` holds in ``tables`` (as of ``as_of``): the database's
    identity and those tables' revisions, the explorer's rule (:func:`tables_key`). So a write elsewhere keeps
    the model: a logged referral keeps the "who to meet" model (it reads the structure only), an outreach item
    keeps both. None: the database has no identity."""
    ident = store.identity
    if not ident:
        return None
    from recommender.meet.persistence import MODEL_FORMAT_VERSION

    # not the path: a copied file keeps its models
    revs = tables_key(store, tables)[2:]
    raw = f"{ident}|{revs}|{as_of or ''}|{__version__}|{MODEL_FORMAT_VERSION}"
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


SUFFIX = ".npz"  # a zip of .npy arrays and meta.json (recommender.meet.persistence)


#: What is cached, by kind: the file name prefix and the ``meta`` key prefix of its records.
KINDS = {"MeetModel": ("meet", "model:"), "Router": ("route", "router:")}


def model_file(store, key: str, sha256: str, kind: str = "MeetModel") -> Path:
    return cache_dir(store) / f"{KINDS[kind][0]}-{key}-{sha256[:16]}{SUFFIX}"


def has_cached_model(store) -> bool:
    """Whether the database records a cached meet model for its current revision (so :func:`meet_model` loads,
    not fits)."""
    key = cache_key(store)
    return bool(key and store.meta(KINDS["MeetModel"][1] + key))


def meet_model(store, as_of=None, *, network=None, use_cache: bool = True):
    """A fitted "who to meet" model for ``store`` (as of ``as_of``): from the cache, or fitted and cached.

    Parameters
    ----------
    store : Store
    as_of : str, optional
    network : Network, optional
        The network already loaded from ``store`` (saves reading it again).
    use_cache : bool
        False always fits (and does not write the cache).

    Returns
    -------
    MeetScorer
        A :class:`~recommender.meet.model.MeetModel` when fitted here, its
        answering half :class:`~recommender.meet.scoring.MeetScorer` when
        loaded from the cache (the same answers, no scikit-learn).
    """
    from recommender.dates import parse_as_of

    day = parse_as_of(as_of)

    def fit(net):
        from recommender.meet.model import MeetModel  # fitting: scikit-learn and pandas are loaded here

        return MeetModel().fit(net, as_of=day)

    return _cached(store, "MeetModel", cache_key(store, day) if use_cache else None, fit, network)


def router(store, *, network=None, use_cache: bool = True):
    """A fitted referral router for ``store``: from the cache, or fitted (``Router().fit``) and cached.

    Returns a :class:`~recommender.refer.router.Router` when fitted here, its
    answering half :class:`~recommender.refer.routes.RouteAnswers` when loaded
    (the same routes, no scikit-learn or pandas).
    """

    def fit(net):
        from recommender.refer.router import Router

        return Router().fit(net)

    return _cached(store, "Router", cache_key(store, tables=STRUCTURE_TABLES + HISTORY_TABLES) if use_cache else None,
                   fit, network)


def _cached(store, kind: str, key: str | None, fit, network):
    if key is not None:
        model = _load_cached(store, key, kind)
        if model is not None:
            return model
    from recommender.network import load_network

    net = network if network is not None else load_network(store)
    model = fit(net)
    if key is not None:
        try:
            _save_cached(store, key, model, kind)
        except (OSError, FracnetError):
            pass  # a read-only folder or database: answer without caching
        except (TypeError, ValueError) as exc:  # a state that cannot be stored: a bug, but never a failed answer
            _warn(f"the {kind} was not cached: {exc}")
    return model


def _load_cached(store, key: str, kind: str = "MeetModel"):
    """The cached model for ``key`` if its file's SHA-256 is the one the database records; else None."""
    prefix, meta = KINDS[kind]
    recorded = store.meta(meta + key)
    folder = cache_dir(store)
    if not recorded:
        stray = sorted(folder.glob(f"{prefix}-{key}-*")) if folder.is_dir() else []
        if stray:
            _warn(f"ignored {stray[0]}: the database records no model for it; fitting the model again")
        return None
    path = model_file(store, key, recorded, kind)
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return None
    except OSError as exc:
        _warn(f"ignored {path}: {exc.strerror}; fitting the model again")
        return None
    with fh:
        digest = hashlib.sha256()
        for chunk in iter(lambda: fh.read(_HASH_CHUNK), b""):
            digest.update(chunk)
        if digest.hexdigest() != recorded:
            _warn(f"ignored {path}: its SHA-256 is not the one recorded in {store.path}; fitting the model again")
            return None
        fh.seek(0)  # the very bytes just checked (same open file), never the path again
        try:
            return _read_model(fh, path, kind)
        except FracnetError as exc:
            _warn(f"ignored {path}: {exc}; fitting the model again")
            return None


def _read_model(fh, path, kind: str = "MeetModel"):
    """The answering object in the open model file ``fh`` (ModelFileError for anything else)."""
    from importlib import import_module

    from recommender.meet.persistence import ANSWERING_CLASSES, ModelFileError, read_state

    state = read_state(fh, kind, path)
    module, name = ANSWERING_CLASSES[kind]
    try:
        return getattr(import_module(module), name).from_state(state)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a well-formed file of the wrong shape
        raise ModelFileError(f"{path} is not a readable fracnet model file ({type(exc).__name__})") from None


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _save_cached(store, key: str, model, kind: str = "MeetModel") -> Path | None:
    """Write the model's state (atomically, mode 0600), then record its SHA-256 in the database.

    A model whose state cannot be saved (a router with its own taxonomy) is not cached: None.
    """
    from recommender.io.atomic import atomic_write
    from recommender.meet.persistence import write_state

    try:
        state = model.to_state()
    except ValueError:
        return None
    folder = cache_dir(store)
    folder.mkdir(mode=0o700, exist_ok=True)
    prefix = KINDS[kind][0]
    staging = folder / f".{prefix}-{key}.{os.getpid()}{SUFFIX}"
    atomic_write(staging, lambda fh: write_state(fh, kind, state), mode=0o600)
    sha = _file_sha256(staging)  # the staged file is this process's own (0600, a private name)
    path = model_file(store, key, sha, kind)
    os.replace(staging, path)
    try:
        _prune(store, folder, keep_key=key, keep_sha=sha, kind=kind)
    except (OSError, FracnetError):  # not recorded (a read-only database): never leave an unrecorded file
        path.unlink(missing_ok=True)
        raise
    return path


def _prune(store, folder: Path, *, keep_key: str, keep_sha: str, kind: str = "MeetModel") -> None:
    """Record the new model; keep the newest KEEP files of its kind and only their records."""
    prefix, meta = KINDS[kind]
    files = sorted(folder.glob(f"{prefix}-*{SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)
    kept, dropped = [], []
    for p in files:
        (kept if len(kept) < KEEP else dropped).append(p)
    kept_keys = {p.name.split("-")[1] for p in kept} | {keep_key}
    stale = [k for k in store.meta_like(meta) if k[len(meta):] not in kept_keys]
    store.write_meta({meta + keep_key: keep_sha}, delete=stale)
    dropped += folder.glob("meet-*.pkl")  # caches of the pickle format (before version 11): never read again
    for p in dropped:
        try:
            os.unlink(p)
        except OSError:
            pass
    for p in folder.glob(f"{prefix}-{keep_key}-*{SUFFIX}"):  # older fits for the same key
        if p.name != f"{prefix}-{keep_key}-{keep_sha[:16]}{SUFFIX}":
            try:
                os.unlink(p)
            except OSError:
                pass


def _warn(message: str) -> None:
    warnings.warn(message, FracnetWarning, stacklevel=3)
