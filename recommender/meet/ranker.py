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
>>> from recommender.meet.features import FEATURE_NAMES
>>> X = np.zeros((2, len(FEATURE_NAMES))); X[1, FEATURE_NAMES.index("ra")] = 0.5
>>> r = PairRanker().fit(X, np.array([0, 1]))
>>> r.fallback_reason_
'only 1 positive pairs in the history (need 30); using default weights'
>>> bool(r.score(X)[1] > r.score(X)[0])
True
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.errors import FracnetError, NotFittedError, UsageError
from recommender.meet.candidates import candidate_pairs
from recommender.meet.context import build_context
from recommender.meet.features import FEATURE_NAMES, pair_features
from recommender.meet.twohop import two_hop_paths
from recommender.network import Network, TieTable, parse_as_of, sorted_unique

__all__ = [
    "DEFAULT_WEIGHTS",
    "ESTIMATORS",
    "PairRanker",
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
#: Features the ranker does not use (weight 0): 3-walk counts are costly to compute for every
#: candidate and nearly collinear with common neighbours. They are still computed and shown.
UNSCORED_FEATURES = ("katz",)
ESTIMATORS = ("logistic", "hgb")
MODEL_FORMAT = "fracnet-model"
MODEL_FORMAT_VERSION = 6  # 6: classes moved into the meet/ package (pickles name their modules); 5: trust and freshness stored in single precision; 4: contexts share index arrays and the profile matrix; 3: blockwise scoring


class ModelFileError(FracnetError):
    """A saved model file is missing, corrupt, foreign or from another format version."""

    exit_code = 4


# ---------------------------------------------------------------------------
# History -> training rows
# ---------------------------------------------------------------------------


def formed_pairs(net: Network, after, until=None) -> pd.DataFrame:
    """Pairs who became connected in ``(after, until]``: new ties and connected introductions.

    Returns a frame ``a, b, date`` with ``a < b``, one row per pair (earliest date).
    """
    lo = parse_as_of(after)
    hi = parse_as_of(until)
    t = net.ties[["a", "b", "since"]].rename(columns={"since": "date"})
    i = net.introductions[net.introductions["outcome"] == "connected"][["a", "b", "date"]]
    df = pd.concat([t, i], ignore_index=True).dropna(subset=["a", "b", "date"])
    df = df[df["date"] > lo] if lo else df
    df = df[df["date"] <= hi] if hi else df
    a = df[["a", "b"]].astype(str).min(axis=1)
    b = df[["a", "b"]].astype(str).max(axis=1)
    out = pd.DataFrame({"a": a, "b": b, "date": df["date"].astype(str)})
    out = out[out["a"] != out["b"]]
    return out.sort_values(["a", "b", "date"]).drop_duplicates(["a", "b"]).reset_index(drop=True)


@dataclass
class TrainingSet:
    """Rows for the ranker: features ``X`` (m, F), labels ``y`` (m,), query ids ``qid`` (m,)."""

    X: np.ndarray
    y: np.ndarray
    qid: np.ndarray
    cutoffs: list

    @property
    def n_positive(self) -> int:
        return int(self.y.sum())


def history_span(net: Network) -> tuple[str | None, str | None]:
    """Earliest and latest date of ties (``since``) and introductions."""
    d = pd.concat([net.ties["since"], net.introductions["date"]]).dropna().astype(str)
    if d.empty:
        return None, None
    return d.min(), d.max()


def query_pairs(ctx, net: Network, after: str, until: str | None, ties=None):
    """Query rows and their positive pairs (as person positions) for a label window.

    Pairs already tied at ``ctx.as_of`` or involving an opted-out person are dropped.
    ``ties`` is a :class:`~recommender.network.TieTable` of ``net`` on ``ctx.ids``
    when already computed (the same pairs as :func:`formed_pairs`, from arrays).
    """
    if ties is not None and ties.source is net.ties and (ties.ids is ctx.ids or np.array_equal(ties.ids, ctx.ids)):
        lo, hi = parse_as_of(after), parse_as_of(until)
        t = ties.named & ties.since.within(lo, hi)
        i = ties.intro_date.within(lo, hi)
        ia = np.r_[ties.a[t], ties.intro_a[i]].astype(np.int64)
        ib = np.r_[ties.b[t], ties.intro_b[i]].astype(np.int64)
        ok = (ia >= 0) & (ib >= 0) & (ia != ib)
        ia, ib = ia[ok], ib[ok]
    else:
        pos = pd.Series(np.arange(len(ctx)), index=ctx.ids)
        f = formed_pairs(net, after, until)
        ia = pos.reindex(f["a"]).to_numpy()
        ib = pos.reindex(f["b"]).to_numpy()
        ok = ~(np.isnan(ia) | np.isnan(ib))
        ia, ib = ia[ok].astype(np.int64), ib[ok].astype(np.int64)
    tied = np.asarray(ctx.A[ia, ib]).ravel() > 0 if len(ia) else np.zeros(0, bool)
    keep = ~tied & ~ctx.opt_out[ia] & ~ctx.opt_out[ib]
    ia, ib = ia[keep], ib[keep]
    u = np.r_[ia, ib]
    v = np.r_[ib, ia]
    return u, v


def label_candidates(ctx, rows, pr, pc, pos_u, pos_v) -> np.ndarray:
    """1 where (rows[pr], pc) is a positive pair, else 0."""
    n = len(ctx)
    pos_keys = np.unique(pos_u.astype(np.int64) * n + pos_v)
    keys = rows[pr].astype(np.int64) * n + pc
    return np.isin(keys, pos_keys).astype(np.int64)


def _label(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """1 where ``keys`` occur in ``sorted_keys`` (sorted, unique), else 0."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), np.int64)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return (sorted_keys[pos] == keys).astype(np.int64)


def build_training_set(net: Network, end=None, *, profile=None, horizon_days: int = 180, n_windows: int = 3,
                       max_queries: int = 2000, max_negatives: int = 100, block_size: int = 256,
                       random_state: int = 0, candidate_kw: dict | None = None, people=None,
                       enough_positives: int | None = None, ties: TieTable | None = None) -> TrainingSet:
    """Training rows from the history before ``end`` (default: the latest date).

    For ``i = 1 .. n_windows``, the cutoff ``end - i * horizon_days`` gives
    features (graph as of the cutoff) and the pairs formed in the following
    ``horizon_days`` give labels. Only people who formed a pair in the window
    are queried (at most ``max_queries``, sampled); each keeps all its
    positive candidates and up to ``max_negatives`` randomly sampled negative
    ones. Queries are processed ``block_size`` at a time, bounding memory.

    ``people`` is the :func:`~recommender.meet.features.encode_people` of ``net``
    and ``ties`` its :class:`~recommender.network.TieTable`, if already computed
    (they are shared by every window). With
    ``enough_positives``, older windows are skipped once that many positive
    rows were collected.
    """
    from recommender.people import encode_people

    if ties is None or ties.source is not net.ties:
        ids = people.ids if people is not None else net.people["id"].astype(str).to_numpy()
        ties = TieTable.encode(net, ids)  # every window is a date filter of it
    start, last = ties.span
    end = parse_as_of(end) or last
    rng = np.random.default_rng(random_state)
    Xs, ys, qs, cuts = [], [], [], []
    if end is None:
        return TrainingSet(np.zeros((0, len(FEATURE_NAMES))), np.zeros(0, np.int64), np.zeros(0, np.int64), [])
    enc = None
    for i in range(1, n_windows + 1):
        if enough_positives and sum(int(y.sum()) for y in ys) >= enough_positives:
            break
        cut = (pd.Timestamp(end) - pd.Timedelta(days=i * horizon_days)).strftime("%Y-%m-%d")
        if start is None or cut <= start:
            break
        hi = (pd.Timestamp(cut) + pd.Timedelta(days=horizon_days)).strftime("%Y-%m-%d")
        hi = min(hi, end)
        if enc is None:
            enc = people if people is not None else encode_people(net, profile)
        ctx = None  # the previous window's graph can go before this one is built
        ctx = build_context(net, profile, as_of=cut, people=enc, ties=ties)
        pu, pv = query_pairs(ctx, net, cut, hi, ties=ties)
        pos_keys = sorted_unique(pu.astype(np.int64) * len(ctx) + pv)
        queries = sorted_unique(pu)
        if len(queries) > max_queries:
            queries = np.sort(rng.choice(queries, max_queries, replace=False))
        if len(queries) == 0:
            continue
        cuts.append(cut)
        for b0 in range(0, len(queries), block_size):
            rows = queries[b0:b0 + block_size]
            hop = two_hop_paths(ctx, rows)
            pr, pc = candidate_pairs(ctx, rows, hop=hop, **(candidate_kw or {}))
            y = _label(pos_keys, rows[pr].astype(np.int64) * len(ctx) + pc)
            # all positives, and at most max_negatives sampled negatives per query
            noise = rng.random(len(pr))
            order = np.lexsort((noise, -y, pr))
            pr_s = pr[order]
            if len(pr_s) == 0:
                continue
            first = np.r_[0, np.flatnonzero(pr_s[1:] != pr_s[:-1]) + 1]
            rank = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
            npos = np.bincount(pr, weights=y, minlength=len(rows)).astype(np.int64)
            keep = np.sort(order[rank < npos[pr_s] + max_negatives])
            keep = keep[npos[pr[keep]] > 0]
            Xs.append(pair_features(ctx, rows, pr[keep], pc[keep], hop=hop))
            ys.append(y[keep])
            qs.append(rows[pr[keep]] + i * len(ctx))
    if not Xs:
        return TrainingSet(np.zeros((0, len(FEATURE_NAMES))), np.zeros(0, np.int64), np.zeros(0, np.int64), cuts)
    return TrainingSet(np.vstack(Xs), np.concatenate(ys), np.concatenate(qs), cuts)


# ---------------------------------------------------------------------------
# The estimator
# ---------------------------------------------------------------------------


def _transform(X: np.ndarray) -> np.ndarray:
    return np.log1p(np.clip(np.asarray(X, dtype=float), 0.0, None))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


class PairRanker:
    """Scores candidate pairs from their features; learned, or default weights.

    Parameters
    ----------
    estimator : {"logistic", "hgb"}, default "logistic"
        ``logistic``: L2 logistic regression on standardised ``log1p``
        features (exact per-feature contributions). ``hgb``: scikit-learn's
        HistGradientBoostingClassifier (contributions by occlusion against
        the training medians).
    min_positives : int, default 30
        Fewer positive rows than this: no learning, :data:`DEFAULT_WEIGHTS`.
    C : float, default 1.0
        Inverse regularisation strength of the logistic model.
    random_state : int, default 0

    Attributes
    ----------
    fallback_reason_ : str or None
        Why default weights are used, or None when the model was learned.
    n_positive_, n_rows_ : int
    coef_ : ndarray, shape (F,)
        Weights on the transformed features (logistic and default).
    """

    def __init__(self, *, estimator: str = "logistic", min_positives: int = 30, C: float = 1.0, random_state: int = 0):
        self.estimator = estimator
        self.min_positives = min_positives
        self.C = C
        self.random_state = random_state

    def fit(self, X, y) -> "PairRanker":
        """Learn weights from rows ``X`` (m, F) and labels ``y`` (m,) in {0, 1}; returns self."""
        if self.estimator not in ESTIMATORS:
            raise UsageError(f"estimator must be one of {', '.join(ESTIMATORS)}, got {self.estimator!r}")
        X = np.asarray(X, dtype=float)
        y = np.asarray(y).astype(np.int64)
        if X.ndim != 2 or X.shape[1] != len(FEATURE_NAMES) or len(X) != len(y):
            raise UsageError(f"expected X of shape (m, {len(FEATURE_NAMES)}) and y of shape (m,), "
                             f"got {X.shape} and {y.shape}")
        self.used_ = np.array([i for i, f in enumerate(FEATURE_NAMES) if f not in UNSCORED_FEATURES])
        self.n_rows_ = int(len(y))
        self.n_positive_ = int(y.sum())
        self.fallback_reason_ = None
        Z = _transform(X)
        self.reference_ = np.median(Z, axis=0) if len(Z) else np.zeros(len(FEATURE_NAMES))
        if self.n_positive_ < self.min_positives or self.n_positive_ == len(y):
            self.fallback_reason_ = (f"only {self.n_positive_} positive pairs in the history "
                                     f"(need {self.min_positives}); using default weights")
            self.kind_ = "default"
            self.coef_ = np.array([DEFAULT_WEIGHTS[f] for f in FEATURE_NAMES])
            self.intercept_ = DEFAULT_INTERCEPT
            self.mean_ = np.zeros(len(FEATURE_NAMES))
            self.scale_ = np.ones(len(FEATURE_NAMES))
            return self
        used = self.used_
        if self.estimator == "logistic":
            from sklearn.linear_model import LogisticRegression

            self.mean_ = Z.mean(axis=0)
            sd = Z.std(axis=0)
            self.scale_ = np.where(sd > 1e-12, sd, 1.0)
            lr = LogisticRegression(C=self.C, max_iter=2000)
            lr.fit(((Z - self.mean_) / self.scale_)[:, used], y)
            self.kind_ = "logistic"
            self.coef_ = np.zeros(len(FEATURE_NAMES))
            self.coef_[used] = lr.coef_.ravel().astype(float)
            self.intercept_ = float(lr.intercept_[0])
        else:
            from sklearn.ensemble import HistGradientBoostingClassifier

            self.model_ = HistGradientBoostingClassifier(
                max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=40,
                l2_regularization=1.0, random_state=self.random_state)
            self.model_.fit(Z[:, used], y)
            self.kind_ = "hgb"
        return self

    def _check(self) -> None:
        if not hasattr(self, "kind_"):
            raise NotFittedError("PairRanker is not fitted; call fit(X, y) first")

    def decision(self, X) -> np.ndarray:
        """Raw scores (log-odds), shape (m,)."""
        self._check()
        Z = _transform(X)
        if self.kind_ == "hgb":
            if len(Z) == 0:
                return np.zeros(0)
            return np.asarray(self.model_.decision_function(Z[:, self.used_]), dtype=float).ravel()
        # elementwise then a row sum: each row's score is independent of the batch
        return (((Z - self.mean_) / self.scale_) * self.coef_).sum(axis=1) + self.intercept_

    def score(self, X) -> np.ndarray:
        """Probability-like scores in (0, 1), shape (m,)."""
        return _sigmoid(self.decision(X))

    def contributions(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature contributions to the log-odds and the baseline.

        Returns
        -------
        contrib : ndarray, shape (m, F)
            For linear kinds, ``coef * standardised feature`` (exact: the row
            sums plus ``base`` give :meth:`decision`). For ``hgb``, the drop in
            log-odds when the feature is set to its training median.
        base : ndarray, shape (m,)
        """
        self._check()
        X = np.asarray(X, dtype=float)
        Z = _transform(X)
        if self.kind_ != "hgb":
            contrib = ((Z - self.mean_) / self.scale_) * self.coef_
            return contrib, np.full(len(Z), self.intercept_)
        m, f = Z.shape
        full = self.decision(X)
        Zs = np.repeat(Z, f, axis=0)
        Zs[np.arange(m * f), np.tile(np.arange(f), m)] = np.tile(self.reference_, m)
        occl = np.asarray(self.model_.decision_function(Zs[:, self.used_]), dtype=float).reshape(m, f)
        contrib = full[:, None] - occl
        return contrib, full - contrib.sum(axis=1)

    def linear_form(self):
        """``(a, c)`` with ``decision(X) == log1p(X) @ a + c`` (up to rounding), or None for ``hgb``.

        Lets a caller score feature columns one at a time, skip features
        whose weight is 0, and bound the effect of a feature it has not
        computed yet (:meth:`MeetModel.score_block <recommender.meet.model.MeetModel.score_block>`).
        """
        self._check()
        if self.kind_ == "hgb":
            return None
        a = self.coef_ / self.scale_
        return a, float(self.intercept_ - (a * self.mean_).sum())

    def weights(self) -> dict[str, float]:
        """Weights on the standardised ``log1p`` features (logistic) or on ``log1p`` (default); {} for hgb."""
        self._check()
        if self.kind_ == "hgb":
            return {}
        return {f: float(w) for f, w in zip(FEATURE_NAMES, self.coef_)}


# ---------------------------------------------------------------------------
# Saving and loading
# ---------------------------------------------------------------------------


def save_object(obj, path, kind: str) -> Path:
    """Pickle ``obj`` with a header (format, version, kind) to ``path`` atomically.

    Only load model files you wrote yourself: pickle runs code on load.
    """
    from recommender import __version__

    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    header = {"format": MODEL_FORMAT, "version": MODEL_FORMAT_VERSION, "kind": kind, "fracnet": __version__}
    with open(tmp, "wb") as fh:
        pickle.dump(header, fh, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)
    return path


def load_object(path, kind: str):
    """Load what :func:`save_object` wrote, checking the header; ModelFileError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist", hint="fit a model and save it first")
    try:
        with open(path, "rb") as fh:
            header = pickle.load(fh)
            if not (isinstance(header, dict) and header.get("format") == MODEL_FORMAT):
                raise ModelFileError(f"{path} is not a fracnet model file")
            if header.get("version") != MODEL_FORMAT_VERSION:
                raise ModelFileError(
                    f"{path} has model format version {header.get('version')}, this fracnet reads {MODEL_FORMAT_VERSION}",
                    hint="fit the model again")
            if header.get("kind") != kind:
                raise ModelFileError(f"{path} holds a {header.get('kind')!r} model, expected {kind!r}")
            obj = pickle.load(fh)
    except ModelFileError:
        raise
    except Exception as exc:  # truncated, corrupt, or not a pickle at all
        raise ModelFileError(f"{path} is not a readable fracnet model file ({type(exc).__name__})",
                             hint="fit the model again") from None
    return obj
