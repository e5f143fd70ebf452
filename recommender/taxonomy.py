"""Tag normalisation through the taxonomy in ``data/taxonomy.csv``.

Every tag belongs to a *kind*: ``function``, ``specialty``, ``industry``,
``size_band`` or ``region``. Free text such as "Demand Gen", "demand
generation" and "demand-gen" normalises to one canonical tag. An unknown tag
is kept (as a slug) but reported, with the nearest known tag suggested.

Example
-------
>>> tax = load_taxonomy()
>>> tax.normalize("Demand Generation", "specialty").tag
'demand-gen'
>>> r = tax.normalize("demand-genn", "specialty")
>>> (r.tag, r.known, r.suggestion)
('demand-genn', False, 'demand-gen')
>>> tax.correct("demand genn", "specialty").tag
'demand-gen'
>>> tax.correct("ops", "specialty").choices
('marketing-ops', 'process-improvement')
>>> tax.label("5-50m"), tax.label("saas"), tax.label("demand-gen")
('$5-50M', 'B2B SaaS', 'demand generation')
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from recommender.errors import DataValidationError, ValidationProblem

KINDS = ("function", "specialty", "industry", "size_band", "region")
_LABEL_ORDER = ("specialty", "industry", "size_band", "region", "function")
DATA_DIR = Path(__file__).resolve().parent / "data"
TAXONOMY_PATH = DATA_DIR / "taxonomy.csv"

_SEP = re.compile(r"[\s_/]+")
_JUNK = re.compile(r"[^a-z0-9&+<$.\-]")


def slugify(text: str) -> str:
    """Lower-case, trim, and join words with hyphens: ``" Demand  Gen"`` -> ``"demand-gen"``."""
    s = _SEP.sub("-", str(text).strip().lower())
    s = _JUNK.sub("", s)
    return re.sub(r"-{2,}", "-", s).strip("-")


def split_tags(value: str | None) -> list[str]:
    """Split a multi-valued cell (``;``, ``|`` or ``,`` separated) into raw tags."""
    if value is None:
        return []
    parts = str(value).replace("|", ";").replace(",", ";").split(";")  # re.split(r"[;|,]"), without the regex
    return [p.strip() for p in parts if p.strip()]


def join_tags(tags: Iterable[str]) -> str:
    """The storage form of a tag list: ``;``-separated."""
    return ";".join(tags)


@dataclass(frozen=True)
class Normalized:
    """The result of normalising one raw tag."""

    raw: str
    tag: str
    kind: str
    known: bool
    suggestion: str | None = None


@dataclass(frozen=True)
class Correction:
    """What a raw tag most likely means (see :meth:`Taxonomy.correct`).

    ``tag`` is the canonical tag when the text is known or has exactly one
    close spelling (``corrected`` then says it was a correction); ``choices``
    lists the close tags when several are equally likely (``tag`` is None);
    with neither, the text is unknown and ``choices`` holds the nearest tags.
    """

    raw: str
    kind: str
    tag: str | None
    corrected: bool = False
    ambiguous: bool = False
    choices: tuple[str, ...] = ()
    score: float = 1.0


@dataclass(frozen=True)
class TagInfo:
    tag: str
    kind: str
    parent: str | None
    synonyms: tuple[str, ...]
    label: str | None = None


class Taxonomy:
    """Canonical tags with synonyms and a parent, per kind.

    Parameters
    ----------
    entries : iterable of TagInfo
    """

    def __init__(self, entries: Iterable[TagInfo]):
        self.entries: dict[tuple[str, str], TagInfo] = {}
        self._lookup: dict[str, dict[str, str]] = {k: {} for k in KINDS}
        for e in entries:
            self.entries[(e.kind, e.tag)] = e
            table = self._lookup[e.kind]
            table[slugify(e.tag)] = e.tag
            for s in e.synonyms:
                table.setdefault(slugify(s), e.tag)
        self._cache: dict[tuple[str, str], Normalized] = {}

    # -- queries -----------------------------------------------------------
    def tags(self, kind: str) -> list[str]:
        """Canonical tags of one kind, in file order."""
        self._check_kind(kind)
        return [t for (k, t) in self.entries if k == kind]

    def parent(self, tag: str, kind: str) -> str | None:
        e = self.entries.get((kind, tag))
        return e.parent if e else None

    def children(self, tag: str, kind: str) -> list[str]:
        return [t for (k, t), e in self.entries.items() if k == kind and e.parent == tag]

    def function_of(self, specialty: str) -> str | None:
        """The function a specialty belongs to (its parent), or None."""
        return self.parent(specialty, "specialty")

    def label(self, tag: str, kind: str | None = None) -> str:
        """The display label of a tag ("demand-gen" -> "demand generation", "5-50m" -> "$5-50M").

        Without ``kind``, the kinds are tried in the order specialty, industry,
        size band, region, function. A tag the taxonomy does not know reads as
        its words (hyphens as spaces).
        """
        tag = str(tag)
        kinds = (kind,) if kind else _LABEL_ORDER
        for k in kinds:
            e = self.entries.get((k, tag))
            if e is not None:
                return e.label or e.tag.replace("-", " ")
        return tag.replace("-", " ")

    def slugs(self) -> set[str]:
        """Every canonical tag (all kinds) that reads differently from its label: what prose must not show."""
        return {t for (k, t), e in self.entries.items() if (e.label or t) != t}

    def is_known(self, tag: str, kind: str) -> bool:
        return (kind, tag) in self.entries

    def suggest(self, text: str, kind: str, n: int = 1) -> list[str]:
        """The nearest known canonical tags (by spelling of tags and synonyms)."""
        self._check_kind(kind)
        table = self._lookup[kind]
        close = difflib.get_close_matches(slugify(text), list(table), n=n * 3, cutoff=0.6)
        out: list[str] = []
        for c in close:
            if table[c] not in out:
                out.append(table[c])
        return out[:n]

    def correct(self, text: str, kind: str, *, cutoff: float = 0.8, margin: float = 0.04) -> Correction:
        """The tag ``text`` means: itself if known, else its one close spelling.

        Spellings of tags and synonyms at a similarity of at least ``cutoff``
        (difflib's ratio) are candidates; the best is applied when no other tag
        comes within ``margin`` of it, else the candidates are listed as
        choices. ``"demand genn"`` -> demand-gen (corrected);
        ``"marketing opps"`` has one close tag; a word close to two tags is
        ambiguous.
        """
        self._check_kind(kind)
        slug = slugify(text)
        table = self._lookup[kind]
        if slug in table:
            return Correction(text, kind, table[slug])
        best: dict[str, float] = {}
        for key, tag in table.items():
            sm = difflib.SequenceMatcher(None, slug, key)
            if sm.real_quick_ratio() < cutoff - 0.2 or sm.quick_ratio() < cutoff - 0.2:
                continue
            r = sm.ratio()
            if r > best.get(tag, 0.0):
                best[tag] = r
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        close = [t for t, r in ranked if r >= cutoff]
        if close:
            top = best[close[0]]
            rivals = [t for t in close if top - best[t] <= margin]
            if len(rivals) == 1:
                return Correction(text, kind, close[0], corrected=True, score=round(top, 4))
            return Correction(text, kind, None, ambiguous=True, choices=tuple(rivals[:4]), score=round(top, 4))
        return Correction(text, kind, None, choices=tuple(self.suggest(text, kind, n=3)),
                          score=round(ranked[0][1], 4) if ranked else 0.0)

    def normalize(self, text: str, kind: str) -> Normalized:
        """Normalise one raw tag of ``kind`` to its canonical form."""
        key = (kind, text)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        self._check_kind(kind)
        slug = slugify(text)
        canon = self._lookup[kind].get(slug)
        if canon is not None:
            res = Normalized(text, canon, kind, True)
        else:
            sugg = self.suggest(text, kind)
            res = Normalized(text, slug, kind, False, sugg[0] if sugg else None)
        if len(self._cache) < 200_000:
            self._cache[key] = res
        return res

    def normalize_many(self, value: str | Iterable[str] | None, kind: str) -> tuple[list[str], list[Normalized]]:
        """Normalise a cell or a list of raw tags.

        Returns
        -------
        tags : list of str
            Canonical tags, duplicates removed, order kept.
        unknown : list of Normalized
            The tags that are not in the taxonomy (kept in ``tags`` as slugs).
        """
        raw = split_tags(value) if (value is None or isinstance(value, str)) else list(value)
        tags: list[str] = []
        unknown: list[Normalized] = []
        for r in raw:
            n = self.normalize(r, kind)
            if not n.tag:
                continue
            if not n.known:
                unknown.append(n)
            if n.tag not in tags:
                tags.append(n.tag)
        return tags, unknown

    def _check_kind(self, kind: str) -> None:
        if kind not in self._lookup:
            raise ValueError(f"unknown tag kind {kind!r}; expected one of {', '.join(KINDS)}")


def read_taxonomy(path: str | Path) -> Taxonomy:
    """Read a taxonomy CSV with columns ``tag, kind, parent, label, synonyms`` (synonyms ``|``-separated).

    ``label`` (optional) is how the tag reads in prose and on screen; without
    it the tag reads as its words.
    """
    path = Path(path)
    problems: list[ValidationProblem] = []
    entries: list[TagInfo] = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"tag", "kind"} - set(reader.fieldnames or [])
        if missing:
            raise DataValidationError([ValidationProblem(str(path), 1, None, f"missing columns: {', '.join(sorted(missing))}")])
        for i, row in enumerate(reader, start=2):
            tag = slugify(row.get("tag") or "")
            kind = (row.get("kind") or "").strip()
            if not tag:
                problems.append(ValidationProblem(str(path), i, "tag", "empty tag"))
                continue
            if kind not in KINDS:
                problems.append(ValidationProblem(str(path), i, "kind", f"expected one of {', '.join(KINDS)}, got {kind!r}"))
                continue
            syn = tuple(s.strip() for s in (row.get("synonyms") or "").split("|") if s.strip())
            parent = slugify(row.get("parent") or "") or None
            label = (row.get("label") or "").strip() or None
            entries.append(TagInfo(tag, kind, parent, syn, label))
    if problems:
        raise DataValidationError(problems)
    return Taxonomy(entries)


@lru_cache(maxsize=1)
def load_taxonomy() -> Taxonomy:
    """The bundled taxonomy (cached)."""
    return read_taxonomy(TAXONOMY_PATH)
