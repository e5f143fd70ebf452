"""The embedded SQLite store: schema, versions, transactions.

A fracnet database is a SQLite file whose ``application_id`` is
:data:`recommender.store.schema.APPLICATION_ID` and whose ``user_version`` is the
schema version. Every write goes through :meth:`Store.transaction`, so it is
all or nothing. WAL mode and a busy timeout let the CLI and the app share one
file.

Example
-------
>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "x.db")
>>> with Store(path) as store:
...     with store.transaction() as con:
...         _ = con.execute("INSERT INTO people (id, name) VALUES ('p1', 'Ada')")
...     store.counts()["people"]
1
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from recommender.errors import FracnetError, StoreError, UnknownIdError, UsageError
from recommender.store import revisions
from recommender.store.schema import APPLICATION_ID, IMPORT_ORDER, SCHEMA_VERSION, TABLES, create_table_sql

if TYPE_CHECKING:  # annotations only: opening a store and reading rows need no pandas
    import pandas as pd

BUSY_TIMEOUT_MS = 30_000

_INDEXES = (
    "CREATE INDEX IF NOT EXISTS ties_b ON ties (b)",
    "CREATE INDEX IF NOT EXISTS people_email ON people (email)",
    "CREATE INDEX IF NOT EXISTS people_url ON people (profile_url)",
    "CREATE INDEX IF NOT EXISTS referrals_opp ON referrals (opportunity_id)",
    "CREATE INDEX IF NOT EXISTS referrals_from ON referrals (from_id)",
    "CREATE INDEX IF NOT EXISTS referrals_to ON referrals (to_id)",
    "CREATE INDEX IF NOT EXISTS intros_date ON introductions (date)",
)


def default_db_path() -> Path:
    """``$FRACNET_DB`` if set, else ``~/.fracnet/fracnet.db``."""
    env = os.environ.get("FRACNET_DB")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".fracnet" / "fracnet.db"


class Store:
    """A fracnet SQLite database.

    Parameters
    ----------
    path : str or Path
        The database file. Created (with the schema) if it does not exist,
        unless ``create=False``.
    create : bool
        Create a missing file; otherwise a missing file raises StoreError.
    """

    def __init__(self, path: str | os.PathLike, *, create: bool = True):
        self.path = Path(path)
        self._lock = threading.RLock()
        if not self.path.exists():
            if not create:
                raise StoreError(f"database {self.path} does not exist", hint="run 'fracnet import' to create it")
            if self.path.parent and not self.path.parent.exists():
                raise StoreError(f"cannot create database {self.path}: folder {self.path.parent} does not exist")
        elif self.path.is_dir():
            raise StoreError(f"database path {self.path} is a folder, not a file")
        else:
            _check_header(self.path)
        try:
            self.con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from None
        try:
            self.con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._migrate()
            self.con.execute("PRAGMA journal_mode = WAL")
            self.con.execute("PRAGMA synchronous = NORMAL")
            self._ensure_identity()
            revisions.start_tracking(self)
        except StoreError:
            self.con.close()
            raise
        except sqlite3.DatabaseError as exc:
            self.con.close()
            if "full" in str(exc):
                from recommender.store.files import file_error

                raise file_error(self.path, exc) from None
            raise StoreError(
                f"{self.path} is not a usable fracnet database ({exc})",
                hint="point --db at a fracnet database, or restore a backup",
            ) from None

    # -- schema ------------------------------------------------------------
    def _migrate(self) -> None:
        con = self.con
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if app_id == 0 and not tables:
            with self.transaction() as c:
                for t in TABLES.values():
                    c.execute(create_table_sql(t))
                for sql in _INDEXES:
                    c.execute(sql)
                _migrate_1_to_2(c)
                _migrate_2_to_3(c)
                c.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            return
        if app_id != APPLICATION_ID:
            raise StoreError(
                f"{self.path} is a SQLite database but not a fracnet one",
                hint="use a new file name for --db; fracnet will not modify other databases",
            )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this fracnet understands ({SCHEMA_VERSION})",
                hint="upgrade fracnet",
            )
        # older schemas are migrated one step at a time, one transaction each
        for target, step in _MIGRATIONS:
            if version < target:
                with self.transaction() as c:
                    step(c)
                    c.execute(f"PRAGMA user_version = {target}")
                version = target

    @property
    def revision(self) -> int:
        """A counter that every committed write transaction raises: caches key on it."""
        return self._counter("revision")

    def _counter(self, key: str) -> int:
        with self._lock:
            row = self.con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    @property
    def schema_version(self) -> int:
        return self.con.execute("PRAGMA user_version").fetchone()[0]

    # -- transactions ------------------------------------------------------
    @property
    def practice_revision(self) -> int:
        """A counter raised by writes of the practice only (me, outreach pipeline): models do not key on it."""
        return self._counter("practice_revision")

    @contextmanager
    def transaction(self, *, practice: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``): committed on success, rolled back on any error.

        ``practice=True`` marks a write that leaves the network as it was (the
        outreach pipeline, the owner setting): it raises ``practice_revision``
        instead of ``revision``, so fitted models stay valid.
        """
        with self._lock:
            self._begin_immediate()
            before = self.con.total_changes
            written: set[str] = set()
            try:
                self.con.set_authorizer(revisions.writes_into(written))  # the tables this transaction writes
                try:
                    yield self.con
                finally:
                    self.con.set_authorizer(None)
                if self.con.total_changes != before and self._has_meta():
                    key = "practice_revision" if practice else "revision"
                    self.con.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, '0')", (key,))
                    self.con.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = ?", (key,))
                    revisions.stamp(self.con, written, practice)
                self.con.execute("COMMIT")
            except BaseException as exc:
                # SQLite may already have rolled back (disk full, I/O error): roll back only what is open
                if self.con.in_transaction:
                    try:
                        self.con.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                if isinstance(exc, (sqlite3.OperationalError, sqlite3.DatabaseError)) and not isinstance(
                        exc, (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError)):
                    raise sqlite_error(self.path, exc) from None
                raise

    def table_revisions(self, tables: Sequence[str]) -> tuple[int, ...] | None:
        """How often each of ``tables`` was written, and the epoch (:mod:`recommender.store.revisions`);
        None when the last commit was not stamped (then only :attr:`revision` says what changed)."""
        with self._lock:
            return revisions.table_revisions(self.con, tables)

    def _begin_immediate(self) -> None:
        """Take the write lock, waiting up to the busy timeout for other writers.

        SQLite's own busy handler sleeps in growing steps (up to 100 ms), so
        four processes logging referrals spend most of their time asleep; this
        polls every millisecond or two instead (with jitter), and still gives
        up after :data:`BUSY_TIMEOUT_MS` with a one-line "busy" error.
        """
        import random

        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        self.con.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    self.con.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                        raise sqlite_error(self.path, exc) from None
                except sqlite3.Error as exc:
                    raise sqlite_error(self.path, exc) from None
                time.sleep(0.0005 + random.random() * 0.0015)
        finally:
            self.con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    # -- identity and bookkeeping (never raise the revision) -------------------
    def _ensure_identity(self) -> None:
        """Give the database a random identity once (``meta.db_id``); caches are bound to it."""
        if not self._has_meta():
            return
        if self.con.execute("SELECT 1 FROM meta NOT INDEXED WHERE key = 'db_id'").fetchone():
            return
        # a file that gets its identity now is an older one: never write into a damaged file
        status = self.con.execute("PRAGMA quick_check(1)").fetchone()[0]
        if status != "ok":
            raise StoreError(f"database {self.path} is corrupt ({status})",
                             hint="restore a backup with 'fracnet restore FILE'")
        try:
            self.write_meta({"db_id": uuid.uuid4().hex}, replace=False)
        except FracnetError:  # a read-only file: no identity, so nothing is cached for it
            pass

    @property
    def identity(self) -> str | None:
        """The database's random identity, made when it was created (None for a read-only old file)."""
        return self.meta("db_id")

    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self.con.execute("SELECT value FROM meta NOT INDEXED WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def meta_like(self, prefix: str) -> dict[str, str]:
        with self._lock:
            rows = self.con.execute("SELECT key, value FROM meta WHERE key LIKE ? ESCAPE '\\'",
                                    (prefix.replace("_", "\\_").replace("%", "\\%") + "%",)).fetchall()
        return {str(k): str(v) for k, v in rows}

    def write_meta(self, items: dict[str, str], *, delete: Iterable[str] = (), replace: bool = True) -> None:
        """Bookkeeping rows (identity, cache checksums) in one transaction that does not raise the revision."""
        with self._lock:
            try:
                self.con.execute("BEGIN IMMEDIATE")
                for key in delete:
                    self.con.execute("DELETE FROM meta WHERE key = ?", (key,))
                verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
                self.con.executemany(f"{verb} INTO meta (key, value) VALUES (?, ?)", list(items.items()))
                self.con.execute("COMMIT")
            except sqlite3.Error as exc:
                if self.con.in_transaction:
                    try:
                        self.con.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise sqlite_error(self.path, exc) from None

    def _has_meta(self) -> bool:
        if not getattr(self, "_meta_ok", False):
            self._meta_ok = self.con.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone() is not None
        return self._meta_ok

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reads -------------------------------------------------------------
    def read_table(self, name: str, where: str = "", params: Sequence = ()) -> pd.DataFrame:
        """A whole table (or a filtered part) as a DataFrame with the schema's columns."""
        import pandas as pd

        table = TABLES[name]
        cols = ", ".join(table.column_names)
        sql = f"SELECT {cols} FROM {name}" + (f" WHERE {where}" if where else "") + f" ORDER BY {', '.join(table.key)}"
        with self._lock:
            cur = self.con.execute(sql, tuple(params))
            rows = cur.fetchall()
        df = pd.DataFrame.from_records(rows, columns=table.column_names).astype(object)
        return df.where(df.notna(), None)

    def counts(self) -> dict[str, int]:
        """Row counts of every table."""
        with self._lock:
            return {name: self.con.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0] for name in IMPORT_ORDER}

    def ids(self, table: str, column: str = "id") -> set[str]:
        with self._lock:
            return {r[0] for r in self.con.execute(f"SELECT {column} FROM {table}")}

    def get(self, table: str, record_id: str) -> dict:
        """One record by id; raises UnknownIdError with suggestions if absent."""
        t = TABLES[table]
        with self._lock:
            cur = self.con.execute(f"SELECT {', '.join(t.column_names)} FROM {table} WHERE id = ?", (record_id,))
            row = cur.fetchone()
        if row is None:
            raise UnknownIdError(_singular(table), record_id, self.suggest_ids(table, record_id))
        return dict(zip(t.column_names, row))

    def get_person(self, person_id: str) -> dict:
        return self.get("people", person_id)

    def suggest_ids(self, table: str, text: str, n: int = 3) -> list[str]:
        """Ids (and, for people, names) close to ``text``, for "did you mean" hints (:func:`suggest_ids`)."""
        with self._lock:
            if table == "people":
                rows = self.con.execute("SELECT id, name FROM people").fetchall()
            else:
                rows = [(r[0], None) for r in self.con.execute(f"SELECT id FROM {table}")]
        return suggest_ids(text, [r[0] for r in rows], [r[1] for r in rows] if table == "people" else None, n)

    def resolve(self, table: str, text: str) -> str:
        """The id ``text`` means in ``table``: the id itself, the same number zero-padded
        (``p12`` -> ``p0012``), or, for people, a name held by exactly one person
        ("Mark Sánchez"; case and accents aside).

        Raises
        ------
        UnknownIdError
            Nothing matches (with "did you mean" suggestions), or a name is held by
            several people (the message lists them, with titles, to pick an id).
        """
        text = str(text if text is not None else "").strip()
        kind = _singular(table)
        with self._lock:
            if self.con.execute(f"SELECT 1 FROM {table} WHERE id = ?", (text,)).fetchone():
                return text
            ids = [r[0] for r in self.con.execute(f"SELECT id FROM {table}")]
            same = _same_number(text, ids)
            if len(same) == 1:
                return same[0]
            if table == "people" and text:
                key = _fold(text)
                rows = self.con.execute(
                    "SELECT p.id, p.name, p.title, c.name FROM people p LEFT JOIN companies c ON c.id = p.company_id "
                    "WHERE lower(p.name) = lower(?) OR p.name LIKE ?", (text, text)).fetchall()
                if not rows:
                    rows = [r for r in self.con.execute(
                        "SELECT p.id, p.name, p.title, c.name FROM people p LEFT JOIN companies c ON c.id = p.company_id")
                        if r[1] and _fold(r[1]) == key]
                if len(rows) == 1:
                    return rows[0][0]
                if len(rows) > 1:
                    raise AmbiguousNameError(text, [(r[0], r[1], ", ".join(x for x in (r[2], r[3]) if x)) for r in rows])
        raise UnknownIdError(kind, text, self.suggest_ids(table, text))

    # -- writes ------------------------------------------------------------
    def upsert_rows(self, con: sqlite3.Connection, table: str, rows: Iterable[Sequence], columns: Sequence[str],
                    update_columns: Sequence[str] | None = None) -> int:
        """Insert or update ``rows`` (tuples in ``columns`` order) inside a transaction ``con``.

        An existing record (same key) has only ``update_columns`` (default: all
        given columns) replaced, so a file without a column keeps what is stored.
        """
        t = TABLES[table]
        cols = list(columns)
        upd = cols if update_columns is None else [c for c in update_columns if c in cols]
        placeholders = ", ".join("?" for _ in cols)
        updates = ", ".join(f"{c} = excluded.{c}" for c in upd if c not in t.key)
        conflict = f"ON CONFLICT ({', '.join(t.key)}) DO " + (f"UPDATE SET {updates}" if updates else "NOTHING")
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({placeholders}) {conflict}"
        cur = con.executemany(sql, rows)
        return cur.rowcount

    def next_id(self, table: str, prefix: str) -> str:
        """A fresh id ``prefix<N>`` not used in ``table``, zero-padded like the ids already there."""
        n = len(prefix)
        with self._lock:  # in SQL: one pass, no Python loop over every id (many writers log referrals)
            best, width = self.con.execute(
                f"SELECT MAX(CAST(substr(id, ?) AS INTEGER)), MAX(length(id) - ?) FROM {table} "
                "WHERE id LIKE ? ESCAPE '\\' AND length(id) > ? AND substr(id, ?) NOT GLOB '*[^0-9]*'",
                (n + 1, n, prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%", n,
                 n + 1)).fetchone()
        return f"{prefix}{str(int(best or 0) + 1).zfill(int(width or 0))}"

    # -- backup --------------------------------------------------------------
    def backup(self, out_path: str | os.PathLike) -> Path:
        """A consistent copy of the database, safe while others write (SQLite online backup)."""
        from recommender.store.files import file_error, usual_file_mode

        out = Path(out_path)
        tmp = out.with_name(out.name + ".partial")
        try:
            if tmp.exists():
                tmp.unlink()
            dst = sqlite3.connect(tmp)
            try:
                with self._lock:
                    self.con.backup(dst)
                dst.execute("PRAGMA journal_mode = DELETE")
            finally:
                dst.close()
            os.chmod(tmp, usual_file_mode())
            os.replace(tmp, out)
        except (OSError, sqlite3.Error) as exc:  # disk full, permission: nothing kept, the old file untouched
            for suffix in ("", "-journal", "-wal", "-shm"):
                try:
                    os.unlink(str(tmp) + suffix)
                except OSError:
                    pass
            if isinstance(exc, sqlite3.Error) and "full" not in str(exc) and "disk" not in str(exc) \
                    and "unable to open" not in str(exc) and "readonly" not in str(exc):
                raise sqlite_error(self.path, exc) from None
            raise file_error(out, exc) from None
        return out

    def integrity_check(self) -> str:
        with self._lock:
            return self.con.execute("PRAGMA integrity_check").fetchone()[0]


