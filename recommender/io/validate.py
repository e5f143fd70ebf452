"""Check tables of raw strings against the schema and normalise them.

Every problem is collected (file, line, field, what was expected) rather than
stopping at the first; unknown tags are not errors but warnings with the
nearest known tag suggested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recommender.errors import ValidationProblem, bounded
from recommender.store.schema import Column, Table
from recommender.taxonomy import Taxonomy, join_tags

_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}
_FORMULA_ESCAPED = re.compile(r"^'[=+\-@\t\r]")
MAX_PROBLEMS = 200
#: Largest whole number a column (capacity) takes: inf, 1e30 and other absurd values are refused.
MAX_INT = 1_000_000


@dataclass
class ImportReport:
    """What an import did: rows written per table, and the warnings it raised."""

    written: dict[str, int] = field(default_factory=dict)
    new: dict[str, int] = field(default_factory=dict)
    warnings: list[ValidationProblem] = field(default_factory=list)
    merged_people: int = 0

    def as_dict(self) -> dict:
        return {
            "written": dict(self.written),
            "new": dict(self.new),
            "merged_people": self.merged_people,
            "warnings": [str(w) for w in self.warnings],
        }


class LineMap:
    """Maps a record's position in a table to its line in the source file."""

    def __init__(self, lines: list[int] | None = None, offset: int = 2):
        self.lines = lines
        self.offset = offset

    def __call__(self, i: int) -> int:
        if self.lines is not None and 0 <= i < len(self.lines):
            return self.lines[i]
        return i + self.offset


def validate_table(
    table: Table,
    raw: pd.DataFrame,
    file: str,
    taxonomy: Taxonomy,
    line_of: LineMap | None = None,
    problems: list[ValidationProblem] | None = None,
    warnings: list[ValidationProblem] | None = None,
) -> pd.DataFrame:
    """Validate and normalise one table of strings.

    Parameters
    ----------
    table : Table
        The schema table the rows belong to.
    raw : DataFrame of str, shape (n_rows, any columns)
        Values as read (empty string for missing).
    file : str
        Shown in problems.

    Returns
    -------
    DataFrame with exactly ``table.column_names`` columns, typed (ints, floats,
    ISO date strings, ``;``-joined canonical tags, None for missing). Problems
    are appended to ``problems``, warnings to ``warnings``.
    """
    line_of = line_of or LineMap()
    problems = problems if problems is not None else []
    warnings = warnings if warnings is not None else []
    raw = raw.copy().astype(object)
    raw.columns = [str(c).strip().lower().replace(" ", "_") for c in raw.columns]

    known = set(table.column_names)
    extra = [c for c in raw.columns if c not in known and c != "company"]
    if extra:
        warnings.append(ValidationProblem(file, 1, None, f"ignored unknown columns: {', '.join(extra)}",
                                          hint=f"known columns: {', '.join(table.column_names)}"))
    missing_required = [c.name for c in table.columns if c.required and c.name not in raw.columns]
    if missing_required:
        problems.append(ValidationProblem(file, 1, missing_required[0],
                                          f"missing required column(s): {', '.join(missing_required)}",
                                          hint=f"the header must name {', '.join(missing_required)}"))
        return pd.DataFrame(columns=table.column_names)

    n = len(raw)
    out: dict[str, object] = {}
    for col in table.columns:
        if col.name in raw.columns:
            values = raw[col.name].fillna("").astype(str).astype(object).str.strip()
            quoted = values.str.startswith("'")
            if quoted.any():
                unescape = quoted & values.str.match(_FORMULA_ESCAPED)
                values = values.where(~unescape, values.str[1:])
        else:
            values = pd.Series([""] * n, index=raw.index, dtype=object)
        out[col.name] = _check_column(col, values, file, taxonomy, line_of, problems, warnings)

    result = pd.DataFrame(out, columns=table.column_names)
    result.attrs["present"] = [c for c in table.column_names if c in raw.columns]
    result.index = range(n)

    if "id" in table.column_names:
        _warn_lookalike_ids(result["id"], file, table.name, line_of, warnings)

    # duplicate keys within the file
    key_cols = list(table.key)
    if table.name == "ties" or not key_cols:  # repeated pairs are merged by the loader; no key, no duplicates
        return result
    key = result[key_cols[0]].astype(str)
    for c in key_cols[1:]:
        key = key + "\x1f" + result[c].astype(str)
    valid_key = result[key_cols].notna().all(axis=1)
    dup = key.duplicated(keep="first") & valid_key
    if dup.any():
        first_pos = {}
        for i, k in enumerate(key):
            first_pos.setdefault(k, i)
        for i in np.flatnonzero(dup.to_numpy())[:MAX_PROBLEMS]:
            problems.append(ValidationProblem(
                file, line_of(int(i)), key_cols[0],
                f"duplicate {key_cols[0]} {key.iloc[i]!r}, first seen on line {line_of(first_pos[key.iloc[i]])}",
                hint="remove the duplicate row or give it its own id"))
    return result


