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
4. **Scoring** (vectorised over the candidates): a logistic model
   (:mod:`recommender.refer.model`) over the features coverage of the needs,
   partial credit for the same function, the requested industry, size band and
   region, text similarity of profile and description, trust (every path of up
   to two ties, weighted like resource allocation), a direct tie, the track
   record (Beta-smoothed accept and win rates of referrals received before the
   routing date) and capacity (unknown is neutral; zero open slots excludes
   unless ``include_full``). Its weights are learned from the network's
   referral history when it has enough of it, else the prior (:attr:`Router.weights_`
   says which).
5. **Choice**: greedy, maximal-marginal-relevance style: each next pick
   maximises ``relevance + coverage_gain * (needs it adds) -
   redundancy * (profile similarity to the picks so far)``, so two clones of
   one specialist are not both picked when a complementary peer exists. A pick
   covers at least one need; people who only share the function are listed as
   ``nearby`` (they may know someone), never picked.

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

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
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
from recommender.refer.model import PRIOR_WEIGHTS, RoutingWeights, feature_matrix, learn_weights
from recommender.refer.request import MAX_HOPS, LaneCheck, Reason, Request, RequestChecks
from recommender.refer.selection import Pick, Selection
from recommender.taxonomy import Taxonomy, load_taxonomy

__all__ = [
    "PRIOR_WEIGHTS",
    "DEFAULT_FIT_WEIGHTS",
    "Reason",
    "Request",
    "LaneCheck",
    "TrackRecord",
    "Pick",
    "Routing",
    "Router",
]

#: How the parts of the lane check's fit add up (renormalised over the parts the request has).
DEFAULT_FIT_WEIGHTS = {"coverage": 0.55, "industry": 0.15, "size": 0.10, "region": 0.05, "text": 0.15}


