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
from recommender.kernels import sum_in_order
from recommender.meet.features import FEATURE_NAMES, SIGNED_FEATURES
from recommender.meet.persistence import attributes_state, from_attributes_state

_ARRAYS = ("used_", "reference_", "coef_", "mean_", "scale_")
_VALUES = ("kind_", "n_rows_", "n_positive_", "fallback_reason_", "intercept_", "C_", "choice_")
#: Kinds scored (partly) by the exported trees: their state holds ``trees_``, their contributions come by occlusion.
_TREE_KINDS = ("hgb", "blend")


#: (tree, row) cells of one block of :meth:`PairScorer._tree_decision` (8 bytes each, a few arrays of them).
_TREE_CELLS = 1 << 22

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


def _split_masks(fails: np.ndarray, clear: np.ndarray) -> np.ndarray:
    """The exit-leaf masks of splits (:meth:`PairScorer._leaves`): the leaves each split leaves possible, all of them
    where its test passes (``x <= threshold``), those of its right subtree where it ``fails``."""
    masks = fails.view(np.uint8) * clear  # uint16 (clear's type)
    return np.invert(masks, out=masks)


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
        linear = self._linear(Z)
        if self.kind_ == "blend":
            return 0.5 * (linear + self._tree_decision(Z[:, self.used_]))
        return linear

    def _linear(self, Z: np.ndarray) -> np.ndarray:
        # elementwise then a row sum: each row's score is independent of the batch
        return (((Z - self.mean_) / self.scale_) * self.coef_).sum(axis=1) + self.intercept_

    def score(self, X) -> np.ndarray:
        """Probability-like scores in (0, 1), shape (m,)."""
        return _sigmoid(self.decision(X))

    @property
    def per_column(self) -> bool:
        """Whether a feature's contributions depend on that feature alone (linear kinds; not trees)."""
        self._check()
        return self.kind_ not in _TREE_KINDS

    def column_contribution(self, j: int, x: np.ndarray) -> np.ndarray:
        """A linear kind's contributions of feature ``j`` with values ``x`` (column ``j`` of :meth:`contributions`,
        the same bits; a contiguous ``x`` is several times faster than a column of the matrix)."""
        if not self.per_column:
            raise ValueError("per-column contributions are for linear rankers; trees need every column")
        z = transform_column(FEATURE_NAMES[j], x)
        return ((z - self.mean_[j]) / self.scale_[j]) * self.coef_[j]

    def contributions(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature contributions to the log-odds and the baseline (one column alone, for linear kinds:
        :meth:`column_contribution`).

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
        if self.per_column:
            contrib = ((Z - self.mean_) / self.scale_) * self.coef_
            return contrib, np.full(len(Z), self.intercept_)
        m, f = Z.shape
        Zu = np.ascontiguousarray(Z[:, self.used_], dtype=float)
        # only the cells that can move the score are occluded: a column the model reads whose value is not
        # already the reference (any other cell's occluded row is the row itself: its contribution is 0 exactly);
        # an occluded cell changes one column, so only the trees that split on it can land on another leaf
        read = np.zeros(f, dtype=bool)
        read[self.used_] = True
        if self.kind_ == "blend":
            read |= self.coef_ != 0
        ri, ci = np.nonzero(read[None, :] & (Z != self.reference_[None, :]))
        trees, delta = self._occlusion(Zu, ri, ci)
        linear = self._linear(Z) if self.kind_ == "blend" else None
        full = trees if linear is None else 0.5 * (linear + trees)  # decision(X), the same bits
        occl = np.broadcast_to(full[:, None], (m, f)).copy()
        if len(ri):
            occ_trees = trees[ri] + delta
            if linear is None:
                occl[ri, ci] = occ_trees
            else:
                Zl = Z[ri].copy()
                Zl[np.arange(len(ri)), ci] = self.reference_[ci]
                occl[ri, ci] = 0.5 * (self._linear(Zl) + occ_trees)
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

        A block of rows at a time (at most :data:`_TREE_CELLS` (tree, row) cells): the leaves of every tree and
        row of a batch job's block would otherwise be held at once (two arrays of 8 bytes a cell: ~1 GB for the
        317,740 candidate pairs of 1,024 people of a 2,000-person network and its 200 trees); each row's sum is its
        own, so the blocks change no bit.
        """
        step = max(1, _TREE_CELLS // max(len(self.trees_["roots"]), 1))
        if len(Z) > step:
            return np.concatenate([self._tree_decision(Z[r0:r0 + step]) for r0 in range(0, len(Z), step)])
        slots = self._leaf_slots(Z)
        if slots is None:
            return self._tree_sum(self._leaves(Z))
        return self._add_trees(self._exit_leaf_tables()["leaf_value"][slots])

    def _leaves(self, Z: np.ndarray) -> np.ndarray:
        """The leaf (node index) each row of ``Z`` (the used columns) reaches in each tree, shape (m, trees).

        Without missing values, by the exit-leaf rule of QuickScorer (Lucchese et al., SIGIR 2015): a tree's
        leaves are numbered left to right; every split whose test fails for a row (``x > threshold``: the row goes
        right) rules out the leaves of its left subtree, and the row's leaf is the leftmost one left. That is one
        comparison per (row, split) on whole columns, instead of a walk down each tree; the same leaves
        (:meth:`_leaf_slots`).
        """
        m, n_trees = len(Z), len(self.trees_["roots"])
        slots = self._leaf_slots(Z)
        if slots is not None:
            return self._exit_leaf_tables()["leaf_flat"][slots].T
        if m == 0 or n_trees == 0:
            return np.zeros((m, n_trees), dtype=np.int64)
        Z = np.ascontiguousarray(Z, dtype=float)
        return self._descend(Z, np.repeat(np.arange(m), n_trees), np.tile(np.arange(n_trees), m)).reshape(m, n_trees)

    def _leaf_slots(self, Z: np.ndarray) -> np.ndarray | None:
        """Each row's leaf in each tree by the exit-leaf rule (:meth:`_leaves`), as its place in the exit-leaf
        tables' 16 leaves a tree (``leaf_flat``: node index, ``leaf_value``: value), shape (trees, rows); None
        when the rule does not apply (a missing value, a tree of more than 16 leaves, no rows or no trees)."""
        n_trees = len(self.trees_["roots"])
        if len(Z) == 0 or n_trees == 0:
            return None
        qs = self._exit_leaf_tables()
        Z = np.ascontiguousarray(Z, dtype=float)
        if qs is None or np.isnan(Z).any():
            return None
        feat, clear, low_bit = qs["feature"], qs["clear"], qs["low_bit"]
        n_splits = len(feat) // n_trees
        out = np.empty((n_trees, len(Z)), dtype=np.intp)
        first = (16 * np.arange(n_trees))[:, None]  # each tree's row of 16 leaves
        step = max(1, (1 << 22) // max(len(feat), 1))  # rows at a time: ~4M comparisons
        for r0 in range(0, len(Z), step):
            kept = _split_masks(self._split_fails(Z[r0:r0 + step]), clear[:, None])  # (splits, rows)
            kept = np.bitwise_and.reduce(kept.reshape(n_trees, n_splits, -1), axis=1)  # (trees, rows)
            out[:, r0:r0 + step] = low_bit[kept] + first
        return out

    def _split_fails(self, Z: np.ndarray) -> np.ndarray:
        """``x > threshold`` of every split (the exit-leaf tables' order) for every row of ``Z`` (the used columns,
        no missing value), shape (splits, rows).

        By ranks, so that the comparisons are of small integers: a row's value ``x`` of a column exceeds a split's
        threshold exactly when the threshold is among the column's distinct thresholds below ``x``, i.e. when its
        rank among them is less than their number (one ``searchsorted`` per column); padding splits never fail.
        """
        qs = self._exit_leaf_tables()
        bounds, rank = qs["bounds"], qs["rank"]
        ZT = np.ascontiguousarray(Z.T)
        below = np.empty(ZT.shape, dtype=rank.dtype)  # per (column, row): the column's thresholds below the value
        for c, b in enumerate(bounds):
            below[c] = np.searchsorted(b, ZT[c], side="left")
        return below[qs["feature"]] > rank[:, None]

    def _occlusion(self, Zu: np.ndarray, ri: np.ndarray, ci: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(trees, delta)``: each row's trees' sum (:meth:`_tree_decision`, the same bits) and, for each cell
        (row ``ri[i]``, column ``ci[i]`` of :data:`FEATURE_NAMES`), the change in that sum when that one cell of the
        row is set to the reference (:attr:`reference_`); ``Zu`` the rows' used columns. Each cell's moves are
        added tree by tree in order, so a cell's number never depends on the others.

        By the exit-leaf rule (:meth:`_leaves`), a tree's leaf is the lowest bit left by the AND of its splits'
        masks: the row's mask is the AND of its masks of the splits on each column the tree splits on, and the
        occluded row's is the AND of those of the other columns (the columns before, a running AND, and after, one
        from the end) and of the reference's masks of the splits on that column (a table per model,
        :meth:`_occlusion_tables`); every (tree, column, row) at once, a block of rows at a time. With a missing
        value or trees of more than 16 leaves, the occluded rows walk down the trees that split on the column
        (:meth:`_descend`); the same leaves.
        """
        f = len(FEATURE_NAMES)
        pos = np.full(f, -1, dtype=np.int64)
        pos[self.used_] = np.arange(len(self.used_))
        col = pos[ci]
        hit = np.flatnonzero(col >= 0)  # a column the trees do not read moves nothing
        delta = np.zeros(len(ri))
        qs = self._exit_leaf_tables()
        value = self.trees_["value"]
        if qs is None or len(self.trees_["roots"]) == 0 or np.isnan(Zu).any():
            leaves = self._leaves(Zu)
            k, tree = np.nonzero(self._tree_columns()[col[hit]])  # cells in order, each one's trees in order
            if len(k):
                cell = hit[k]
                Zs = Zu[ri[hit]].copy()
                Zs[np.arange(len(hit)), col[hit]] = self.reference_[ci[hit]]
                new = self._descend(Zs, k, tree)
                moved = value[new] - value[leaves[ri[cell], tree]]
                delta = np.bincount(cell, weights=moved, minlength=len(ri))
            return self._tree_sum(leaves), delta
        ot = self._occlusion_tables()
        clear, low_bit, leaf_value = qs["clear"], qs["low_bit"], qs["leaf_value"]
        slot, ref, order = ot["slot"], ot["reference"], ot["order"]
        n_trees, n_splits = slot.shape
        width = ref.shape[1]  # the most columns a tree splits on
        every = np.arange(n_trees)
        first = (16 * every)[:, None]  # each tree's 16 leaves in leaf_value
        trees = np.empty(len(Zu))
        step = max(1, (1 << 20) // max(n_trees * width, 1))  # rows at a time: ~1M (tree, column, row)
        for r0 in range(0, len(Zu), step):
            Z = Zu[r0:r0 + step]
            kept = _split_masks(self._split_fails(Z), clear[:, None]).reshape(n_trees, n_splits, len(Z))
            # per (tree, column it splits on, row): the AND of the masks of the tree's splits on that column
            by_col = np.full((n_trees, width, len(Z)), 0xFFFF, dtype=np.uint16)
            for j in range(n_splits):  # a tree has one split in each slot: no index repeats within a slot
                by_col[every, slot[:, j]] &= kept[:, j]
            sel = hit[(ri[hit] >= r0) & (ri[hit] < r0 + step)]
            # the reference's masks of the column, and the AND over the tree's other columns: those after (one
            # from the end), then those before (a running AND, which ends as the row's own mask)
            mask = np.repeat(ref[:, :, None], len(Z), axis=2) if len(sel) else None
            acc = np.full((n_trees, len(Z)), 0xFFFF, dtype=np.uint16)
            if len(sel):
                for d in range(width - 1, -1, -1):
                    mask[:, d] &= acc
                    acc &= by_col[:, d]
                acc[:] = 0xFFFF
            for d in range(width):
                if len(sel):
                    mask[:, d] &= acc
                acc &= by_col[:, d]
            own = leaf_value[low_bit[acc] + first]  # (tree, row): the row's leaves' values
            trees[r0:r0 + step] = self._add_trees(own)
            if len(sel) == 0:
                continue
            moved = leaf_value[low_bit[mask] + first[:, :, None]] - own[:, None]  # (tree, column, row)
            moved = np.concatenate([moved.reshape(n_trees * width, len(Z)), np.zeros((1, len(Z)))])
            # per used column, its trees' moves added tree by tree, in order; ``order`` pads with the row of zeros
            total = sum_in_order(moved[order.T])  # (used columns, row)
            delta[sel] = total[col[sel], ri[sel] - r0]
        return trees, delta

    def _occlusion_tables(self) -> dict:
        """What :meth:`_occlusion` reads, built once per model from the exit-leaf tables: the columns each
        tree splits on, in order (``width`` at most), as (tree, column of the tree) cells: ``slot`` (trees, splits)
        the cell of each split (padding splits: the first), ``reference`` (trees, width) the AND of the masks of the
        cell's splits for the reference value, ``order`` (used columns, most trees a column has) the flat cell
        of each column's trees in order (padded with the cell past the last), ``leaf_value`` each tree's 16 leaves'
        values."""
        cached = self.__dict__.get("_occlusion_cache")
        if cached is not None and cached[0] is self.trees_:
            return cached[1]
        qs = self._exit_leaf_tables()
        n_trees, n_cols = len(qs["leaf_node"]), len(self.used_)
        feat = qs["feature"].reshape(n_trees, -1)
        real = qs["real"].reshape(n_trees, -1)
        cols = [sorted(set(feat[t][real[t]].tolist())) for t in range(n_trees)]
        width = max(1, max(len(c) for c in cols))
        slot = np.zeros(feat.shape, dtype=np.int64)
        tree_col = np.full((n_trees, width), -1, dtype=np.int64)
        for t, c in enumerate(cols):
            tree_col[t, :len(c)] = c
            where = {x: d for d, x in enumerate(c)}
            slot[t] = [where[x] if ok else 0 for x, ok in zip(feat[t].tolist(), real[t].tolist())]
        kept = _split_masks(self.reference_[self.used_][qs["feature"]] > qs["threshold"], qs["clear"])
        reference = np.full((n_trees, width), 0xFFFF, dtype=np.uint16)
        np.bitwise_and.at(reference, (np.repeat(np.arange(n_trees), feat.shape[1]), slot.ravel()),
                          np.where(qs["real"], kept, np.uint16(0xFFFF)))
        t_of, d_of = np.nonzero(tree_col >= 0)  # tree by tree
        c_of = tree_col[t_of, d_of]
        per = np.bincount(c_of, minlength=n_cols)
        order = np.full((n_cols, max(1, int(per.max(initial=0)))), n_trees * width, dtype=np.int64)
        by = np.argsort(c_of, kind="stable")  # column by column, each column's trees in order
        rank = np.arange(len(by)) - np.repeat(np.r_[0, np.cumsum(per)[:-1]], per)
        order[c_of[by], rank] = (t_of * width + d_of)[by]
        tables = {"slot": slot, "reference": reference, "order": order,
                  "leaf_value": qs["leaf_value"]}
        self.__dict__["_occlusion_cache"] = (self.trees_, tables)
        return tables

    def _exit_leaf_tables(self):
        """The exit-leaf rule's tables (see :meth:`_leaves`), built once per model; None above 16 leaves a tree."""
        cached = self.__dict__.get("_exit_leaf_cache")
        if cached is not None and cached[0] is self.trees_:
            return cached[1]
        t = self.trees_
        roots, leaf = t["roots"], t["leaf"]
        feats, thrs, clears, leaf_rows = [], [], [], []
        for r in roots:
            order, splits = [], []  # leaves left to right; (feature, threshold, leaves of the left subtree)

            def walk(nd):
                if leaf[nd]:
                    order.append(nd)
                    return [len(order) - 1]
                left = walk(t["left"][nd])
                right = walk(t["right"][nd])
                splits.append((t["feature"][nd], t["threshold"][nd], sum(1 << i for i in left)))
                return left + right

            walk(int(r))
            if len(order) > 16:
                break
            leaf_rows.append(order + [order[-1]] * (16 - len(order)))
            feats.append([f for f, _, _ in splits])
            thrs.append([x for _, x, _ in splits])
            clears.append([c for _, _, c in splits])
        tables = None
        if len(leaf_rows) == len(roots):
            width = max(1, max(len(f) for f in feats))
            pad = [width - len(f) for f in feats]  # padding splits: feature 0 against +inf never fail
            v = np.arange(1 << 16)
            low_bit = np.zeros(1 << 16, dtype=np.intp)  # the lowest set bit of each 16-bit mask
            low_bit[1:] = np.log2(v[1:] & -v[1:]).astype(np.intp)
            feature = np.array([x for f, k in zip(feats, pad) for x in f + [0] * k], dtype=np.int64)
            threshold = np.array([x for f, k in zip(thrs, pad) for x in f + [np.inf] * k], dtype=float)
            leaf_node = np.array(leaf_rows, dtype=np.int64)
            # each used column's distinct thresholds, ascending, and each split's rank among its column's
            # (padding splits: a rank no count reaches, so that they never fail; :meth:`_split_fails`)
            real = np.array([x for f, k in zip(feats, pad) for x in [True] * len(f) + [False] * k], dtype=bool)
            bounds = [np.unique(threshold[real & (feature == c)]) for c in range(len(self.used_))]
            widest = max((len(b) for b in bounds), default=0)
            dtype = np.uint8 if widest < 255 else np.uint16 if widest < 65535 else np.int64
            rank = np.full(len(feature), np.iinfo(dtype).max, dtype=dtype)
            for c, b in enumerate(bounds):
                sel = real & (feature == c)
                rank[sel] = np.searchsorted(b, threshold[sel])
            tables = {"feature": feature, "threshold": threshold,
                      "clear": np.array([x for f, k in zip(clears, pad) for x in f + [0] * k], dtype=np.uint16),
                      "leaf_node": leaf_node, "leaf_flat": leaf_node.ravel(), "low_bit": low_bit,
                      "leaf_value": self.trees_["value"][leaf_node.ravel()], "bounds": bounds, "rank": rank,
                      "real": real}
        self.__dict__["_exit_leaf_cache"] = (self.trees_, tables)
        return tables

    def _tree_sum(self, leaves: np.ndarray) -> np.ndarray:
        """Baseline plus the leaves' values (``leaves``: (m, trees) node indices) (:meth:`_add_trees`)."""
        return self._add_trees(self.trees_["value"][leaves.T])

    def _add_trees(self, values: np.ndarray) -> np.ndarray:
        """Baseline plus the leaf values ``values`` (trees, rows), added tree by tree in scikit-learn's order, so
        the sum has its bits."""
        out = np.full(values.shape[1], self.trees_["baseline"], dtype=float)
        for row in values:
            out += row
        return out

    def _descend(self, Z: np.ndarray, rows: np.ndarray, trees: np.ndarray) -> np.ndarray:
        """The leaf that row ``rows[i]`` of ``Z`` (the used columns) reaches in tree ``trees[i]``, for every i.

        Every pair descends at once (the pairs not at a leaf yet, one level per step).
        """
        t = self.trees_
        Z = np.ascontiguousarray(Z, dtype=float)
        flat, width = Z.ravel(), Z.shape[1]
        nan = bool(np.isnan(flat).any())
        inner = ~t["leaf"]
        node = t["roots"][trees]
        base = np.asarray(rows, dtype=np.int64) * width
        active = np.flatnonzero(inner[node])
        while len(active):
            nd = node[active]
            x = flat[base[active] + t["feature"][nd]]
            left = x <= t["threshold"][nd]
            if nan:
                left = np.where(np.isnan(x), t["missing_left"][nd], left)
            nxt = np.where(left, t["left"][nd], t["right"][nd])
            node[active] = nxt
            active = active[inner[nxt]]
        return node

    def _tree_columns(self) -> np.ndarray:
        """``uses[c, j]``: tree ``j`` splits on used column ``c``."""
        t = self.trees_
        roots = t["roots"]
        tree_of = np.repeat(np.arange(len(roots)), np.diff(np.r_[roots, len(t["leaf"])]))
        inner = ~t["leaf"]
        uses = np.zeros((len(self.used_), len(roots)), dtype=bool)
        uses[t["feature"][inner], tree_of[inner]] = True
        return uses

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
