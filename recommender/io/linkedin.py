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
from typing import NamedTuple

import pandas as pd

from recommender.errors import DataValidationError, UnknownIdError, UsageError, ValidationProblem
from recommender.io.csv_folder import decode_text, read_csv_text
from recommender.io.loader import id_slug, load_tables, normalise_url
from recommender.io.validate import ImportReport, LineMap, validate_table
from recommender.store.schema import TABLES
from recommender.store.db import Store
from recommender.taxonomy import Taxonomy, join_tags, load_taxonomy, slugify

COLUMNS = ("First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On")
_DATE_FORMATS = ("%d %b %Y", "%d %B %Y", "%m/%d/%y", "%m/%d/%Y", "%Y-%m-%d", "%b %d, %Y")
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


# -- reading a position ("Fractional CFO | FP&A for SaaS") -------------------------------------

#: Words that make a position fractional on their own, with or without a function.
_FRACTIONAL_STRONG = re.compile(r"\b(fractional|interim|part[- ]time|time[- ]share|on[- ]demand|outsourced|"
                                r"virtual (?:cfo|cmo|coo|cto|cio|chro|cro)|v(?:cfo|cmo|coo|cto|cio)|"
                                r"(?:cfo|cmo|coo|cto|chro|cro|cpo|cio|hr|sales|marketing)[- ]as[- ]a[- ]service|"
                                r"(?:cfo|cmo|coo|cto|cro|cpo|chro)s? for hire|portfolio (?:cfo|cmo|coo|cto|cro|executive))\b", re.I)
#: Independent roles: fractional when the position names a function ("Marketing Consultant").
_FRACTIONAL_WEAK = re.compile(r"\b(advis[oe]r|consultant|consulting|freelance|freelancer|independent|"
                              r"self[- ]employed|coach)\b", re.I)
#: The executives of a company: CEO, founder, president, GM, MD, owner, C-level, VP.
_EXEC = re.compile(
    r"\b(ceo|c\.e\.o\.|founder|co-?founder|president|owner|proprietor|managing director|general manager|gm|"
    r"managing partner|executive director|chair(?:man|woman|person)?|"
    r"c[a-z]o|chief (?!of staff)[a-z& ]{2,40}?officer|vp|svp|evp|avp|vice[- ]president)\b", re.I)
_NOT_EXEC = re.compile(r"\b(product owner|chief of staff|assistant to|executive assistant|ea to|"
                       r"office manager|account executive|owner operator driver)\b", re.I)
_C_LEVEL = {"ceo", "cfo", "cmo", "coo", "cto", "cio", "cro", "cpo", "chro", "cdo", "ciso", "cso", "cco", "clo",
            "cao", "cco", "cxo"}
#: Words that may name a function only beside a role word ("Head of People", "VP Revenue").
_ROLE_WORDS = re.compile(r"\b(fractional|interim|head|vp|svp|evp|vice president|director|lead|leader|manager|"
                         r"chief|officer|consultant|advis[oe]r|partner|executive)\b", re.I)
_WEAK_FUNCTION_WORDS = {"people", "growth", "revenue", "it", "commercial", "talent", "ops", "product", "counsel",
                        "integrator", "attorney", "lawyer"}
_SEGMENTS = re.compile(r"\s*(?:\||•|·|–|—|\s-\s|;|/(?=\s)|,|:|\bat\b|@|\bfor\b|\bwith\b|\bhelping\b|"
                       r"\bin\b|\bto\b)\s*", re.I)
_TOKEN = re.compile(r"[a-z0-9][a-z0-9&+./'-]*|&", re.I)  # a lone "&" is a word: no phrase spans it
_COMPANY_TAIL = re.compile(r"\s(?:at|@)\s.*$", re.I)  # "... at Acme Logistics": the company, not the work


class PositionReading(NamedTuple):
    """What a LinkedIn position says about a person."""

    kind: str  # fractional, executive or contact
    function: str | None
    specialties: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()


def _phrases(taxonomy: Taxonomy, kind: str) -> dict[str, str]:
    """slug -> canonical tag for a kind (tags and synonyms), as the taxonomy looks them up."""
    return taxonomy._lookup[kind]


