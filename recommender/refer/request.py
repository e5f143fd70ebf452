"""A referral request, checked in one place: the CLI, the explorer and batch jobs all call these.

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

from dataclasses import dataclass
from typing import Callable, Iterable

from recommender.errors import UsageError
from recommender.taxonomy import Taxonomy, load_taxonomy, split_tags
from recommender.words import join_words

__all__ = ["CLOSED_STATUSES", "NeedsReading", "read_needs", "needs_problems", "opportunity_concerns",
           "check_opportunity"]

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


def read_needs(raw, taxonomy: Taxonomy | None = None, *, field: str = "needs") -> NeedsReading:
    """Read a needs list (a ``;``/``,``-separated string or a list of raw tags).

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
    for value in items:
        spec = tax.correct(value, "specialty")
        func = tax.correct(value, "function")
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
