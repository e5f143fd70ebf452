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

from sklearn.base import BaseEstimator

from recommender.errors import UsageError
from recommender.network import Network
from recommender.refer.fit import TrackRecord
from recommender.refer.request import LaneCheck, Reason, Request
from recommender.refer.routes import RouteAnswers, Routing, requested_match  # noqa: F401  (their home: routes)
from recommender.refer.selection import Pick
from recommender.taxonomy import Taxonomy, load_taxonomy
from recommender.trust import DEFAULT_HALF_LIFE_DAYS

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
    "RouteAnswers",
]

#: How the four components add up to a candidate's relevance.
DEFAULT_WEIGHTS = {"fit": 0.6, "trust": 0.3, "track": 0.05, "capacity": 0.05}
#: How the parts of fit add up (renormalised over the parts the request has).
DEFAULT_FIT_WEIGHTS = {"coverage": 0.55, "industry": 0.15, "size": 0.10, "region": 0.05, "text": 0.15}


class Router(RouteAnswers, BaseEstimator):
    """Routes opportunities to the best 2-3 peers in a referrer's trust network.

    The scikit-learn estimator that fits; routing is
    :class:`~recommender.refer.routes.RouteAnswers`' (the same for a router
    loaded from its state).

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
