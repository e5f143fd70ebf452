"""Who should I meet next? Recommendations per group, with structured reasons.

:class:`MeetModel` fits a :class:`~recommender.meet.ranker.PairRanker` on the
network's own history and encodes the current graph once
(:func:`~recommender.meet.features.build_context`). Scoring
(:class:`~recommender.meet.scoring.MeetScorer`, which MeetModel extends) is
blockwise: :meth:`MeetModel.score_block` takes a block of query people, generates their
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

import numpy as np
from sklearn.base import BaseEstimator

from recommender.errors import UsageError
from recommender.meet.context import build_context, context_day, history_time_scale
from recommender.meet.features import FEATURE_NAMES, structure
from recommender.meet.holdout import history_horizon, holdout_training_set
from recommender.meet.persistence import load_object
from recommender.meet.ranker import PairRanker, _used_columns, stage1_estimator
from recommender.meet.rerank_fit import fit_reranker
from recommender.meet.scoring import (  # noqa: F401  (the answers' home is recommender.meet.scoring)
    GROUP_CHOICES,
    REASON_FEATURES,
    MeetScorer,
    Reason,
    Recommendation,
    _check_k_group,
    _group_codes,
)
from recommender.meet.training import build_training_set, history_span
from recommender.memory import release_freed_memory
from recommender.network import Network
from recommender.people import PeopleFacts, company_values, encode_people
from recommender.similarity import ProfileModel

__all__ = ["GROUP_CHOICES", "Reason", "Recommendation", "MeetModel", "MeetScorer", "REASON_FEATURES"]


#: Networks with more people than this build the current graph after the history windows, not beside them:
#: at 1M people two graphs at once took the fit's peak memory from 3.9 to over 4 GiB; below, the overlap saves time.
ONE_GRAPH_AT_A_TIME = 300_000


class MeetModel(MeetScorer, BaseEstimator):
    """Recommends whom to meet: candidates, features, a learned ranker.

    The scikit-learn estimator that fits; every answer after the fit is
    :class:`~recommender.meet.scoring.MeetScorer`'s (the same for a model
    loaded from its state).

    Parameters
    ----------
    estimator : {"auto", "logistic", "hgb", "blend"}, default "auto"
        The stage-1 ranker's estimator (see :class:`~recommender.meet.ranker.PairRanker`).
        ``auto``: on networks of at most :data:`~recommender.meet.features.GLOBAL_MAX_N`
        people, logistic or (with at least 2,000 positive rows) blend, each with C 0.03 or 1,
        chosen by per-query average precision on held-out training queries (the latest
        history window when there is one) with the one-standard-error rule; logistic above
        (:func:`~recommender.meet.ranker.stage1_estimator`). The same rule and the same
        code fit :class:`~recommender.evaluation.linkpred.LinkPredictor`, the structure-only part.
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
    rerank : bool, default True
        Fit stage 2 of the cascade (:mod:`recommender.meet.rerank`), kept when it beats stage 1 on
        held-out training people.
    random_state : int

    Attributes
    ----------
    context_ : FeatureContext
        The graph as of ``as_of_``.
    ranker_ : PairRanker
    fallback_reason_ : str or None
        Why default weights are used, or None when learned.
    """

    def __init__(self, *, estimator: str = "auto", min_positives: int = 30, horizon_days: int | None = None,
                 n_windows: int = 5, n_similar: int = 50, n_market: int = 50, max_two_hop: int = 400,
                 n_pool: int = 32, enough_positives: int = 4000, n_holdouts: int = 2, holdout_share: float = 0.1,
                 holdout_weight: float = 1.0, rerank: bool = True, random_state: int = 0):
        self.estimator = estimator
        self.rerank = rerank
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
    def fit(self, network: Network, as_of=None) -> "MeetModel":
        """Learn from ``network``'s history up to ``as_of`` (default: all of it); returns self."""
        if not isinstance(network, Network):
            raise UsageError(f"expected a Network (see recommender.network.load_network), got {type(network).__name__}")
        net = network.until(as_of)
        # two threads (the array work releases the GIL), each step the same computation as on one thread, so the
        # model is too: the tie table is encoded while the profiles are fitted and the people facts read; the
        # history windows are replayed (above ONE_GRAPH_AT_A_TIME people with a block's candidates found on the
        # worker while the previous block's features are computed); the current graph is built while the ranker learns. Above
        # ONE_GRAPH_AT_A_TIME people one graph of the network is alive at a time (a history window's, then the
        # current one: at 1M people each is ~1 GB while it is built); below, the current graph is built while the
        # windows are replayed. What a stage freed is given back before the next (recommender.memory)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fracnet-fit") as pool:
            ids = net.people["id"].astype(str).to_numpy()
            ties_job = pool.submit(_encode_ties, net, ids)
            self.profile_ = ProfileModel().fit(net.people)
            company = company_values(net)  # each person's company's fields, for the encoding and the facts
            people = encode_people(net, self.profile_, company=company)  # shared by every graph of the fit
            if np.array_equal(people.ids, ids):  # one array of the ids (at 1M people, 60 MB of strings each)
                people.ids = ids
                if self.profile_.ids_.dtype == ids.dtype and np.array_equal(self.profile_.ids_, ids):
                    self.profile_.ids_ = ids
            # the people facts are read while the ties are still being encoded (they take longest); above
            # ONE_GRAPH_AT_A_TIME people, once the current graph is built: neither held through the history windows
            # nor read while that graph is built, the fit's two peaks (at 1M people ~150 MB, ~300 MB while read)
            late_facts = len(ids) > ONE_GRAPH_AT_A_TIME
            if not late_facts:
                self.people_ = _people_info(net, company)
            del company  # (read again for late facts: not held through the windows either)
            # the history's span, while the ties are still being encoded (they need neither)
            first, last = history_span(net)
            span = float((np.datetime64(last, "D") - np.datetime64(first, "D")).astype(np.int64)) if first is not None else np.nan
            self.time_scale_ = history_time_scale(np.array([span], dtype=float))  # one for every context
            self.as_of_ = context_day(net)
            self.horizon_ = int(self.horizon_days) if self.horizon_days else history_horizon(first, last, n_windows=self.n_windows)
            ties = ties_job.result()
            release_freed_memory()
            # below ONE_GRAPH_AT_A_TIME people the current graph is built while the history windows are replayed
            context_job = None if len(ids) > ONE_GRAPH_AT_A_TIME else pool.submit(
                _current_context, net, self.profile_, people, ties, self.time_scale_)
            # a column the ranker gives weight 0 (katz: 3-walks, the costliest) is not computed for training rows
            katz = FEATURE_NAMES.index("katz") in _used_columns(None)
            train = build_training_set(net, self.as_of_, profile=self.profile_, horizon_days=self.horizon_,
                                       n_windows=self.n_windows, random_state=self.random_state,
                                       candidate_kw=self._candidate_kw, people=people,
                                       enough_positives=self.enough_positives, ties=ties,
                                       time_scale=self.time_scale_, katz=katz,
                                       executor=pool if context_job is None else None)  # the worker, when idle
            # holdouts teach a network whatever history it lacks; once the history alone gave enough positives
            # (big, long-lived networks) they add little and would cost a second encoding of the whole graph
            n_holdouts = 0 if train.n_positive >= self.enough_positives else self.n_holdouts
            held = holdout_training_set(net, profile=self.profile_, people=people, share=self.holdout_share,
                                        n_holdouts=n_holdouts, candidate_kw=self._candidate_kw,
                                        random_state=self.random_state, time_scale=self.time_scale_,
                                        katz=katz) if n_holdouts else None
            # the same holdouts as of the latest window's cutoff, for the estimator choice made on that window:
            # the current holdouts' features and labels know the window (the ties formed in it)
            estimator = stage1_estimator(len(ids), self.estimator)
            probe = holdout_training_set(net.until(train.cutoffs[0]), profile=self.profile_, people=people,
                                         share=self.holdout_share, n_holdouts=n_holdouts,
                                         candidate_kw=self._candidate_kw, random_state=self.random_state,
                                         time_scale=self.time_scale_, katz=katz) \
                if held is not None and len(held.y) and train.cutoffs and estimator == "auto" else None
            release_freed_memory()
            if context_job is None:
                context_job = pool.submit(_current_context, net, self.profile_, people, ties, self.time_scale_)
            del ties  # the context job holds it until the current graph is built
            self.training_cutoffs_ = train.cutoffs
            X, y, w, qid = train.X, train.y, None, train.qid
            # the estimator is chosen on the latest history window when there is one (the answer ranks for the
            # future; a random half of the queries otherwise): window i's queries are numbered from i * n
            window = train.qid // max(len(ids), 1)
            val = window == window.min() if len(window) else np.zeros(0, bool)
            self.training_sources_ = {"history_positives": train.n_positive, "history_windows": len(train.cutoffs),
                                      "horizon_days": self.horizon_, "holdout_positives": 0, "holdouts": 0,
                                      "queries": train.queries, "queriers": train.queriers}
            optional = None
            if held is not None and len(held.y):
                X, y, qid = np.vstack([X, held.X]), np.concatenate([y, held.y]), np.concatenate([qid, held.qid])
                val = np.r_[val, np.zeros(len(held.y), bool)]
                optional = np.r_[np.zeros(len(train.y), bool), np.ones(len(held.y), bool)]  # the choice may drop them
                hw = float(getattr(self, "holdout_weight", 1.0))
                if hw != 1.0 and train.n_positive >= self.min_positives:  # history is the task itself: it can weigh more
                    w = np.r_[np.ones(len(train.y)), np.full(len(held.y), hw)]
                self.training_sources_.update(holdout_positives=held.n_positive, holdouts=len(held.cutoffs),
                                              queries=train.queries + held.queries,
                                              queriers=train.queriers + held.queriers)
            stage1_hidden = held.hidden if held is not None else None  # stage 2's dated check hides none of them
            del train, held
            self.ranker_ = PairRanker(estimator=estimator, min_positives=self.min_positives,
                                      random_state=self.random_state).fit(
                X, y, sample_weight=w, groups=qid, validation=val if val.any() else None, optional=optional,
                probe=None if probe is None else (probe.X, probe.y, probe.qid))
            del probe
            if (self.ranker_.choice_ or {}).get("left_out"):
                self.training_sources_["holdouts_left_out"] = True
            del X, y, w, qid, val, optional
            self.context_ = context_job.result()
        release_freed_memory()
        if late_facts:  # after the current graph: the tie table and that graph's temporaries are gone by then
            self.people_ = _people_info(net)
        self.fallback_reason_ = self.ranker_.fallback_reason_
        # stage 2 of the cascade (recommender.meet.rerank_fit): learned on its own holdout, kept if it pays
        self.reranker_, self.rerank_info_ = (fit_reranker(net, self, people, stage1_hidden=stage1_hidden)
                                             if getattr(self, "rerank", True) else (None, "no stage 2 (rerank=False)"))
        self.ranker_._pre_window = None  # only stage 2's check replays it
        return self

    # -- persistence (save: MeetScorer's) ------------------------------------
    @classmethod
    def load(cls, path) -> "MeetModel":
        """Load a model saved by :meth:`save` (as a MeetModel); ModelFileError for anything else."""
        return load_object(path, kind="MeetModel", cls=cls)


def _current_context(net: Network, profile, people, ties, time_scale):
    """The current graph (:func:`build_context`) with its graph-level columns' inputs computed now, not on the first answer."""
    ctx = build_context(net, profile, people=people, ties=ties, time_scale=time_scale)
    structure(ctx)
    return ctx


def _people_info(net: Network, company: dict | None = None) -> PeopleFacts:
    return PeopleFacts(net, company=company)


def _encode_ties(net: Network, ids: np.ndarray):
    """:meth:`TieTable.encode` with its directed pairs built (every graph of the fit reads them)."""
    from recommender.network import TieTable

    ties = TieTable.encode(net, ids)
    ties.directed()
    return ties
