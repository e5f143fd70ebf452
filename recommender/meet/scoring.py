"""Answering "who should I meet next?" with a fitted model: the answering half of
:class:`~recommender.meet.model.MeetModel`, in numpy and scipy.sparse.

:class:`MeetScorer` holds what a fit produced (the encoded graph
:class:`~recommender.meet.context.FeatureContext`, the ranker's
:class:`~recommender.meet.pair_scorer.PairScorer`, the profiles'
:class:`~recommender.profile_vectors.ProfileVectors`, the people's facts) and
does everything after the fit: :meth:`~MeetScorer.score_block` (the one
scoring path), :meth:`~MeetScorer.recommend`, :meth:`~MeetScorer.explain`.
:class:`MeetModel` (the scikit-learn estimator) subclasses it and adds ``fit``;
a model loaded from its state (:meth:`MeetScorer.from_state`, the model cache)
is a MeetScorer and answers identically without importing scikit-learn or
pandas (the persistence contract: :mod:`recommender.meet.persistence`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from recommender.errors import NotFittedError, UnknownIdError, UsageError
from recommender.kernels import _kth_largest, _ranges, _top_per_row, entry_positions, list_order
from recommender.meet.candidates import block_candidates, candidate_pairs
from recommender.meet import features
from recommender.meet.context import FeatureContext
from recommender.meet.features import (
    FEATURE_NAMES,
    block_tag_similarity,
    feature_columns,
    katz_scores,
    pair_features,
    stack_features,
    walk_rule,
)
from recommender.meet.pair_scorer import PairScorer, _sigmoid, transform_column
from recommender.meet.persistence import params_of, set_params_of
from recommender.meet.rerank import Reranker, list_ids, rerank_matrix, top_m
from recommender.meet.reasons import REASON_FEATURES, REASON_ORDER, Reason, reason_weights, reasons_present
from recommender.meet.twohop import two_hop_paths
from recommender.people import GROUPS, PeopleFacts
from recommender.profile_vectors import ProfileVectors

__all__ = ["GROUP_CHOICES", "Reason", "Recommendation", "MeetScorer", "REASON_FEATURES"]

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


class MeetScorer:
    """A fitted "who to meet" model's answers (see the module docstring).

    Its attributes are :class:`~recommender.meet.model.MeetModel`'s
    parameters and fitted attributes (``context_``, ``ranker_``,
    ``profile_``, ``people_``, ``as_of_``, ...).
    """

    #: Fitted attributes kept in the state besides the parameters and the components.
    _FITTED = ("as_of_", "horizon_", "time_scale_", "training_cutoffs_", "training_sources_", "fallback_reason_",
               "rerank_info_")

    @property
    def _candidate_kw(self) -> dict:
        return {"n_similar": self.n_similar, "n_market": self.n_market, "max_two_hop": self.max_two_hop,
                "n_pool": getattr(self, "n_pool", 32)}

    def description(self) -> str:
        """What the ranker learned from, in one line (or why it uses default weights)."""
        self._check()
        src = getattr(self, "training_sources_", None)
        rk = self.ranker_
        if src is None:
            return self.fallback_reason_ or f"{rk.kind_} ranker"
        parts = []
        if src["holdouts"]:
            held = (f"{src['holdout_positives']:,} from {src['holdouts']} random holdout(s) of "
                    f"{self.holdout_share:.0%} of the current ties")
            srcs = (getattr(rk, "choice_", None) or {}).get("sources")
            if src.get("holdouts_left_out") and srcs:
                held = (f"not the {held} (left out: the latest history window's mean per-query average precision "
                        f"was {srcs['without']:.4f} without them, {srcs['with']:.4f} with them as of its cutoff)")
            parts.append(held)
        if src["history_windows"]:
            parts.append(f"{src['history_positives']:,} from {src['history_windows']} history window(s) of "
                         f"{src['horizon_days']} days")
        if not src["holdouts"] and src["history_positives"] >= self.enough_positives:
            parts.append("no holdouts needed (the history alone had enough positives)")
        what = "; ".join(parts) or "no positive pairs"
        if src.get("queries", 0) < src.get("queriers", 0):  # a big network: its training rows are a sample
            what += (f"; candidates of {src['queries']:,} people sampled from the {src['queriers']:,} who formed "
                     f"a tie or had one held out")
        if self.fallback_reason_:
            return f"default weights: {self.fallback_reason_} ({what})"
        stage2 = getattr(self, "rerank_info_", None)
        chose = rk.choice_text() if hasattr(rk, "choice_text") else ""
        walks = ("walk columns computed and weighed" if walk_rule(self.context_) else
                 f"walk columns 0 (more than {features.WALK_MAX_N:,} people)")
        return (f"{rk.kind_} ranker learned from {rk.n_rows_:,} pairs, {rk.n_positive_:,} positive: {what}; {walks}"
                + (f"; estimator {chose}" if chose else "") + (f"; {stage2}" if stage2 else ""))

    def stage1_k(self, k: int) -> int:
        """How many candidates per (person, group) stage 1 keeps for an answer of ``k``: ``k``, or stage 2's M."""
        rr = getattr(self, "reranker_", None)
        return k if rr is None else max(int(k), int(rr.m_))

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

    def _rank_candidates(self, rows, pr, pc, hop, hidx, tags, k, *, introducers: bool, katz: bool,
                         tag_sim: np.ndarray | None = None, stacked: bool = True):
        """The rest of :meth:`score_block` from a block's candidates (``hop``: their two-hop aggregates).

        Any set of candidates holding each (row, group)'s top ``k`` gives the same answer: what is kept depends
        only on each pair's own features (the compiled batch path, :mod:`recommender.batch.fast`, passes fewer,
        with their profile similarity ``tag_sim`` already summed as :func:`block_tag_similarity` sums it).
        ``stacked=False`` returns the features as :class:`KeptColumns` (the same values, read a column at a
        time) where no stage 2 or Katz column needs the matrix.
        """
        ctx = self.context_
        b = len(rows)
        rr = getattr(self, "reranker_", None)
        kk = self.stage1_k(k)  # stage 1 keeps the top M for stage 2 to rerank
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
                thr = _kth_largest(pr[idx], lo[idx], kk, b)
                per_group[gi] = idx[hi[idx] >= thr[pr[idx]] - 1e-9]
        surv = np.concatenate(per_group)
        tag = block_tag_similarity(ctx, rows, pr[surv], pc[surv]) if tag_sim is None else tag_sim[surv]
        if lin is not None:
            logit = part[surv] + a[_TAG] * np.log1p(tag)
            score = _sigmoid(logit)
        else:
            cols["tag_sim"][surv] = tag
            logit = self.ranker_.decision(stack_features(cols, surv))
            score = _sigmoid(logit)
        rank_by = logit if rr is not None else score
        keep = np.zeros(len(surv), dtype=bool)
        off = 0
        for idx in per_group:
            sl = slice(off, off + len(idx))
            keep[sl] = _top_per_row(pr[idx], rank_by[sl], kk, b, tiebreak=pc[idx])
            off += len(idx)
        kept = np.flatnonzero(keep)
        sv = surv[kept]
        X = None
        if rr is not None:  # stage 2 rescores the top M of each (row, group) and keeps the top k
            X = stack_features(cols, sv)  # features of the kept pairs only
            X[:, _TAG] = tag[kept]
            s2 = rr.decision(rerank_matrix(ctx, rows, pr[sv], pc[sv], X, logit[kept], list_ids(pr[sv], g[sv]),
                                           rr.used_))
            final = np.zeros(len(sv), dtype=bool)
            for gv in range(len(GROUPS)):
                idx = np.flatnonzero(g[sv] == gv)
                final[idx] = _top_per_row(pr[sv][idx], s2[idx], k, b, tiebreak=pc[sv][idx])
            kept, sv, X, score = kept[final], sv[final], X[final], _sigmoid(s2[final])
        else:
            score = score[kept]
        order = list_order(pr[sv] * len(GROUPS) + g[sv], score, pc[sv])  # np.lexsort((pc, -score, g, pr)), faster
        sv, score = sv[order], score[order]
        if X is None and not stacked and not katz:  # the columns, read one at a time by the caller
            X = KeptColumns(cols, sv, tag[kept[order]])
        elif X is None:  # the kept pairs' features, stacked in the answer's order (not stacked, then reordered)
            X = stack_features(cols, sv)
            X[:, _TAG] = tag[kept[order]]
        else:
            X = X[order]
        if katz:
            X[:, _KATZ] = katz_scores(ctx, rows, pr[sv], pc[sv], X[:, _CN], np.zeros(len(sv)))
        out = (pr[sv], pc[sv], score, X)
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
                part += a[j] * transform_column(name, cols[name])
        part += (a[_GROUP_COLS] * np.log(2.0))[g]
        if a[_ACTIVITY] != 0:
            if getattr(self, "_log1p_activity", None) is None:
                self._log1p_activity = np.log1p(self.context_.activity)
            part += a[_ACTIVITY] * self._log1p_activity[pc]
        return part

    def score_pairs(self, rows: np.ndarray, pair_row: np.ndarray, pair_col: np.ndarray,
                    X: np.ndarray | None = None) -> np.ndarray:
        """The answer's scores of given pairs (``rows[pair_row]``, ``pair_col``), shape (m,).

        With stage 2 this is the cascade the answer runs: stage 2 rescores the top M of each (row, group) by
        stage 1 and ranks them above every other pair, so each person's pairs come in the answer's order.
        ``X``: the pairs' :func:`~recommender.meet.features.pair_features`, when the caller has them.
        """
        self._check()
        rows = np.asarray(rows, dtype=np.int64)
        pr = np.asarray(pair_row, dtype=np.int64)
        pc = np.asarray(pair_col, dtype=np.int64)
        if X is None:
            X = pair_features(self.context_, rows, pr, pc)
        rr = getattr(self, "reranker_", None)
        if rr is None:
            return self.ranker_.score(X)
        s1 = self.ranker_.decision(X)
        lid = list_ids(pr, _group_codes(X))
        top = top_m(lid, s1, pc, int(rr.m_))
        out = _sigmoid(s1) - 1.0
        sel = np.flatnonzero(top)
        out[sel] = _sigmoid(rr.decision(rerank_matrix(self.context_, rows, pr[sel], pc[sel], X[sel], s1[sel],
                                                      lid[sel], rr.used_)))
        return out

    def answer_candidates(self, rows: np.ndarray):
        """Every candidate of ``rows`` with its features and the answer's score: what ``fracnet evaluate`` ranks.

        Returns ``(pair_row, pair_col, X, score)``; ``pair_row`` indexes ``rows``. Ranking each row's pairs by
        ``score`` (ties by position) gives the answer's order (:meth:`score_block`'s, all groups together).
        """
        self._check()
        rows = np.asarray(rows, dtype=np.int64)
        pr, pc = candidate_pairs(self.context_, rows, **self._candidate_kw)
        X = pair_features(self.context_, rows, pr, pc)
        score = self.score_pairs(rows, pr, pc, X=X) if len(pr) else np.zeros(0)
        return pr, pc, X, score

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
        # the reason rule (meet/reasons.py) for every kept pair at once; each row's the same numbers alone
        present, weight = reasons_present(X).tolist(), reason_weights(contrib).tolist()
        mutual = self._mutual_contacts(rows[pr], pc)
        out: dict[str, list[Recommendation]] = {pid: [] for pid in ids}
        for j in range(len(pr)):
            u = int(rows[pr[j]])
            out[ids[pr[j]]].append(self._recommendation(u, int(pc[j]), float(score[j]), X[j], contrib[j],
                                                        present=present[j], weight=weight[j], mutual=mutual[j]))
        return out

    def _mutual_contacts(self, u: np.ndarray, v: np.ndarray) -> list[tuple[int, list, list]]:
        """Per pair (``u[i]``, ``v[i]``): how many contacts the two share, and those who may be named (not
        opted out) with their trust ``min(trust(u, w), trust(w, v))``, most trusted first (ties by position).

        Every pair at once: each of the candidates' contacts looked up among ``u``'s
        (:func:`~recommender.kernels.entry_positions`).
        """
        ctx = self.context_
        A, W = ctx.A, ctx.W  # W shares A's sorted pattern
        u, v = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
        m = len(u)
        start = A.indptr[v].astype(np.int64)
        cnt = A.indptr[v + 1].astype(np.int64) - start
        ent_v = _ranges(start, cnt)
        pair = np.repeat(np.arange(m), cnt)
        w = A.indices[ent_v]
        ent_u = entry_positions(A, u[pair], w)  # the tie u - w, if any
        hit = ent_u >= 0
        w, pair, ent_u, ent_v = w[hit], pair[hit], ent_u[hit], ent_v[hit]
        count = np.bincount(pair, minlength=m).tolist()  # a count names nobody: opted-out contacts are counted
        t = np.minimum(W.data[ent_u], W.data[ent_v])
        named = ctx.introducer_ok[w] > 0
        w, t, pair = w[named], t[named], pair[named]
        order = np.lexsort((w, -t, pair))
        w, t, pair = w[order].tolist(), t[order].tolist(), pair[order]
        bounds = np.searchsorted(pair, np.arange(m + 1)).tolist()
        return [(count[i], w[bounds[i]:bounds[i + 1]], t[bounds[i]:bounds[i + 1]]) for i in range(m)]

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

    def _recommendation(self, u: int, v: int, score: float, x: np.ndarray, contrib: np.ndarray, *,
                        present: list | None = None, weight: list | None = None,
                        mutual: tuple | None = None) -> Recommendation:
        """The pair (``u``, ``v``)'s answer from its features ``x`` and contributions ``contrib``; ``present``,
        ``weight`` and ``mutual``: its row of :func:`~recommender.meet.reasons.reasons_present`,
        :func:`~recommender.meet.reasons.reason_weights` and :meth:`_mutual_contacts` when the caller found them for
        many pairs at once."""
        ctx = self.context_
        me, them = self.people_[u], self.people_[v]
        feats = dict(zip(FEATURE_NAMES, x.tolist()))  # Python floats (tolist: one call, not one per value)
        contribs = dict(zip(FEATURE_NAMES, contrib.tolist()))
        # the reason rule (meet/reasons.py), as the batch job reads it
        present = reasons_present(x)[0].tolist() if present is None else present
        weight = dict(zip(REASON_ORDER, reason_weights(contrib)[0].tolist() if weight is None else weight))
        has = dict(zip(REASON_ORDER, present))
        reasons: list[Reason] = []

        introducer, best = None, 0.0
        if has["mutual_contacts"]:
            count, mutual, t = self._mutual_contacts(np.array([u]), np.array([v]))[0] if mutual is None else mutual
            if mutual:
                introducer, best = mutual[0], t[0]
            reasons.append(Reason("mutual_contacts", weight["mutual_contacts"], {
                "count": count,
                "people": [{"id": str(ctx.ids[w]), "name": str(ctx.names[w]), "trust": tw}
                           for w, tw in zip(mutual, t)],
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
            reasons.append(Reason("active", weight["active"], {"recent_ties": int(round(math.expm1(feats["cand_activity"])))}))
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

    # -- persistence (recommender.meet.persistence) -------------------------------------------------
    def save(self, path) -> None:
        """Save the fitted model (its state: ranker, profiles, encoded graph) to ``path``."""
        from recommender.meet.persistence import save_object

        save_object(self, path, kind="MeetModel")

    def to_state(self) -> dict:
        """The fitted model as arrays and JSON: parameters, fitted values and each component's state."""
        self._check()
        return {"params": params_of(self),
                "fitted": {a: getattr(self, a) for a in self._FITTED if hasattr(self, a)},
                "context": self.context_.to_state(), "ranker": self.ranker_.to_state(),
                "profile": self.profile_.to_state(), "people": self.people_.to_state(),
                "reranker": None if getattr(self, "reranker_", None) is None else self.reranker_.to_state()}

    @classmethod
    def from_state(cls, state: dict):
        """The model whose :meth:`to_state` gave ``state``, as ``cls`` (MeetScorer: no scikit-learn)."""
        obj = cls.__new__(cls)
        set_params_of(obj, state["params"])
        for key, value in state["fitted"].items():
            setattr(obj, key, value)
        obj.context_ = FeatureContext.from_state(state["context"])
        obj.ranker_ = PairScorer.from_state(state["ranker"])
        obj.profile_ = ProfileVectors.from_state(state["profile"])
        obj.people_ = PeopleFacts.from_state(state["people"])
        rr = state.get("reranker")
        obj.reranker_ = None if rr is None else Reranker.from_state(rr)
        return obj


# ---------------------------------------------------------------------------


def _check_k_group(k, group) -> None:
    if group not in GROUP_CHOICES:
        raise UsageError(f"group must be one of {', '.join(GROUP_CHOICES)}, got {group!r}")
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise UsageError(f"k must be a positive integer, got {k!r}")


class KeptColumns:
    """The kept pairs' features column by column: ``column(j)`` is the matrix's ``X[:, j]`` (the same values),
    contiguous, taken when first asked for. A caller that reads a few columns (the batch job: the groups, the
    introducer's trust, the reasons' columns) skips stacking the whole matrix; :meth:`matrix` stacks it."""

    def __init__(self, cols: dict, idx: np.ndarray, tag: np.ndarray):
        self._cols, self._idx, self._tag = cols, idx, np.asarray(tag, dtype=np.float64)
        self._taken: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._idx)

    def column(self, j: int) -> np.ndarray:
        """``X[:, j]`` (``j`` may count from the end, as a matrix's column does)."""
        j = j % len(FEATURE_NAMES)
        if j == _TAG:
            return self._tag
        if j not in self._taken:
            col = np.asarray(self._cols[FEATURE_NAMES[j]], dtype=np.float64)
            self._taken[j] = np.full(len(self._idx), float(col)) if col.ndim == 0 else col.take(self._idx)
        return self._taken[j]

    def matrix(self) -> np.ndarray:
        X = stack_features(self._cols, self._idx)
        X[:, _TAG] = self._tag
        return X


def feature_column(X, j: int) -> np.ndarray:
    """Feature ``j`` of the pairs of ``X``, a feature matrix or :class:`KeptColumns`."""
    return X.column(j) if isinstance(X, KeptColumns) else X[:, j]


def _group_codes(X) -> np.ndarray:
    """Each pair's group (index into GROUPS) from its group indicator columns (the last three), -1 without one:
    ``argmax`` of the three (the first maximum), column by column (a few times faster on a block). ``X``: a
    feature matrix or :class:`KeptColumns`."""
    a, b, c = (feature_column(X, j) for j in (-3, -2, -1))
    second = b > a
    code = np.where(c > np.where(second, b, a), 2, second.astype(np.int64))
    code[(a == 0) & (b == 0) & (c == 0)] = -1
    return code

