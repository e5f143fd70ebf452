"""The learned pair ranker: weights for :data:`~recommender.meet.features.FEATURE_NAMES`
learned from the network's own history.

Training data comes from a temporal split (:func:`build_training_set`): for a
few cutoff dates before the end of the known history, features are computed on
the graph *as of* the cutoff (:meth:`Network.until`) for the candidates of the
people who formed new ties afterwards; pairs that became ties or connected
introductions within the next ``horizon_days`` are positives, the other
candidates of the same generator are negatives.

:class:`PairRanker` is a small scikit-learn-style estimator over those rows.
With fewer than ``min_positives`` positives it does not learn and uses
:data:`DEFAULT_WEIGHTS` instead, saying why in ``fallback_reason_``.

Default weights
---------------
Applied to ``log1p`` of each feature (all features are non-negative), then a
logistic function; they encode the design's prior: mutual contacts (resource
allocation, Adamic-Adar) and a strong introducer matter most, then ICP fit,
complementary specialties, shared clients and profile similarity.

Example
-------
>>> import numpy as np
>>> from recommender.meet.features import FEATURE_NAMES, SIGNED_FEATURES, STRUCTURAL_FEATURES
>>> X = np.zeros((2, len(FEATURE_NAMES))); X[1, FEATURE_NAMES.index("ra")] = 0.5
>>> r = PairRanker().fit(X, np.array([0, 1]))
>>> r.fallback_reason_
'only 1 positive pairs to learn from (need 30); using default weights'
>>> bool(r.score(X)[1] > r.score(X)[0])
True
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from recommender.errors import UsageError
from recommender.meet.features import FEATURE_NAMES, STRUCTURAL_FEATURES, WALK_FEATURES
from recommender.meet.pair_scorer import PairScorer, _transform, export_trees, transform_column  # noqa: F401
from recommender.meet.persistence import ModelFileError, load_object, save_object
from recommender.meet.training import TrainingSet, build_training_set, formed_pairs

__all__ = [
    "DEFAULT_WEIGHTS",
    "ESTIMATORS",
    "PairRanker",
    "stage1_estimator",
    "stage1_features",
    "PairScorer",
    "TrainingSet",
    "ModelFileError",
    "formed_pairs",
    "build_training_set",
    "save_object",
    "load_object",
]


#: Weights on ``log1p(feature)`` used when the history is too thin to learn from.
DEFAULT_WEIGHTS = {
    "cn": 0.6,
    "jaccard": 2.0,
    "aa": 0.6,
    "ra": 2.0,
    "pa": 0.05,
    "katz": 0.0,
    "deg_min": 0.0,
    "deg_max": 0.0,
    "spec": 0.0,
    "spec_cos": 0.0,
    "same_component": 0.0,
    "clust_min": 0.0,
    "clust_max": 0.0,
    **{name: 0.0 for name in WALK_FEATURES},
    "tag_sim": 1.5,
    "complementarity": 1.2,
    "specialty_affinity": 0.5,
    "client_overlap": 1.0,
    "industry_overlap": 0.5,
    "region_overlap": 0.5,
    "icp_fit": 1.5,
    "introducer_trust": 1.5,
    "mutual_recency": 0.5,
    "cand_activity": 0.3,
    "group_peer": 0.0,
    "group_adjacent": 0.0,
    "group_executive": 0.0,
}


DEFAULT_INTERCEPT = -4.0


#: Features the ranker does not use (weight 0) unless asked for by name: 3-walk counts are costly to
#: compute for every candidate and nearly collinear with common neighbours (still computed and shown).
#: The walk columns are weighed like every other column; they are computed (and so can get a weight) on
#: networks of at most GLOBAL_MAX_N people (:func:`~recommender.meet.features.walk_rule`).
UNSCORED_FEATURES = ("katz",)


ESTIMATORS = ("logistic", "hgb", "blend", "auto")

#: The candidates ``estimator="auto"`` chooses among: (kind, C of the logistic model or its half of the blend).
AUTO_CANDIDATES = (("logistic", 0.03), ("logistic", 1.0), ("blend", 0.03), ("blend", 1.0))

#: At most this many training rows go into the choice's fits (the queries sampled; the logistic part is
#: then refitted on all rows).
AUTO_MAX_ROWS = 30_000

#: The blend candidates are tried only on training sets with at least this many positive rows: fewer give the
#: trees (leaves of at least 40 rows) thin evidence, and their fits would be most of a small network's fit time.
AUTO_MIN_TREE_POSITIVES = 2_000

#: The boosted trees learn from at most this many rows: every positive and a sample of the negatives,
#: weighted up so that the trees' log-odds stay calibrated (trees cost ~10x a logistic fit per row).
TREE_MAX_ROWS = 20_000


def stage1_estimator(n_people: int, estimator: str = "auto") -> str:
    """The stage-1 estimator on a network of ``n_people``: ``estimator``, except that ``"auto"`` (the choice
    on held-out queries, :meth:`PairRanker.fit`) is made on networks of at most GLOBAL_MAX_N people and is
    ``"logistic"`` above (the compiled batch path scores a linear ranker; the 100k / 1M batch is unchanged)."""
    from recommender.meet import features

    return "logistic" if estimator == "auto" and n_people > features.GLOBAL_MAX_N else estimator


def stage1_features(features=None) -> tuple:
    """The columns the stage-1 ranker may weigh: :data:`FEATURE_NAMES` but :data:`UNSCORED_FEATURES` (None),
    or the part of them among ``features`` (``"structural"``: :data:`STRUCTURAL_FEATURES`, the structure-only
    part ``fracnet evaluate links`` scores with)."""
    scored = tuple(f for f in FEATURE_NAMES if f not in UNSCORED_FEATURES)
    if features is None:
        return scored
    names = STRUCTURAL_FEATURES if isinstance(features, str) and features == "structural" else features
    return tuple(f for f in scored if f in names)


def _used_columns(features) -> list[int]:
    if features is None:
        return [i for i, f in enumerate(FEATURE_NAMES) if f not in UNSCORED_FEATURES]
    names = STRUCTURAL_FEATURES if isinstance(features, str) and features == "structural" else features
    if isinstance(names, str) or not all(f in FEATURE_NAMES for f in names):
        raise UsageError(f"features must be None, 'structural' or names among {', '.join(FEATURE_NAMES)}, got {features!r}")
    return [FEATURE_NAMES.index(f) for f in names]


def grouped_ap(score: np.ndarray, y: np.ndarray, groups: np.ndarray, *, per_group: bool = False):
    """Mean over groups holding a positive of the average precision of ``score`` within the group.

    Ties are broken against the positives (a constant score earns no credit). Top-heavy, like the
    lists the answer shows; on one group of many pairs (the link protocol's round) it ranks like AUC does.

    Examples
    --------
    >>> grouped_ap(np.array([0.9, 0.1, 0.5, 0.2, 0.3]), np.array([1, 0, 0, 1, 0]), np.array([0, 0, 0, 1, 1]))
    0.75

    ``per_group``: the array of the groups' figures (groups in sorted order, those with a positive) instead.
    """
    score, y, groups = np.asarray(score, float), np.asarray(y).astype(np.int64), np.asarray(groups)
    if len(y) == 0 or not y.any():
        return np.zeros(0) if per_group else float("nan")
    g = np.unique(groups, return_inverse=True)[1].ravel()
    order = np.lexsort((y, -score, g))  # by group, score descending, negatives first among equal scores
    gs, ys = g[order], y[order]
    first = np.r_[0, np.flatnonzero(gs[1:] != gs[:-1]) + 1]
    start = np.repeat(first, np.diff(np.r_[first, len(gs)]))
    rank = np.arange(len(gs)) - start + 1.0
    hits = np.cumsum(ys) - np.r_[0, np.cumsum(ys)][start]
    prec = np.where(ys > 0, hits / rank, 0.0)
    npos = np.bincount(gs, weights=ys)
    ap = np.bincount(gs, weights=prec) / np.maximum(npos, 1.0)
    return ap[npos > 0] if per_group else float(ap[npos > 0].mean())


def grouped_auc(score: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    """Mean over groups holding both labels of the AUC of ``score`` within the group (ties count half).

    Examples
    --------
    >>> grouped_auc(np.array([0.9, 0.1, 0.5, 0.2, 0.3]), np.array([1, 0, 0, 1, 0]), np.array([0, 0, 0, 1, 1]))
    0.5
    """
    from scipy.stats import rankdata

    score, y, groups = np.asarray(score, float), np.asarray(y).astype(np.int64), np.asarray(groups)
    if len(y) == 0:
        return float("nan")
    g = np.unique(groups, return_inverse=True)[1].ravel()
    r = rankdata(score, method="dense")
    key = g * (int(r.max()) + 1) + r
    rank = rankdata(key, method="average")  # global average ranks; groups occupy consecutive blocks of ranks
    size = np.bincount(g)
    start = np.r_[0, np.cumsum(size)[:-1]]
    within = rank - start[g]
    npos = np.bincount(g, weights=y, minlength=len(size))
    nneg = size - npos
    ok = (npos > 0) & (nneg > 0)
    if not ok.any():
        return float("nan")
    sum_pos = np.bincount(g, weights=within * y, minlength=len(size))
    auc = (sum_pos - npos * (npos + 1) / 2.0) / np.where(ok, npos * nneg, 1.0)
    return float(auc[ok].mean())


class PairRanker(PairScorer, BaseEstimator):
    """Scores candidate pairs from their features; learned, or default weights.

    The scikit-learn estimator that fits the weights (or trees); scoring is
    :class:`~recommender.meet.pair_scorer.PairScorer`'s, in numpy, the same
    for a fitted ranker and one loaded from its state.

    Parameters
    ----------
    estimator : {"logistic", "hgb", "blend", "auto"}, default "logistic"
        ``logistic``: L2 logistic regression on standardised ``log1p``
        features (exact per-feature contributions). ``hgb``: scikit-learn's
        HistGradientBoostingClassifier (contributions by occlusion against
        the training medians). ``blend``: both, fitted on the same rows; the
        score is the mean of their log-odds (the logistic model's smooth trend
        plus the trees' interactions; contributions by occlusion). ``auto``: the
        one of :data:`AUTO_CANDIDATES` (logistic or blend, each with ``C`` 0.03 or 1)
        chosen by mean per-query average precision on held-out queries (:meth:`_choose`; the blends only
        with at least :data:`AUTO_MIN_TREE_POSITIVES` positive rows;
        ``choice_`` holds the figures, :meth:`choice_text` says them), refitted on all rows.
    min_positives : int, default 30
        Fewer positive rows than this: no learning, :data:`DEFAULT_WEIGHTS`.
    C : float, default 0.03
        Inverse regularisation strength of the logistic model (on standardised
        features; strong, so that a column with no signal on a network stays
        near weight 0: it lifted the sample's history replay from 0.255 to 0.260
        recall@10 once the graph-level columns were added).
    random_state : int, default 0
    features : tuple of str or None, default None
        The columns of :data:`FEATURE_NAMES` the model may weigh (the others get
        weight 0); None: all but :data:`UNSCORED_FEATURES`. ``"structural"``:
        :data:`~recommender.meet.features.STRUCTURAL_FEATURES`, the graph-only
        part that ``fracnet evaluate links`` scores with.

    Attributes
    ----------
    fallback_reason_ : str or None
        Why default weights are used, or None when the model was learned.
    n_positive_, n_rows_ : int
    coef_ : ndarray, shape (F,)
        Weights on the transformed features (logistic and default).
    """

    def __init__(self, *, estimator: str = "logistic", min_positives: int = 30, C: float = 0.03, random_state: int = 0,
                 features=None):
        self.features = features
        self.estimator = estimator
        self.min_positives = min_positives
        self.C = C
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None, groups=None, validation=None, optional=None,
            probe=None) -> "PairRanker":
        """Learn weights from rows ``X`` (m, F) and labels ``y`` (m,) in {0, 1} (optionally weighted); returns self.

        ``groups`` (m,) names each row's query (one person's candidates in one training window or holdout;
        one holdout round of the link protocol): ``estimator="auto"`` chooses on held-out queries, the rows
        of ``validation`` (m,) bool when given (the latest history window: the answer ranks for the future),
        else a random half of the queries. ``optional`` (m,) bool marks rows of a source the choice may leave
        out (the holdouts of current ties beside a dated history): with a validation window they are kept only
        if leaving them out does not rank that window better (:meth:`_choose`; ``choice_["left_out"]``).
        ``probe``: ``(X, y, groups)`` of that source as it stood at the window's cutoff (holdouts of the ties
        known then, features on that graph): the choice fits and tests those in place of the ``optional`` rows
        (whose features and labels know the window), and the final fit uses the ``optional`` rows or not.
        """
        if self.estimator not in ESTIMATORS:
            raise UsageError(f"estimator must be one of {', '.join(ESTIMATORS)}, got {self.estimator!r}")
        X = np.asarray(X, dtype=float)
        y = np.asarray(y).astype(np.int64)
        if X.ndim != 2 or X.shape[1] != len(FEATURE_NAMES) or len(X) != len(y):
            raise UsageError(f"expected X of shape (m, {len(FEATURE_NAMES)}) and y of shape (m,), "
                             f"got {X.shape} and {y.shape}")
        self.used_ = np.array(_used_columns(getattr(self, "features", None)), dtype=np.int64)
        self.n_rows_ = int(len(y))
        self.n_positive_ = int(y.sum())
        self.fallback_reason_ = None
        self.choice_ = None
        self._pre_window = None
        Z = _transform(X)
        self.reference_ = np.median(Z, axis=0) if len(Z) else np.zeros(len(FEATURE_NAMES))
        if self.n_positive_ < self.min_positives or self.n_positive_ == len(y):
            self.fallback_reason_ = (f"only {self.n_positive_} positive pairs to learn from "
                                     f"(need {self.min_positives}); using default weights")
            self.kind_ = "default"
            self.coef_ = np.zeros(len(FEATURE_NAMES))
            self.coef_[self.used_] = [DEFAULT_WEIGHTS[FEATURE_NAMES[i]] for i in self.used_]
            self.intercept_ = DEFAULT_INTERCEPT
            self.mean_ = np.zeros(len(FEATURE_NAMES))
            self.scale_ = np.ones(len(FEATURE_NAMES))
            return self
        kind, C = self.estimator, float(self.C)
        if kind == "auto":
            if probe is not None and validation is not None and optional is not None and len(probe[1]):
                # the choice on the rows as of the window's cutoff: the probe replaces the optional rows
                Zp, yp = _transform(np.asarray(probe[0], dtype=float)), np.asarray(probe[1]).astype(np.int64)
                gr = np.arange(len(y)) if groups is None else np.asarray(groups)
                gp = np.asarray(probe[2]) + (int(gr.max(initial=0)) + 1)  # its queries apart from every other
                opt = np.asarray(optional, bool)
                kind, C = self._choose(np.vstack([Z, Zp]), np.r_[y, yp],
                                       None if sample_weight is None else np.r_[sample_weight, np.ones(len(yp))],
                                       np.r_[gr, gp], np.r_[np.asarray(validation, bool), np.zeros(len(yp), bool)],
                                       np.r_[np.zeros(len(y), bool), np.ones(len(yp), bool)],
                                       unseen=np.r_[opt, np.zeros(len(yp), bool)])
            else:
                kind, C = self._choose(Z, y, sample_weight, groups, validation, optional)
            if (self.choice_ or {}).get("left_out"):  # the rows the choice left out are left out of the fit too
                keep = ~np.asarray(optional, bool)
                Z, y = Z[keep], y[keep]
                sample_weight = None if sample_weight is None else np.asarray(sample_weight)[keep]
                self.n_rows_, self.n_positive_ = int(len(y)), int(y.sum())
        self._fit_kind(Z, y, sample_weight, kind, C)
        return self

    def _fit_kind(self, Z, y, sample_weight, kind: str, C: float) -> None:
        """Fit the ``kind`` model (logistic, hgb or blend; the logistic part with ``C``) on transformed rows."""
        used = self.used_
        mean, scale = _standardiser(Z)
        lr = _logistic(((Z - mean) / scale)[:, used], y, sample_weight, C) if kind in ("logistic", "blend") else None
        trees = _trees(Z[:, used], y, sample_weight, self.random_state) if kind in ("hgb", "blend") else None
        self._set_fitted(kind, C, mean, scale, lr, trees)

    def _set_fitted(self, kind: str, C: float, mean, scale, lr, trees) -> None:
        """The fitted attributes of a ``kind`` ranker from its fitted parts: ``lr`` (a LogisticRegression on the
        columns ``used_`` standardised by ``mean`` and ``scale``) and ``trees`` (boosted trees on them)."""
        self.C_ = float(C)
        if kind in ("logistic", "blend"):
            self.mean_, self.scale_ = mean, scale
            self.kind_ = "logistic"
            self.coef_ = np.zeros(len(FEATURE_NAMES))
            self.coef_[self.used_] = lr.coef_.ravel().astype(float)
            self.intercept_ = float(lr.intercept_[0])
        if kind in ("hgb", "blend"):
            self.model_ = trees
            self.trees_ = export_trees(trees)  # scored by PairScorer in numpy, fitted or loaded
            self.kind_ = kind

    def pre_window(self) -> "PairRanker | None":
        """The chosen estimator as fitted on the rows before the latest history window (when the choice was
        made on that window, else None): stage 1 as it stood at that window's cutoff, which stage 2's check on
        the network's own future (:func:`~recommender.meet.rerank_fit.fit_reranker`) replays."""
        return getattr(self, "_pre_window", None)

    def _choose(self, Z, y, sample_weight, groups, validation=None, optional=None, unseen=None) -> tuple:
        """``(kind, C)``: the :data:`AUTO_CANDIDATES` entry chosen by mean per-query average precision
        (:func:`grouped_ap`) on held-out queries, with the one-standard-error rule: the first candidate (they are
        in order of simplicity) within one standard error of the best (of the paired per-query differences).

        The queries (``groups``; rows one by one without them) are split in two at random (at most
        :data:`AUTO_MAX_ROWS` rows in all); every candidate is fitted on one half and scored on the other;
        The chosen one is then refitted on all rows (:meth:`fit`). ``choice_`` records the figures.

        With a validation window and ``optional`` rows, the first candidate is first fitted with and without
        them: they are left out (of the choice and of the fit) when the window's mean per-query average
        precision is higher without them by more than one standard error of the paired per-query differences
        (a source that does not help this network's future is not assumed to, and one that only seems not to
        by chance is kept; ``choice_["sources"]`` has both figures).
        """
        rng = np.random.default_rng(int(self.random_state) + 15_485_863)
        g = np.arange(len(y)) if groups is None else np.unique(np.asarray(groups), return_inverse=True)[1].ravel()
        n_g = int(g.max()) + 1 if len(g) else 0
        perm = rng.permutation(n_g)
        if len(y) > AUTO_MAX_ROWS and validation is None:  # whole queries, in a random order, until the budget
            size = np.bincount(g, minlength=n_g)[perm]
            perm = perm[: max(2, int(np.searchsorted(np.cumsum(size), AUTO_MAX_ROWS)))]
        fit_q = np.zeros(n_g, bool)
        held_q = np.zeros(n_g, bool)
        val = None if validation is None else np.asarray(validation, bool)
        if val is not None and int(y[val].sum()) >= self.min_positives and int(y[~val].sum()) >= self.min_positives:
            held_q[np.unique(g[val])] = True  # the latest window's queries, fitted on everything before it
            fit_q[perm[~held_q[perm]]] = True  # every earlier query: the candidates learn from what the answer will
            split = "the latest history window"
        else:
            fit_q[perm[: len(perm) // 2]] = True
            held_q[perm[len(perm) // 2:]] = True
            split = "a random half of the queries"
        tr, te = fit_q[g], held_q[g]
        if unseen is not None:
            tr = tr & ~np.asarray(unseen, bool)  # rows no fit of the choice may see (the probe's stand-ins)
        default = AUTO_CANDIDATES[0]
        if min(int(y[tr].sum()), int(y[te].sum())) < self.min_positives or (y[tr] == 0).sum() == 0:
            self.choice_ = {"chosen": _label(default),
                            "why": "too few positives to compare estimators on held-out queries"}
            return default
        used = self.used_
        g_te = g[te] if groups is not None else np.zeros(int(te.sum()), np.int64)  # no queries: one pooled figure
        sources = kept_fit = None
        if val is not None and split == "the latest history window" and optional is not None:
            tr, sources, kept_fit = self._sources(Z, y, sample_weight, tr, te, g_te, np.asarray(optional, bool),
                                                  default)
        w_tr = None if sample_weight is None else np.asarray(sample_weight)[tr]
        mean, scale = _standardiser(Z[tr])
        S_tr, S_te = ((Z[tr] - mean) / scale)[:, used], ((Z[te] - mean) / scale)[:, used]
        candidates = [c for c in AUTO_CANDIDATES if c[0] == "logistic" or self.n_positive_ >= AUTO_MIN_TREE_POSITIVES]
        trees = _trees(Z[tr][:, used], y[tr], w_tr, self.random_state) if any(k != "logistic" for k, _ in candidates) else None
        tree_te = trees.decision_function(Z[te][:, used]) if trees is not None else None
        lin_fit, lin_te = ({}, {}) if kept_fit is None else ({default[1]: kept_fit[0]}, {default[1]: kept_fit[1]})
        per = {}
        for kind, C in candidates:
            if C not in lin_te:
                lin_fit[C] = _logistic(S_tr, y[tr], w_tr, C)
                lin_te[C] = lin_fit[C].decision_function(S_te)
            score = lin_te[C] if kind == "logistic" else 0.5 * (lin_te[C] + tree_te)
            per[_label((kind, C))] = grouped_ap(score, y[te], g_te, per_group=True)
        names = [_label(c) for c in candidates]
        means = {k: float(v.mean()) for k, v in per.items()}
        best = max(names, key=lambda k: means[k])
        # the one-standard-error rule: the first (simplest, most regularised) candidate whose mean is within one
        # standard error of the paired per-query differences of the best one's
        nq = len(per[best])
        chosen = best
        for k in names:
            d = per[best] - per[k]
            se = float(d.std(ddof=1) / np.sqrt(nq)) if nq > 1 else 0.0
            if d.mean() <= se:
                chosen = k
                break
        chosen = candidates[names.index(chosen)]
        if val is not None and split == "the latest history window":  # stage 1 as of that window's cutoff
            pre = PairRanker(estimator=self.estimator, min_positives=self.min_positives, C=chosen[1],
                             random_state=self.random_state, features=self.features)
            pre.used_, pre.n_rows_, pre.n_positive_ = used, int(tr.sum()), int(y[tr].sum())
            pre.fallback_reason_, pre.choice_, pre.reference_ = None, None, np.median(Z[tr], axis=0)
            pre._set_fitted(chosen[0], chosen[1], mean, scale, lin_fit[chosen[1]],
                            trees if chosen[0] != "logistic" else None)
            self._pre_window = pre
        self.choice_ = {"chosen": _label(chosen), "heldout_ap": means, "best": best, "split": split,
                        "fit_rows": int(tr.sum()), "heldout_rows": int(te.sum()), "heldout_positives": int(y[te].sum()),
                        "heldout_queries": int(len(np.unique(g_te)))}
        if sources is not None:
            self.choice_.update(sources=sources, left_out=sources["left_out"])
        return chosen

    def _sources(self, Z, y, sample_weight, tr, te, g_te, optional, candidate) -> tuple:
        """``(fit rows, figures, fit)``: whether the ``optional`` rows stay among the choice's fit rows ``tr``, by
        the window's (``te``) mean per-query average precision of ``candidate`` fitted with and without them;
        ``fit`` is that logistic model on the rows kept and its window log-odds (the choice reuses it)."""
        without = tr & ~optional
        if not (tr & optional).any() or int(y[without].sum()) < self.min_positives:
            return tr, None, None
        used = self.used_
        ap, fits = {}, {}
        for name, rows in (("with", tr), ("without", without)):
            mean, scale = _standardiser(Z[rows])
            w = None if sample_weight is None else np.asarray(sample_weight)[rows]
            lr = _logistic(((Z[rows] - mean) / scale)[:, used], y[rows], w, candidate[1])
            fits[name] = (lr, lr.decision_function(((Z[te] - mean) / scale)[:, used]))
            ap[name] = grouped_ap(fits[name][1], y[te], g_te, per_group=True)
        d = ap["without"] - ap["with"]  # paired per query; left out only when clearly better without (one
        se = float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0  # standard error): data is not
        left_out = bool(d.mean() > se)  # dropped on noise
        return ((without if left_out else tr),
                {"with": float(ap["with"].mean()), "without": float(ap["without"].mean()),
                 "left_out": left_out, "optional_rows": int((tr & optional).sum())},
                fits["without" if left_out else "with"])


def _label(candidate) -> str:
    return f"{candidate[0]} C={candidate[1]:g}"


def _standardiser(Z):
    """Mean and scale of each column; a column constant up to rounding is not scaled (its std is rounding
    of the mean, e.g. 5e-12: dividing by that noise gave it a weight of ~1e11 and the scores an error of ~1e-5)."""
    mean = Z.mean(axis=0)
    sd = Z.std(axis=0)
    spread = Z.max(axis=0) - Z.min(axis=0)
    constant = spread <= 1e-9 * (1.0 + np.abs(mean))
    return mean, np.where(constant | (sd <= 1e-12), 1.0, sd)


def _logistic(S, y, sample_weight, C):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=2000).fit(S, y, sample_weight=sample_weight)


def _trees(Z, y, sample_weight, random_state):
    """Boosted trees on at most :data:`TREE_MAX_ROWS` rows: every positive and a sample of the negatives.

    The sampled negatives stand for all of them: the trees' baseline log-odds is moved by the log of the
    sampling rate (the prior correction of case-control sampling), so the trees' log-odds stay on the
    scale of the logistic model's, which the blend averages them with.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    neg = np.flatnonzero(y == 0)
    room = max(TREE_MAX_ROWS - int(y.sum()), int(y.sum()))
    shift = 0.0
    if len(y) > TREE_MAX_ROWS and len(neg) > room:
        rng = np.random.default_rng(int(random_state) + 32_452_843)
        keep = np.sort(np.r_[np.flatnonzero(y > 0), rng.choice(neg, room, replace=False)])
        shift = float(np.log(room / len(neg)))
        Z, y = Z[keep], y[keep]
        sample_weight = None if sample_weight is None else np.asarray(sample_weight)[keep]
    model = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=40,
        l2_regularization=1.0, random_state=random_state).fit(Z, y, sample_weight=sample_weight)
    model._baseline_prediction = model._baseline_prediction + shift  # decision_function and export_trees agree
    return model
