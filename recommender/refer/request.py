"""The routing request and its checks: who asks, the needs normalised through the taxonomy, the lane check.

The request checks live here, in one place; the CLI, the explorer, batch jobs
and the ledger call them:

* :func:`read_needs`: the needs list through the taxonomy. A known tag (or a
  whole function, "marketing") is kept; a misspelling with exactly one close
  tag is corrected, and the correction is reported; a misspelling close to
  several tags is refused with the choices; an unknown tag is kept and
  reported with the nearest tags. A list whose every tag is unknown is
  refused: it would match nobody.
* :func:`check_opportunity`: routing or logging a referral on an opportunity
  that is closed (won, lost, closed) or that someone else brought needs
  ``anyway``; otherwise one line says why and how to go ahead.

Example
-------
>>> r = read_needs("demand genn, seo")
>>> r.tags
('demand-gen', 'seo')
>>> r.notes
("read 'demand genn' as demand generation",)
>>> read_needs("sop")
Traceback (most recent call last):
...
recommender.errors.UsageError: needs: 'sop' could mean process improvement ('process-improvement') or supply chain ('supply-chain') (say which, e.g. --needs 'process-improvement')
>>> check_opportunity({"id": "o7", "status": "won", "brought_by": "p1"}, "p1")
Traceback (most recent call last):
...
recommender.errors.UsageError: opportunity o7 is already won; nothing was routed (to go ahead all the same, add --anyway)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from recommender.errors import UnknownIdError, UsageError
from recommender.dates import parse_as_of
from recommender.refer import MAX_HOPS  # noqa: F401  (defined in the package: the CLI's parser reads it cheaply)
from recommender.taxonomy import Taxonomy, load_taxonomy, slugify, split_tags
from recommender.words import join_words



@dataclass(frozen=True)
class Reason:
    """One structured reason: a ``code`` and the numbers behind it.

    ``contribution`` is the reason's share of the score (0 when it only
    informs). :func:`recommender.refer.text.reason_text` renders it.
    """

    code: str
    data: dict = field(default_factory=dict)
    contribution: float = 0.0


@dataclass(frozen=True)
class Request:
    """A normalised routing request."""

    from_id: str
    needs: tuple[str, ...]
    industry: str | None = None
    size_band: str | None = None
    region: str | None = None
    description: str | None = None
    date: str | None = None
    opportunity_id: str | None = None
    company: str | None = None
    warnings: tuple[dict, ...] = ()


@dataclass(frozen=True)
class LaneCheck:
    """How well the referrer fits the need."""

    person_id: str
    fit: float
    in_lane: bool
    covers: tuple[str, ...]
    partial: tuple[str, ...]
    missing: tuple[str, ...]
    reasons: tuple[Reason, ...]


class RequestChecks:
    """Turning arguments into a :class:`Request` and checking the referrer's lane (a part of :class:`Router`)."""

    # ------------------------------------------------------------ requests
    def person_index(self, person_id: str) -> int:
        """The row of ``person_id``; UnknownIdError with suggestions if absent."""
        self._check()
        i = self.position_.get(str(person_id))
        if i is None:
            raise UnknownIdError("person", str(person_id), self._suggest_people(str(person_id)))
        return i

    def _suggest_people(self, text: str, n: int = 3) -> list[str]:
        from recommender.store.db import suggest_ids  # the one "did you mean" rule

        return suggest_ids(text, self.ids_, self.names_, n)

    def make_request(self, from_id: str, opportunity: str | None = None, *, needs=None, industry=None,
                     size_band=None, region=None, description=None, date=None) -> Request:
        """Normalise a request; explicit arguments override the opportunity's fields.

        Raises
        ------
        UnknownIdError
            If ``from_id`` or ``opportunity`` is not in the network.
        UsageError
            If there is nothing to match (no needs and no description).
        """
        self._check()
        self.person_index(from_id)
        opp = {}
        if opportunity is not None:
            opp = self.opportunities_.get(str(opportunity))
            if opp is None:
                from recommender.store.db import suggest_ids

                sugg = suggest_ids(str(opportunity), list(self.opportunities_))
                raise UnknownIdError("opportunity", str(opportunity), sugg)
        tax = self.tax_
        warnings: list[dict] = []

        raw_needs = needs if needs is not None else opp.get("needs")
        # the needs go through the one request check (corrections applied, ambiguity refused)
        reading = read_needs(raw_needs, tax, held=self.held_specialties_)
        tags = list(reading.tags)
        warnings.extend(reading.warnings())

        def one(value, kind: str, field_name: str) -> str | None:
            if value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip():
                return None
            nrm = tax.normalize(str(value), kind)
            if not nrm.known:
                warnings.append({"field": field_name, "value": str(value), "tag": nrm.tag, "suggestion": nrm.suggestion})
            return nrm.tag or None

        ind = one(industry if industry is not None else opp.get("industry"), "industry", "industry")
        size = one(size_band if size_band is not None else opp.get("size_band"), "size_band", "size_band")
        reg = one(region if region is not None else opp.get("region"), "region", "region")
        desc = description if description is not None else opp.get("description")
        desc = desc.strip() if isinstance(desc, str) and desc.strip() else None
        if not tags and not desc:
            raise UsageError("nothing to match: give needs (tags) or a description",
                             hint="e.g. --needs 'demand gen;abm' --industry saas")
        day = parse_as_of(date if date is not None else opp.get("date"))
        company = self.company_names_.get(str(opp.get("company_id"))) if opp.get("company_id") else None
        return Request(str(from_id), tuple(tags), ind, size, reg, desc, day,
                       str(opportunity) if opportunity is not None else None, company, tuple(warnings))

    # ---------------------------------------------------------------- route
    def lane_check(self, req: Request, qvec=None) -> LaneCheck:
        """How well the referrer fits ``req``."""
        i = self.person_index(req.from_id)
        if qvec is None:
            qvec = self._query_vector(req)
        fs = self._fit_scores(np.array([i]), req, qvec)
        fit = float(fs["fit"][0])
        full, credit = fs["full"][0], fs["credit"][0]
        covers = tuple(t for t, f in zip(req.needs, full) if f >= 1)
        partial = tuple(t for t, f, c in zip(req.needs, full, credit) if f < 1 and c > 0)
        missing = tuple(t for t, c in zip(req.needs, credit) if c == 0)
        reasons = self._fit_reasons(i, req, fs, 0, covers, partial, weight=1.0)
        if missing:
            reasons.append(Reason("lane_missing", {"needs": list(missing)}))
        in_lane = bool(self.is_fractional_[i]) and fit >= self.lane_threshold
        if not self.is_fractional_[i]:
            reasons.insert(0, Reason("not_fractional", {}))
        return LaneCheck(req.from_id, round(fit, 4), in_lane, covers, partial, missing, tuple(reasons))


