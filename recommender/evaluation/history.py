"""Temporal replay of the network's own history: would fracnet have predicted
the ties people actually formed?

:func:`evaluate_history` cuts the history at ``split_date`` (default: two
thirds of the way through it), fits a :class:`~recommender.meet.model.MeetModel` on
what was known before the cut (the model makes its own temporal split inside
that period), and for every person who formed new ties or connected
introductions after the cut, ranks the same candidate set (graph as of the
cut) by fracnet's score, by each single heuristic and at random. Pairs
involving opted-out people are not counted: they are never recommended.

Metrics per method (means over queries): ``recall@k`` (share of the person's
new ties in the top ``k``), ``mrr`` (reciprocal rank of the first new tie),
``ndcg@k`` (binary gains). Positives the candidate generator missed count as
misses for every method, so the numbers also measure candidate recall
(reported as ``candidate_recall``).

Example
-------
>>> from recommender.demo import generate_network
>>> from recommender.network import Network
>>> net = Network.from_frames(**generate_network(150, seed=2))
>>> res = evaluate_history(net, k=10)
>>> sorted(res["methods"]["fracnet"])
['mrr', 'ndcg@10', 'recall@10']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender.errors import UsageError
from recommender.meet.features import FEATURE_NAMES
from recommender.meet.training import history_span, label_candidates, query_pairs
from recommender.network import Network, parse_as_of

__all__ = ["HEURISTICS", "evaluate_history", "ranking_metrics", "default_split_date"]

#: Single-feature baselines: method name -> feature column.
HEURISTICS = {
    "cn": "cn",
    "jaccard": "jaccard",
    "aa": "aa",
    "ra": "ra",
    "pa": "pa",
    "katz": "katz",
    "tag_sim": "tag_sim",
}


def default_split_date(net: Network, fraction: float = 2 / 3) -> str:
    """The date ``fraction`` of the way from the first to the last dated tie or introduction."""
    lo, hi = history_span(net)
    if lo is None:
        raise UsageError("the network has no dated ties or introductions to replay")
    a, b = pd.Timestamp(lo), pd.Timestamp(hi)
    return (a + (b - a) * fraction).strftime("%Y-%m-%d")


def ranking_metrics(pair_row: np.ndarray, score: np.ndarray, label: np.ndarray, n_pos: np.ndarray,
                    k: int = 10, tiebreak: np.ndarray | None = None) -> dict:
    """recall@k, MRR and NDCG@k averaged over queries.

    Parameters
    ----------
    pair_row : ndarray of int, shape (m,)
        Query index (0 .. q-1) of each candidate.
    score : ndarray, shape (m,)
        Higher ranks first; ties broken by ``tiebreak`` (ascending), else by order.
    label : ndarray of {0, 1}, shape (m,)
    n_pos : ndarray of int, shape (q,)
        Number of true positives per query, including ones not among the candidates.
    k : int

    Examples
    --------
    >>> r = ranking_metrics(np.array([0, 0, 0]), np.array([0.9, 0.5, 0.1]), np.array([0, 1, 0]), np.array([2]), k=2)
    >>> {m: round(v, 3) for m, v in r.items()}
    {'recall@2': 0.5, 'mrr': 0.5, 'ndcg@2': 0.387}
    """
    q = len(n_pos)
    if q == 0:
        return {f"recall@{k}": 0.0, "mrr": 0.0, f"ndcg@{k}": 0.0}
    tb = np.arange(len(score)) if tiebreak is None else tiebreak
    order = np.lexsort((tb, -score, pair_row))
    r_s, l_s = pair_row[order], label[order]
    first = np.searchsorted(r_s, np.arange(q))
    rank = np.arange(len(order)) - first[r_s]  # 0-based rank within query
    hit = l_s > 0
    topk = hit & (rank < k)
    hits = np.bincount(r_s[topk], minlength=q)
    recall = hits / np.maximum(n_pos, 1)
    best = np.full(q, np.inf)
    np.minimum.at(best, r_s[hit], rank[hit])
    mrr = np.where(np.isfinite(best), 1.0 / (best + 1.0), 0.0)
    dcg = np.bincount(r_s[topk], weights=1.0 / np.log2(rank[topk] + 2.0), minlength=q)
    ideal_n = np.minimum(n_pos, k)
    disc = np.r_[0.0, np.cumsum(1.0 / np.log2(np.arange(k) + 2.0))]
    idcg = disc[ideal_n]
    ndcg = np.divide(dcg, idcg, out=np.zeros(q), where=idcg > 0)
    return {f"recall@{k}": float(recall.mean()), "mrr": float(mrr.mean()), f"ndcg@{k}": float(ndcg.mean())}


def evaluate_history(network: Network, split_date=None, k: int = 10, *, model=None, random_state: int = 0) -> dict:
    """Replay history: fit before ``split_date``, rank after it, compare with baselines.

    Parameters
    ----------
    network : Network
        The whole network (every date).
    split_date : date-like, optional
        Default: :func:`default_split_date`.
    k : int, default 10
    model : MeetModel, optional
        An unfitted model to use (default ``MeetModel()``); it is fitted on
        the history up to ``split_date``.
    random_state : int
        Seed of the random baseline.

    Returns
    -------
    dict
        ``split_date``, ``end_date``, ``n_queries``, ``n_positives``,
        ``candidate_recall``, ``model`` (kind, fallback reason, training
        rows) and ``methods``: method -> ``{"recall@k", "mrr", "ndcg@k"}``
        for ``fracnet``, each of :data:`HEURISTICS` and ``random``.
    """
    from recommender.meet.model import MeetModel

    if not isinstance(k, int) or k < 1:
        raise UsageError(f"k must be a positive integer, got {k!r}")
    split = parse_as_of(split_date) or default_split_date(network)
    end = history_span(network)[1]
    model = MeetModel(random_state=random_state) if model is None else model
    model.fit(network, as_of=split)
    ctx = model.context_
    pu, pv = query_pairs(ctx, network, split, end)
    rows = np.unique(pu)
    n_pos = np.bincount(np.searchsorted(rows, pu), minlength=len(rows))
    pr, pc, X, answer = model.answer_candidates(rows)  # the answer's own scores (stage 2 included)
    y = label_candidates(ctx, rows, pr, pc, pu, pv)
    rng = np.random.default_rng(random_state)
    scores = {"fracnet": answer}
    for name, col in HEURISTICS.items():
        scores[name] = X[:, FEATURE_NAMES.index(col)]
    scores["random"] = rng.random(len(pr))
    # ties in a heuristic's score are broken at random, the same way for every method
    tiebreak = rng.permutation(len(pr))
    methods = {name: ranking_metrics(pr, s, y, n_pos, k=k, tiebreak=tiebreak) for name, s in scores.items()}
    return {
        "split_date": split,
        "end_date": end,
        "k": k,
        "n_queries": int(len(rows)),
        "n_positives": int(n_pos.sum()),
        "candidate_recall": float(y.sum() / max(n_pos.sum(), 1)),
        "mean_candidates": float(len(pr) / max(len(rows), 1)),
        "model": {"kind": model.ranker_.kind_, "fallback_reason": model.fallback_reason_,
                  "training_rows": model.ranker_.n_rows_, "training_positives": model.ranker_.n_positive_,
                  **({"description": model.description(), "sources": model.training_sources_}
                     if hasattr(model, "training_sources_") else {})},
        "methods": methods,
    }
