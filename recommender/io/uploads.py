"""Uploaded files into the database (the explorer's Data page): CSV tables or a LinkedIn export, all or nothing,
every problem as a row of a table (file, line, field, message, hint).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from recommender.errors import DataValidationError, FracnetError, ValidationProblem
from recommender.store.schema import IMPORT_ORDER, TABLES

PROBLEM_COLUMNS = ["file", "line", "field", "message", "hint"]


@dataclass
class UploadResult:
    """What an upload did: ``ok``; rows written per table; warnings and problems as tables."""

    ok: bool
    written: dict = field(default_factory=dict)
    new: dict = field(default_factory=dict)
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))
    warnings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))
    message: str = ""


def problems_frame(problems, rename: dict[str, str] | None = None) -> pd.DataFrame:
    """Validation problems as a table (file, line, field, message, hint)."""
    rename = rename or {}
    rows = [{"file": rename.get(p.file, p.file), "line": p.line, "field": p.field or "", "message": p.message,
             "hint": p.hint or ""} for p in problems]
    df = pd.DataFrame(rows, columns=PROBLEM_COLUMNS)
    df["line"] = df["line"].astype("Int64")
    return df


def import_uploads(store, files) -> UploadResult:
    """Import uploaded CSVs, given as ``(file name, bytes)`` pairs, matched to tables by
    file name (people.csv, ties.csv, ...). All or nothing: any problem in any file
    and nothing is written; every problem is reported with file, line and field."""
    from recommender.io.csv_folder import decode_text, import_frames, read_csv_text

    by_file = {TABLES[n].file: n for n in IMPORT_ORDER}
    frames, names, problems = {}, {}, []
    for fname, data in files:
        base = os.path.basename(str(fname))
        table = by_file.get(base.lower())
        if table is None:
            problems.append(ValidationProblem(base, None, None, "not a fracnet table file",
                                              "name files " + ", ".join(by_file) + " (people.csv at least)"))
            continue
        if table in frames:
            problems.append(ValidationProblem(base, None, None, "uploaded twice", "upload each table once"))
            continue
        try:
            frames[table] = read_csv_text(decode_text(bytes(data), base), base)
            names[table] = base
        except DataValidationError as exc:
            problems.extend(exc.problems)
    if not files:
        return UploadResult(False, message="No files uploaded.")
    if problems:
        return UploadResult(False, problems=problems_frame(problems), message="Nothing was written.")
    try:
        report = import_frames(store, frames, names)
    except DataValidationError as exc:
        return UploadResult(False, problems=problems_frame(exc.problems), message="Nothing was written.")
    except FracnetError as exc:
        return UploadResult(False, problems=problems_frame([ValidationProblem("", None, None, str(exc))]),
                            message="Nothing was written.")
    return UploadResult(True, dict(report.written), dict(report.new), warnings=problems_frame(report.warnings),
                        message="Imported " + ", ".join(f"{v} {k}" for k, v in report.written.items() if v) + ".")


def import_linkedin_upload(store, name: str, data: bytes, owner_id: str) -> UploadResult:
    """Import an uploaded LinkedIn Connections.csv for ``owner_id`` (all or nothing)."""
    from recommender.io.linkedin import import_linkedin

    base = os.path.basename(str(name)) or "Connections.csv"
    with tempfile.TemporaryDirectory(prefix="fracnet-upload-") as tmp:
        path = Path(tmp) / base
        path.write_bytes(bytes(data))
        try:
            report = import_linkedin(store, path, owner_id)
        except DataValidationError as exc:
            return UploadResult(False, problems=problems_frame(exc.problems, {str(path): base}),
                                message="Nothing was written.")
        except FracnetError as exc:
            return UploadResult(False, problems=problems_frame([ValidationProblem(base, None, None, str(exc))]),
                                message="Nothing was written.")
    return UploadResult(True, dict(report.written), dict(report.new),
                        warnings=problems_frame(report.warnings, {str(path): base}),
                        message="Imported " + ", ".join(f"{v} {k}" for k, v in report.written.items() if v) + ".")