def _find_tags(text: str, table: dict[str, str], max_words: int = 5,
               skip: set[int] = frozenset()) -> list[tuple[int, int, str]]:
    """(first word, number of words, tag) of the longest known phrases in ``text``, left to
    right, not overlapping, never using the word positions in ``skip``."""
    words = _TOKEN.findall(text)
    out, i = [], 0
    while i < len(words):
        if i in skip:
            i += 1
            continue
        for n in range(min(max_words, len(words) - i), 0, -1):
            if any(j in skip for j in range(i, i + n)):
                continue
            tag = table.get(slugify(" ".join(words[i:i + n]).strip(".,'")))
            if tag:
                out.append((i, n, tag))
                i += n
                break
        else:
            i += 1
    return out


def _function_in(segment: str, taxonomy: Taxonomy) -> str | None:
    """The function a segment names: a C-level or "chief ... officer" first, then a function word."""
    table = _phrases(taxonomy, "function")
    has_role = bool(_ROLE_WORDS.search(segment))
    found = [(p, tag) for p, _, tag in _find_tags(segment, table)]
    words = [w.lower() for w in _TOKEN.findall(segment)]
    strong = [(p, t) for p, t in found if (words[p] if p < len(words) else "") not in _WEAK_FUNCTION_WORDS]
    if strong:
        return strong[0][1]
    if has_role and found:
        if any(w == "it" for w in words) and not re.search(r"\bIT\b", segment):
            found = [(p, t) for p, t in found if words[p] != "it"]
        return found[0][1] if found else None
    return None


def read_position(position: str | None, taxonomy: Taxonomy | None = None) -> PositionReading:
    """Read a free-text position: kind, function, and the specialties, industries and
    size bands it names, through the taxonomy.

    * **fractional**: "fractional", "interim", "part-time", "CFO for hire", ... or an
      independent role (advisor, consultant, freelance) that names a function;
    * **executive**: CEO, founder, president, owner, managing director, GM, C-level,
      VP (not "Product Owner", not "Chief of Staff");
    * **contact**: everyone else ("Senior Software Engineer"): kept as a person who
      links people, never suggested as a fractional or an ICP executive.

    Example
    -------
    >>> read_position("Fractional CFO | FP&A for SaaS")
    PositionReading(kind='fractional', function='finance', specialties=('fp-and-a',), industries=('saas',), sizes=())
    >>> read_position("Senior Software Engineer").kind
    'contact'
    """
    taxonomy = taxonomy or load_taxonomy()
    pos = re.sub(r"\s+", " ", str(position or "")).strip()
    if not pos:
        return PositionReading("contact", None)
    pos = re.sub(r"-as-an?-", " as a ", pos, flags=re.I)
    fractional = bool(_FRACTIONAL_STRONG.search(pos))
    executive = not fractional and _any_exec(pos)
    segments = [x for x in _SEGMENTS.split(pos) if x and x.strip()]
    function = None
    for seg in segments:
        function = _function_in(seg, taxonomy)
        if function:
            break
    work = _COMPANY_TAIL.sub("", pos)  # what the person does, without where
    spec_found = _find_tags(work, _phrases(taxonomy, "specialty"))
    if not function and spec_found and not executive:
        function = taxonomy.function_of(spec_found[0][2])
    # a specialty of another function is no reading of this person ("data" of a CFO)
    spec_found = [f for f in spec_found if taxonomy.function_of(f[2]) == function]
    specs = list(dict.fromkeys(t for _, _, t in spec_found))
    # industries and sizes from the other words ("AI" read as a specialty is not also an industry)
    # (an industry inside a specialty phrase counts only as its first word, named as the
    # industry itself: "SaaS metrics" says SaaS; "AI strategy", "social media" and
    # "software development" name no industry)
    words = _TOKEN.findall(work)
    used = {j for i, n, _ in spec_found for j in range(i, i + n)
            if j > i or not taxonomy.is_known(slugify(words[j]), "industry")}
    industries = list(dict.fromkeys(t for _, _, t in _find_tags(work, _phrases(taxonomy, "industry"), skip=used)))
    industries = [t for t in industries if not _is_role_word(t, pos, taxonomy)]
    sizes = list(dict.fromkeys(t for _, _, t in _find_tags(work, _phrases(taxonomy, "size_band"), skip=used)))
    if fractional or (_FRACTIONAL_WEAK.search(pos) and function and not executive):
        return PositionReading("fractional", function, tuple(specs), tuple(industries), tuple(sizes))
    if executive:
        return PositionReading("executive", function, (), tuple(industries), ())
    if _FRACTIONAL_WEAK.search(pos) and function:
        return PositionReading("fractional", function, tuple(specs), tuple(industries), tuple(sizes))
    return PositionReading("contact", None)


