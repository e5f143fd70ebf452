"""Who should I meet next? Recommendations per group, with structured reasons.

:class:`MeetModel` fits a :class:`~recommender.meet.ranker.PairRanker` on the
network's own history and encodes the current graph once
(:func:`~recommender.meet.features.build_context`). Scoring is blockwise:
:meth:`MeetModel.score_block` takes a block of query people, generates their
candidates (top-n sources via ``argpartition``) and features with sparse
products, and keeps the top ``k`` per (person, group) with one vectorised
sort, so
``recommend`` (a block of one), ``recommend_many`` and a whole-network batch
job give identical results. Only the final ``k`` get their reasons built.

Returned data is structured: :class:`Recommendation` with :class:`Reason`
objects carrying numbers and names; :mod:`recommender.meet.text` turns them
into text and draft notes.

Example
-------
>>> from recommender.demo import generate_network
>>> from recommender.network import Network
>>> net = Network.from_frames(**generate_network(120, seed=1))
>>> model = MeetModel().fit(net)
>>> recs = model.recommend("p0001", k=3, group="executives")
>>> all(r.group == "executives" for r in recs)
True
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator

from recommender.errors import NotFittedError, UnknownIdError, UsageError
from recommender.kernels import _kth_largest, _top_per_row
from recommender.meet.candidates import block_candidates
from recommender.meet.context import build_context, context_day, history_time_scale
from recommender.meet.features import (
    FEATURE_NAMES,
    block_tag_similarity,
    feature_columns,
    katz_scores,
    pair_features,
    stack_features,
)
from recommender.meet.holdout import history_horizon, holdout_training_set
from recommender.meet.persistence import load_object, save_object
from recommender.meet.ranker import PairRanker, _sigmoid
from recommender.meet.reasons import REASON_FEATURES, REASON_ORDER, Reason, reason_weights, reasons_present
from recommender.meet.training import build_training_set, history_span
from recommender.meet.twohop import two_hop_paths
from recommender.network import Network
from recommender.people import GROUPS, PeopleFacts, encode_people
from recommender.similarity import ProfileModel

__all__ = ["GROUP_CHOICES", "Reason", "Recommendation", "MeetModel", "REASON_FEATURES"]

GROUP_CHOICES = ("all",) + GROUPS
_TAG = FEATURE_NAMES.index("tag_sim")
_KATZ = FEATURE_NAMES.index("katz")
_CN = FEATURE_NAMES.index("cn")
_ACTIVITY = FEATURE_NAMES.index("cand_activity")
_GROUP_COLS = [FEATURE_NAMES.index(f) for f in ("group_peer", "group_adjacent", "group_executive")]  # GROUPS order
_NOT_IN_PARTIAL = {"tag_sim", "cand_activity", "group_peer", "group_adjacent", "group_executive"}

@dataclass(frozen=True)
class Recommendation:
    """One person to meet, with everything needed to explain it."""

    person_id: str
    candidate_id: str
    name: str
    group: str
    score: float
    reasons: tuple[Reason, ...]
    introducer_id: str | None
    introducer_name: str | None
    introducer_trust: float
    features: dict
    contributions: dict


class MeetModel(BaseEstimator):
    """Recommends whom to meet: candidates, features, a learned ranker.

    Parameters
    ----------
    estimator : {"logistic", "hgb"}, default "logistic"
        The ranker's estimator (see :class:`~recommender.meet.ranker.PairRanker`);
        logistic won the history replay on the sample and explains exactly.
    min_positives : int, default 30
        Fewer positive training pairs: documented default weights.
    horizon_days, n_windows : int
        The temporal split: ``n_windows`` cutoffs ``horizon_days`` apart
        before the end of the history, each labelled by the next ``horizon_days``.
        ``horizon_days=None`` (the default) sizes the windows to the history's
        span (:func:`~recommender.meet.holdout.history_horizon`: at most 180 days,
        days for a history of weeks).
    n_holdouts, holdout_share : int, float
        Training rows also come from ``n_holdouts`` random holdouts of
        ``holdout_share`` of the current ties, their features computed on the
        graph without them (:func:`~recommender.meet.holdout.holdout_training_set`),
        so a network with little or no history still learns its own weights. They
        are skipped when the history alone gave ``enough_positives`` (the
        description says so).
    n_similar, n_market, max_two_hop, n_pool : int
        Candidate sources per person (see :func:`~recommender.meet.features.candidate_pairs`).
    enough_positives : int, default 4000
        Stop adding older history windows once the training set has this many
        positive pairs (big networks need one or two windows, not five).
    random_state : int

    Attributes
    ----------
    context_ : FeatureContext
        The graph as of ``as_of_``.
    ranker_ : PairRanker
    fallback_reason_ : str or None
        Why default weights are used, or None when learned.
    """

    def __init__(self, *, estimator: str = "logistic", min_positives: int = 30, horizon_days: int | None = None,
                 n_windows: int = 5, n_similar: int = 50, n_market: int = 50, max_two_hop: int = 400,
                 n_pool: int = 32, enough_positives: int = 4000, n_holdouts: int = 2, holdout_share: float = 0.1,
                 holdout_weight: float = 1.0, random_state: int = 0):
        self.estimator = estimator
        self.holdout_weight = holdout_weight
        self.n_holdouts = n_holdouts
        self.holdout_share = holdout_share
        self.min_positives = min_positives
        self.horizon_days = horizon_days
        self.n_windows = n_windows
        self.n_similar = n_similar
        self.n_market = n_market
        self.max_two_hop = max_two_hop
        self.n_pool = n_pool
        self.enough_positives = enough_positives
        self.random_state = random_state

    # -- fitting -----------------------------------------------------------
    @property
    def _candidate_kw(self) -> dict:
        return {"n_similar": self.n_similar, "n_market": self.n_market, "max_two_hop": self.max_two_hop,
                "n_pool": getattr(self, "n_pool", 32)}

    def fit(self, network: Network, as_of=None) -> "MeetModel":
        """Learn from ``network``'s history up to ``as_of`` (default: all of it); returns self."""
        if not isinstance(network, Network):
            raise UsageError(f"expected a Network (see recommender.network.load_network), got {type(network).__name__}")
        net = network.until(as_of)
        # two threads (the array work releases the GIL): the tie table is encoded while the profiles are fitted,
        # and the current graph and the people facts are built while the history windows are replayed; each
        # step is the same computation as on one thread, so the model is too
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fracnet-fit") as pool:
            ties_job = pool.submit(_encode_ties, net, net.people["id"].astype(str).to_numpy())
            self.profile_ = ProfileModel().fit(net.people)
            people = encode_people(net, self.profile_)  # shared by the current graph and every history window
            ties = ties_job.result()
            first, last = history_span(net)
            span = float((np.datetime64(last, "D") - np.datetime64(first, "D")).astype(np.int64)) if first is not None else np.nan
            self.time_scale_ = history_time_scale(np.array([span], dtype=float))  # one for every context
            context_job = pool.submit(build_context, net, self.profile_, people=people, ties=ties,
                                      time_scale=self.time_scale_)
            people_job = pool.submit(_people_info, net)
            self.as_of_ = context_day(net)
            self.horizon_ = int(self.horizon_days) if self.horizon_days else history_horizon(first, last, n_windows=self.n_windows)
            train = build_training_set(net, self.as_of_, profile=self.profile_, horizon_days=self.horizon_,
                                       n_windows=self.n_windows, random_state=self.random_state,
                                       candidate_kw=self._candidate_kw, people=people,
                                       enough_positives=self.enough_positives, ties=ties,
                                       time_scale=self.time_scale_)
            # holdouts teach a network whatever history it lacks; once the history alone gave enough positives
            # (big, long-lived networks) they add little and would cost a second encoding of the whole graph
            n_holdouts = 0 if train.n_positive >= self.enough_positives else self.n_holdouts
            held = holdout_training_set(net, profile=self.profile_, people=people, share=self.holdout_share,
                                        n_holdouts=n_holdouts, candidate_kw=self._candidate_kw,
                                        random_state=self.random_state, time_scale=self.time_scale_) if n_holdouts else None
            self.context_ = context_job.result()
            self.people_ = people_job.result()
        del ties
        self.training_cutoffs_ = train.cutoffs
        X, y, w = train.X, train.y, None
        self.training_sources_ = {"history_positives": train.n_positive, "history_windows": len(train.cutoffs),
                                  "horizon_days": self.horizon_, "holdout_positives": 0, "holdouts": 0}
        if held is not None and len(held.y):
            X, y = np.vstack([X, held.X]), np.concatenate([y, held.y])
            hw = float(getattr(self, "holdout_weight", 1.0))
            if hw != 1.0 and train.n_positive >= self.min_positives:  # history is the task itself: it can weigh more
                w = np.r_[np.ones(len(train.y)), np.full(len(held.y), hw)]
            self.training_sources_.update(holdout_positives=held.n_positive, holdouts=len(held.cutoffs))
        self.ranker_ = PairRanker(estimator=self.estimator, min_positives=self.min_positives,
                                  random_state=self.random_state).fit(X, y, sample_weight=w)
        self.fallback_reason_ = self.ranker_.fallback_reason_
        return self

    def description(self) -> str:
        """What the ranker learned from, in one line (or why it uses default weights)."""
        self._check()
        src = getattr(self, "training_sources_", None)
        rk = self.ranker_
        if src is None:
            return self.fallback_reason_ or f"{rk.kind_} ranker"
        parts = []
        if src["holdouts"]:
            parts.append(f"{src['holdout_positives']:,} from {src['holdouts']} random holdout(s) of "
                         f"{self.holdout_share:.0%} of the current ties")
        if src["history_windows"]:
            parts.append(f"{src['history_positives']:,} from {src['history_windows']} history window(s) of "
                         f"{src['horizon_days']} days")
        if not src["holdouts"] and src["history_positives"] >= self.enough_positives:
            parts.append("no holdouts needed (the history alone had enough positives)")
        what = "; ".join(parts) or "no positive pairs"
        if self.fallback_reason_:
            return f"default weights: {self.fallback_reason_} ({what})"
        return f"{rk.kind_} ranker learned from {rk.n_rows_:,} pairs, {rk.n_positive_:,} positive: {what}"

    def _check(self) -> None:
        if not hasattr(self, "ranker_"):
            raise NotFittedError("MeetModel is not fitted; call fit(network) first")

    def _positions(self, person_ids) -> np.ndarray:
        ctx = self.context_
        out = []
        for pid in person_ids:
            i = ctx.position.get(str(pid))
            if i is None:
                import difflib

                raise UnknownIdError("person", str(pid), difflib.get_close_matches(str(pid), list(ctx.ids), n=3))
            out.append(i)
        return np.asarray(out, dtype=np.int64)

    # -- scoring -----------------------------------------------------------
    def score_block(self, rows: np.ndarray, k: int = 10, group: str = "all", *, introducers: bool = False,
                    katz: bool = True):
        """Top ``k`` candidates per (row, group) for a block of person positions.

        The one scoring path: :meth:`recommend`, :meth:`recommend_many` and the
        whole-network jobs of :mod:`recommender.batch.meet` all call it, and each
        row's answer depends only on that row, so block size never changes a
        result.

        Parameters
        ----------
        rows : ndarray of int, shape (b,)
        k : int
        group : {"all", "peers", "adjacent", "executives"}
            ``all`` keeps up to ``k`` per group.
        introducers : bool, default False
            Also return each kept pair's best introducer (position, or -1).
        katz : bool, default True
            Fill in the ``katz`` feature of the kept pairs (the ranker does not
            use it, so scores and order never depend on it; batch jobs skip it).

        Returns
        -------
        pair_row : ndarray, shape (m,)
            Index into ``rows``; sorted by row, group, descending score, position.
        pair_col : ndarray, shape (m,)
            Candidate position.
        score : ndarray, shape (m,)
        X : ndarray, shape (m, F)
            Features of the kept pairs.
        introducer : ndarray, shape (m,)
            Only with ``introducers=True``.
        """
        self._check()
        _check_k_group(k, group)
        ctx = self.context_
        rows = np.asarray(rows, dtype=np.int64)
        b = len(rows)
        hop = two_hop_paths(ctx, rows)
        pr, pc, hidx, tags = block_candidates(ctx, rows, hop, group=group, **self._candidate_kw)
        return self._rank_candidates(rows, pr, pc, hop, hidx, tags, k, introducers=introducers, katz=katz)

    def _rank_candidates(self, rows, pr, pc, hop, hidx, tags, k, *, introducers: bool, katz: bool):
        """The rest of :meth:`score_block` from a block's candidates (``hop``: their two-hop aggregates).

        Any set of candidates holding each (row, group)'s top ``k`` gives the same answer: what is kept depends
        only on each pair's own features (the compiled batch path, :mod:`recommender.batch.fast`, passes fewer).
        """
        ctx = self.context_
        b = len(rows)
        cols = feature_columns(ctx, rows, pr, pc, hop, hidx, katz=False, tag_sim=False, tags=tags)
        g = tags["group"]  # every candidate has a group
        per_group = [np.flatnonzero(g == gv) for gv in range(len(GROUPS))]
        lin = self.ranker_.linear_form()
        if lin is not None:
            # the log-odds of everything but the profile similarity; bound that one's effect and keep only
            # the pairs that can still reach the top k of their (row, group): exact, much less tag work
            a, c0 = lin
            part = self._partial_decision(cols, g, pc, a, c0)
            at = a[_TAG] * np.log(2.0)
            lo, hi = part + min(at, 0.0), part + max(at, 0.0)
            for gi, idx in enumerate(per_group):
                thr = _kth_largest(pr[idx], lo[idx], k, b)
                per_group[gi] = idx[hi[idx] >= thr[pr[idx]] - 1e-9]
        surv = np.concatenate(per_group)
        tag = block_tag_similarity(ctx, rows, pr[surv], pc[surv])
        if lin is not None:
            score = _sigmoid(part[surv] + a[_TAG] * np.log1p(tag))
        else:
            cols["tag_sim"][surv] = tag
            score = self.ranker_.score(stack_features(cols, surv))
        keep = np.zeros(len(surv), dtype=bool)
        off = 0
        for idx in per_group:
            sl = slice(off, off + len(idx))
            keep[sl] = _top_per_row(pr[idx], score[sl], k, b, tiebreak=pc[idx])
            off += len(idx)
        kept = np.flatnonzero(keep)
        sv = surv[kept]
        order = np.lexsort((pc[sv], -score[kept], g[sv], pr[sv]))
        kept, sv = kept[order], sv[order]
        X = stack_features(cols, sv)  # features of the kept pairs only
        X[:, _TAG] = tag[kept]
        if katz:
            X[:, _KATZ] = katz_scores(ctx, rows, pr[sv], pc[sv], X[:, _CN], np.zeros(len(sv)))
        out = (pr[sv], pc[sv], score[kept], X)
        if introducers:
            return out + (hop.introducers(hidx[sv]),)
        return out

    def _partial_decision(self, cols: dict, g: np.ndarray, pc: np.ndarray, a: np.ndarray, c0: float) -> np.ndarray:
        """``c0 + sum_j a_j log1p(x_j)`` over every feature but ``tag_sim`` (the linear ranker's log-odds).

        Group indicators add one of three constants; the candidate's activity
        is a per-person value, transformed once per model.
        """
        part = np.full(len(g), c0)
        for j, name in enumerate(FEATURE_NAMES):
            if a[j] != 0 and name not in _NOT_IN_PARTIAL:
                part += a[j] * np.log1p(cols[name])
        part += (a[_GROUP_COLS] * np.log(2.0))[g]
        if a[_ACTIVITY] != 0:
            if getattr(self, "_log1p_activity", None) is None:
                self._log1p_activity = np.log1p(self.context_.activity)
            part += a[_ACTIVITY] * self._log1p_activity[pc]
        return part

    def score_pairs(self, rows: np.ndarray, pair_row: np.ndarray, pair_col: np.ndarray) -> np.ndarray:
        """Scores of given pairs (``rows[pair_row]``, ``pair_col``), shape (m,)."""
        self._check()
        return self.ranker_.score(pair_features(self.context_, rows, pair_row, pair_col))

    def recommend(self, person_id: str, k: int = 10, group: str = "all") -> list[Recommendation]:
        """Up to ``k`` people for ``person_id`` to meet (``k`` per group with ``group="all"``).

        Raises
        ------
        UnknownIdError
            If ``person_id`` is not in the network.
        """
        return self.recommend_many([person_id], k=k, group=group)[str(person_id)]

    def recommend_many(self, person_ids, k: int = 10, group: str = "all") -> dict[str, list[Recommendation]]:
        """:meth:`recommend` for many people at once, scored as one block.

        Returns a dict person id -> list of :class:`Recommendation`, in the
        order of ``person_ids`` (each person once).
        """
        self._check()
        _check_k_group(k, group)
        raw = person_ids.tolist() if isinstance(person_ids, np.ndarray) else list(person_ids)
        ids = list(dict.fromkeys(str(p) for p in raw))  # each person once, in order
        rows = self._positions(ids)
        pr, pc, score, X = self.score_block(rows, k=k, group=group)
        contrib, _ = self.ranker_.contributions(X)
        out: dict[str, list[Recommendation]] = {pid: [] for pid in ids}
        for j in range(len(pr)):
            u = int(rows[pr[j]])
            out[ids[pr[j]]].append(self._recommendation(u, int(pc[j]), float(score[j]), X[j], contrib[j]))
        return out

    # -- explaining ----------------------------------------------------------
    def explain(self, person_id: str, candidate_id: str) -> dict:
        """Numbers behind one pair's score, for a UI to render.

        Returns
        -------
        dict
            ``score``, ``log_odds``, ``base``, ``group`` (or None when the pair
            is in no group), ``features`` and ``contributions`` (feature name to
            number, contributions sorted by absolute size), ``model`` (kind and
            fallback reason).
        """
        self._check()
        u, v = self._positions([person_id, candidate_id])
        X = pair_features(self.context_, np.array([u]), np.array([0]), np.array([v]))
        contrib, base = self.ranker_.contributions(X)
        g = _group_codes(X)[0]
        order = np.argsort(-np.abs(contrib[0]), kind="stable")
        return {
            "person": str(person_id),
            "candidate": str(candidate_id),
            "score": float(self.ranker_.score(X)[0]),
            "log_odds": float(self.ranker_.decision(X)[0]),
            "base": float(base[0]),
            "group": GROUPS[g] if g >= 0 else None,
            "features": {f: float(x) for f, x in zip(FEATURE_NAMES, X[0])},
            "contributions": {FEATURE_NAMES[i]: float(contrib[0, i]) for i in order},
            "model": {"kind": self.ranker_.kind_, "fallback_reason": self.fallback_reason_},
        }

    def _recommendation(self, u: int, v: int, score: float, x: np.ndarray, contrib: np.ndarray) -> Recommendation:
        ctx = self.context_
        me, them = self.people_[u], self.people_[v]
        feats = dict(zip(FEATURE_NAMES, x.tolist()))  # Python floats (tolist: one call, not one per value)
        contribs = dict(zip(FEATURE_NAMES, contrib.tolist()))
        present = reasons_present(x)[0]  # the reason rule (meet/reasons.py), as the batch job reads it
        weight = dict(zip(REASON_ORDER, reason_weights(contrib)[0].tolist()))
        has = dict(zip(REASON_ORDER, present.tolist()))
        reasons: list[Reason] = []

        su, sv = slice(ctx.A.indptr[u], ctx.A.indptr[u + 1]), slice(ctx.A.indptr[v], ctx.A.indptr[v + 1])
        mutual, iu, iv = np.intersect1d(ctx.A.indices[su], ctx.A.indices[sv], assume_unique=True,
                                        return_indices=True)
        introducer, best = None, 0.0
        if has["mutual_contacts"]:
            count = int(len(mutual))  # a count names nobody: opted-out contacts are counted, never named
            t = np.minimum(ctx.W.data[su][iu], ctx.W.data[sv][iv])  # W shares A's sorted pattern
            named = ctx.introducer_ok[mutual] > 0
            mutual, t = mutual[named], t[named]
            order = np.lexsort((mutual, -t))
            mutual, t = mutual[order], t[order]
            if len(mutual):
                introducer, best = int(mutual[0]), float(t[0])
            reasons.append(Reason("mutual_contacts", weight["mutual_contacts"], {
                "count": count,
                "people": [{"id": str(ctx.ids[w]), "name": str(ctx.names[w]), "trust": tw}
                           for w, tw in zip(mutual.tolist(), t.tolist())],
            }))
        gx = [feats[f] for f in FEATURE_NAMES[-3:]]  # the group indicators
        group = GROUPS[gx.index(max(gx))] if any(gx) else None
        spec_me, spec_them = set(me["specialties"]), set(them["specialties"])
        if has["complementary_specialties"]:
            reasons.append(Reason("complementary_specialties", weight["complementary_specialties"], {
                "function": them["function"],
                "theirs": sorted(spec_them - spec_me),
                "yours": sorted(spec_me - spec_them),
                "shared": sorted(spec_me & spec_them),
            }))
        if has["icp_fit"]:
            fr, ex = (me, them) if not me["is_exec"] else (them, me)
            reasons.append(Reason("icp_fit", weight["icp_fit"], {
                "fit": feats["icp_fit"],
                "executive_id": ex["id"],
                "company": ex["company"],
                "industry": [t for t in ex["industries"] if t in fr["industries"]],
                "size_band": [t for t in ex["sizes"] if t in fr["sizes"]],
                "region": [t for t in ex["regions"] if t in fr["regions"]],
                "company_industry": ex["industries"][:1],
                "company_size": ex["sizes"][:1],
                "company_region": ex["regions"][:1],
            }))
        if has["shared_clients"]:
            reasons.append(Reason("shared_clients", weight["shared_clients"], {
                "industries": [t for t in me["industries"] if t in them["industries"]],
                "size_bands": [t for t in me["sizes"] if t in them["sizes"]],
            }))
        if has["similar_profile"]:
            reasons.append(Reason("similar_profile", weight["similar_profile"], {"similarity": feats["tag_sim"]}))
        if has["active"]:
            reasons.append(Reason("active", weight["active"], {"recent_ties": int(round(np.expm1(feats["cand_activity"])))}))
        reasons.sort(key=lambda r: -r.weight)
        return Recommendation(
            person_id=str(ctx.ids[u]), candidate_id=str(ctx.ids[v]), name=str(ctx.names[v]), group=group,
            score=score, reasons=tuple(reasons),
            introducer_id=str(ctx.ids[introducer]) if introducer is not None else None,
            introducer_name=str(ctx.names[introducer]) if introducer is not None else None,
            introducer_trust=best, features=feats, contributions=contribs,
        )

    def person(self, person_id: str) -> dict:
        """The profile facts used for reasons and notes (name, function, tags, company)."""
        self._check()
        return self.people_[int(self._positions([person_id])[0])]

    # -- persistence -------------------------------------------------------
    def save(self, path) -> None:
        """Save the fitted model (ranker and encoded graph) to ``path``."""
        self._check()
        save_object(self, path, kind="MeetModel")

    @classmethod
    def load(cls, path) -> "MeetModel":
        """Load a model saved by :meth:`save`; ModelFileError for anything else."""
        return load_object(path, kind="MeetModel")


# ---------------------------------------------------------------------------


def _check_k_group(k, group) -> None:
    if group not in GROUP_CHOICES:
        raise UsageError(f"group must be one of {', '.join(GROUP_CHOICES)}, got {group!r}")
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise UsageError(f"k must be a positive integer, got {k!r}")


def _group_codes(X: np.ndarray) -> np.ndarray:
    gi = X[:, -3:]
    return np.where(gi.any(axis=1), gi.argmax(axis=1), -1)


def _people_info(net: Network) -> PeopleFacts:
    return PeopleFacts(net)


def _encode_ties(net: Network, ids: np.ndarray):
    """:meth:`TieTable.encode` with its directed pairs built (every graph of the fit reads them)."""
    from recommender.network import TieTable

    ties = TieTable.encode(net, ids)
    ties.directed()
    return ties
