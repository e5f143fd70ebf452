"""LinkedIn's "Connections.csv" export, imported as it comes.

The file starts with a "Notes:" preamble, may carry a UTF-8 BOM, and has the
columns First Name, Last Name, URL, Email Address, Company, Position,
Connected On. Each connection becomes a person (matched to people already in
the database by profile URL or email, so re-importing adds nothing twice),
their company a company, and a tie to the owner dated when they connected.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from recommender.errors import DataValidationError, UnknownIdError, UsageError, ValidationProblem
from recommender.io.csv_folder import decode_text, read_csv_text
from recommender.io.loader import id_slug, load_tables, normalise_url
from recommender.io.validate import ImportReport, LineMap, validate_table
from recommender.store.schema import TABLES
from recommender.store.db import Store
from recommender.taxonomy import Taxonomy, load_taxonomy

COLUMNS = ("First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On")
_DATE_FORMATS = ("%d %b %Y", "%d %B %Y", "%m/%d/%y", "%m/%d/%Y", "%Y-%m-%d", "%b %d, %Y")
_EXEC_WORDS = re.compile(r"\b(ceo|founder|co-founder|cofounder|president|owner|managing director|general manager|gm|"
                         r"chief executive|managing partner|principal)\b", re.I)
_FRACTIONAL_WORDS = re.compile(r"\b(fractional|interim|part[- ]time|outsourced|advisor|consultant|on-demand)\b", re.I)
LINKEDIN_TIE_STRENGTH = 0.3


def parse_connected_on(text: str) -> str | None:
    """LinkedIn's 'Connected On' (e.g. ``15 Mar 2023``) as ISO date, or None."""
    text = text.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def guess_role(position: str, taxonomy: Taxonomy) -> tuple[str, str | None]:
    """(kind, function) from a free-text position such as "Fractional CFO"."""
    pos = position or ""
    function = None
    words = set(re.findall(r"[a-z&]+", pos.lower()))
    low = " " + re.sub(r"\s+", " ", pos.lower()) + " "
    for f in taxonomy.tags("function"):
        info = taxonomy.entries[("function", f)]
        names = (f,) + info.synonyms
        if any((n in words) if " " not in n else (f" {n} " in low) for n in names):
            function = f
            break
    if _FRACTIONAL_WORDS.search(pos):
        return "fractional", function
    if _EXEC_WORDS.search(pos):
        return "executive", None
    return ("fractional", function) if function else ("executive", None)


def _person_id(url: str, first: str, last: str, email: str) -> str:
    u = normalise_url(url) or ""
    m = re.search(r"/in/([^/]+)", u)
    if m:
        return "li-" + id_slug(m.group(1))
    if email:
        return "li-" + id_slug(email.split("@")[0] + "-" + email.split("@")[-1].split(".")[0])
    return "li-" + id_slug(f"{first} {last}")


def find_header(text: str) -> int:
    """Index of the line holding the column header (after the "Notes:" preamble)."""
    for i, line in enumerate(text.splitlines()):
        if line.lstrip("\ufeff").startswith("First Name") and "Last Name" in line:
            return i
    return -1


def import_linkedin(store: Store, path: str | os.PathLike, owner_id: str, *, taxonomy: Taxonomy | None = None,
                    progress: bool | None = None) -> ImportReport:
    """Import a LinkedIn Connections.csv for ``owner_id`` in one transaction."""
    taxonomy = taxonomy or load_taxonomy()
    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise UsageError(f"{path} is not a file", hint="give the Connections.csv from LinkedIn's data export")
    owner_known = owner_id in store.ids("people")
    if not owner_known:
        raise UnknownIdError("person", owner_id, store.suggest_ids("people", owner_id))

    text = decode_text(path.read_bytes(), file)
    h = find_header(text)
    if h < 0:
        raise DataValidationError([ValidationProblem(file, 1, None, "no LinkedIn header row found",
                                                     "expected a line starting 'First Name,Last Name,URL,...'")])
    body = "\n".join(text.splitlines()[h:])
    raw, lines = read_csv_text(body, file)
    lines = LineMap([x + h for x in lines.lines or []])
    missing = [c for c in ("First Name", "Last Name") if c not in raw.columns]
    if missing:
        raise DataValidationError([ValidationProblem(file, h + 1, missing[0], "missing LinkedIn column")])
    for c in COLUMNS:
        if c not in raw.columns:
            raw[c] = ""

    problems: list[ValidationProblem] = []
    people, companies, ties = [], {}, []
    for i, r in enumerate(raw.itertuples(index=False)):
        rec = dict(zip(raw.columns, r))
        first, last = rec["First Name"].strip(), rec["Last Name"].strip()
        url, email = rec["URL"].strip(), rec["Email Address"].strip()
        company, position = rec["Company"].strip(), rec["Position"].strip()
        if not (first or last or url):
            problems.append(ValidationProblem(file, lines(i), "First Name", "a connection with no name and no URL"))
            continue
        connected = rec["Connected On"].strip()
        since = parse_connected_on(connected) if connected else None
        if connected and since is None:
            problems.append(ValidationProblem(file, lines(i), "Connected On", f"expected a date like '15 Mar 2023', got {connected!r}"))
        kind, function = guess_role(position, taxonomy)
        pid = _person_id(url, first, last, email)
        cid = ("co-" + id_slug(company)) if company else ""
        if cid:
            companies.setdefault(cid, company)
        people.append({"id": pid, "name": f"{first} {last}".strip(), "kind": kind, "function": function or "",
                       "title": position, "company_id": cid, "email": email, "profile_url": url})
        ties.append({"a": owner_id, "b": pid, "strength": str(LINKEDIN_TIE_STRENGTH), "since": since or "",
                     "last_contact": since or "", "source": "linkedin"})
    if problems:
        raise DataValidationError(problems, hint="nothing was written")

    people_df = pd.DataFrame(people, columns=["id", "name", "kind", "function", "title", "company_id", "email", "profile_url"])
    people_df = people_df.astype(str).replace("None", "")
    # the same person twice in one export: keep the first
    people_df = people_df.drop_duplicates("id", keep="first")
    frames = {
        "companies": pd.DataFrame({"id": list(companies), "name": list(companies.values())}, dtype=object),
        "people": people_df,
        "ties": pd.DataFrame(ties, columns=["a", "b", "strength", "since", "last_contact", "source"]).drop_duplicates(["a", "b"]),
    }
    warnings: list[ValidationProblem] = []
    tables = {name: validate_table(TABLES[name], df, file, taxonomy, lines, problems, warnings) for name, df in frames.items()}
    if problems:
        raise DataValidationError(problems, hint="nothing was written")
    # new people and companies are inserted whole; ones the database already
    # knows (matched by id, URL or email) keep what it holds
    present = {"companies": ["id"], "people": ["id"], "ties": ["a", "b", "source"]}
    report = ImportReport(warnings=warnings)
    return load_tables(store, tables, {k: file for k in tables}, {"people": LineMap(None)}, report, progress, present)
