"""Scoring candidate pairs with a fitted ranker, in numpy only: the answering half of
:class:`~recommender.meet.ranker.PairRanker`.

:class:`PairScorer` holds what a fit learned, as arrays: for the linear kinds
(``logistic``, ``default``) the weights on standardised ``log1p`` features
(``coef_``, ``intercept_``, ``mean_``, ``scale_``); for ``hgb`` the boosted
trees, flattened into node arrays (``trees_``) and walked with numpy, in
scikit-learn's order of operations (baseline, then each tree's leaf value),
so the scores are scikit-learn's to the last bit. It follows the persistence
contract of :mod:`recommender.meet.persistence` (``to_state`` /
``from_state``) and imports nothing from scikit-learn: a cached model answers
without it.
"""

from __future__ import annotations

import numpy as np

from recommender.errors import NotFittedError
from recommender.meet.features import FEATURE_NAMES, SIGNED_FEATURES
from recommender.meet.persistence import attributes_state, from_attributes_state

_ARRAYS = ("used_", "reference_", "coef_", "mean_", "scale_")
_VALUES = ("kind_", "n_rows_", "n_positive_", "fallback_reason_", "intercept_", "C_", "choice_")
#: Kinds scored (partly) by the exported trees: their state holds ``trees_``, their contributions come by occlusion.
_TREE_KINDS = ("hgb", "blend")


_SIGNED = np.array([f in SIGNED_FEATURES for f in FEATURE_NAMES])


def _transform(X: np.ndarray) -> np.ndarray:
    """``log1p`` of every column (clipped at 0), except :data:`~recommender.meet.features.SIGNED_FEATURES` (as they are)."""
    X = np.asarray(X, dtype=float)
    Z = np.log1p(np.clip(X, 0.0, None))
    if X.ndim == 2 and X.shape[1] == len(FEATURE_NAMES):
        Z[:, _SIGNED] = X[:, _SIGNED]
    return Z


def transform_column(name: str, x: np.ndarray) -> np.ndarray:
    """The ranker's transform of one feature column (as :func:`_transform` does to the matrix)."""
    x = np.asarray(x, dtype=float)
    return x if name in SIGNED_FEATURES else np.log1p(np.clip(x, 0.0, None))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