def _check_column(col: Column, values: pd.Series, file: str, taxonomy: Taxonomy,
                  line_of: LineMap, problems: list, warnings: list) -> pd.Series:
    empty = values == ""

    def report(mask: pd.Series, message, hint=None):
        idx = np.flatnonzero(mask.to_numpy())
        room = MAX_PROBLEMS - len(problems)
        for i in idx[: max(room, 0)]:
            msg = message(values.iloc[i]) if callable(message) else message
            problems.append(ValidationProblem(file, line_of(int(i)), col.name, msg, hint))

    if col.required:
        report(empty, "missing value; every row needs one", f"fill in '{col.name}'")

    if col.type in ("text",) and col.tag_kind is None:
        return values.where(~empty, None)
    if col.type == "text" and col.tag_kind is not None:
        return _normalise_tags(values, empty, col, file, taxonomy, line_of, warnings, single=True)
    if col.type == "tags":
        return _normalise_tags(values, empty, col, file, taxonomy, line_of, warnings, single=False)
    if col.type == "choice":
        low = values.str.lower()
        bad = ~empty & ~low.isin(col.choices)
        report(bad, lambda v: f"expected one of {', '.join(col.choices)}, got {v!r}")
        return low.where(~empty, col.default)
    if col.type == "date":
        parsed = pd.to_datetime(values.where(~empty, None), format="%Y-%m-%d", errors="coerce")
        bad = ~empty & parsed.isna()
        report(bad, lambda v: f"expected a date as YYYY-MM-DD, got {v!r}", "e.g. 2024-03-15")
        return parsed.dt.strftime("%Y-%m-%d").where(~empty & ~bad, None)
    if col.type == "timestamp":
        parsed = pd.to_datetime(values.where(~empty, None), format="ISO8601", utc=True, errors="coerce")
        bad = ~empty & parsed.isna()
        report(bad, lambda v: f"expected a date and time (ISO 8601), got {bounded(repr(v), 40)}",
               "e.g. 2026-12-01T09:30:00Z")
        return parsed.dt.strftime("%Y-%m-%dT%H:%M:%SZ").where(~empty & ~bad, None)
    if col.type == "int":
        num = pd.to_numeric(values.where(~empty, None), errors="coerce").astype(float)
        bad = ~empty & (num.isna() | ~np.isfinite(num.fillna(0)) | (num != np.floor(num)) | (num < 0) | (num > MAX_INT))
        report(bad, lambda v: f"expected a whole number from 0 to {MAX_INT:,}, got {bounded(repr(v), 40)}")
        return pd.Series([None if (e or b) else int(x) for x, e, b in zip(num, empty, bad)], index=values.index, dtype=object)
    if col.type == "float":
        num = pd.to_numeric(values.where(~empty, None), errors="coerce")
        bad = ~empty & (num.isna() | ~np.isfinite(num.fillna(0)))
        if col.name == "strength":
            bad |= ~empty & ((num < 0) | (num > 1))
            report(bad, lambda v: f"expected a number between 0 and 1, got {v!r}")
        else:
            report(bad, lambda v: f"expected a number, got {v!r}")
        default = col.default
        return pd.Series([default if (e or b) else float(x) for x, e, b in zip(num, empty, bad)], index=values.index, dtype=object)
    if col.type == "bool":
        low = values.str.lower()
        bad = ~low.isin(_TRUE | _FALSE)
        report(bad, lambda v: f"expected 0/1 (or yes/no, true/false), got {v!r}")
        return low.isin(_TRUE).astype(int)
    raise ValueError(f"unknown column type {col.type}")


