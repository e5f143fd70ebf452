"""Fitting stage 2 of the meet answer (:mod:`recommender.meet.rerank`) on a random holdout of the current ties.

The stage-1 ranker is fitted first. Then a share of the current ties is hidden, the graph
without them is encoded exactly as the answer sees the whole graph, and for the people with
hidden ties the answer's own stage 1 runs: candidates, stage-1 log-odds, the top
:data:`~recommender.meet.rerank.RERANK_M` per (person, group). Those pairs, labelled by the hidden
ties, train a logistic model on :func:`~recommender.meet.rerank.rerank_matrix` rows.

Stage 2 is kept only if it earns its place on this network. On a dated network whose stage 1 was
chosen on the latest history window, it is replayed on that window: learned on a holdout of the ties
known at its cutoff, on top of stage 1 as fitted before the window, it must beat that stage 1's
recall@10 on the ties people then formed (the answer's own task). Otherwise it is fitted on half of the
training people and must beat stage 1's recall@10 on the other half. Else the answer is stage 1
alone, and the model's description says why and on what it was checked. It is fitted on networks of at most
:data:`~recommender.meet.features.GLOBAL_MAX_N` people (a second encoding of the graph and the
edge-triangle matrix); larger ones answer with stage 1.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from recommender.meet.features import GLOBAL_MAX_N
from recommender.meet.rerank import RERANK_M, Reranker, list_ids, lowrank_factors, rerank_matrix, top_m

__all__ = ["fit_reranker"]


def _recall(lid, score, y, n_pos_of_list, tiebreak, k=10) -> float:
    """Mean over lists' people of hits in their top ``k`` / positives (lists with a positive)."""
    order = np.lexsort((tiebreak, -score, lid))
    ls, ys = lid[order], y[order]
    first = np.r_[0, np.flatnonzero(ls[1:] != ls[:-1]) + 1]
    rank = np.arange(len(ls)) - np.repeat(first, np.diff(np.r_[first, len(ls)]))
    hits = np.bincount(np.searchsorted(ls[first], ls[(rank < k) & (ys > 0)]), minlength=len(first))
    pos = np.array([n_pos_of_list[v] for v in ls[first]], dtype=float)
    ok = pos > 0
    return float((hits[ok] / pos[ok]).mean()) if ok.any() else 0.0


def _stage1_lists(ctx, model, ranker, pu, pv, *, max_queries, block_size, rng):
    """Stage 1 (``ranker``) run on ``ctx`` for the people of the positive pairs (``pu``, ``pv``): each one's
    candidates, the top :data:`~recommender.meet.rerank.RERANK_M` per (person, group), their
    :func:`~recommender.meet.rerank.rerank_matrix` rows (column 0: stage 1's log-odds) and labels;
    ``(B, y, person, candidate, n_pos, people queried)`` or None."""
    from recommender.meet.candidates import candidate_pairs
    from recommender.meet.features import pair_features
    from recommender.meet.scoring import _group_codes
    from recommender.meet.training import _label
    from recommender.meet.twohop import two_hop_paths
    from recommender.kernels import sorted_unique

    n = len(ctx)
    pos_keys = sorted_unique(pu.astype(np.int64) * n + pv)
    queries = sorted_unique(pu)
    if len(queries) > max_queries:
        queries = np.sort(rng.choice(queries, max_queries, replace=False))
    n_pos = dict(zip(*np.unique(pu, return_counts=True)))
    Bs, ys, people_of, cands = [], [], [], []
    for b0 in range(0, len(queries), block_size):
        rows = queries[b0:b0 + block_size]
        hop = two_hop_paths(ctx, rows)
        pr, pc = candidate_pairs(ctx, rows, hop=hop, **model._candidate_kw)
        if len(pr) == 0:
            continue
        X = pair_features(ctx, rows, pr, pc, hop=hop)
        s1 = ranker.decision(X)
        lid = list_ids(pr, _group_codes(X))
        sel = top_m(lid, s1, pc, RERANK_M)  # pairs below the top M rank the same with or without stage 2
        pr, pc, X, s1, lid = pr[sel], pc[sel], X[sel], s1[sel], lid[sel]
        Bs.append(rerank_matrix(ctx, rows, pr, pc, X, s1, lid, ranker.used_))
        ys.append(_label(pos_keys, rows[pr].astype(np.int64) * n + pc))
        people_of.append(rows[pr])
        cands.append(pc)
    if not Bs:
        return None
    return (np.vstack(Bs), np.concatenate(ys), np.concatenate(people_of), np.concatenate(cands), n_pos,
            int(len(queries)))


