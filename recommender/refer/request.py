"""The routing request and its checks: who asks, the needs normalised through the taxonomy, the lane check.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np

from recommender.errors import UnknownIdError, UsageError
from recommender.network import parse_as_of
from recommender.taxonomy import split_tags


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
        out = difflib.get_close_matches(text, list(self.ids_), n=n, cutoff=0.6)
        low = text.lower()
        names = {str(nm).lower(): pid for pid, nm in zip(self.ids_, self.names_)}
        for nm, pid in names.items():
            if low and low in nm and pid not in out:
                out.append(pid)
        for nm in difflib.get_close_matches(low, list(names), n=n, cutoff=0.6):
            if names[nm] not in out:
                out.append(names[nm])
        return out[:n]

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
                sugg = difflib.get_close_matches(str(opportunity), list(self.opportunities_), n=3, cutoff=0.6)
                raise UnknownIdError("opportunity", str(opportunity), sugg)
        tax = self.tax_
        warnings: list[dict] = []

        raw_needs = needs if needs is not None else opp.get("needs")
        if isinstance(raw_needs, str) or raw_needs is None:
            raw_needs = split_tags(raw_needs)
        tags: list[str] = []
        for raw in raw_needs:
            nrm = tax.normalize(raw, "specialty")
            tag = nrm.tag
            if not nrm.known:
                fn = tax.normalize(raw, "function")
                if fn.known:
                    tag = fn.tag
                else:
                    warnings.append({"field": "needs", "value": str(raw), "tag": tag, "suggestion": nrm.suggestion})
            if tag and tag not in tags:
                tags.append(tag)

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
