"""Routing with a fitted router: the answering half of :class:`~recommender.refer.router.Router`.

:class:`RouteAnswers` holds what :meth:`Router.fit <recommender.refer.router.Router.fit>`
computed (per-person arrays, tag matrices, the trust graph's costs, the
referral history, the profiles' :class:`~recommender.profile_vectors.ProfileVectors`)
and answers :meth:`~RouteAnswers.route` with numpy and scipy.sparse. It
follows the persistence contract of :mod:`recommender.meet.persistence`
(``to_state`` / ``from_state``), so a router cached beside the database
routes without importing scikit-learn or pandas.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from recommender.errors import UsageError
from recommender.meet.persistence import params_of, set_params_of
from recommender.profile_vectors import ProfileVectors
from recommender.refer.fit import _CAPACITY_X, _CAPACITY_Y, _NEUTRAL, FitScores
from recommender.refer.model import RoutingWeights, feature_matrix
from recommender.refer.request import MAX_HOPS, LaneCheck, Request, RequestChecks
from recommender.refer.selection import Pick, Selection

__all__ = ["Routing", "RouteAnswers"]


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


class RouteAnswers(RequestChecks, FitScores, Selection):
    """A fitted router's answers (see the module docstring); its attributes are :class:`Router`'s."""

    #: Not in the state: rebuilt on load (the bundled taxonomy, the id positions), saved as their own state,
    #: or only used while fitting and learning (the network, its replay periods and the people encoding).
    _NOT_STATE = ("_param_names", "tax_", "position_", "profiles_", "weights_", "held_specialties_",
                  "people_", "_network_", "_periods_", "referral_dates_")

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
        relevance = self.relevance(cand, X)

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

    def relevance(self, cand: np.ndarray, X: np.ndarray) -> np.ndarray:
        """The routing model's logit for the candidates ``cand`` with features ``X``, less ``full_penalty``
        for those at zero open slots (candidates only with ``include_full``)."""
        rel = X @ self.weights_.vector + self.weights_.intercept
        return np.where(self.capacity_[cand] == 0, rel - self.full_penalty, rel)

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

    # -- persistence (recommender.meet.persistence) -------------------------------------------------
    def to_state(self) -> dict:
        """The fitted router as arrays and JSON (ValueError for a router with its own taxonomy)."""
        self._check()
        if getattr(self, "taxonomy", None) is not None:
            raise ValueError("a router with its own taxonomy is not saved (it would be read back with the bundled one)")
        params = {k: v for k, v in params_of(self).items() if k != "taxonomy"}
        fitted = {k: v for k, v in self.__dict__.items()
                  if k not in params and k != "taxonomy" and k not in self._NOT_STATE}
        weights = dataclasses.asdict(self.weights_)
        return {"params": params, "fitted": fitted, "profiles": self.profiles_.to_state(), "weights": weights,
                "held_specialties": sorted(self.held_specialties_)}

    @classmethod
    def from_state(cls, state: dict):
        """The router whose :meth:`to_state` gave ``state``, as ``cls`` (RouteAnswers: no scikit-learn)."""
        from recommender.taxonomy import load_taxonomy

        obj = cls.__new__(cls)
        params = dict(state["params"])
        if params.get("prior_mean") is not None:
            params["prior_mean"] = tuple(params["prior_mean"])
        set_params_of(obj, {**params, "taxonomy": None})
        obj.__dict__.update(state["fitted"])
        obj.tax_ = load_taxonomy()
        obj.position_ = {pid: i for i, pid in enumerate(obj.ids_)}
        obj.profiles_ = ProfileVectors.from_state(state["profiles"])
        obj.weights_ = RoutingWeights(**state["weights"])
        obj.held_specialties_ = frozenset(state["held_specialties"])
        return obj
