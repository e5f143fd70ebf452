"""Link prediction on a sparse adjacency matrix: heuristics, features, a learned model.

Everything here works on a symmetric binary :class:`scipy.sparse.csr_matrix`
``A`` (``n x n``) and on *pairs*, an ``(m, 2)`` integer array of node indices.
No function loops over pairs in Python: scores come from sparse products of row
blocks (``A[rows] @ A``), sized so that memory stays bounded on graphs with
millions of edges.

Heuristics (each ``score_xxx(A, pairs) -> ndarray`` of shape ``(m,)``):

=========== ==============================================================
``cn``       common neighbours ``|N(u) & N(v)|``
``jaccard``  ``|N(u) & N(v)| / |N(u) | N(v)|``
``aa``       Adamic-Adar ``sum_{w in N(u) & N(v)} 1 / log d(w)``
``ra``       resource allocation ``sum_{w in N(u) & N(v)} 1 / d(w)``
``pa``       preferential attachment ``d(u) d(v)``
``katz``     truncated Katz ``sum_{l <= L} beta^l (A^l)_{uv}``
``ppr``      personalised PageRank, symmetrised ``ppr_u(v) + ppr_v(u)``
=========== ==============================================================

:func:`graph_pair_features` stacks these with global features (walk counts,
random-walk probabilities, capped distance, components, clustering, a spectral
embedding) for other learned rankers. :class:`LinkPredictor`, what ``fracnet
evaluate links`` scores with, is the meet answer's stage 1 restricted to its
structural columns, fitted by the answer's holdout code and estimator rule on
edges held out of the observed graph: the AUC it reports is that of the
answer's structure-only part.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from recommender.errors import NotFittedError, UsageError
from recommender.evaluation.graph_features import graph_pair_features
from recommender.evaluation.heuristics import (
    HEURISTICS,
    MIN_EDGES,
    _check_adjacency,
    _check_pairs,
    adjacency_from_edges,
    score_aa,
    score_cn,
    score_jaccard,
    score_katz,
    score_pa,
    score_ppr,
    score_ra,
)

__all__ = [
    "adjacency_from_edges",
    "score_cn",
    "score_jaccard",
    "score_aa",
    "score_ra",
    "score_pa",
    "score_katz",
    "score_ppr",
    "graph_pair_features",
    "sample_non_edges",
    "LinkPredictor",
    "HEURISTICS",
    "MIN_EDGES",
]


from recommender.meet.holdout import _edge_array, sample_non_edges  # noqa: E402  (the holdout code samples them)


def _remove_edges(A, pairs) -> sp.csr_matrix:
    n = A.shape[0]
    R = sp.csr_matrix((np.ones(2 * len(pairs)), (np.r_[pairs[:, 0], pairs[:, 1]], np.r_[pairs[:, 1], pairs[:, 0]])), shape=(n, n))
    out = (A - A.multiply(R)).tocsr()
    out.eliminate_zeros()
    out.sort_indices()
    return out


class _GraphEncoder:
    """Encodes graphs on one node set as the meet model's :class:`~recommender.meet.context.FeatureContext`.

    Node ``i`` is person ``"i"`` (a fractional with no tags). The people table,
    its encoding and the profile model are built once and shared by every graph
    (the holdout rounds differ only in their ties).
    """

    def __init__(self, n: int):
        import pandas as pd

        from recommender.network import Network
        from recommender.people import encode_people
        from recommender.similarity import ProfileModel

        self.ids = np.arange(n).astype(str)
        self.net = Network.from_frames(people=pd.DataFrame({"id": self.ids, "name": self.ids, "kind": "fractional"}))
        self.profile = ProfileModel().fit(self.net.people)
        self.people = encode_people(self.net, self.profile)

    def network(self, A):
        """The :class:`~recommender.network.Network` of graph ``A`` (its edges as undated ties)."""
        from dataclasses import replace

        import pandas as pd

        e = _edge_array(A)
        ties = pd.DataFrame({"a": self.ids[e[:, 0]], "b": self.ids[e[:, 1]]}).reindex(columns=self.net.ties.columns)
        return replace(self.net, ties=ties)

    def context(self, A):
        """``(ctx, pos)``: the context of graph ``A`` and each node's position in it."""
        from recommender.meet.context import build_context

        ctx = build_context(self.network(A), self.profile, people=self.people)
        return ctx, np.array([ctx.position[i] for i in self.ids], dtype=np.int64)


def _graph_context(A):
    """The meet model's :class:`~recommender.meet.context.FeatureContext` of a bare graph (node ``i`` is person ``"i"``)."""
    return _GraphEncoder(A.shape[0]).context(A)