def _training_rows(net, model, people, *, share, max_queries, block_size, rng, ranker=None, as_of=None,
                   hideable=None):
    """Stage 2's training rows: ``share`` of the ``hideable`` ties (rows of ``net.ties``; default every hideable
    one) hidden, the graph without them as of ``as_of`` (default: now), stage 1 (``ranker``, default the model's)
    run on the people with hidden ties; ``(B, y, person, n_pos)`` or None."""
    from recommender.meet.context import build_context
    from recommender.meet.holdout import hideable_ties

    import pandas as pd

    idx = hideable_ties(net) if hideable is None else hideable
    n_hide = int(round(share * len(idx)))
    if n_hide < 1:
        return None
    hidden = rng.choice(idx, n_hide, replace=False)
    keep = np.ones(len(net.ties), dtype=bool)
    keep[hidden] = False
    obs = replace(net, ties=net.ties[keep].reset_index(drop=True))
    ctx = build_context(obs, model.profile_, as_of=as_of, people=people, time_scale=model.time_scale_)
    hid = net.ties.iloc[hidden]
    ia = pd.Index(ctx.ids).get_indexer(hid["a"].astype(str))
    ib = pd.Index(ctx.ids).get_indexer(hid["b"].astype(str))
    ok = (ia >= 0) & (ib >= 0) & (ia != ib)
    ia, ib = ia[ok].astype(np.int64), ib[ok].astype(np.int64)
    if len(ia) == 0:
        return None
    got = _stage1_lists(ctx, model, model.ranker_ if ranker is None else ranker, np.r_[ia, ib], np.r_[ib, ia],
                        max_queries=max_queries, block_size=block_size, rng=rng)
    return None if got is None else (got[0], got[1], got[2], got[4])


def _fit_logistic(B, y, C):
    from sklearn.linear_model import LogisticRegression

    r = Reranker()
    r.mean_ = B.mean(axis=0)
    sd = B.std(axis=0)
    spread = B.max(axis=0) - B.min(axis=0)
    constant = spread <= 1e-9 * (1.0 + np.abs(r.mean_))  # a column without spread gets weight 0
    r.scale_ = np.where(constant | (sd <= 1e-12), 1.0, sd)
    Zs = (B - r.mean_) / r.scale_
    Zs[:, constant] = 0.0
    lr = LogisticRegression(C=C, max_iter=3000).fit(Zs, y)
    r.coef_ = np.where(constant, 0.0, lr.coef_.ravel())
    r.intercept_ = float(lr.intercept_[0])
    return r


def _window_recall(net, model, people, ranker, r, cut, until, *, max_queries, block_size, rng):
    """``(stage 1's recall@10, the cascade's, people)`` on the ties and introductions formed in (``cut``,
    ``until``], ranked on the graph as of ``cut`` by ``ranker`` (stage 1 as it stood then) and stage 2 ``r``:
    the answer replayed on the network's own future. None when nobody formed a tie in the window."""
    from recommender.meet.context import build_context
    from recommender.meet.training import query_pairs

    ctx = build_context(net, model.profile_, as_of=cut, people=people, time_scale=model.time_scale_)
    pu, pv = query_pairs(ctx, net, cut, until)
    got = None if len(pu) == 0 else _stage1_lists(ctx, model, ranker, pu, pv, max_queries=max_queries,
                                                  block_size=block_size, rng=rng)
    if got is None:
        return None
    B, y, who, pc, n_pos, asked = got
    lid = who.astype(np.int64)
    return _recall(lid, B[:, 0], y, n_pos, pc), _recall(lid, r.decision(B), y, n_pos, pc), asked