@dataclass(frozen=True)
class Routing:
    """The answer to "who do I refer this opportunity to?".

    ``explanation`` is set (a dict with a ``code``) when there are no picks;
    ``suggestions`` lists options that widen the search when there are no
    picks or the picks leave needs uncovered. ``nearby`` are people in reach
    who cover none of the needs but work in the same function (never picks:
    they may know the right person). ``weights`` says what the scores were
    learned from.
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
    nearby: tuple[Pick, ...] = ()
    weights: RoutingWeights | None = None


class Router(RequestChecks, FitScores, Selection, BaseEstimator):
    """Routes opportunities to the best 2-3 peers in a referrer's trust network.

    Parameters
    ----------
    weights : dict, optional
        Prior weights of the features of :data:`recommender.refer.model.FEATURES`
        in relevance (a logit; default :data:`PRIOR_WEIGHTS`), overriding some.
    learn : bool, default True
        Learn the weights from the network's referral history (centred on the
        prior) when it has at least ``min_history`` referrals taken on or won.
    min_history : int, default 30
    learn_strength : float, default 10
        How strongly learned weights are held to the prior (an L2 penalty on their difference).
    fit_weights : dict, optional
        Weights of ``coverage``, ``industry``, ``size``, ``region`` and
        ``text`` in the lane check's fit (default :data:`DEFAULT_FIT_WEIGHTS`).
    coverage_gain : float, default 2.0
        Bonus (in logit units) per share of the needs a pick adds to the picks so far.
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
    full_penalty : float, default 4.0
        Subtracted from the relevance (a logit) of people with zero open slots when they
        are kept (``route(..., include_full=True)``).
    half_life_days : float
        Recency decay of trust (see :func:`recommender.network.trust_weights`).
    taxonomy : Taxonomy, optional
        Default: the bundled taxonomy.
    """

    def __init__(self, *, weights: dict | None = None, learn: bool = True, min_history: int = 30,
                 learn_strength: float = 10.0,
                 fit_weights: dict | None = None, coverage_gain: float = 2.0, redundancy: float = 0.0,
                 prior_strength: float = 4.0, prior_mean: tuple[float, float] | None = None,
                 lane_threshold: float = 0.6, full_penalty: float = 4.0,
                 half_life_days: float = DEFAULT_HALF_LIFE_DAYS, taxonomy: Taxonomy | None = None):
        self.weights = weights
        self.learn = learn
        self.min_history = min_history
        self.learn_strength = learn_strength
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
        self._fit_people(network)
        self.referral_dates_ = network.referrals["date"].copy()  # the replay periods' span (not their outcomes)
        self._periods_ = {}  # the network at the start of each replay period, shared by copies
        self._fit_history(network)
        self._learn(network)
        return self

    def with_history(self, network: Network, *, learn: bool = True) -> "Router":
        """A copy sharing the fitted people arrays, with trust, referrals and
        opportunities refitted from ``network`` (the same people, e.g. an
        earlier :meth:`Network.until`), and the weights learned again from its
        referral history (unless ``learn`` is False). Much cheaper than :meth:`fit`."""
        self._check()
        other = object.__new__(Router)
        other.__dict__.update(self.__dict__)
        other._fit_history(network)
        if learn:
            other._learn(network)
        return other

    def history_at(self, start) -> "Router":
        """The network as it was before ``start`` (a replay period's first day), without learning; cached."""
        key = str(start)[:10]
        hit = self._periods_.get(key)
        if hit is None:
            day = (pd.Timestamp(start) - pd.Timedelta(days=1)).strftime("%Y-%m-%d")
            hit = self._periods_[key] = self.with_history(self._network_.until(day), learn=False)
        return hit

    def _learn(self, network: Network) -> None:
        self._network_ = network
        if not self.learn:
            self.weights_ = RoutingWeights.prior("learning is off", self.weights)
            return
        self.weights_ = learn_weights(self, network, min_positives=self.min_history, strength=self.learn_strength)

    def _validate_params(self) -> None:
        w = dict(PRIOR_WEIGHTS, **(self.weights or {}))
        fw = dict(DEFAULT_FIT_WEIGHTS, **(self.fit_weights or {}))
        for name, table, ref in (("weights", w, PRIOR_WEIGHTS), ("fit_weights", fw, DEFAULT_FIT_WEIGHTS)):
            extra = set(table) - set(ref)
            if extra:
                raise UsageError(f"unknown {name} key(s) {sorted(extra)}; expected some of {sorted(ref)}")
            if any(v < 0 for v in table.values()) or sum(table.values()) <= 0:
                raise UsageError(f"{name} must be non-negative and not all zero, got {table}")
        if self.prior_strength <= 0:
            raise UsageError(f"prior_strength must be positive, got {self.prior_strength}")
        self.fit_weights_ = fw


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
        fs, comps, X = self._features(src, cand, req, qvec, dist=dist)
        tr = comps.pop("_track_record")
        relevance = X @ self.weights_.vector + self.weights_.intercept
        capv = self.capacity_[cand]
        relevance = np.where(capv == 0, relevance - self.full_penalty, relevance)  # only with include_full

        chosen, gains = self._choose(cand, relevance, fs["full"], fs["credit"], k)
        covered = fs["full"][chosen].max(axis=0) if chosen and req.needs else np.zeros(len(req.needs))
        uncovered = tuple(t for t, c in zip(req.needs, covered) if c < 1)
        order = [j for j in np.argsort(-relevance, kind="stable") if j not in set(chosen)]
        if req.needs:  # alternatives cover a need too; people who only share the function are "nearby"
            covers_one = fs["full"].sum(axis=1) > 0
            near = fs["credit"].sum(axis=1) > 0
            rest = [j for j in order if covers_one[j]][:n_alternatives]
            nearby = [j for j in order if near[j] and not covers_one[j]][:n_alternatives]
        else:
            rest, nearby = order[:n_alternatives], []
        wider = self._wider_search(src, req, uncovered, max_hops, widen, include_full) if uncovered else []
        if req.needs:  # the needs nobody in reach is listed for (a partial fit at best)
            in_reach = fs["full"].max(axis=0) if len(cand) else np.zeros(len(req.needs))
            reach["nobody_listed_for"] = [t for t, c in zip(req.needs, in_reach) if c < 1]

        def make(j: int, gain=None) -> Pick:
            return self._make_pick(j, cand, relevance, comps, fs, tr, dist, pred, src, req, qvec, gain)

        near_picks = tuple(make(j) for j in nearby)
        if not chosen:  # nobody in reach covers any need
            expl = {"code": "nobody_covers", **reach, "from": req.from_id, "needs": list(req.needs)}
            return Routing(req, lane, (), (), tuple(req.needs), (), reach, expl, tuple(wider), near_picks,
                           self.weights_)

        picks = tuple(make(j, g) for j, g in zip(chosen, gains))
        alts = tuple(make(j) for j in rest)
        if not include_full and reach["no_capacity"]:
            full_idx = np.flatnonzero(pool & full_cap)
            ffs, _, fX = self._features(src, full_idx, req, qvec, trust_rows=np.r_[cand, full_idx], dist=dist)
            frel = fX @ self.weights_.vector + self.weights_.intercept
            floor = min(relevance[j] for j in chosen)
            for j in np.argsort(-frel)[:3]:
                if frel[j] >= floor and (not req.needs or ffs["full"][j].sum() > 0):
                    i = full_idx[j]
                    excluded.append({"id": str(self.ids_[i]), "name": str(self.names_[i]), "reason": "no_capacity",
                                     "fit": round(float(ffs["fit"][j]), 4)})
        return Routing(req, lane, picks, alts, uncovered, tuple(excluded), reach, None, tuple(wider), near_picks,
                       self.weights_)

    def past_request(self, referral: dict, opportunity: dict | None) -> Request | None:
        """The request a past referral answered (its opportunity's needs and fields, on the referral's date);
        None when it cannot be replayed (unknown people, no opportunity, nothing to match)."""
        from recommender.errors import FracnetError

        src, tgt = self.position_.get(str(referral["from_id"])), self.position_.get(str(referral["to_id"]))
        if opportunity is None or src is None or tgt is None or src == tgt:
            return None
        try:
            req = self.make_request(str(referral["from_id"]), needs=opportunity.get("needs") or [],
                                    industry=opportunity.get("industry"), size_band=opportunity.get("size_band"),
                                    region=opportunity.get("region"), description=opportunity.get("description"),
                                    date=str(referral["date"])[:10])
        except FracnetError:
            return None
        return replace(req, opportunity_id=str(referral["opportunity_id"]))

    def query_vectors(self, requests: list[Request]):
        """The profile vectors of several requests at once (rows in order)."""
        return self.profiles_.transform([{"specialties": list(r.needs), "industries": [r.industry] if r.industry
                                          else [], "description": r.description} for r in requests])

    def training_rows(self, referral: dict, req: Request, qvec, rng, n_negatives: int, max_hops: int = 2):
        """One past referral as rows of the routing model, on this (past) network: the person it went to
        (1 if they took it on or won it, else 0) and up to ``n_negatives`` other eligible people in the
        referrer's reach whom routing could have picked (0). None when routing could not have picked the
        recipient (out of reach, not eligible, no open slots, or listed for none of the needs): the model
        learns to rank the people it ranks."""
        from recommender.refer.model import POSITIVE_OUTCOMES

        src, tgt = self.position_[str(referral["from_id"])], self.position_[str(referral["to_id"])]
        dist, _ = self.strongest_paths(src, max_hops)
        # the people routing would choose among: eligible, in reach, with open slots, listed for a need
        pool = self.is_fractional_ & ~self.opt_out_ & np.isfinite(dist) & ~(self.capacity_ == 0)
        pool[src] = False
        if req.needs:
            rows = np.flatnonzero(pool)
            pool[rows[self._need_coverage(rows, req.needs)[0].sum(axis=1) == 0]] = False
        if not pool[tgt]:
            return None
        others = np.flatnonzero(pool)
        others = others[others != tgt]
        if len(others) > n_negatives:
            others = rng.choice(others, n_negatives, replace=False)
        cand = np.r_[tgt, others].astype(np.int64)
        every = np.r_[np.setdiff1d(np.flatnonzero(pool), cand), cand]  # trust is relative to everyone in reach
        _, _, X = self._features(src, cand, req, qvec, trust_rows=every, dist=dist)
        y = np.zeros(len(cand))
        y[0] = float(referral["outcome"] in POSITIVE_OUTCOMES)
        return X, y

    def _features(self, src: int, cand: np.ndarray, req: Request, qvec, trust_rows=None, dist=None):
        """The fit scores, the components shown with a pick, and the feature matrix of the routing model.

        ``trust_rows``: normalise trust over these rows (default ``cand``) and take ``cand``'s values.
        ``dist``: the strongest paths' costs from ``src`` (:meth:`strongest_paths`), for ``path``.
        """
        fs = self._fit_scores(cand, req, qvec)
        rows = cand if trust_rows is None else trust_rows
        trust, direct = self.trust_scores(src, rows, with_direct=True)
        trust, direct = trust[len(rows) - len(cand):], direct[len(rows) - len(cand):]
        tr = self.track_records(cand, as_of=req.date, exclude_opportunity=req.opportunity_id)
        track = 0.5 * tr["accept_rate"] + 0.5 * tr["win_rate"]
        capv = self.capacity_[cand]
        cap_score = np.where(np.isnan(capv), _NEUTRAL, np.interp(np.nan_to_num(capv), _CAPACITY_X, _CAPACITY_Y))
        full, credit = fs["full"], fs["credit"]
        m = len(req.needs)
        zero = np.zeros(len(cand))
        parts = {
            "coverage": full.mean(axis=1) if m else zero,
            "partial": ((credit > 0) & (full < 1)).mean(axis=1) if m else zero,
            **{f: fs["parts"][f] if fs["active"][f] else zero for f in ("industry", "size", "region")},
            "text": fs["parts"]["text"], "trust": trust, "direct": (direct > 0).astype(float),
            "path": np.exp(-dist[cand]) if dist is not None else zero, "track": track,
            "capacity": cap_score,
        }
        comps = {"fit": fs["fit"], "trust": trust, "track": track, "capacity": cap_score, "_track_record": tr}
        return fs, comps, feature_matrix(parts)

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

