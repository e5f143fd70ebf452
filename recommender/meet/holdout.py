"""Training rows for the meet ranker from random holdouts of the current ties.

Every network has current ties, dated or not, so every network can teach the
ranker what its ties look like: hide a random share of the ties, encode the
graph *without* them (:func:`~recommender.meet.context.build_context`, exactly as
the answer later sees the whole graph), generate each affected person's
candidates as the answer does, and label the hidden ties positive. Pooled over
a few holdouts this gives thousands of positives on networks with no history
at all. :class:`~recommender.evaluation.linkpred.LinkPredictor` (``fracnet evaluate
links``) trains through this same code with the link-prediction protocol's rows
(``protocol="pairs"``: every hidden tie, and as many random non-ties).

:func:`history_horizon` sizes the dated-history windows to the span the
history actually has, so a network whose history covers weeks trains on
windows of days instead of finding nothing in 180-day windows.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from recommender.errors import UsageError
from recommender.network import Network
from recommender.people import opt_out_flags

__all__ = ["holdout_training_set", "history_horizon", "hideable_ties", "sample_non_edges"]


def history_horizon(first: str | None, last: str | None, *, n_windows: int = 5, max_days: int = 180,
                    min_days: int = 1) -> int:
    """Window length in days: ``max_days``, or less so that ``n_windows`` windows fit in the history's span.

    Examples
    --------
    >>> history_horizon("2020-01-01", "2024-01-01")
    180
    >>> history_horizon("2004-04-15", "2004-08-22")
    21
    """
    if first is None or last is None:
        return max_days
    span = (pd.Timestamp(last) - pd.Timestamp(first)).days
    return int(np.clip(span // (n_windows + 1), min_days, max_days))


def hideable_ties(net: Network) -> np.ndarray:
    """Rows of ``net.ties`` that may be hidden: two distinct known people, neither opted out."""
    people = net.people
    opt = opt_out_flags(people["opt_out"])
    ok_ids = pd.Index(people["id"].astype(str)[~opt])
    a, b = net.ties["a"].astype(str), net.ties["b"].astype(str)
    return np.flatnonzero((a.isin(ok_ids) & b.isin(ok_ids) & (a != b)).to_numpy())


def _edge_array(A) -> np.ndarray:
    """Each undirected edge once, as ``(u, v)`` with ``u < v``."""
    import scipy.sparse as sp

    T = sp.triu(A, k=1).tocoo()
    return np.column_stack([T.row, T.col]).astype(np.int64)


def sample_non_edges(A, k, rng, *, exclude=None) -> np.ndarray:
    """Sample ``k`` distinct node pairs ``u < v`` that are not edges of ``A``.

    Parameters
    ----------
    A : scipy.sparse matrix, shape (n, n)
    k : int
    rng : numpy.random.Generator
    exclude : ndarray of int, shape (e, 2), optional
        Further pairs (either orientation) that must not be returned.

    Returns
    -------
    ndarray of int64, shape (k, 2)

    Raises
    ------
    UsageError
        If the graph has fewer than ``k`` non-edges.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> A = sp.csr_matrix(([1.0] * 4, ([0, 1, 1, 2], [1, 0, 2, 1])), shape=(3, 3))
    >>> sample_non_edges(A, 1, np.random.default_rng(0)).tolist()
    [[0, 2]]
    """
    n = A.shape[0]
    edges = _edge_array(A)
    keys = edges[:, 0] * n + edges[:, 1]
    if exclude is not None and len(exclude):
        ex = np.sort(np.asarray(exclude, dtype=np.int64), axis=1)
        keys = np.concatenate([keys, ex[:, 0] * n + ex[:, 1]])
    keys = np.unique(keys)
    available = n * (n - 1) // 2 - keys.size
    if k > available:
        raise UsageError(f"the graph has only {available} non-edges, cannot sample {k}")
    chosen = np.zeros(0, dtype=np.int64)
    while chosen.size < k:
        need = k - chosen.size
        draw = int(need * 1.3) + 16
        a = rng.integers(0, n, size=draw)
        b = rng.integers(0, n, size=draw)
        ok = a != b
        lo, hi = np.minimum(a, b)[ok], np.maximum(a, b)[ok]
        cand = lo * n + hi
        cand = cand[~np.isin(cand, keys)]
        cand = cand[~np.isin(cand, chosen)]
        _, first = np.unique(cand, return_index=True)
        cand = cand[np.sort(first)][:need]
        chosen = np.concatenate([chosen, cand])
    return np.column_stack([chosen // n, chosen % n])


def holdout_training_set(net: Network, *, profile=None, people=None, share: float = 0.1, n_holdouts: int = 2,
                         max_queries: int = 2000, max_negatives: int = 100, block_size: int = 256,
                         candidate_kw: dict | None = None, random_state: int = 0, time_scale: float | None = None,
                         katz: bool = True, protocol: str = "candidates"):
    """Training rows from ``n_holdouts`` random holdouts of ``share`` of the current ties.

    Parameters
    ----------
    net : Network
        The network as of the fit (every tie in it is current).
    profile, people
        The fitted :class:`~recommender.similarity.ProfileModel` and
        :func:`~recommender.people.encode_people` of ``net`` (shared with the fit).
    share : float
        Share of the hideable ties hidden per holdout.
    n_holdouts : int
    max_queries : int
        People with hidden ties queried per holdout (sampled).
    max_negatives : int
        Sampled negative candidates kept per query (all positives are kept): at least this many,
        more while the holdout's queries stay within :data:`~recommender.meet.training.ROW_BUDGET`
        rows (:func:`~recommender.meet.training.negatives_per_query`).
    candidate_kw : dict
        The model's candidate parameters.
    katz : bool, default True
        False: the ``katz`` column is left 0 (a ranker that gives it no weight).
    protocol : {"candidates", "pairs"}, default "candidates"
        ``candidates`` (the meet answer's): each queried person's candidates, the hidden ties among
        them positive, ``max_negatives`` of the others negative; a row's query is (holdout, person).
        ``pairs`` (the link-prediction protocol ``fracnet evaluate links`` scores by): every hidden
        tie positive and as many random pairs that are not ties of ``net`` negative; a row's query is
        its holdout.

    Returns
    -------
    TrainingSet
        ``cutoffs`` lists one ``"holdout:<i>"`` per holdout used.
    """
    from recommender.meet.candidates import candidate_pairs
    from recommender.meet.context import build_context
    from recommender.meet.features import FEATURE_NAMES, pair_features
    from recommender.meet.training import TrainingSet, _label, keep_rows, negatives_per_query
    from recommender.meet.twohop import two_hop_paths
    from recommender.kernels import sorted_unique

    if protocol not in ("candidates", "pairs"):
        raise UsageError(f"protocol must be 'candidates' or 'pairs', got {protocol!r}")
    rng = np.random.default_rng(random_state + 7919)
    full = None
    idx = hideable_ties(net)
    n_hide = int(round(share * len(idx)))
    Xs, ys, qs, used = [], [], [], []
    asked = available = 0
    if n_hide < 1:
        return TrainingSet(np.zeros((0, len(FEATURE_NAMES))), np.zeros(0, np.int64), np.zeros(0, np.int64), [])
    ties = net.ties
    hid_rows = []
    for h in range(n_holdouts):
        hidden = rng.choice(idx, n_hide, replace=False)
        hid_rows.append(hidden)
        keep = np.ones(len(ties), dtype=bool)
        keep[hidden] = False
        obs = replace(net, ties=ties[keep].reset_index(drop=True))
        ctx = build_context(obs, profile, people=people, time_scale=time_scale)
        n = len(ctx)
        hid = ties.iloc[hidden]
        ia = pd.Index(ctx.ids).get_indexer(hid["a"].astype(str))
        ib = pd.Index(ctx.ids).get_indexer(hid["b"].astype(str))
        ok = (ia >= 0) & (ib >= 0) & (ia != ib)
        ia, ib = ia[ok].astype(np.int64), ib[ok].astype(np.int64)
        if len(ia):
            tied = np.asarray(ctx.A[ia, ib]).ravel() > 0  # a duplicate row of a kept tie
            ia, ib = ia[~tied], ib[~tied]
        pu, pv = np.r_[ia, ib], np.r_[ib, ia]
        if len(pu) == 0:
            continue
        if protocol == "pairs":
            if full is None:  # the whole graph on the contexts' positions (every holdout's are the same)
                import scipy.sparse as sp

                fa = pd.Index(ctx.ids).get_indexer(ties["a"].astype(str))
                fb = pd.Index(ctx.ids).get_indexer(ties["b"].astype(str))
                good = (fa >= 0) & (fb >= 0) & (fa != fb)
                full = sp.csr_matrix((np.ones(2 * good.sum()), (np.r_[fa[good], fb[good]], np.r_[fb[good], fa[good]])),
                                     shape=(n, n))
                full.data[:] = 1.0
            key = np.unique(np.minimum(ia, ib) * n + np.maximum(ia, ib))
            neg = sample_non_edges(full, len(key), rng)
            pu, pv = np.r_[key // n, neg[:, 0]], np.r_[key % n, neg[:, 1]]
            yy = np.r_[np.ones(len(key), np.int64), np.zeros(len(neg), np.int64)]
            used.append(f"holdout:{h}")
            available += len(key)
            asked += len(key)
            Xs.append(_pair_rows(ctx, pu, pv, block_size, katz))
            ys.append(yy)
            qs.append(np.full(len(yy), h, dtype=np.int64))
            del ctx
            continue
        pos_keys = sorted_unique(pu * n + pv)
        queries = sorted_unique(pu)
        available += len(queries)
        asked += min(len(queries), max_queries)
        if len(queries) > max_queries:
            queries = np.sort(rng.choice(queries, max_queries, replace=False))
        used.append(f"holdout:{h}")
        keep_neg = negatives_per_query(len(queries), max_negatives)
        for b0 in range(0, len(queries), block_size):
            rows = queries[b0:b0 + block_size]
            hop = two_hop_paths(ctx, rows)
            pr, pc = candidate_pairs(ctx, rows, hop=hop, **(candidate_kw or {}))
            if len(pr) == 0:
                continue
            y = _label(pos_keys, rows[pr].astype(np.int64) * n + pc)
            sel = keep_rows(pr, y, rng.random(len(pr)), len(rows), keep_neg)
            if len(sel) == 0:
                continue
            Xs.append(pair_features(ctx, rows, pr[sel], pc[sel], hop=hop, katz=katz))
            ys.append(y[sel])
            qs.append(rows[pr[sel]] + (h + 1) * 10 * n)  # query ids distinct from the history windows'
        del ctx
    hid_all = np.unique(np.concatenate(hid_rows)) if hid_rows else np.zeros(0, np.int64)
    if not Xs:
        return TrainingSet(np.zeros((0, len(FEATURE_NAMES))), np.zeros(0, np.int64), np.zeros(0, np.int64), used,
                           asked, available, hid_all)
    return TrainingSet(np.vstack(Xs), np.concatenate(ys), np.concatenate(qs), used, asked, available, hid_all)


def _pair_rows(ctx, u: np.ndarray, v: np.ndarray, block_size: int, katz: bool) -> np.ndarray:
    """:func:`~recommender.meet.features.pair_features` of pairs (``u``, ``v``) (positions in ``ctx``), in their
    order, computed a block of distinct ``u`` at a time."""
    from recommender.meet.features import FEATURE_NAMES, pair_features

    u, v = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
    out = np.zeros((len(u), len(FEATURE_NAMES)))
    order = np.argsort(u, kind="stable")
    rows_all = np.unique(u)
    us = u[order]
    for b0 in range(0, len(rows_all), block_size):
        rows = rows_all[b0:b0 + block_size]
        lo, hi = np.searchsorted(us, [rows[0], rows[-1] + 1])
        sel = order[lo:hi]
        out[sel] = pair_features(ctx, rows, np.searchsorted(rows, u[sel]), v[sel], katz=katz)
    return out
