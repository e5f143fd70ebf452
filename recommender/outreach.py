"""The outreach list: whom to contact, why, through whom, and a draft note.

Rows are built from :class:`~recommender.meet.model.Recommendation` objects and
written as CSV or XLSX for a person to work through. The explorer's
"Outreach" page and ``fracnet export outreach`` share this module.

Rules
-----
* Opted-out people are never included: rows for them are dropped when the
  rows are built and again when they are written.
* Every text cell a spreadsheet would run as a formula (starting with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading ``'``.
* Files are written to a temporary file and renamed into place, so a file is
  never half-written.

Example
-------
>>> rows = [{"group": "peers", "name": "=HYPERLINK(\\"x\\")", "for_id": "p1", "person_id": "p2"}]
>>> outreach_frame(rows).loc[0, "name"]
'\\'=HYPERLINK("x")'
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from recommender.people import is_opted_out
from recommender.errors import UsageError
from recommender.meet.text import GROUP_TITLES, draft_note, reason_text
from recommender.io.atomic import atomic_write, ensure_writable_folder
from recommender.io.csv_folder import neutralise_formula

__all__ = [
    "COLUMNS",
    "GROUP_ORDER",
    "outreach_row",
    "outreach_rows",
    "outreach_frame",
    "outreach_table",
    "outreach_csv_bytes",
    "outreach_xlsx_bytes",
    "write_outreach",
]

#: Columns of an outreach file, in order.
COLUMNS = ("group", "name", "company", "title", "why", "introducer", "profile_url", "email", "note",
           "status", "follow_up", "draft_note", "person_id", "for_id", "score")
#: Header labels in files.
HEADERS = {"group": "Group", "name": "Name", "company": "Company", "title": "Title", "why": "Why",
           "introducer": "Introducer", "profile_url": "Profile URL", "email": "Email", "note": "Note",
           "status": "Status", "follow_up": "Follow-up", "draft_note": "Draft note", "person_id": "Person id", "for_id": "For", "score": "Score"}
GROUP_ORDER = ("peers", "adjacent", "executives")
_TEXT_COLUMNS = tuple(c for c in COLUMNS if c != "score")


def _people_lookup(network) -> tuple[dict, dict]:
    people = network.people
    people = people.where(people.notna(), None)
    by_id = {str(r["id"]): r for r in people.to_dict("records")}
    comps = network.companies
    comp_names = {str(i): n for i, n in zip(comps["id"], comps["name"]) if isinstance(n, str)}
    return by_id, comp_names


def outreach_row(rec, network, me: dict, them: dict | None = None, *, lookup=None) -> dict | None:
    """One outreach row for recommendation ``rec`` (None if the person opted out).

    Parameters
    ----------
    rec : Recommendation
    network : Network
        For the person's company, title, email, profile URL and opt-out flag.
    me : dict
        The sender's profile facts (:meth:`MeetModel.person`), for the draft note.
    them : dict, optional
        The recipient's profile facts, for the draft note's first name and company.
    """
    by_id, comp_names = lookup or _people_lookup(network)
    person = by_id.get(str(rec.candidate_id))
    if person is None or is_opted_out(person.get("opt_out")):
        return None
    company = comp_names.get(str(person.get("company_id"))) if person.get("company_id") else None
    intro = f"{rec.introducer_name} ({rec.introducer_id})" if rec.introducer_id else ""
    return {
        "group": rec.group or "",
        "name": rec.name,
        "company": company or "",
        "title": person.get("title") or "",
        "why": "; ".join(reason_text(r) for r in rec.reasons),
        "introducer": intro,
        "profile_url": person.get("profile_url") or "",
        "email": person.get("email") or "",
        "note": "",
        "status": "",
        "follow_up": "",
        "draft_note": draft_note(rec, me, them),
        "person_id": str(rec.candidate_id),
        "for_id": str(rec.person_id),
        "score": round(float(rec.score), 4),
    }


def outreach_rows(recommendations: Iterable, network, model) -> list[dict]:
    """Rows for many recommendations (of one or more people), opted-out people left out.

    ``model`` is the fitted :class:`~recommender.meet.model.MeetModel` that made
    them (its profile facts feed the draft notes).
    """
    lookup = _people_lookup(network)
    out = []
    for rec in recommendations:
        row = outreach_row(rec, network, model.person(rec.person_id), model.person(rec.candidate_id), lookup=lookup)
        if row is not None:
            out.append(row)
    return out


def _cell(value) -> str:
    """A text cell: None, NaN and NA read empty."""
    if type(value) is str:
        return value
    if value is None or pd.isna(value):
        return ""
    return str(value)


def outreach_table(rows: Iterable[Mapping], *, opted_out: Iterable[str] = ()) -> list[list]:
    """The rows as a file-ready table (lists in :data:`COLUMNS` order): grouped (peers, adjacent,
    executives), then by ``for_id``, best score first; one row per (for, person); opted-out people
    dropped; every text cell a string with formula-like text neutralised; ``score`` as given.

    Plain Python: a list of ~45 rows is built in well under a millisecond, which is
    what writing one file per person for a whole network needs.
    """
    skip = {str(x) for x in opted_out}
    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    seen: set = set()
    kept = []
    for r in rows:
        if str(r.get("person_id")) in skip or is_opted_out(r.get("opt_out")):
            continue
        cells = [_cell(r.get(c)) for c in COLUMNS]
        score = r.get("score")
        cells[_SCORE] = "" if score is None or pd.isna(score) else score  # a number stays a number
        key = (cells[_FOR], cells[_PERSON])
        if key in seen:  # the first row of a (for, person) pair wins
            continue
        seen.add(key)
        kept.append(cells)

    def score(cells) -> float:  # as pd.to_numeric(errors="coerce").fillna(0.0)
        try:
            v = float(cells[_SCORE])
        except (TypeError, ValueError):
            return 0.0
        return 0.0 if v != v else v

    kept.sort(key=lambda cells: (order.get(cells[_GROUP], len(order)), cells[_FOR], -score(cells)))  # stable
    for cells in kept:
        for j in _TEXT_POSITIONS:
            cells[j] = neutralise_formula(cells[j])
    return kept


_GROUP, _FOR, _PERSON, _SCORE = (COLUMNS.index(c) for c in ("group", "for_id", "person_id", "score"))
_TEXT_POSITIONS = tuple(COLUMNS.index(c) for c in _TEXT_COLUMNS)


def outreach_frame(rows: Iterable[Mapping], *, opted_out: Iterable[str] = ()) -> pd.DataFrame:
    """:func:`outreach_table` as a DataFrame (object columns)."""
    return pd.DataFrame(outreach_table(rows, opted_out=opted_out), columns=list(COLUMNS), dtype=object)


def outreach_csv_bytes(rows: Iterable[Mapping], *, opted_out: Iterable[str] = ()) -> bytes:
    """The outreach list as UTF-8 CSV (with a BOM, so spreadsheets read accents right)."""
    buf = io.StringIO()
    # CRLF line ends (RFC 4180): the csv module then quotes any field holding a CR or LF
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([HEADERS[c] for c in COLUMNS])
    writer.writerows(outreach_table(rows, opted_out=opted_out))
    return buf.getvalue().encode("utf-8-sig")


def outreach_xlsx_bytes(rows: Iterable[Mapping], *, opted_out: Iterable[str] = ()) -> bytes:
    """The outreach list as an XLSX workbook: one sheet, a bold frozen header, filters,
    a group heading column; every text cell stored as text (never a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    table = outreach_table(rows, opted_out=opted_out)
    wb = Workbook()
    ws = wb.active
    ws.title = "Outreach"
    headers = [HEADERS[c] for c in COLUMNS]
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="2F4858")
    for rec in table:
        ws.append([None] * len(COLUMNS))
        r = ws.max_row
        for j, (col, value) in enumerate(zip(COLUMNS, rec), start=1):
            cell = ws.cell(row=r, column=j)
            if col == "score":
                cell.value = float(value) if value not in ("", None) else None
            else:
                cell.value = str(value)
                cell.data_type = "s"  # text, even if it looks like a formula
                if col in ("why", "draft_note", "note"):
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = {"group": 12, "name": 26, "company": 28, "title": 22, "why": 60, "introducer": 26,
              "profile_url": 40, "email": 30, "note": 30, "status": 18, "follow_up": 12, "draft_note": 70, "person_id": 10, "for_id": 10,
              "score": 8}
    from openpyxl.utils import get_column_letter

    for j, col in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(j)].width = widths[col]
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(ws.max_row, 1)}"
    legend = wb.create_sheet("Groups")
    legend.append(["Group", "What it means"])
    for g in GROUP_ORDER:
        legend.append([g, GROUP_TITLES[g]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_outreach(rows: Iterable[Mapping], path: str | os.PathLike, *, fmt: str | None = None,
                   opted_out: Iterable[str] = ()) -> Path:
    """Write the outreach list to ``path`` (CSV or XLSX, from ``fmt`` or the suffix), atomically.

    Raises
    ------
    UsageError
        An unknown format, or a folder that does not exist.
    """
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in ("csv", "xlsx"):
        raise UsageError(f"outreach lists are written as csv or xlsx, got {fmt or path.name!r}",
                         hint="name the file .csv or .xlsx")
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {path}: folder {path.parent} does not exist")
    data = outreach_csv_bytes(rows, opted_out=opted_out) if fmt == "csv" else outreach_xlsx_bytes(rows, opted_out=opted_out)
    atomic_write(path, lambda fh: fh.write(data))
    return path


def safe_file_stem(person_id: str) -> str:
    """A file name for a person's list, unique per id: the id itself when it is a safe name, else
    the id with anything unsafe replaced plus a short hash of the id (so 'x y', 'x_y' and 'x/y'
    never share a file).

    >>> [safe_file_stem(p) for p in ("p0042", "x_y")]
    ['p0042', 'x_y']
    >>> len({safe_file_stem(p) for p in ("x y", "x_y", "x/y", "X_Y")})
    4
    """
    import hashlib
    import re

    pid = str(person_id)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", pid).strip("._") or "person"
    if stem == pid and len(stem) <= 120 and stem.lower() not in _RESERVED_STEMS:
        return stem
    return f"{stem[:100]}-{hashlib.sha256(pid.encode('utf-8')).hexdigest()[:10]}"


#: Names some file systems refuse or treat specially.
_RESERVED_STEMS = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                             *(f"lpt{i}" for i in range(1, 10))})