#: Query people per block when computing pair features (bounds the two-hop work held at once).
_FEATURE_BLOCK = 512


def meet_pair_features(ctx, pos, pairs) -> np.ndarray:
    """The meet model's :data:`~recommender.meet.features.FEATURE_NAMES` of node pairs on ``ctx``, shape (m, F).

    The same rows the meet model's training and answers compute (the walk columns by
    :func:`~recommender.meet.features.walk_rule`).
    """
    from recommender.meet.features import FEATURE_NAMES
    from recommender.meet.holdout import _pair_rows

    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0:
        return np.zeros((0, len(FEATURE_NAMES)))
    return _pair_rows(ctx, pos[pairs[:, 0]], pos[pairs[:, 1]], _FEATURE_BLOCK, True)


class LinkPredictor(BaseEstimator):
    """The meet answer's stage 1 restricted to its structural columns, learned for link prediction.

    This is the structure-only part of the answer of ``fracnet meet``, fitted by the
    answer's own code on a network built from the edge list (node ``i`` is person
    ``"i"``, a fractional without tags): the training rows come from
    :func:`~recommender.meet.holdout.holdout_training_set` (the holdouts
    :class:`~recommender.meet.model.MeetModel` learns from) with the link-prediction
    protocol's rows (``protocol="pairs"``: every held-out edge positive, as many random
    non-edges negative, features computed on the graph without the held-out edges,
    exactly as unseen pairs are scored later); the features are
    :func:`~recommender.meet.features.pair_features` (the walk columns by the same
    :func:`~recommender.meet.features.walk_rule`); the estimator is
    :class:`~recommender.meet.ranker.PairRanker` with the answer's rule
    (:func:`~recommender.meet.ranker.stage1_estimator`: ``"auto"``, the choice among
    logistic and blend on held-out holdout rounds, on networks of at most
    GLOBAL_MAX_N nodes; logistic above) on the columns the answer weighs that a graph
    alone gives (:func:`~recommender.meet.ranker.stage1_features` ``("structural")``:
    common neighbours, Jaccard, Adamic-Adar, resource allocation, preferential
    attachment, degrees, a spectral embedding, components, clustering, normalised walks
    of length 2..5 and return probabilities; not Katz, which the answer does not weigh).
    ``n_holdouts`` rounds (more on small graphs) are pooled. Scoring computes features
    on the full fitted graph.

    Parameters
    ----------
    n_holdouts : int, default 24
        Number of random holdout rounds pooled into the training set.
    holdout_frac : float, default 0.05
        Fraction of the edges held out per round (small: the graph the
        training pairs see stays close to the one test pairs are scored on;
        many rounds give enough of them).
    min_train_edges : int, default 5000
        Small graphs get more rounds (up to ``2 * n_holdouts``) until this
        many held-out edges are pooled.
    max_train_pairs : int, default 100_000
        Cap on positive training pairs over all rounds (big graphs).
    spectral_dim : int, default 16
        Kept for compatibility; the embedding is the meet features'
        (:data:`~recommender.meet.features.SPECTRAL_DIM`).
    random_state : int or None, default 0
        Seeds the holdouts, the negative samples and the estimator.
    estimator : scikit-learn classifier, optional
        Any classifier with ``predict_proba``, fitted on the structural columns;
        cloned on ``fit``. Defaults to the answer's stage 1 (see above).

    Attributes
    ----------
    estimator_ : fitted classifier
    feature_names_ : list of str
    n_train_pairs_ : int
        Positive plus negative training pairs.
    A_ : scipy.sparse.csr_matrix
        The graph the model was fitted on (pairs are scored on it).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> e = rng.integers(0, 40, size=(200, 2))
    >>> A = adjacency_from_edges(e[:, 0], e[:, 1], n=40)
    >>> model = LinkPredictor(n_holdouts=1, random_state=0).fit(A)
    >>> model.score_pairs([[0, 1], [2, 3]]).shape
    (2,)
    """

    def __init__(
        self,
        *,
        n_holdouts=24,
        holdout_frac=0.05,
        min_train_edges=5000,
        max_train_pairs=100_000,
        spectral_dim=16,
        random_state=0,
        estimator=None,
    ):
        self.n_holdouts = n_holdouts
        self.holdout_frac = holdout_frac
        self.min_train_edges = min_train_edges
        self.max_train_pairs = max_train_pairs
        self.spectral_dim = spectral_dim
        self.random_state = random_state
        self.estimator = estimator

    def _validate(self):
        if not (isinstance(self.n_holdouts, numbers.Integral) and self.n_holdouts >= 1):
            raise UsageError(f"n_holdouts must be a positive integer, got {self.n_holdouts!r}")
        if not (isinstance(self.holdout_frac, numbers.Real) and 0 < self.holdout_frac < 1):
            raise UsageError(f"holdout_frac must be in (0, 1), got {self.holdout_frac!r}")
        if not (isinstance(self.min_train_edges, numbers.Integral) and self.min_train_edges >= 0):
            raise UsageError(f"min_train_edges must be a non-negative integer, got {self.min_train_edges!r}")
        if not (isinstance(self.max_train_pairs, numbers.Integral) and self.max_train_pairs >= 2):
            raise UsageError(f"max_train_pairs must be an integer >= 2, got {self.max_train_pairs!r}")

    def fit(self, A, y=None):
        """Learn from held-out edges of the graph ``A``; return ``self``.

        Parameters
        ----------
        A : scipy.sparse matrix, shape (n, n)
            Symmetric binary adjacency matrix of the observed graph.
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        UsageError
            If the graph has fewer than :data:`MIN_EDGES` edges or too few
            non-edges to sample negatives from.
        """
        from sklearn.base import clone

        self._validate()
        A = _check_adjacency(A)
        A = adjacency_from_edges(*_edge_array(A + A.T).T, n=A.shape[0])  # symmetric, binary
        edges = _edge_array(A)
        m = len(edges)
        if m < MIN_EDGES:
            raise UsageError(
                f"the graph has {m} edges; a link predictor needs at least {MIN_EDGES} to learn from"
            )
        from recommender.meet.features import FEATURE_NAMES
        from recommender.meet.holdout import holdout_training_set
        from recommender.meet.ranker import PairRanker, stage1_estimator, stage1_features

        per_round = max(1, int(round(self.holdout_frac * m)))
        per_round = min(per_round, max(1, self.max_train_pairs // self.n_holdouts))
        # small graphs: more rounds, until min_train_edges positives (at most 2x)
        rounds = max(self.n_holdouts, min(2 * self.n_holdouts, -(-int(self.min_train_edges) // per_round)))
        encoder = _GraphEncoder(A.shape[0])
        net = encoder.network(A)
        seed = 0 if self.random_state is None else int(self.random_state)
        # the meet answer's holdout code, with the link protocol's rows: every held-out edge, as many non-edges
        train = holdout_training_set(net, profile=encoder.profile, people=encoder.people, share=per_round / m,
                                     n_holdouts=rounds, random_state=seed, protocol="pairs")
        X, y_all = train.X, train.y
        names = stage1_features("structural")
        self._cols = [FEATURE_NAMES.index(f) for f in names]
        if self.estimator is None:
            # the answer's stage 1 (MeetModel: the same estimator rule, the same choice on held-out queries,
            # here holdout rounds) restricted to its structural columns
            est = PairRanker(features=names, estimator=stage1_estimator(A.shape[0]), random_state=seed)
            est.fit(X, y_all, groups=train.qid)
        else:
            est = clone(self.estimator)
            est.fit(X[:, self._cols], y_all)
        self.estimator_ = est
        self.feature_names_ = list(names)
        self.n_train_pairs_ = int(len(y_all))
        self.A_ = A
        self._ctx, self._pos = encoder.context(A)
        return self

    def _check_fitted(self):
        if not hasattr(self, "estimator_"):
            raise NotFittedError(
                "this LinkPredictor is not fitted yet", hint="call fit(A) with the observed graph first"
            )

    def transform(self, pairs) -> np.ndarray:
        """Features of ``pairs`` on the fitted graph, shape ``(m, n_features)``."""
        self._check_fitted()
        pairs = _check_pairs(self.A_, pairs)
        return meet_pair_features(self._ctx, self._pos, pairs)[:, self._cols]

    def predict_proba(self, pairs) -> np.ndarray:
        """Class probabilities ``[P(no link), P(link)]`` per pair, shape ``(m, 2)``."""
        self._check_fitted()
        pairs = _check_pairs(self.A_, pairs)
        X = meet_pair_features(self._ctx, self._pos, pairs)
        if len(X) == 0:
            return np.zeros((0, 2))
        if hasattr(self.estimator_, "score") and hasattr(self.estimator_, "linear_form"):  # the meet ranker
            p = self.estimator_.score(X)
            return np.column_stack([1.0 - p, p])
        return self.estimator_.predict_proba(X[:, self._cols])

    def score_pairs(self, pairs) -> np.ndarray:
        """Probability of a link for each pair, shape ``(m,)``; higher is likelier."""
        return self.predict_proba(pairs)[:, 1]
