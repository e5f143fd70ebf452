"""Backups and restores: a checked copy in, the live database replaced under its write lock.

``Store.backup`` (SQLite's online backup) writes the copy; :func:`restore`
puts one back. A restore checks the backup completely before touching
anything, waits briefly for (or refuses) a running writer, keeps the database
it replaces as ``<db>.before-restore-<time>``, and copies the backup in through
SQLite's backup API, so other connections see the old or the new database,
never a mix. The restored database gets a new identity, so nothing cached for
another database (or for this one before the restore) is ever used for it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path

from recommender.errors import StoreError, UsageError
from recommender.store.db import BUSY_TIMEOUT_MS, Store, _check_header, sqlite_error
from recommender.store.schema import IMPORT_ORDER


#: Seconds ``restore`` waits for a running writer before refusing.
RESTORE_WAIT_S = 5.0


def check_backup(backup_path: str | os.PathLike) -> dict[str, int]:
    """Check that ``backup_path`` is a complete fracnet database, reading it only; its row counts.

    Raises
    ------
    StoreError
        Missing, empty, not SQLite, not fracnet, newer, or failing the integrity check.
    """
    from recommender.store.schema import APPLICATION_ID as APP, SCHEMA_VERSION as VERSION

    src = Path(backup_path)
    if not src.exists():
        raise StoreError(f"backup {src} does not exist", hint="give a file written by 'fracnet backup'")
    if src.is_dir():
        raise StoreError(f"backup {src} is a folder, not a backup file", hint="give a file written by 'fracnet backup'")
    try:
        size = src.stat().st_size
    except OSError as exc:
        raise StoreError(f"cannot read backup {src}: {exc.strerror}") from None
    if size == 0:
        raise StoreError(f"backup {src} is empty (0 bytes); nothing was restored",
                         hint="give a file written by 'fracnet backup'")
    _check_header(src)
    try:
        con = sqlite3.connect(f"file:{src.resolve()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read backup {src}: {exc}") from None
    try:
        app = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if app != APP:
            raise StoreError(f"backup {src} is a SQLite file but not a fracnet database; nothing was restored")
        if version > VERSION:
            raise StoreError(f"backup {src} has schema version {version}, newer than this fracnet understands "
                             f"({VERSION})", hint="upgrade fracnet")
        status = con.execute("PRAGMA integrity_check").fetchone()[0]
        if status != "ok":
            raise StoreError(f"backup {src} fails the integrity check ({status}); nothing was restored",
                             hint="use another backup")
        counts = {name: con.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0] for name in IMPORT_ORDER}
    except sqlite3.Error as exc:
        raise StoreError(f"backup {src} is corrupt ({exc}); nothing was restored", hint="use another backup") from None
    finally:
        con.close()
    return counts


def before_restore_path(db_path: str | os.PathLike) -> Path:
    """``<db>.before-restore-<UTC time>``: where restore keeps the database it replaces."""
    db_path = Path(db_path)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = db_path.with_name(f"{db_path.name}.before-restore-{stamp}")
    n = 1
    while out.exists():
        n += 1
        out = db_path.with_name(f"{db_path.name}.before-restore-{stamp}-{n}")
    return out


def check_restore_target(db_path: str | os.PathLike) -> Path:
    """The database a restore replaces: its folder must exist and it must not be a folder."""
    dst = Path(db_path)
    if dst.is_dir():
        raise UsageError(f"cannot restore into {dst}: it is a folder", hint="give the database file, e.g. --db x.db")
    if not dst.parent.is_dir():
        raise UsageError(f"cannot restore into {dst}: folder {dst.parent} does not exist", hint="create it first")
    return dst


def restore(backup_path: str | os.PathLike, db_path: str | os.PathLike, *, wait: float = RESTORE_WAIT_S,
            keep_copy: bool = True) -> dict:
    """Replace the database at ``db_path`` with a checked copy of ``backup_path``.

    The backup is checked (complete, fracnet, integrity) before anything is
    touched. The live database is replaced through SQLite's backup API under
    its write lock, so other connections see either the old or the restored
    database, never a mix, and a writer that is running (an import) is waited
    for up to ``wait`` seconds and otherwise refused. The replaced database is
    kept as ``<db>.before-restore-<time>``.

    Returns
    -------
    dict
        ``{"restored": path, "from": path, "kept": path or None, "counts": {...}}``
    """
    src = Path(backup_path)
    counts = check_backup(src)
    dst = check_restore_target(db_path)
    if not dst.exists() or dst.stat().st_size == 0:
        tmp = dst.with_name(dst.name + ".restoring")
        try:
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
        except OSError as exc:
            from recommender.store.files import file_error

            Path(tmp).unlink(missing_ok=True)
            raise file_error(dst, exc) from None
        _new_identity(dst)
        return {"restored": str(dst), "from": str(src), "kept": None, "counts": counts}
    kept = before_restore_path(dst) if keep_copy else None
    try:
        live_store = Store(dst)
    except StoreError as exc:
        if "not a fracnet" in str(exc) or "newer than" in str(exc):
            raise StoreError(f"will not restore over {dst}: {exc.message}",
                             hint="give --db the fracnet database to replace") from None
        return _replace_damaged(src, dst, kept, counts)  # a damaged database: keep its bytes, put the backup in
    with live_store as live:
        # the exclusive lock: wait (briefly) for a running writer, else refuse before touching anything
        live.con.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
        try:
            live.con.execute("BEGIN EXCLUSIVE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(f"database {dst} is being written by another process (e.g. an import); "
                                 "restore refused, nothing changed", hint="wait for it to finish and restore again") from None
            raise sqlite_error(dst, exc) from None
        live.con.execute("ROLLBACK")
        live.con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if kept is not None:
            try:
                live.backup(kept)
            except StoreError:  # the live database is damaged: keep its bytes as they are
                live.close()
                return _replace_damaged(src, dst, kept, counts)
        source = sqlite3.connect(f"file:{src.resolve()}?mode=ro", uri=True)
        try:
            with live._lock:
                source.backup(live.con)
        except sqlite3.Error as exc:
            raise sqlite_error(dst, exc) from None
        finally:
            source.close()
        live._meta_ok = False
    _new_identity(dst)
    return {"restored": str(dst), "from": str(src), "kept": str(kept) if kept else None, "counts": counts}


def _new_identity(dst: Path) -> None:
    """A restored database is a new one: a new identity, so no cache keyed by (identity, revision) of the
    database it replaced, or of the one the backup was taken from, ever matches it."""
    import uuid

    with Store(dst) as s:
        s.write_meta({"db_id": uuid.uuid4().hex})


def _replace_damaged(src: Path, dst: Path, kept: Path | None, counts: dict) -> dict:
    """Restore over a database SQLite cannot read: its bytes (and WAL) kept as they are, the backup copied in."""
    from recommender.store.files import file_error

    tmp = dst.with_name(dst.name + ".restoring")
    try:
        if kept is not None:
            shutil.copyfile(dst, kept)
            if Path(str(dst) + "-wal").exists():
                shutil.copyfile(str(dst) + "-wal", str(kept) + "-wal")
        shutil.copyfile(src, tmp)
        for suffix in ("-wal", "-shm"):
            Path(str(dst) + suffix).unlink(missing_ok=True)
        os.replace(tmp, dst)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise file_error(dst, exc) from None
    _new_identity(dst)
    return {"restored": str(dst), "from": str(src), "kept": str(kept) if kept else None, "counts": counts}

