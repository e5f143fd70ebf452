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


#: Features the ranker does not use (weight 0) unless asked for by name or by ``features="structural"``:
#: 3-walk counts are costly to compute for every candidate and nearly collinear with common
#: neighbours (still computed and shown); the walk columns (normalised walks of length 2..5, return
#: probabilities) cost three-hop rows per pair and are computed only for the structure-only ranker
#: of ``fracnet evaluate links``.
UNSCORED_FEATURES = ("katz",) + WALK_FEATURES


ESTIMATORS = ("logistic", "hgb", "blend")


def _used_columns(features) -> list[int]:
    if features is None:
        return [i for i, f in enumerate(FEATURE_NAMES) if f not in UNSCORED_FEATURES]
    names = STRUCTURAL_FEATURES if isinstance(features, str) and features == "structural" else features
    if isinstance(names, str) or not all(f in FEATURE_NAMES for f in names):
        raise UsageError(f"features must be None, 'structural' or names among {', '.join(FEATURE_NAMES)}, got {features!r}")
    return [FEATURE_NAMES.index(f) for f in names]


class PairRanker(PairScorer, BaseEstimator):
    """Scores candidate pairs from their features; learned, or default weights.

    The scikit-learn estimator that fits the weights (or trees); scoring is
    :class:`~recommender.meet.pair_scorer.PairScorer`'s, in numpy, the same
    for a fitted ranker and one loaded from its state.

    Parameters
    ----------
    estimator : {"logistic", "hgb"}, default "logistic"
        ``logistic``: L2 logistic regression on standardised ``log1p``
        features (exact per-feature contributions). ``hgb``: scikit-learn's
        HistGradientBoostingClassifier (contributions by occlusion against
        the training medians). ``blend``: both, fitted on the same rows; the
        score is the mean of their log-odds (the logistic model's smooth trend
        plus the trees' interactions; contributions by occlusion).
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

    def fit(self, X, y, sample_weight=None) -> "PairRanker":
        """Learn weights from rows ``X`` (m, F) and labels ``y`` (m,) in {0, 1} (optionally weighted); returns self."""
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
        used = self.used_
        if self.estimator in ("logistic", "blend"):
            from sklearn.linear_model import LogisticRegression

            self.mean_ = Z.mean(axis=0)
            sd = Z.std(axis=0)
            # a column that is constant up to rounding (its std is rounding of the mean, e.g. 5e-12) is not
            # standardised: dividing by that noise gave it a weight of ~1e11 and the scores an error of ~1e-5
            spread = Z.max(axis=0) - Z.min(axis=0)
            constant = spread <= 1e-9 * (1.0 + np.abs(self.mean_))
            self.scale_ = np.where(constant | (sd <= 1e-12), 1.0, sd)
            lr = LogisticRegression(C=self.C, max_iter=2000)
            lr.fit(((Z - self.mean_) / self.scale_)[:, used], y, sample_weight=sample_weight)
            self.kind_ = "logistic"
            self.coef_ = np.zeros(len(FEATURE_NAMES))
            self.coef_[used] = lr.coef_.ravel().astype(float)
            self.intercept_ = float(lr.intercept_[0])
        if self.estimator in ("hgb", "blend"):
            from sklearn.ensemble import HistGradientBoostingClassifier

            self.model_ = HistGradientBoostingClassifier(
                max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=40,
                l2_regularization=1.0, random_state=self.random_state)
            self.model_.fit(Z[:, used], y, sample_weight=sample_weight)
            self.trees_ = export_trees(self.model_)  # scored by PairScorer in numpy, fitted or loaded
            self.kind_ = self.estimator
        return self