# -- the request checks (needs, opportunity status and owner) ------------------------------------------

#: Opportunity statuses that mean the work is no longer open to refer.
CLOSED_STATUSES = ("won", "lost", "closed")


@dataclass(frozen=True)
class NeedsReading:
    """What a needs list means: canonical tags, the corrections applied, the unknown tags kept."""

    tags: tuple[str, ...]
    corrections: tuple[dict, ...] = ()  # {"value", "tag"}
    unknown: tuple[dict, ...] = ()  # {"value", "tag", "suggestion", "choices"}

    @property
    def notes(self) -> tuple[str, ...]:
        """One line per correction: "read 'demand genn' as demand generation"."""
        tax = load_taxonomy()
        return tuple(f"read {c['value']!r} as {tax.label(c['tag'])}" for c in self.corrections)

    def warnings(self) -> list[dict]:
        """The corrections and unknown tags as request warnings (``field``, ``value``, ``tag``, ...)."""
        out = [{"field": "needs", "value": c["value"], "tag": c["tag"], "corrected": True} for c in self.corrections]
        out += [{"field": "needs", "value": u["value"], "tag": u["tag"], "suggestion": u["suggestion"]}
                for u in self.unknown]
        return out


def _choices_text(tags: Iterable[str], tax: Taxonomy) -> str:
    return join_words([f"{tax.label(t)} ({t!r})" for t in tags], "or")