def _migrate_1_to_2(con: sqlite3.Connection) -> None:
    """Schema 2 adds ``meta`` with a write ``revision`` counter."""
    con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    con.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', '0')")


def _migrate_2_to_3(con: sqlite3.Connection) -> None:
    """Schema 3 adds the practice: the owner (``meta`` key ``owner_id``), outreach items and their
    history, and interactions (see :data:`recommender.store.schema.PRACTICE_SQL`)."""
    from recommender.store.schema import PRACTICE_SQL

    for sql in PRACTICE_SQL:
        con.execute(sql)


#: (target version, step) pairs, applied in order to older databases.
_MIGRATIONS = ((2, _migrate_1_to_2), (3, _migrate_2_to_3))


def suggest_ids(text: str, ids, names=None, n: int = 3) -> list[str]:
    """The "did you mean" rule, one for every id: ids (and names, when given) close to ``text``.

    The same number zero-padded comes first (``p12`` -> ``p0012``, before
    ``p1992``), then ids that start with ``text``, then names holding it
    (accents aside), then spellings close to it.

    >>> suggest_ids("p12", ["p1992", "p0012", "p1982"])
    ['p0012', 'p1992', 'p1982']
    """
    import difflib

    ids = [str(i) for i in ids]
    out = list(_same_number(text, ids))
    low = str(text).lower()

    def add(items):
        for i in items:
            if i not in out:
                out.append(i)

    add(sorted((i for i in ids if low and i.lower().startswith(low)), key=len)[:n])
    if names is not None:
        by_name = {str(nm).lower(): pid for pid, nm in zip(ids, names) if nm}
        add(pid for nm, pid in by_name.items() if low and (low in nm or _fold(low) in _fold(nm)))
        add(by_name[nm] for nm in difflib.get_close_matches(low, list(by_name), n=n, cutoff=0.6))
    add(difflib.get_close_matches(str(text), ids, n=n, cutoff=0.6))
    return out[:n]


