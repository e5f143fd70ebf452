"""The bundled sample network as the default database, and warming its models.

This sits above the store, ``io/`` and the models: creating the sample
database imports the CSV importer and warming fits a "who to meet" model, so
neither belongs in the storage layer, which imports nothing above it.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from recommender.store.db import Store, default_db_path

SAMPLE_DIR = Path(__file__).resolve().parent / "data" / "sample"


_default_lock = threading.Lock()


def open_default_store(*, create_sample: bool = True, warm: bool = True) -> Store:
    """The default database; created from the bundled sample on first use.

    Creation happens in a temporary file that is renamed into place, so two
    processes starting at once never see a half-built database. ``warm``: a database
    just created also gets its models fitted and cached (the explorer, whose first run
    does it under its message, so no page waits for a fit); the CLI passes False, so
    a first command fits only what it answers with (``stats`` or an unknown id: none).
    """
    path = default_db_path()
    created = False
    with _default_lock:
        if not path.exists() and create_sample:
            path.parent.mkdir(parents=True, exist_ok=True)
            create_sample_database(path)
            created = True
    store = Store(path)
    if created and warm:
        _warm_model_cache(store)
    return store


def _warm_model_cache(store: "Store") -> None:
    """Fit the sample's "who to meet" model and its referral router once, so the first answers are instant."""
    from recommender.errors import FracnetError
    from recommender.model_cache import meet_model, router
    from recommender.network import load_network

    try:
        network = load_network(store)  # read once for both
        meet_model(store, network=network)
        router(store, network=network)
    except (FracnetError, OSError, ValueError):  # a cache is an optimisation, never a failure
        pass


def create_sample_database(path: str | os.PathLike, sample_dir: str | os.PathLike = SAMPLE_DIR) -> Path:
    """Build a database from the bundled sample CSVs at ``path`` (atomically)."""
    from recommender.io.csv_folder import import_folder

    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".fracnet-", suffix=".db", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        with Store(tmp) as store:
            import_folder(store, sample_dir)
            store.con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            store.con.execute("PRAGMA journal_mode = DELETE")
        if path.exists():  # another process won the race
            return path
        os.replace(tmp, path)
    finally:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(tmp + suffix):
                os.unlink(tmp + suffix)
    return path