def read_needs(raw, taxonomy: Taxonomy | None = None, *, field: str = "needs", held=()) -> NeedsReading:
    """Read a needs list (a ``;``/``,``-separated string or a list of raw tags).

    ``held``: specialty tags people in the network hold that the taxonomy does not know (an imported
    network's own vocabulary); a need spelled as one of them is known, kept as it is.

    Raises
    ------
    UsageError
        A tag close to several tags (the choices are listed), or a list whose
        every tag is unknown (with the nearest tags).
    """
    tax = taxonomy or load_taxonomy()
    items = split_tags(raw) if raw is None or isinstance(raw, str) else [str(x) for x in raw if str(x).strip()]
    tags: list[str] = []
    corrections: list[dict] = []
    unknown: list[dict] = []
    held = frozenset(held)
    for value in items:
        if held and slugify(value) in held and not tax.is_known(slugify(value), "specialty"):
            if slugify(value) not in tags:
                tags.append(slugify(value))
            continue
        spec = tax.correct(value, "specialty")
        func = tax.correct(value, "function") if not (spec.tag and not spec.corrected) else spec
        if spec.tag and not spec.corrected:
            tag = spec.tag
        elif func.tag and not func.corrected:
            tag = func.tag  # a whole function ("marketing")
        else:
            best = max((c for c in (spec, func) if c.tag or c.ambiguous), key=lambda c: c.score, default=None)
            if best is not None and best.ambiguous:
                raise UsageError(f"{field}: {value!r} could mean {_choices_text(best.choices, tax)}",
                                 hint=f"say which, e.g. --{field} {best.choices[0]!r}")
            if best is not None:
                tag = best.tag
                corrections.append({"value": value, "tag": tag})
            else:
                norm = tax.normalize(value, "specialty")
                unknown.append({"value": value, "tag": norm.tag, "suggestion": norm.suggestion,
                                "choices": list(spec.choices)})
                tag = norm.tag
        if tag and tag not in tags:
            tags.append(tag)
    if unknown and len(unknown) == len(items):
        near = sorted({c for u in unknown for c in u["choices"]})
        what = join_words([repr(u["value"]) for u in unknown])
        hint = (f"nearest known: {_choices_text(near[:5], tax)}" if near
                else "needs are specialties such as 'demand-gen', 'fp-and-a' or 'revops' (see data/taxonomy.csv)")
        raise UsageError(f"{field}: {what} {'is not a known specialty' if len(unknown) == 1 else 'are not known specialties'}; "
                         "nothing to route", hint=hint)
    return NeedsReading(tuple(tags), tuple(corrections), tuple(unknown))


def needs_problems(raw, taxonomy: Taxonomy | None = None) -> str | None:
    """The one-line problem :func:`read_needs` would raise for ``raw``, or None (for row-by-row checks)."""
    try:
        read_needs(raw, taxonomy)
    except UsageError as exc:
        return str(exc)
    return None


def opportunity_concerns(opp: dict, from_id: str | None, name_of: Callable[[str], str] | None = None) -> list[str]:
    """Why routing or logging ``opp`` from ``from_id`` needs a second look (empty: nothing)."""
    out = []
    oid = opp.get("id") or "this opportunity"
    status = (opp.get("status") or "open").strip().lower()
    if status in CLOSED_STATUSES:
        out.append(f"opportunity {oid} is {'already ' if status in ('won', 'lost') else ''}{status}")
    bringer = opp.get("brought_by")
    if from_id and bringer and str(bringer) != str(from_id):
        who = f"{name_of(bringer)} ({bringer})" if name_of else str(bringer)
        out.append(f"opportunity {oid} was brought by {who}, not by {from_id}")
    return out


def check_opportunity(opp: dict, from_id: str | None, *, anyway: bool = False, action: str = "routed",
                      name_of: Callable[[str], str] | None = None) -> tuple[str, ...]:
    """Refuse (UsageError) a closed opportunity or someone else's, unless ``anyway``.

    Returns the concerns as warnings when ``anyway`` (to show beside the answer).
    """
    concerns = opportunity_concerns(opp, from_id, name_of)
    if concerns and not anyway:
        raise UsageError("; ".join(concerns) + f"; nothing was {action}",
                         hint="to go ahead all the same, add --anyway")
    return tuple(concerns)