def _dated_check(net, model, people, *, stage1_hidden, share, max_queries, block_size, C, min_positives, rng):
    """Stage 2 replayed on the latest history window: learned as of that window's cutoff (a holdout of the
    ties known then, none of those stage 1's holdouts hid) on top of stage 1 as it stood then, and ranked for
    the ties formed in the window. ``(stage 1 recall@10, cascade recall@10, cutoff, people)`` or None (no
    pre-window stage 1, or too little to learn or measure)."""
    from recommender.meet.holdout import hideable_ties

    pre = model.ranker_.pre_window() if hasattr(model.ranker_, "pre_window") else None
    cuts = list(getattr(model, "training_cutoffs_", None) or [])
    if pre is None or not cuts or pre.kind_ not in ("logistic", "blend"):
        return None
    cut = cuts[0]  # the latest window's cutoff: the rows the choice held out
    until = (np.datetime64(cut, "D") + np.timedelta64(int(model.horizon_), "D")).astype(str)
    since = net.ties["since"]
    idx = hideable_ties(net)
    known = (since.isna() | (since <= cut)).to_numpy()[idx]  # ties formed after the cut would leak the window
    idx = idx[known]
    if stage1_hidden is not None and len(stage1_hidden):
        idx = idx[~np.isin(idx, stage1_hidden)]  # pairs stage 1 learned as positives would look easy to it
    got = _training_rows(net, model, people, share=share, max_queries=max_queries, block_size=block_size, rng=rng,
                         ranker=pre, as_of=cut, hideable=idx)
    if got is None or int(got[1].sum()) < min_positives:
        return None
    B, y, _, _ = got
    r = _fit_logistic(B, y, C)
    res = _window_recall(net, model, people, pre, r, cut, until, max_queries=max_queries, block_size=block_size,
                         rng=rng)
    return None if res is None else (res[0], res[1], cut, res[2])


def fit_reranker(net, model, people, *, share: float = 0.1, max_queries: int = 2000, block_size: int = 256,
                 C: float = 0.3, min_positives: int = 200, stage1_hidden=None) -> tuple[Reranker | None, str]:
    """``(reranker or None, what happened)`` for a MeetModel whose stage-1 ranker is fitted on ``net``.

    Kept when it beats stage 1's recall@10: on a dated network whose stage 1 was chosen on the latest history
    window, on that window (:func:`_dated_check`: the answer's real task, the future); else on held-out
    training people. ``stage1_hidden``: rows of ``net.ties`` stage 1's holdouts hid.
    """
    if model.ranker_.kind_ not in ("logistic", "blend"):
        return None, f"no stage 2 (the stage-1 ranker is {model.ranker_.kind_})"
    if len(net.people) > GLOBAL_MAX_N:
        return None, f"no stage 2 (more than {GLOBAL_MAX_N:,} people)"
    rng = np.random.default_rng(int(model.random_state) + 104_729)
    got = _training_rows(net, model, people, share=share, max_queries=max_queries, block_size=block_size, rng=rng)
    if got is None or int(got[1].sum()) < min_positives:
        found = 0 if got is None else int(got[1].sum())
        return None, f"no stage 2 (only {found} positive pairs in its holdout; need {min_positives})"
    B, y, who, n_pos = got
    dated = _dated_check(net, model, people, stage1_hidden=stage1_hidden, share=share, max_queries=max_queries,
                         block_size=block_size, C=C, min_positives=min_positives,
                         rng=np.random.default_rng(int(model.random_state) + 130_363))
    if dated is not None:
        base, mine, cut, asked = dated
        where = (f"the ties formed after {cut} by {asked:,} people, stage 2 learned as of {cut} "
                 f"on stage 1 as it stood then")
    else:
        lid = who.astype(np.int64)  # recall per person (every group), as the evaluations count it
        persons = np.unique(who)
        half = np.isin(who, rng.permutation(persons)[: len(persons) // 2])
        r = _fit_logistic(B[half], y[half], C)
        v = ~half
        tb = np.arange(int(v.sum()))
        base = _recall(lid[v], B[v, 0], y[v], n_pos, tb)
        mine = _recall(lid[v], r.decision(B[v]), y[v], n_pos, tb)
        where = "held-out training people"
    if mine <= base:
        return None, f"no stage 2 (on {where} it gave recall@10 {mine:.3f}, stage 1 alone {base:.3f})"
    r = _fit_logistic(B, y, C)
    r.used_ = np.asarray(model.ranker_.used_, dtype=np.int64)
    r.n_rows_, r.n_positive_, r.m_ = int(len(y)), int(y.sum()), int(RERANK_M)
    r.validation_ = {"stage1_recall@10": base, "cascade_recall@10": mine, "checked_on": where}
    lowrank_factors(model.context_)  # the current graph's, now: kept in its structure, so saved with the model
    return r, (f"stage 2 reranks the top {RERANK_M} per list, learned from {len(y):,} pairs, {int(y.sum()):,} "
               f"positive, of a holdout of {share:.0%} of the current ties (recall@10 on {where} "
               f"{mine:.3f} vs stage 1 {base:.3f})")
