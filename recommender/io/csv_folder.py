"""A folder of CSVs, one per table: import into the store and export back.

Only ``people.csv`` is required; every other file is optional, and every
column but the ids is optional, so "people with specialties, plus ties" is
enough to load a network. See :mod:`recommender.store.schema` for the columns.
"""

from __future__ import annotations

import csv
import errno
import io
import os
from pathlib import Path

import pandas as pd

from recommender.errors import DataValidationError, UsageError, ValidationProblem
from recommender.io.atomic import atomic_write, atomic_write_many, ensure_writable_folder
from recommender.io.loader import id_slug, load_tables
from recommender.io.validate import ImportReport, LineMap, validate_table
from recommender.store.schema import FOLDER_TABLES, IMPORT_ORDER, TABLES
from recommender.store.db import Store
from recommender.taxonomy import Taxonomy, load_taxonomy

MAX_FIELD = 1_000_000  # characters in one cell
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def decode_text(data: bytes, file: str) -> str:
    """UTF-8 text (BOM dropped) or a clear error naming the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataValidationError([ValidationProblem(
            file, line, None, f"not UTF-8 text (byte 0x{data[exc.start]:02x})",
            "save the file as UTF-8 CSV and import again")]) from None


def read_csv_text(text: str, file: str) -> tuple[pd.DataFrame, LineMap]:
    """Parse CSV text into a DataFrame of strings, with each record's line number.

    Rows with more fields than the header are problems; rows with fewer are
    padded (a missing trailing column is empty).
    """
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise DataValidationError([ValidationProblem(file, line, None, "contains NUL bytes; this is not a CSV text file",
                                                     "export the table as CSV (UTF-8)")])
    if not text.strip():
        raise DataValidationError([ValidationProblem(file, 1, None, "empty file; expected a header row",
                                                     "the first line names the columns, e.g. id,name,specialties")])
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[ValidationProblem] = []
    try:
        header = next(reader)
    except csv.Error as exc:
        raise DataValidationError([ValidationProblem(file, 1, None, f"unreadable header: {exc}")]) from None
    header = [h.strip() for h in header]
    width = len(header)
    if not any(header):
        raise DataValidationError([ValidationProblem(file, 1, None, "the header row is empty")])
    seen = set()
    for h in header:
        key = h.lower().replace(" ", "_")
        if key in seen and key:
            problems.append(ValidationProblem(file, 1, h, "column named twice in the header"))
        seen.add(key)
    rows: list[list[str]] = []
    lines: list[int] = []
    start_line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(ValidationProblem(file, reader.line_num, None, f"malformed CSV: {exc}",
                                              "check quotes: a field with a comma or newline must be in double quotes"))
            break
        line = start_line
        start_line = reader.line_num + 1
        if not row or all(not c.strip() for c in row):
            continue  # blank line
        if len(row) > width:
            extra = row[width:]
            if any(c.strip() for c in extra):
                problems.append(ValidationProblem(file, line, None, f"{len(row)} fields but the header has {width}",
                                                  "quote fields that contain commas"))
                continue
            row = row[:width]
        elif len(row) < width:
            row = row + [""] * (width - len(row))
        rows.append(row)
        lines.append(line)
        if len(problems) > 200:
            break
    if problems:
        raise DataValidationError(problems)
    df = pd.DataFrame(rows, columns=header, dtype=object) if rows else pd.DataFrame(columns=header, dtype=object)
    return df, LineMap(lines)


def read_csv_file(path: str | os.PathLike) -> tuple[pd.DataFrame, LineMap]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise UsageError(f"cannot read {path}: it is a folder, not a CSV file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}",
                         hint="check that the file exists and that you may read it") from None
    return read_csv_text(decode_text(data, str(path)), str(path))


def validate_folder_frames(
    frames: dict[str, tuple[pd.DataFrame, LineMap]],
    files: dict[str, str],
    taxonomy: Taxonomy,
) -> tuple[dict[str, pd.DataFrame], list[ValidationProblem], list[ValidationProblem]]:
    problems: list[ValidationProblem] = []
    warnings: list[ValidationProblem] = []
    out = {}
    for name in FOLDER_TABLES:
        if name not in frames:
            continue
        raw, line_of = frames[name]
        if name == "people" and "company" in [c.strip().lower() for c in raw.columns]:
            raw = _companies_from_names(raw)
        out[name] = validate_table(FOLDER_TABLES[name], raw, files[name], taxonomy, line_of, problems, warnings)
    return out, problems, warnings


def _companies_from_names(raw: pd.DataFrame) -> pd.DataFrame:
    """A people file with a free-text ``company`` column: make company ids from the names."""
    raw = raw.copy()
    col = [c for c in raw.columns if c.strip().lower() == "company"][0]
    if "company_id" not in [c.strip().lower() for c in raw.columns]:
        raw["company_id"] = raw[col].map(lambda s: ("co-" + id_slug(s)) if str(s).strip() else "")
    return raw


def import_frames(store: Store, frames, files, *, taxonomy: Taxonomy | None = None, progress: bool | None = None) -> ImportReport:
    """Validate and load already-parsed tables (used by the folder import and the app's upload)."""
    taxonomy = taxonomy or load_taxonomy()
    if "people" not in frames and not store.counts()["people"]:
        raise DataValidationError([ValidationProblem("people.csv", None, None, "missing: every import needs people.csv",
                                                     "add a people.csv with at least an id column")])
    tables, problems, warnings = validate_folder_frames(frames, files, taxonomy)
    if problems:
        raise DataValidationError(problems, hint="nothing was written; fix the rows above and import again")
    report = ImportReport(warnings=warnings)
    present = {name: df.attrs.get("present", list(df.columns)) for name, df in tables.items()}
    lines = {name: frames[name][1] for name in tables}
    return load_tables(store, tables, files, lines, report, progress, present)


def import_folder(store: Store, folder: str | os.PathLike, *, taxonomy: Taxonomy | None = None,
                  progress: bool | None = None) -> ImportReport:
    """Import a folder of CSVs into ``store`` in one transaction.

    Raises
    ------
    DataValidationError
        Listing every problem (file, line, field); the store is left unchanged.
    """
    folder = Path(folder)
    if not folder.exists():
        raise UsageError(f"{folder} does not exist", hint="give a folder holding people.csv (and optional ties.csv, ...)")
    if folder.is_file():
        if folder.name in {t.file for t in FOLDER_TABLES.values()}:
            raise UsageError(f"{folder} is a file; import takes the folder that holds it",
                             hint=f"fracnet import {folder.parent}")
        raise UsageError(f"{folder} is a file, not a folder of CSVs",
                         hint="for a LinkedIn export use: fracnet import --format linkedin --owner ID Connections.csv")
    frames = {}
    files = {}
    problems = []
    for name in FOLDER_TABLES:
        path = folder / FOLDER_TABLES[name].file
        if not os.path.lexists(path):
            continue
        if path.is_symlink() and not path.exists():  # dangling, or a loop: say so, never skip it
            try:
                path.stat()
                reason = "cannot be read"
            except OSError as exc:
                reason = "is a symbolic link loop" if exc.errno == errno.ELOOP else \
                    f"is a symbolic link to {os.readlink(path)}, which does not exist"
            raise UsageError(f"{path} {reason}", hint=f"fix or remove the link, then import again")
        files[name] = str(path)
        try:
            frames[name] = read_csv_file(path)
        except DataValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DataValidationError(problems, hint="nothing was written; fix the files above and import again")
    if not frames:
        raise UsageError(f"no fracnet CSVs in {folder}",
                         hint="expected " + ", ".join(TABLES[n].file for n in IMPORT_ORDER) + " (people.csv at least)")
    return import_frames(store, frames, files, taxonomy=taxonomy, progress=progress)


# -- export --------------------------------------------------------------------

def neutralise_formula(value: object) -> object:
    """Prefix a cell a spreadsheet would run as a formula with ``'`` (import strips it again)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv_atomic(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``df`` to ``path`` via a temporary file and a rename: never half-written."""
    return atomic_write(path, lambda fh: df.to_csv(fh, index=False, encoding="utf-8"))


def export_folder(store: Store, folder: str | os.PathLike) -> dict[str, int]:
    """Write every table to ``folder`` as CSV (the import format), the practice's beside the network's,
    all files or none; returns rows per file."""
    from recommender.io.practice_csv import read_practice

    folder = ensure_writable_folder(folder)
    frames = {name: store.read_table(name) for name in IMPORT_ORDER}
    frames.update(read_practice(store))
    counts = {}
    staged = []
    for name, df in frames.items():
        table = FOLDER_TABLES[name]
        for c in [c.name for c in table.columns if c.type in ("text", "tags")]:
            df[c] = df[c].map(neutralise_formula)
        for c in [c.name for c in table.columns if c.type == "int"]:
            df[c] = df[c].astype("Int64")
        staged.append((folder / table.file, lambda fh, df=df: df.to_csv(fh, index=False, encoding="utf-8")))
        counts[name] = len(df)
    atomic_write_many(staged)
    return counts
