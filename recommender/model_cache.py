"""Fitted models cached on disk, bound to the data they were fitted on.

Fitting the "who to meet" ranker takes seconds on a sample and longer on a
big network; answering with a fitted model takes milliseconds. The CLI and the
explorer therefore keep the fitted :class:`~recommender.meet.model.MeetModel` in a
folder beside the database (``<db>.models/``).

Rules (issue 18)
----------------
* A cached model is keyed by the database's **identity** (a random id made
  when the database was created, :attr:`Store.identity`), its write
  **revision**, the ``as_of`` date and the fracnet version. A replaced file or
  a restore from another database has another identity, so it never matches.
* When a model is cached, the SHA-256 of its file is recorded **in the
  database** (a ``meta`` row, written in a transaction that does not raise the
  revision). A model file is unpickled only when its bytes hash to the value
  the database records for its key: a restore brings back the backup's
  records, so a model fitted after the backup was taken (say, before a new
  opt-out) is never used again; a file someone placed in the folder is never
  unpickled. Anything else is ignored, with a warning, and the model refitted.
* Files are written atomically with mode ``0600``; old files are removed.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import warnings
from pathlib import Path

from recommender import __version__
from recommender.errors import FracnetError, FracnetWarning

KEEP = 3  # cached model files kept per database
_META_PREFIX = "model:"
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


def cache_key(store, as_of=None) -> str | None:
    """The key of the model for ``store``'s identity and revision (None: the database has no identity)."""
    ident = store.identity
    if not ident:
        return None
    raw = f"{ident}|{store.revision}|{as_of or ''}|{__version__}"  # not the path: a copied file keeps its models
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def has_cached_model(store) -> bool:
    """Whether the database records a cached model for its current revision (so :func:`meet_model` loads, not fits)."""
    key = cache_key(store)
    return bool(key and store.meta(_META_PREFIX + key))


def model_file(store, key: str, sha256: str) -> Path:
    return cache_dir(store) / f"meet-{key}-{sha256[:16]}.pkl"


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
    key = cache_key(store, day) if use_cache else None
    if key is not None:
        model = _load_cached(store, key)
        if model is not None:
            return model
    net = network if network is not None else load_network(store)
    model = MeetModel().fit(net, as_of=day)
    if key is not None:
        try:
            _save_cached(store, key, model)
        except (OSError, FracnetError):
            pass  # a read-only folder or database: answer without caching
    return model


def _load_cached(store, key: str):
    """The cached model for ``key`` if its file's SHA-256 is the one the database records; else None."""
    recorded = store.meta(_META_PREFIX + key)
    folder = cache_dir(store)
    if not recorded:
        stray = sorted(folder.glob(f"meet-{key}-*.pkl")) if folder.is_dir() else []
        if stray:
            _warn(f"ignored {stray[0]}: the database records no model for it; fitting the model again")
        return None
    path = model_file(store, key, recorded)
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
            return _read_model(fh, path)
        except FracnetError as exc:
            _warn(f"ignored {path}: {exc}; fitting the model again")
            return None


def _read_model(fh, path):
    from recommender.meet.persistence import MODEL_FORMAT, MODEL_FORMAT_VERSION, ModelFileError

    try:
        header = pickle.load(fh)
        if not (isinstance(header, dict) and header.get("format") == MODEL_FORMAT
                and header.get("version") == MODEL_FORMAT_VERSION and header.get("kind") == "MeetModel"):
            raise ModelFileError(f"{path} is not a current fracnet MeetModel file")
        return pickle.load(fh)
    except ModelFileError:
        raise
    except Exception as exc:  # truncated or corrupt
        raise ModelFileError(f"{path} is not a readable fracnet model file ({type(exc).__name__})") from None


class _HashingWriter:
    def __init__(self, fh):
        self.fh = fh
        self.sha = hashlib.sha256()

    def write(self, data) -> int:
        self.sha.update(data)
        return self.fh.write(data)


def _save_cached(store, key: str, model) -> Path:
    """Write the model (atomically, mode 0600), then record its SHA-256 in the database."""
    from recommender.io.atomic import atomic_write
    from recommender.meet.persistence import MODEL_FORMAT, MODEL_FORMAT_VERSION

    folder = cache_dir(store)
    folder.mkdir(mode=0o700, exist_ok=True)
    header = {"format": MODEL_FORMAT, "version": MODEL_FORMAT_VERSION, "kind": "MeetModel", "fracnet": __version__}
    model._check()
    staging = folder / f".meet-{key}.{os.getpid()}.pkl"
    holder = {}

    def write(fh):
        w = _HashingWriter(fh)
        pickle.dump(header, w, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(model, w, protocol=pickle.HIGHEST_PROTOCOL)
        holder["sha"] = w.sha.hexdigest()

    atomic_write(staging, write, mode=0o600)
    sha = holder["sha"]
    path = model_file(store, key, sha)
    os.replace(staging, path)
    try:
        _prune(store, folder, keep_key=key, keep_sha=sha)
    except (OSError, FracnetError):  # not recorded (a read-only database): never leave an unrecorded file
        path.unlink(missing_ok=True)
        raise
    return path


def _prune(store, folder: Path, *, keep_key: str, keep_sha: str) -> None:
    """Record the new model; keep the newest KEEP files and only their records."""
    files = sorted(folder.glob("meet-*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
    kept, dropped = [], []
    for p in files:
        (kept if len(kept) < KEEP else dropped).append(p)
    kept_keys = {p.name.split("-")[1] for p in kept} | {keep_key}
    stale = [k for k in store.meta_like(_META_PREFIX) if k[len(_META_PREFIX):] not in kept_keys]
    store.write_meta({_META_PREFIX + keep_key: keep_sha}, delete=stale)
    for p in dropped:
        try:
            os.unlink(p)
        except OSError:
            pass
    for p in folder.glob(f"meet-{keep_key}-*.pkl"):  # older fits for the same key
        if p.name != f"meet-{keep_key}-{keep_sha[:16]}.pkl":
            try:
                os.unlink(p)
            except OSError:
                pass


def _warn(message: str) -> None:
    warnings.warn(message, FracnetWarning, stacklevel=3)
