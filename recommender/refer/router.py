"""Referral routing: is this opportunity in my lane, and which 2-3 peers get it?

:class:`Router` is fitted once on a :class:`~recommender.network.Network` and
answers :meth:`Router.route` requests in a few milliseconds. Fitting
precomputes per-person arrays (a sparse person x specialty matrix, functions,
industries, ICP size bands, regions, capacity, TF-IDF profiles) and the trust
graph as a sparse matrix of edge costs ``-log(weight)``.

A route request runs in five steps:

1. **Request**: needs, industry, size band and region go through the
   taxonomy; an unknown tag is kept and reported with the nearest known tag.
2. **Lane check**: how well the referrer fits the need (the same fit score
   as a candidate's), in lane when ``fit >= lane_threshold``.
3. **Reach**: the strongest trust path from the referrer to everyone within
   ``max_hops`` (a hop-bounded Bellman-Ford over the sparse cost matrix; the
   product of the tie weights along the path), or to everyone (``widen``).
4. **Scoring** (vectorised over the candidates): fit (coverage of the needs,
   with partial credit for the same function; industry; size band; region;
   text similarity of profile and description), trust (every path of up to two ties, weighted like resource allocation),
   track record (Beta-smoothed accept and win rates of referrals received
   before the routing date) and capacity (unknown is neutral; zero open slots
   excludes unless ``include_full``).
5. **Choice**: greedy, maximal-marginal-relevance style: each next pick
   maximises ``relevance + coverage_gain * (needs it adds) -
   redundancy * (profile similarity to the picks so far)``, so two clones of
   one specialist are not both picked when a complementary peer exists.

The answer is data (:class:`Routing`) with structured :class:`Reason` s;
:mod:`recommender.refer.text` renders it as text and JSON.

Example
-------
>>> import pandas as pd
>>> from recommender.network import Network
>>> people = pd.DataFrame({
...     "id": ["me", "ann", "bo", "cy"], "name": ["Me", "Ann", "Bo", "Cy"],
...     "kind": ["fractional"] * 4, "function": ["finance", "marketing", "marketing", "marketing"],
...     "specialties": ["fundraising", "demand-gen", "brand", "demand-gen"],
...     "industries": ["saas"] * 4, "capacity": [1, 2, 2, 0]})
>>> ties = pd.DataFrame({"a": ["me", "me", "ann"], "b": ["ann", "cy", "bo"], "strength": [0.9, 0.9, 0.8]})
>>> router = Router().fit(Network.from_frames(people=people, ties=ties))
>>> answer = router.route("me", needs=["demand gen", "brand"], industry="saas", k=2)
>>> answer.lane.in_lane
False
>>> [p.person_id for p in answer.picks]
['ann', 'bo']
>>> [pid for pid, _ in answer.picks[1].trust_path]
['me', 'ann', 'bo']
>>> answer.excluded[0]["id"], answer.excluded[0]["reason"]
('cy', 'no_capacity')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator

from recommender.errors import UsageError
from recommender.trust import DEFAULT_HALF_LIFE_DAYS
from recommender.network import Network
from recommender.refer.fit import (
    _CAPACITY_X,
    _CAPACITY_Y,
    _NEUTRAL,
    FitScores,
    TrackRecord,
)
from recommender.refer.request import MAX_HOPS, LaneCheck, Reason, Request, RequestChecks
from recommender.refer.selection import Pick, Selection
from recommender.taxonomy import Taxonomy, load_taxonomy

__all__ = [
    "DEFAULT_WEIGHTS",
    "DEFAULT_FIT_WEIGHTS",
    "Reason",
    "Request",
    "LaneCheck",
    "TrackRecord",
    "Pick",
    "Routing",
    "Router",
]

#: How the four components add up to a candidate's relevance.
DEFAULT_WEIGHTS = {"fit": 0.6, "trust": 0.3, "track": 0.05, "capacity": 0.05}
#: How the parts of fit add up (renormalised over the parts the request has).
DEFAULT_FIT_WEIGHTS = {"coverage": 0.55, "industry": 0.15, "size": 0.10, "region": 0.05, "text": 0.15}


@dataclass(frozen=True)
class Routing:
    """The answer to "who do I refer this opportunity to?".

    ``explanation`` is set (a dict with a ``code``) when there are no picks;
    ``suggestions`` lists options that widen the search when there are no
    picks or the picks leave needs uncovered.
    """

    request: Request
    lane: LaneCheck
    picks: tuple[Pick, ...]
    alternatives: tuple[Pick, ...]
    uncovered_needs: tuple[str, ...]
    excluded: tuple[dict, ...]
    reach: dict
    explanation: dict | None = None
    suggestions: tuple[dict, ...] = ()


def requested_match(fs: dict) -> np.ndarray:
    """Per candidate, a factor in (0, 1] for the requested industry, size band and region.

    Each requested one multiplies relevance by ``0.5 + 0.5 * match`` (match 1 when the person has it,
    0 when they lack it, in between for a related industry, a neighbouring band or unknown), so someone
    who lacks what the client asked for is not preferred over someone who has it for a little more trust.
    """
    out = np.ones(len(fs["fit"]))
    for part in ("industry", "size", "region"):
        if fs["active"][part]:
            out *= 0.5 + 0.5 * np.clip(fs["parts"][part], 0.0, 1.0)
    return out


class Router(RequestChecks, FitScores, Selection, BaseEstimator):
    """Routes opportunities to the best 2-3 peers in a referrer's trust network.

    Parameters
    ----------
    weights : dict, optional
        Weights of ``fit``, ``trust``, ``track`` and ``capacity`` in relevance
        (default :data:`DEFAULT_WEIGHTS`).
    fit_weights : dict, optional
        Weights of ``coverage``, ``industry``, ``size``, ``region`` and
        ``text`` in fit (default :data:`DEFAULT_FIT_WEIGHTS`).
    coverage_gain : float, default 0.5
        Bonus per unit of needs a pick adds to the picks so far.
    redundancy : float, default 0.0
        Penalty per unit of profile similarity to the closest pick so far (0 since issue 14: two
        people who both hold what was asked for are not clones to avoid; on real opportunities the
        penalty pushed the right person out of the picks; coverage gain still spreads the needs).
    prior_strength : float, default 4
        Pseudo-referrals of the Beta prior on track-record rates.
    prior_mean : tuple of float, optional
        ``(accept, win)`` prior means; default: the network's base rates.
    lane_threshold : float, default 0.6
        Fit at or above which an opportunity is in the referrer's lane.
    full_penalty : float, default 0.5
        Subtracted from the relevance of people with zero open slots when they
        are kept (``route(..., include_full=True)``).
    half_life_days : float
        Recency decay of trust (see :func:`recommender.network.trust_weights`).
    taxonomy : Taxonomy, optional
        Default: the bundled taxonomy.
    """

    def __init__(self, *, weights: dict | None = None, fit_weights: dict | None = None,
                 coverage_gain: float = 0.5, redundancy: float = 0.0, prior_strength: float = 4.0,
                 prior_mean: tuple[float, float] | None = None, lane_threshold: float = 0.6,
                 full_penalty: float = 0.5, half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
                 taxonomy: Taxonomy | None = None):
        self.weights = weights
        self.fit_weights = fit_weights
        self.coverage_gain = coverage_gain
        self.redundancy = redundancy
        self.prior_strength = prior_strength
        self.prior_mean = prior_mean
        self.lane_threshold = lane_threshold
        self.full_penalty = full_penalty
        self.half_life_days = half_life_days
        self.taxonomy = taxonomy

    # ------------------------------------------------------------------ fit
    def fit(self, network: Network) -> "Router":
        """Precompute the per-person arrays and the trust graph of ``network``.

        Returns
        -------
        self
        """
        self._validate_params()
        self.tax_ = self.taxonomy or load_taxonomy()
        self._fit_people(network.people)
        self._fit_history(network)
        return self

    def with_history(self, network: Network) -> "Router":
        """A copy sharing the fitted people arrays, with trust, referrals and
        opportunities refitted from ``network`` (the same people, e.g. an
        earlier :meth:`Network.until`). Much cheaper than :meth:`fit`."""
        self._check()
        other = object.__new__(Router)
        other.__dict__.update(self.__dict__)
        other._fit_history(network)
        return other

    def _validate_params(self) -> None:
        w = dict(DEFAULT_WEIGHTS, **(self.weights or {}))
        fw = dict(DEFAULT_FIT_WEIGHTS, **(self.fit_weights or {}))
        for name, table, ref in (("weights", w, DEFAULT_WEIGHTS), ("fit_weights", fw, DEFAULT_FIT_WEIGHTS)):
            extra = set(table) - set(ref)
            if extra:
                raise UsageError(f"unknown {name} key(s) {sorted(extra)}; expected some of {sorted(ref)}")
            if any(v < 0 for v in table.values()) or sum(table.values()) <= 0:
                raise UsageError(f"{name} must be non-negative and not all zero, got {table}")
        if self.prior_strength <= 0:
            raise UsageError(f"prior_strength must be positive, got {self.prior_strength}")
        self.weights_, self.fit_weights_ = w, fw


    def _check(self) -> None:
        if not hasattr(self, "cost_"):
            from recommender.errors import NotFittedError

            raise NotFittedError("Router is not fitted; call Router().fit(network) first")


    def route(self, from_id: str, opportunity: str | None = None, *, needs=None, industry=None, size_band=None,
              region=None, description=None, date=None, k: int = 3, max_hops: int = 2, widen: bool = False,
              include_full: bool = False, n_alternatives: int = 3) -> Routing:
        """Route an opportunity (by id, or by its needs) from ``from_id`` to ``k`` peers.

        Parameters
        ----------
        from_id : str
            The referrer.
        opportunity : str, optional
            An opportunity id; its needs, industry, size band, region,
            description and date are used unless given explicitly.
        needs : str or list of str, optional
            Needed specialties (raw tags; ``;``-separated string accepted).
        industry, size_band, region, description : str, optional
        date : str, optional
            The routing date (default: the opportunity's date); track records
            count referrals dated before it.
        k : int, default 3
            Number of picks.
        max_hops : int, default 2
            Candidates are fractionals within this many ties of ``from_id``.
        widen : bool, default False
            Consider every fractional in the network.
        include_full : bool, default False
            Keep people with zero open slots (heavily penalised) instead of
            excluding them.
        n_alternatives : int, default 3

        Returns
        -------
        Routing

        Raises
        ------
        UnknownIdError
            Unknown ``from_id`` or ``opportunity``.
        UsageError
            Bad ``k`` / ``max_hops``, or nothing to match.
        """
        self._check()
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise UsageError(f"k must be a positive integer, got {k!r}")
        if not isinstance(max_hops, (int, np.integer)) or not 1 <= max_hops <= MAX_HOPS:
            raise UsageError(f"max_hops must be a whole number from 1 to {MAX_HOPS}, got {max_hops!r}",
                             hint="to search the whole network, widen the search instead")
        req = self.make_request(from_id, opportunity, needs=needs, industry=industry, size_band=size_band,
                                region=region, description=description, date=date)
        src = self.person_index(req.from_id)
        qvec = self._query_vector(req)
        lane = self.lane_check(req, qvec)

        dist, pred = self.strongest_paths(src, None if widen else int(max_hops))
        reached = np.isfinite(dist)
        reached[src] = False
        pool = self.is_fractional_ & ~self.opt_out_
        pool[src] = False
        if not widen:
            pool &= reached
        full_cap = self.capacity_ == 0
        excluded: list[dict] = []
        n_opted_out = int((reached & self.opt_out_ & self.is_fractional_).sum()) if not widen else int(
            (self.opt_out_ & self.is_fractional_).sum())
        cand = np.flatnonzero(pool if include_full else pool & ~full_cap)
        reach = {"max_hops": None if widen else int(max_hops), "widened": bool(widen),
                 "people_in_reach": int(reached.sum()),
                 "fractionals_in_reach": int((reached & self.is_fractional_).sum()),
                 "candidates": int(len(cand)), "opted_out": n_opted_out,
                 "no_capacity": int((pool & full_cap).sum())}

        if len(cand) == 0:
            expl = {"code": "no_peer_in_reach", **reach, "from": req.from_id}
            sugg = [] if widen else [{"max_hops": int(max_hops) + 1}, {"widen": True}]
            if not include_full and reach["no_capacity"]:
                sugg.append({"include_full": True})
            return Routing(req, lane, (), (), tuple(req.needs), (), reach, expl, tuple(sugg))

        # -- vectorised scoring over the candidates
        fs = self._fit_scores(cand, req, qvec)
        trust = self.trust_scores(src, cand)
        tr = self.track_records(cand, as_of=req.date, exclude_opportunity=req.opportunity_id)
        track = 0.5 * tr["accept_rate"] + 0.5 * tr["win_rate"]
        capv = self.capacity_[cand]
        cap_score = np.where(np.isnan(capv), _NEUTRAL, np.interp(np.nan_to_num(capv), _CAPACITY_X, _CAPACITY_Y))
        W = self.weights_
        relevance = W["fit"] * fs["fit"] + W["trust"] * trust + W["track"] * track + W["capacity"] * cap_score
        relevance = relevance / sum(W.values()) * requested_match(fs)
        relevance = np.where(capv == 0, relevance - self.full_penalty, relevance)  # only with include_full

        chosen, gains = self._choose(cand, relevance, fs["full"], fs["credit"], k)
        covered = fs["full"][chosen].max(axis=0) if chosen and req.needs else np.zeros(len(req.needs))
        uncovered = tuple(t for t, c in zip(req.needs, covered) if c < 1)
        # alternatives: the next best who at least partly match a need (or anyone, without needs)
        related = fs["credit"].sum(axis=1) > 0 if req.needs else np.ones(len(cand), bool)
        rest = [j for j in np.argsort(-relevance, kind="stable") if j not in set(chosen) and related[j]][:n_alternatives]
        wider = self._wider_search(src, req, uncovered, max_hops, widen, include_full) if uncovered else []
        if req.needs:  # the needs nobody in reach is listed for (a partial fit at best)
            in_reach = fs["full"].max(axis=0) if len(cand) else np.zeros(len(req.needs))
            reach["nobody_listed_for"] = [t for t, c in zip(req.needs, in_reach) if c < 1]

        comps = {"fit": fs["fit"], "trust": trust, "track": track, "capacity": cap_score}

        def make(j: int, gain=None) -> Pick:
            return self._make_pick(j, cand, relevance, comps, fs, tr, dist, pred, src, req, qvec, gain)

        if not chosen:  # nobody in reach covers any need, not even as a partial fit
            expl = {"code": "nobody_covers", **reach, "from": req.from_id, "needs": list(req.needs)}
            return Routing(req, lane, (), tuple(make(j) for j in rest), tuple(req.needs), (), reach, expl,
                           tuple(wider))

        picks = tuple(make(j, g) for j, g in zip(chosen, gains))
        alts = tuple(make(j) for j in rest)
        if not include_full and reach["no_capacity"]:
            full_idx = np.flatnonzero(pool & full_cap)
            ffs = self._fit_scores(full_idx, req, qvec)
            floor = min(p.score for p in picks)
            ftrust = self.trust_scores(src, np.r_[cand, full_idx])[len(cand):]
            frel = (W["fit"] * ffs["fit"] + W["trust"] * ftrust + W["track"] * _NEUTRAL) / sum(W.values())
            for j in np.argsort(-frel)[:3]:
                if frel[j] >= floor:
                    i = full_idx[j]
                    excluded.append({"id": str(self.ids_[i]), "name": str(self.names_[i]), "reason": "no_capacity",
                                     "fit": round(float(ffs["fit"][j]), 4)})
        return Routing(req, lane, picks, alts, uncovered, tuple(excluded), reach, None, tuple(wider))

    def _wider_search(self, src: int, req: Request, needs: tuple[str, ...], max_hops: int, widen: bool,
                      include_full: bool) -> list[dict]:
        """What a wider search would find for ``needs``: one more hop, then everyone.

        Each option is a dict (``max_hops`` or ``widen``) with ``finds``: per need,
        how many open fractionals there cover it.
        """
        if widen or not needs:
            return []
        out = []
        base = self.is_fractional_ & ~self.opt_out_
        if not include_full:
            base &= ~(self.capacity_ == 0)
        base[src] = False
        for option in ({"max_hops": int(max_hops) + 1}, {"widen": True}):
            pool = base.copy()
            if "max_hops" in option:
                d, _ = self.strongest_paths(src, option["max_hops"])
                pool &= np.isfinite(d)
            rows = np.flatnonzero(pool)
            full, _ = self._need_coverage(rows, needs)
            out.append({**option, "finds": {t: int(full[:, i].sum()) for i, t in enumerate(needs)}})
        return out