def _fold(text: str) -> str:
    """Lower case without accents and extra spaces: "Mark  Sánchez" -> "mark sanchez"."""
    import unicodedata

    t = unicodedata.normalize("NFKD", str(text).replace("ø", "o").replace("ł", "l").replace("Ø", "O").replace("Ł", "L"))
    t = "".join(c for c in t if not unicodedata.combining(c))
    return " ".join(t.lower().split())


def _same_number(text: str, ids: Iterable[str]) -> list[str]:
    """Ids that are ``text`` with its number zero-padded differently (``p12`` ~ ``p0012``)."""
    import re

    m = re.fullmatch(r"([^\d]*)(\d+)", str(text).strip())
    if not m:
        return []
    prefix, num = m.group(1).lower(), int(m.group(2))
    out = []
    for i in ids:
        k = re.fullmatch(r"([^\d]*)(\d+)", i)
        if k and k.group(1).lower() == prefix and int(k.group(2)) == num and i != text:
            out.append(i)
    return sorted(out)


class AmbiguousNameError(UnknownIdError):
    """A name that several people hold: the message lists them so the user can give an id."""

    def __init__(self, name: str, people: Sequence[tuple[str, str, str]]):
        super().__init__("person", name, [p[0] for p in people])
        listed = "; ".join(f"{pid} ({name}{', ' + what if what else ''})" for pid, name, what in people[:8])
        more = f"; and {len(people) - 8} more" if len(people) > 8 else ""
        self.message = f"{len(people)} people are called {name!r}: {listed}{more}"
        self.hint = "give one of these ids"


