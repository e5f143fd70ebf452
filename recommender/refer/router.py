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

from dataclasses import replace

import numpy as np
from sklearn.base import BaseEstimator

from recommender.errors import UsageError
from recommender.trust import DEFAULT_HALF_LIFE_DAYS
from recommender.network import Network
from recommender.refer.fit import TrackRecord
from recommender.refer.model import PRIOR_WEIGHTS, RoutingWeights, learn_weights
from recommender.refer.request import LaneCheck, Reason, Request
from recommender.refer.routes import RouteAnswers, Routing  # noqa: F401  (their home: routes)
from recommender.refer.selection import Pick
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
    "RouteAnswers",
]

#: How the parts of the lane check's fit add up (renormalised over the parts the request has).
DEFAULT_FIT_WEIGHTS = {"coverage": 0.55, "industry": 0.15, "size": 0.10, "region": 0.05, "text": 0.15}


class Router(RouteAnswers, BaseEstimator):
    """Routes opportunities to the best 2-3 peers in a referrer's trust network.

    The scikit-learn estimator that fits; routing is
    :class:`~recommender.refer.routes.RouteAnswers`' (the same for a router
    loaded from its state).

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
            import pandas as pd

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
        routed = np.flatnonzero(pool)  # the candidates routing scores (and normalises trust over)
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
        every = np.r_[np.setdiff1d(routed, cand), cand]  # trust is relative to every candidate, as in route()
        _, _, X = self._features(src, cand, req, qvec, trust_rows=every, dist=dist)
        y = np.zeros(len(cand))
        y[0] = float(referral["outcome"] in POSITIVE_OUTCOMES)
        return X, y
