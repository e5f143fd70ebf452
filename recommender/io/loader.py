"""Write validated tables into the store as one transaction.

This is where cross-table rules live: people matched to those already in the
database (by id, email or profile URL, so re-importing creates no
duplicates), references checked (a tie names two known people), and ties
stored once per pair.
"""

from __future__ import annotations

import difflib
import re

import numpy as np
import pandas as pd

from recommender.errors import DataValidationError, ValidationProblem
from recommender.io.validate import MAX_PROBLEMS, ImportReport, LineMap
from recommender.progress import progress_bar
from recommender.io.practice_csv import check_practice, write_practice
from recommender.store.schema import FOLDER_TABLES, IMPORT_ORDER, PRACTICE_TABLES
from recommender.store.db import Store
from recommender.words import plural

CHUNK = 50_000


def id_slug(text: str) -> str:
    """An id-safe slug: lower-case letters, digits and single hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def normalise_url(url: object) -> str | None:
    """Profile URLs compared without scheme, ``www.``, query or trailing slash."""
    if url is None or (isinstance(url, float) and np.isnan(url)):
        return None
    u = str(url).strip().lower()
    if not u:
        return None
    for p in ("https://", "http://"):
        if u.startswith(p):
            u = u[len(p):]
    if u.startswith("www."):
        u = u[4:]
    return u.split("?")[0].rstrip("/") or None


def load_tables(
    store: Store,
    tables: dict[str, pd.DataFrame],
    files: dict[str, str],
    lines: dict[str, LineMap] | None = None,
    report: ImportReport | None = None,
    progress: bool | None = None,
    present: dict[str, list[str]] | None = None,
) -> ImportReport:
    """Resolve references and write ``tables`` (validated frames) in one transaction.

    Raises
    ------
    DataValidationError
        If any reference is broken; nothing is written then.
    """
    report = report or ImportReport()
    lines = lines or {}
    problems: list[ValidationProblem] = []
    tables = {k: v.copy() for k, v in tables.items() if v is not None}

    existing_people = store.read_table("people")[["id", "email", "profile_url", "name"]]
    existing_ids = set(existing_people["id"])

    # -- people: match to existing by id, then email, then profile URL -------
    remap: dict[str, str] = {}
    if "people" in tables:
        people = tables["people"]
        by_email = {str(e).strip().lower(): i for i, e in zip(existing_people["id"], existing_people["email"]) if e}
        by_url = {normalise_url(u): i for i, u in zip(existing_people["id"], existing_people["profile_url"]) if normalise_url(u)}
        if by_email or by_url:
            for pid, email, url in zip(people["id"], people["email"], people["profile_url"]):
                if pid in existing_ids or pid is None:
                    continue
                target = None
                if email:
                    target = by_email.get(str(email).strip().lower())
                if target is None and url:
                    target = by_url.get(normalise_url(url))
                if target is not None:
                    remap[pid] = target
        if remap:
            people["id"] = people["id"].map(lambda x: remap.get(x, x))
            # two incoming rows may now point at one existing person: keep the last
            people = people.drop_duplicates("id", keep="last")
            tables["people"] = people
            report.merged_people = len(remap)

    def remapped(series: pd.Series) -> pd.Series:
        return series.map(lambda x: remap.get(x, x)) if remap else series

    person_ids = existing_ids | (set(tables["people"]["id"]) if "people" in tables else set())
    company_ids = store.ids("companies") | (set(tables["companies"]["id"]) if "companies" in tables else set())
    opportunity_ids = store.ids("opportunities") | (set(tables["opportunities"]["id"]) if "opportunities" in tables else set())
    outreach_ids = set(tables["outreach"]["id"]) if "outreach" in tables else set()  # the folder's own numbers
    known = {"people": person_ids, "companies": company_ids, "opportunities": opportunity_ids,
             "outreach": outreach_ids}

    for name, df in tables.items():
        t = FOLDER_TABLES[name]
        line_of = lines.get(name, LineMap())
        for col in t.columns:
            if col.ref is None or col.name not in df.columns:
                continue
            if col.ref == "people":
                df[col.name] = remapped(df[col.name])
            if name == "people" and col.name == "company_id":
                continue  # stub companies are created below
            vals = df[col.name]
            bad = vals.notna() & ~vals.isin(known[col.ref])
            for i in np.flatnonzero(bad.to_numpy())[:MAX_PROBLEMS]:
                v = vals.iloc[i]
                close = difflib.get_close_matches(str(v), [str(k) for k in known[col.ref]], n=1) \
                    if len(known[col.ref]) < 200_000 else []
                singular = {"people": "person", "companies": "company", "opportunities": "opportunity",
                            "outreach": "outreach item"}[col.ref]
                problems.append(ValidationProblem(
                    files.get(name, name), line_of(int(i)), col.name,
                    f"unknown {singular} id {v!r}",
                    f"did you mean {close[0]!r}?" if close else f"add it to {FOLDER_TABLES[col.ref].file} first"))

    # -- ties: one row per unordered pair, no self loops ----------------------
    if "ties" in tables:
        ties = tables["ties"]
        line_of = lines.get("ties", LineMap())
        self_loop = (ties["a"] == ties["b"]) & ties["a"].notna()
        for i in np.flatnonzero(self_loop.to_numpy())[:MAX_PROBLEMS]:
            problems.append(ValidationProblem(files.get("ties", "ties"), line_of(int(i)), "b",
                                              f"a tie from {ties['a'].iloc[i]!r} to itself", "remove the row"))
        swap = ties["a"].astype(str) > ties["b"].astype(str)
        a = ties["a"].where(~swap, ties["b"])
        b = ties["b"].where(~swap, ties["a"])
        ties["a"], ties["b"] = a, b
        dup = ties.duplicated(["a", "b"], keep="last")
        if dup.any():
            report.warnings.append(ValidationProblem(files.get("ties", "ties"), None, None,
                                                     f"{plural(int(dup.sum()), 'tie')} {'repeats' if int(dup.sum()) == 1 else 'repeat'} an earlier pair; the last one of each pair was kept"))
            tables["ties"] = ties[~dup]

    for name in ("introductions",):
        if name in tables:
            df = tables[name]
            line_of = lines.get(name, LineMap())
            same = (df["a"] == df["b"]) & df["a"].notna()
            for i in np.flatnonzero(same.to_numpy())[:MAX_PROBLEMS]:
                problems.append(ValidationProblem(files.get(name, name), line_of(int(i)), "b", "introduces a person to themself"))
    if "referrals" in tables:
        df = tables["referrals"]
        line_of = lines.get("referrals", LineMap())
        same = (df["from_id"] == df["to_id"]) & df["from_id"].notna()
        for i in np.flatnonzero(same.to_numpy())[:MAX_PROBLEMS]:
            problems.append(ValidationProblem(files.get("referrals", "referrals"), line_of(int(i)), "to_id", "a referral to the person who made it"))

    check_practice(tables, files, lines, problems)
    if problems:
        raise DataValidationError(problems, hint="nothing was written; fix the rows above and import again")

    # stub companies for people whose company is not listed
    if "people" in tables:
        cids = tables["people"]["company_id"].dropna()
        missing = sorted(set(cids) - company_ids)
        if missing:
            stub = pd.DataFrame({"id": missing, "name": missing})
            comp = tables.get("companies")
            tables["companies"] = stub if comp is None else pd.concat([comp, stub], ignore_index=True)
            report.warnings.append(ValidationProblem(files.get("people", "people"), None, "company_id",
                                                     f"{len(missing)} companies not in companies.csv were added by id"))

    # -- write, all or nothing --------------------------------------------------
    total = sum(len(df) for name, df in tables.items() if name not in PRACTICE_TABLES)
    bar = progress_bar(total=total, desc="importing", enabled=progress, unit="rows")
    try:
        with store.transaction() as con:
            for name in IMPORT_ORDER:
                df = tables.get(name)
                if df is None or df.empty:
                    continue
                before = store.ids(name) if name != "ties" else None
                cols = list(df.columns)
                for start in range(0, len(df), CHUNK):
                    part = df.iloc[start:start + CHUNK].astype(object)
                    part = part.where(part.notna(), None)
                    rows = list(part.itertuples(index=False, name=None))
                    store.upsert_rows(con, name, rows, cols, (present or {}).get(name))
                    bar.update(len(part))
                report.written[name] = report.written.get(name, 0) + len(df)
                if before is not None:
                    report.new[name] = int((~df["id"].isin(before)).sum())
            report.written.update(write_practice(con, {k: tables[k] for k in PRACTICE_TABLES if k in tables}))
    finally:
        bar.close()
    return report