class PairScorer:
    """Scores pairs from their features with fitted weights or trees (see the module docstring)."""

    def _check(self) -> None:
        if not hasattr(self, "kind_"):
            raise NotFittedError("PairRanker is not fitted; call fit(X, y) first")

    def decision(self, X) -> np.ndarray:
        """Raw scores (log-odds), shape (m,)."""
        self._check()
        return self._decision_z(_transform(X))

    def _decision_z(self, Z: np.ndarray) -> np.ndarray:
        """:meth:`decision` of transformed rows ``Z``: the trees, the linear form, or (``blend``) their mean."""
        if self.kind_ == "hgb":
            return self._tree_decision(Z[:, self.used_])
        # elementwise then a row sum: each row's score is independent of the batch
        linear = (((Z - self.mean_) / self.scale_) * self.coef_).sum(axis=1) + self.intercept_
        if self.kind_ == "blend":
            return 0.5 * (linear + self._tree_decision(Z[:, self.used_]))
        return linear

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
        if self.kind_ not in _TREE_KINDS:
            contrib = ((Z - self.mean_) / self.scale_) * self.coef_
            return contrib, np.full(len(Z), self.intercept_)
        m, f = Z.shape
        full = self.decision(X)
        # only the cells that can move the score are occluded: a column the model reads whose value is not
        # already the reference (any other cell's occluded row is the row itself: its contribution is 0 exactly)
        read = np.zeros(f, dtype=bool)
        read[self.used_] = True
        if self.kind_ == "blend":
            read |= self.coef_ != 0
        ri, ci = np.nonzero(read[None, :] & (Z != self.reference_[None, :]))
        Zs = Z[ri].copy()
        Zs[np.arange(len(ri)), ci] = self.reference_[ci]
        occl = np.broadcast_to(full[:, None], (m, f)).copy()
        if len(ri):
            occl[ri, ci] = self._decision_z(Zs)
        contrib = full[:, None] - occl
        return contrib, full - contrib.sum(axis=1)

    def linear_form(self):
        """``(a, c)`` with ``decision(X) == T(X) @ a + c`` (up to rounding), or None for ``hgb``.

        ``T`` is :func:`transform_column` of each column (``log1p``, signed columns as they are).

        Lets a caller score feature columns one at a time, skip features
        whose weight is 0, and bound the effect of a feature it has not
        computed yet (:meth:`MeetScorer.score_block <recommender.meet.scoring.MeetScorer.score_block>`).
        """
        self._check()
        if self.kind_ in _TREE_KINDS:
            return None
        a = self.coef_ / self.scale_
        return a, float(self.intercept_ - (a * self.mean_).sum())

    def weights(self) -> dict[str, float]:
        """Weights on the standardised ``log1p`` features (logistic; blend: its logistic half) or on ``log1p`` (default); {} for hgb."""
        self._check()
        if self.kind_ == "hgb":
            return {}
        return {f: float(w) for f, w in zip(FEATURE_NAMES, self.coef_)}

    def choice_text(self) -> str:
        """How ``estimator="auto"`` chose, in words ("" when it did not choose)."""
        ch = getattr(self, "choice_", None)
        if not ch:
            return ""
        if "heldout_ap" not in ch:
            return f"{ch['chosen']} ({ch['why']})"
        others = ", ".join(f"{k} {v:.4f}" for k, v in ch["heldout_ap"].items())
        if ch.get("best", ch["chosen"]) != ch["chosen"]:
            others += f" (within one standard error of {ch['best']}: the simpler kept)"
        return (f"{ch['chosen']} chosen on {ch['heldout_queries']:,} held-out queries of {ch.get('split', 'the training set')} "
                f"({ch['heldout_rows']:,} rows, "
                f"{ch['heldout_positives']:,} positive; fitted on {ch['fit_rows']:,}): mean per-query average precision {others}")


    def _tree_decision(self, Z: np.ndarray) -> np.ndarray:
        """The boosted trees' log-odds of the rows of ``Z`` (the used columns): baseline plus each tree's leaf.

        Every tree descends at once (the (row, tree) pairs not at a leaf yet, one level per step); the leaves'
        values are then added tree by tree, in scikit-learn's order, so the sum has its bits.
        """
        t = self.trees_
        m = len(Z)
        out = np.full(m, t["baseline"], dtype=float)
        roots = t["roots"]
        if m == 0 or len(roots) == 0:
            return out
        n_trees = len(roots)
        Z = np.ascontiguousarray(Z, dtype=float)
        flat, width = Z.ravel(), Z.shape[1]
        nan = bool(np.isnan(flat).any())
        inner = ~t["leaf"]
        node = np.tile(roots, m)  # (row, tree) pairs, row-major; only those not at a leaf yet move on
        active = np.flatnonzero(inner[node])
        while len(active):
            nd = node[active]
            x = flat[(active // n_trees) * width + t["feature"][nd]]
            left = x <= t["threshold"][nd]
            if nan:
                left = np.where(np.isnan(x), t["missing_left"][nd], left)
            nxt = np.where(left, t["left"][nd], t["right"][nd])
            node[active] = nxt
            active = active[inner[nxt]]
        vals = t["value"][node].reshape(m, n_trees)
        for j in range(vals.shape[1]):
            out += vals[:, j]
        return out

    # -- persistence (recommender.meet.persistence) -------------------------------------------------
    def to_state(self) -> dict:
        """The fitted state as arrays and JSON values."""
        self._check()
        state = attributes_state(self, _ARRAYS + _VALUES)
        if self.kind_ in _TREE_KINDS:
            state["trees_"] = dict(self.trees_)
        return state

    @classmethod
    def from_state(cls, state: dict) -> "PairScorer":
        """A scorer that answers as the one whose :meth:`to_state` gave ``state``."""
        return from_attributes_state(cls, state)


def export_trees(model) -> dict:
    """A fitted scikit-learn HistGradientBoostingClassifier (binary, numeric features) as flat node arrays."""
    predictors = model._predictors  # one list of trees per boosting iteration
    if any(len(trees) != 1 for trees in predictors):
        raise ValueError("only binary classifiers (one tree per iteration) are exported")
    nodes = [trees[0].nodes for trees in predictors]
    if any(n["is_categorical"].any() for n in nodes):
        raise ValueError("categorical splits are not exported")
    sizes = np.array([len(n) for n in nodes], dtype=np.int64)
    roots = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
    offset = np.repeat(roots, sizes)

    def cat(field, dtype):
        return np.concatenate([n[field] for n in nodes]).astype(dtype) if nodes else np.zeros(0, dtype)

    return {
        "roots": roots,
        "feature": cat("feature_idx", np.int64),
        "threshold": cat("num_threshold", np.float64),
        "missing_left": cat("missing_go_to_left", bool),
        "left": cat("left", np.int64) + offset,
        "right": cat("right", np.int64) + offset,
        "leaf": cat("is_leaf", bool),
        "value": cat("value", np.float64),
        "baseline": float(np.asarray(model._baseline_prediction).ravel()[0]),
    }