def _any_exec(pos: str) -> bool:
    """Whether any executive word in ``pos`` is a real one (a C-level acronym, not "CSM")."""
    if _NOT_EXEC.search(pos):
        return False
    for m in _EXEC.finditer(pos):
        w = m.group(1).lower()
        if len(w) == 3 and w.startswith("c") and w not in _C_LEVEL:
            continue
        return True
    return False


def _is_role_word(tag: str, pos: str, taxonomy: Taxonomy) -> bool:
    """An industry found only in words that name a role or function ("technology" in "Chief Technology Officer")."""
    return tag == "technology-sector" and bool(re.search(r"chief technology|technology officer|vp technology|"
                                                         r"head of technology|technology leader", pos, re.I))


def guess_role(position: str, taxonomy: Taxonomy) -> tuple[str, str | None]:
    """(kind, function) of a free-text position such as "Fractional CFO" (see :func:`read_position`)."""
    r = read_position(position, taxonomy)
    return r.kind, r.function


def stable_id(raw: str, prefix: str = "li-") -> str:
    """An id from ``raw`` text that never collapses two different texts into one.

    Plain ASCII text keeps its readable slug (``li-ada-lovelace``, as before);
    text the slug cannot hold (non-Latin names, non-ASCII vanity URLs) gets a
    short hash of the raw text, so it is stable across re-imports and unique.

    >>> stable_id("Ada Lovelace")
    'li-ada-lovelace'
    >>> stable_id("王 伟") != stable_id("李 娜") and stable_id("王 伟") == stable_id("王 伟")
    True
    >>> stable_id("josé-garcía") != stable_id("jose-garcia")
    True
    """
    import hashlib
    import unicodedata

    text = unicodedata.normalize("NFC", str(raw).strip())
    slug = id_slug(text)
    if slug and text.isascii():
        return prefix + slug
    digest = hashlib.sha256(text.casefold().encode("utf-8")).hexdigest()[:10]
    return f"{prefix}{slug}-{digest}" if slug else f"{prefix}{digest}"


def _person_id(url: str, first: str, last: str, email: str) -> str:
    from urllib.parse import unquote

    u = normalise_url(url) or ""
    m = re.search(r"/in/([^/]+)", u)
    if m:
        return stable_id(unquote(m.group(1)))
    if email:
        return stable_id(email.split("@")[0] + "-" + email.split("@")[-1].split(".")[0])
    return stable_id(f"{first} {last}")


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
    owner_id = store.resolve("people", owner_id)  # an id, the same id zero-padded, or a unique name

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
        reading = read_position(position, taxonomy)
        pid = _person_id(url, first, last, email)
        cid = ("co-" + id_slug(company)) if company else ""
        if cid:
            companies.setdefault(cid, company)
        people.append({"id": pid, "name": f"{first} {last}".strip(), "kind": reading.kind,
                       "function": reading.function or "", "title": position, "company_id": cid,
                       "specialties": join_tags(reading.specialties), "industries": join_tags(reading.industries),
                       "icp_sizes": join_tags(reading.sizes), "email": email, "profile_url": url})
        ties.append({"a": owner_id, "b": pid, "strength": str(LINKEDIN_TIE_STRENGTH), "since": since or "",
                     "last_contact": since or "", "source": "linkedin"})
    if problems:
        raise DataValidationError(problems, hint="nothing was written")

    people_df = pd.DataFrame(people, columns=["id", "name", "kind", "function", "title", "company_id", "specialties",
                                              "industries", "icp_sizes", "email", "profile_url"])
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