def _normalise_tags(values, empty, col, file, taxonomy, line_of, warnings, single):
    cache: dict[str, tuple[str | None, list]] = {}
    out = []
    unknown_seen: dict[str, int] = {}
    for i, (v, e) in enumerate(zip(values, empty)):
        if e:
            out.append(None)
            continue
        hit = cache.get(v)
        if hit is None:
            if single:
                nz = taxonomy.normalize(v, col.tag_kind)
                tags, unknown = ([nz.tag] if nz.tag else []), ([] if nz.known else [nz])
            else:
                tags, unknown = taxonomy.normalize_many(v, col.tag_kind)
            hit = (join_tags(tags) or None, unknown)
            cache[v] = hit
        out.append(hit[0])
        for u in hit[1]:
            if u.tag not in unknown_seen and len(warnings) < MAX_PROBLEMS:
                unknown_seen[u.tag] = i
                hint = f"did you mean {u.suggestion!r}?" if u.suggestion else "kept as a new tag"
                warnings.append(ValidationProblem(file, line_of(i), col.name,
                                                  f"unknown {col.tag_kind.replace('_', ' ')} {u.raw!r} (kept as {u.tag!r})", hint))
    return pd.Series(out, index=values.index, dtype=object)


# Latin look-alikes of Cyrillic and Greek letters (the ones that fool a reader in an id).
_CONFUSABLE = str.maketrans({
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ү": "y", "һ": "h",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S", "У": "Y",
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "τ": "t", "ι": "i", "κ": "k", "υ": "u", "χ": "x",
    "Α": "A", "Β": "B", "Ε": "E", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P",
    "Τ": "T", "Χ": "X", "Υ": "Y", "Ζ": "Z",
})


def id_skeleton(value: str) -> str:
    """What an id looks like to a reader: compatibility-normalised, look-alike letters made Latin.

    >>> id_skeleton("\u04400001") == id_skeleton("p0001")
    True
    """
    import unicodedata

    return unicodedata.normalize("NFKC", value).translate(_CONFUSABLE).casefold()


def _warn_lookalike_ids(ids: pd.Series, file: str, table: str, line_of: LineMap, warnings: list) -> None:
    """Warn about ids that look like another id of the file (Cyrillic 'р0001' beside 'p0001')."""
    values = [v for v in ids if isinstance(v, str)]
    if all(v.isascii() for v in values):
        return
    first: dict[str, tuple[int, str]] = {}
    for i, v in enumerate(ids):
        if not isinstance(v, str):
            continue
        sk = id_skeleton(v)
        if sk in first and first[sk][1] != v and len(warnings) < MAX_PROBLEMS:
            j, other = first[sk]
            odd = v if not v.isascii() else other
            warnings.append(ValidationProblem(
                file, line_of(i), "id", f"id {v!r} looks like id {other!r} on line {line_of(j)} "
                f"(it contains the non-Latin character(s) {', '.join(sorted({c for c in odd if not c.isascii()}))!r})",
                hint="use plain ASCII ids, or check that these are really two different records"))
        else:
            first.setdefault(sk, (i, v))