def _singular(table: str) -> str:
    return {"people": "person", "companies": "company", "opportunities": "opportunity"}.get(table, table.rstrip("s"))


def _check_header(path: Path) -> None:
    """Refuse files that are not SQLite before SQLite sees them."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise StoreError(f"cannot read database {path}: {exc.strerror}") from None
    if len(head) == 0:
        return  # an empty file: treated as a new database
    if head != b"SQLite format 3\x00":
        raise StoreError(
            f"{path} is not a fracnet database (not a SQLite file)",
            hint="point --db at a fracnet database file, or a new file name to create one",
        )


def sqlite_error(path, exc: BaseException) -> FracnetError:
    """The one-line error for a SQLite failure on the database at ``path``."""
    msg = str(exc)
    low = msg.lower()
    if "full" in low:
        from recommender.store.files import file_error

        return file_error(path, exc)
    if "locked" in low or "busy" in low:
        return StoreError(f"database {path} is busy: another process is writing to it",
                          hint="wait for it to finish and try again")
    if "readonly" in low or "read-only" in low:
        from recommender.errors import FileAccessError

        return FileAccessError(f"cannot write database {path}: it is read-only",
                               hint="check the permissions of the file and its folder")
    # text that is not UTF-8 where fracnet wrote only UTF-8 ("Could not decode to UTF-8 column 'id' with text
    # '...'"): damaged pages; the undecodable text itself is left out of the message
    if "malformed" in low or "not a database" in low or "i/o" in low or "corrupt" in low or "could not decode" in low:
        msg = msg.split(" with text ")[0] if "could not decode" in low else msg
        return StoreError(f"database {path} is corrupt ({msg})",
                          hint="restore a backup with 'fracnet restore FILE'")
    return StoreError(f"database {path}: {msg}")
