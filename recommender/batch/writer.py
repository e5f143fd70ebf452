"""Batch output files: the path checked before any work, rows streamed to CSV or Parquet, moved into place atomically.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

import pandas as pd

from recommender.errors import FracnetError
from recommender.io.atomic import file_error, usual_file_mode

OUTPUT_FORMATS = ("csv", "parquet")


class OutputPathError(FracnetError):
    """The output path cannot be written (bad extension, missing folder, no permission)."""

    exit_code = 2


def check_output(path) -> tuple[Path, str]:
    """Validate an output path before any work: its format and that its folder is writable.

    Returns
    -------
    (Path, str)
        The path and its format, ``"csv"`` or ``"parquet"``.

    Raises
    ------
    OutputPathError
        Unknown extension, missing folder, a folder at the path, or no permission.
    """
    p = Path(path)
    ext = p.suffix.lower().lstrip(".")
    fmt = {"csv": "csv", "parquet": "parquet", "pq": "parquet"}.get(ext)
    if fmt is None:
        raise OutputPathError(f"cannot write {p}: unknown output format {('.' + ext) if ext else '(no extension)'}",
                              hint="use a .csv or .parquet file name")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise OutputPathError(f"cannot write {p}: folder {folder} does not exist", hint="create it first")
    if p.is_dir():
        raise OutputPathError(f"cannot write {p}: it is a folder", hint="give a file name")
    if p.exists() and not os.access(p, os.W_OK):
        raise OutputPathError(f"cannot write {p}: permission denied")
    try:  # the real test: can we create a file in that folder?
        fd, probe = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".probe", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputPathError(f"cannot write {p}: {exc.strerror or exc}", hint="choose a writable folder") from None
    return p, fmt


class _AtomicTableWriter:
    """Append DataFrames to a CSV or Parquet file; the file appears only on success."""

    def __init__(self, path: Path, fmt: str, columns: Iterable[str], schema=None,
                 dictionary_columns: Iterable[str] | None = None, statistics_columns: Iterable[str] | None = None):
        self.path = Path(path)
        #: Parquet: the columns to dictionary-encode (None: all). Columns with many distinct values
        #: (candidate ids, scores) are smaller and much cheaper to write without a dictionary.
        self.dictionary_columns = None if dictionary_columns is None else frozenset(dictionary_columns)
        #: Parquet: the columns whose row groups carry min/max statistics (None: all). A string column of many
        #: distinct values (candidate ids) costs as much to summarise as the rest of the write; what a reader
        #: filters on (the person, numbers) keeps them.
        self.statistics_columns = None if statistics_columns is None else frozenset(statistics_columns)
        self.fmt = fmt
        self.columns = list(columns)
        self.schema = schema
        self.rows = 0
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent or ".")
        os.close(fd)
        self.tmp = Path(tmp)
        self._fh = None
        self._pq = None

    def write(self, df) -> None:
        if not isinstance(df, pd.DataFrame):  # a pyarrow Table in the writer's schema (Parquet only)
            if self._pq is None:
                self._open_parquet(df.schema)
            if df.num_rows:
                self._pq.write_table(df)
            self.rows += df.num_rows
            return
        df = df[self.columns]
        if self.fmt == "csv":  # a spreadsheet opens it: formula-like cells neutralised, as every CSV export
            from recommender.io.csv_folder import neutralise_formula

            df = df.copy()
            for c in df.columns:
                if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])):
                    df[c] = df[c].map(neutralise_formula)
            if self._fh is None:
                self._fh = open(self.tmp, "w", encoding="utf-8", newline="")
                df.to_csv(self._fh, index=False)
            elif len(df):
                df.to_csv(self._fh, index=False, header=False)
        else:
            import pyarrow as pa

            table = pa.Table.from_pandas(df, schema=self.schema, preserve_index=False)
            if self._pq is None:
                self._open_parquet(table.schema)
            if len(df):
                self._pq.write_table(table)
        self.rows += len(df)

    def _open_parquet(self, schema) -> None:
        import pyarrow.parquet as pq

        def chosen(names):
            return True if names is None else [f for f in schema.names if f in names]

        self._pq = pq.ParquetWriter(self.tmp, schema, use_dictionary=chosen(self.dictionary_columns),
                                    write_statistics=chosen(self.statistics_columns))

    def commit(self) -> None:
        if self._fh is None and self._pq is None:
            self.write(pd.DataFrame({c: pd.Series(dtype=_dtype_of(c)) for c in self.columns}))
        self._close()
        os.chmod(self.tmp, usual_file_mode())
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self._close()
        try:
            self.tmp.unlink()
        except FileNotFoundError:
            pass

    def _close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._pq is not None:
            self._pq.close()
            self._pq = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self.commit()
            except OSError as err:  # disk full, permission: one line naming the file, nothing kept
                self.abort()
                raise file_error(self.path, err) from None
        else:
            self.abort()
            if isinstance(exc, OSError):
                raise file_error(self.path, exc) from None


def _dtype_of(column: str):
    if column in ("rank", "hops", "capacity"):
        return "Int64"
    if column in ("score", "introducer_trust", "lane_fit"):
        return "float64"
    if column == "in_lane":
        return "bool"
    return "object"