def write_outreach_lists(model, network, out_dir: str | os.PathLike, *, per_group: int = 15, fmt: str = "csv",
                         person_ids=None, block_size: int = 256, progress=None) -> dict:
    """One outreach file per person (``<out_dir>/<person_id>.<fmt>``), scored in blocks.

    Opted-out people get no list and appear in none. Each file is written
    atomically; people are scored ``block_size`` at a time with
    :meth:`~recommender.meet.model.MeetModel.recommend_many`, so a list equals
    ``fracnet export outreach --person ID``.

    Returns
    -------
    dict
        ``{"files": n, "rows": n, "skipped_opted_out": n, "dir": str}``
    """
    if fmt not in ("csv", "xlsx"):
        raise UsageError(f"outreach lists are written as csv or xlsx, got {fmt!r}")
    if per_group < 1:
        raise UsageError(f"per_group must be a positive integer, got {per_group}")
    out = ensure_writable_folder(out_dir)
    people = network.people
    opted = {str(p) for p, flag in zip(people["id"], people["opt_out"]) if is_opted_out(flag)}
    ids = [str(p) for p in (people["id"] if person_ids is None else person_ids)]
    todo = [p for p in ids if p not in opted]
    lookup = _people_lookup(network)
    files = rows_total = 0
    used: set[str] = set()  # file names taken, case-folded (case-insensitive file systems)
    for start in range(0, len(todo), block_size):
        block = todo[start:start + block_size]
        recs = model.recommend_many(block, k=per_group, group="all")
        for pid in block:
            rows = []
            me = model.person(pid)
            for rec in recs[pid]:
                row = outreach_row(rec, network, me, model.person(rec.candidate_id), lookup=lookup)
                if row is not None:
                    rows.append(row)
            stem = safe_file_stem(pid)
            if stem.casefold() in used:  # 'P1' beside 'p1' on a case-insensitive disk
                import hashlib

                stem = f"{stem[:100]}-{hashlib.sha256(pid.encode('utf-8')).hexdigest()[:10]}"
            used.add(stem.casefold())
            write_outreach(rows, out / f"{stem}.{fmt}", opted_out=opted)
            files += 1
            rows_total += len(rows)
        if progress is not None:
            progress(min(start + block_size, len(todo)), len(todo))
    return {"dir": str(out), "files": files, "rows": rows_total, "skipped_opted_out": len(ids) - len(todo)}
