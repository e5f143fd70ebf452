"""Random held-out ties: how well does the meet answer find the ties we hid?

:func:`evaluate_ties` works on any network, dated or not. Each run hides a
random share of the current ties (pairs with an opted-out person are never
hidden: they are never recommended), fits a :class:`~recommender.meet.MeetModel`
on the rest, and for the people with hidden ties (at most ``max_queries``,
sampled) ranks

* fracnet: the meet answer's candidates (every group) by the model's score;
* each classic heuristic (CN, Jaccard, AA, RA, PA, truncated Katz, profile
  similarity) and random: *every* person the query is not tied to on the same
  observed graph, scored by that heuristic (so a heuristic is not limited by
  fracnet's candidate generator; its candidate recall is the share of hidden
  ties it scores above zero).

Metrics (means over queries, then over runs): ``recall@k``, ``recall@20``,
``mrr``, ``ndcg@k`` and ``candidate_recall``. Hidden ties the candidate
generator missed count as misses. A heuristic's list is cut at its top
:data:`DEPTH` per person (recall@k and NDCG@k are exact for k <= DEPTH; MRR
counts a first hit below that depth as 0).

Example
-------
>>> from recommender.demo import generate_network
>>> from recommender.network import Network
>>> net = Network.from_frames(**generate_network(150, seed=2))
>>> res = evaluate_ties(net, holdout=0.1, runs=1)
>>> sorted(res["methods"]["fracnet"])
['candidate_recall', 'mrr', 'ndcg@10', 'recall@10', 'recall@20']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.errors import UsageError
from recommender.meet.holdout import hideable_ties
from recommender.network import Network

__all__ = ["evaluate_ties", "hide_ties", "METHODS", "DEPTH"]

#: The methods reported, in order.
METHODS = ("fracnet", "cn", "jaccard", "aa", "ra", "pa", "katz", "tag_sim", "random")
#: How deep a heuristic's list per person is kept (see the module doc).
DEPTH = 200
_KATZ_BETA = 0.05
_BLOCK_CELLS = 1 << 23  # dense cells (queries x people) per heuristic block


def _check(holdout, runs, k) -> None:
    if not isinstance(holdout, (int, float)) or not 0 < holdout <= 0.5:
        raise UsageError(f"--holdout must be a share of the ties in (0, 0.5], got {holdout!r}")
    if not isinstance(runs, (int, np.integer)) or isinstance(runs, bool) or runs < 1:
        raise UsageError(f"--runs must be a positive integer, got {runs!r}")
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise UsageError(f"--k must be a positive integer, got {k!r}")


def hide_ties(network: Network, holdout: float, rng: np.random.Generator) -> tuple[Network, pd.DataFrame]:
    """``(observed network, hidden ties)``: a random share ``holdout`` of the hideable ties removed.

    Ties to unknown people, self ties and ties with an opted-out person are never hidden.
    """
    ties = network.ties
    hideable = hideable_ties(network)
    n_hide = int(round(holdout * len(hideable)))
    hidden = np.sort(rng.choice(hideable, n_hide, replace=False)) if n_hide else np.zeros(0, np.int64)
    keep = np.ones(len(ties), dtype=bool)
    keep[hidden] = False
    observed = Network.from_frames(people=network.people, companies=network.companies, ties=ties[keep],
                                   introductions=network.introductions, opportunities=network.opportunities,
                                   referrals=network.referrals, as_of=network.as_of)
    return observed, ties.iloc[hidden].reset_index(drop=True)


def _metrics(pr, score, label, n_pos, k, tiebreak) -> dict:
    from recommender.evaluation.history import ranking_metrics

    out = ranking_metrics(pr, score, label, n_pos, k=k, tiebreak=tiebreak)
    if k != 20:
        out["recall@20"] = ranking_metrics(pr, score, label, n_pos, k=20, tiebreak=tiebreak)["recall@20"]
    return out


def _heuristic_block(name, A, deg, inv_deg, inv_log, P, rows, rng):
    """Dense scores (len(rows), n) of one heuristic for a block of query rows."""
    Ar = A[rows]
    if name == "random":
        return rng.random((len(rows), A.shape[0]))
    if name == "pa":
        return np.broadcast_to((deg[rows][:, None] * deg[None, :]).astype(float), (len(rows), A.shape[0])).copy()
    if name == "tag_sim":
        return np.asarray((P[rows] @ P.T).todense(), dtype=float)
    if name == "cn":
        return np.asarray((Ar @ A).todense(), dtype=float)
    if name == "jaccard":
        cn = np.asarray((Ar @ A).todense(), dtype=float)
        union = deg[rows][:, None] + deg[None, :] - cn
        return np.divide(cn, union, out=np.zeros_like(cn), where=union > 0)
    if name == "aa":
        return np.asarray((Ar @ sp.diags(inv_log) @ A).todense(), dtype=float)
    if name == "ra":
        return np.asarray((Ar @ sp.diags(inv_deg) @ A).todense(), dtype=float)
    if name == "katz":
        A2 = Ar @ A
        A3 = A2 @ A
        return np.asarray((_KATZ_BETA ** 2 * A2 + _KATZ_BETA ** 3 * A3).todense(), dtype=float)
    raise ValueError(name)


def _rank_heuristics(ctx, rows, pos_keys, n_pos, k, rng) -> dict:
    """Metrics of every heuristic ranking every untied person for ``rows`` on ``ctx.A``."""
    A = sp.csr_matrix(ctx.A, dtype=float)
    A.data[:] = 1.0
    n = A.shape[0]
    deg = np.asarray(A.sum(axis=1)).ravel()
    inv_deg = np.divide(1.0, deg, out=np.zeros(n), where=deg > 0)
    ld = np.log(np.maximum(deg, 1.0))
    inv_log = np.divide(1.0, ld, out=np.zeros(n), where=deg > 1)
    P = sp.csr_matrix(ctx.profile)
    blocked = ctx.never_suggested
    depth = min(DEPTH, n)
    out = {}
    block = max(1, _BLOCK_CELLS // max(n, 1))
    order = np.argsort(pos_keys // n, kind="stable")
    pk = pos_keys[order]
    pk_row = pk // n
    for name in METHODS[1:]:
        prs, scs, ys, reach = [], [], [], 0
        for b0 in range(0, len(rows), block):
            r = rows[b0:b0 + block]
            S = _heuristic_block(name, A, deg, inv_deg, inv_log, P, r, rng)
            S[:, blocked] = -np.inf
            S[np.arange(len(r)), r] = -np.inf
            Ar = A[r].tocoo()
            S[Ar.row, Ar.col] = -np.inf  # already tied
            lab = np.zeros(S.shape, dtype=bool)
            j = np.flatnonzero(np.isin(pk_row, r))
            lab[np.searchsorted(r, pk_row[j]), pk[j] % n] = True
            reach += int((lab & (S > 0) & np.isfinite(S)).sum()) if name != "random" else int(lab.sum())
            # the top ``depth`` per row; columns shuffled first so equal scores at the cut are taken at random
            perm = rng.permutation(n)
            Sp = S[:, perm]
            part = perm[np.argpartition(-Sp, depth - 1, axis=1)[:, :depth]] if depth < n else np.tile(perm, (len(r), 1))
            top_s = np.take_along_axis(S, part, axis=1)
            ok = np.isfinite(top_s)
            rr = np.repeat(np.arange(b0, b0 + len(r)), part.shape[1]).reshape(part.shape)
            prs.append(rr[ok])
            scs.append(top_s[ok])
            ys.append(np.take_along_axis(lab, part, axis=1)[ok].astype(np.int64))
        pr = np.concatenate(prs) if prs else np.zeros(0, np.int64)
        sc = np.concatenate(scs) if scs else np.zeros(0)
        y = np.concatenate(ys) if ys else np.zeros(0, np.int64)
        m = _metrics(pr, sc, y, n_pos, k, rng.permutation(len(pr)))
        m["candidate_recall"] = reach / max(int(n_pos.sum()), 1)
        out[name] = m
    return out


def _hidden_pairs(ctx, hidden: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    pos = pd.Series(np.arange(len(ctx)), index=ctx.ids)
    ia = pos.reindex(hidden["a"].astype(str)).to_numpy()
    ib = pos.reindex(hidden["b"].astype(str)).to_numpy()
    ok = ~(np.isnan(ia) | np.isnan(ib))
    ia, ib = ia[ok].astype(np.int64), ib[ok].astype(np.int64)
    tied = np.asarray(ctx.A[ia, ib]).ravel() > 0 if len(ia) else np.zeros(0, bool)  # a duplicate tie row
    ia, ib = ia[~tied], ib[~tied]
    return np.r_[ia, ib], np.r_[ib, ia]


def evaluate_ties(network: Network, *, holdout: float = 0.1, runs: int = 3, seed: int = 0, k: int = 10,
                  max_queries: int = 1000, model_factory=None, progress=None) -> dict:
    """Hide ties at random, fit on the rest, rank each person's hidden ties; beside the heuristics.

    Parameters
    ----------
    network : Network
    holdout : float in (0, 0.5]
        Share of the ties hidden per run.
    runs : int >= 1
    seed : int
        Run ``r`` uses seed ``seed + r`` (hidden ties, query sample, random baseline).
    k : int
    max_queries : int
        At most this many people with hidden ties are ranked per run (sampled).
    model_factory : callable, optional
        ``model_factory(run_seed)`` returns an unfitted MeetModel (default ``MeetModel(random_state=seed)``).
    progress : callable, optional
        ``progress(text)`` after each run.

    Returns
    -------
    dict
        ``methods`` (method -> metric -> mean over runs), ``runs``, ``queries`` (summed over runs),
        ``holdout``, ``k``, ``per_run`` (each run's ``recall@k`` per method, ``queries``, ``hidden``)
        and ``model`` (what the last run's model learned from).
    """
    from recommender.meet.model import MeetModel
    from recommender.meet.training import label_candidates

    _check(holdout, runs, k)
    if len(network.ties) < 20:
        raise UsageError(f"the network has {len(network.ties)} ties; hiding a share of them needs at least 20")
    per_run, totals, n_queries = [], {}, 0
    model_info = None
    for r in range(runs):
        rs = seed + r
        rng = np.random.default_rng(rs)
        observed, hidden = hide_ties(network, holdout, rng)
        model = (model_factory(rs) if model_factory else MeetModel(random_state=rs)).fit(observed)
        ctx = model.context_
        pu, pv = _hidden_pairs(ctx, hidden)
        rows = np.unique(pu)
        if len(rows) > max_queries:
            rows = np.sort(rng.choice(rows, max_queries, replace=False))
        sel = np.isin(pu, rows)
        pu, pv = pu[sel], pv[sel]
        n_pos = np.bincount(np.searchsorted(rows, pu), minlength=len(rows))
        pos_keys = np.unique(pu.astype(np.int64) * len(ctx) + pv)
        pr, pc, _, score = model.answer_candidates(rows)
        y = label_candidates(ctx, rows, pr, pc, pu, pv)
        methods = {"fracnet": _metrics(pr, score, y, n_pos, k, rng.permutation(len(pr)))}
        methods["fracnet"]["candidate_recall"] = float(y.sum() / max(n_pos.sum(), 1))
        methods.update(_rank_heuristics(ctx, rows, pos_keys, n_pos, k, rng))
        for name, m in methods.items():
            t = totals.setdefault(name, {})
            for key, v in m.items():
                t[key] = t.get(key, 0.0) + float(v)
        n_queries += int(len(rows))
        per_run.append({"seed": rs, "queries": int(len(rows)), "hidden": int(len(hidden)),
                        f"recall@{k}": {name: float(m[f"recall@{k}"]) for name, m in methods.items()}})
        model_info = describe_model(model)
        if progress:
            progress(f"run {r + 1}/{runs}")
    order = ["fracnet", "cn", "jaccard", "aa", "ra", "pa", "katz", "tag_sim", "random"]
    keys = [f"recall@{k}", "recall@20", "mrr", f"ndcg@{k}", "candidate_recall"]
    methods = {name: {key: totals[name][key] / runs for key in keys} for name in order if name in totals}
    return {"methods": methods, "runs": int(runs), "queries": n_queries, "holdout": float(holdout), "k": int(k),
            "per_run": per_run, "model": model_info}


def describe_model(model) -> dict:
    """What a fitted MeetModel learned from: kind, rows, positives, sources, fallback reason."""
    rk = model.ranker_
    info = {"kind": rk.kind_, "fallback_reason": model.fallback_reason_,
            "training_rows": int(getattr(rk, "n_rows_", 0)), "training_positives": int(getattr(rk, "n_positive_", 0))}
    if hasattr(model, "training_sources_"):
        info["sources"] = model.training_sources_
    if hasattr(model, "description"):
        info["description"] = model.description()
    return info


def best_heuristic(methods: dict, metric: str) -> tuple[str | None, float]:
    """The best method other than fracnet and random by ``metric``."""
    cands = [(v[metric], n) for n, v in methods.items() if n not in ("fracnet", "random")]
    if not cands:
        return None, 0.0
    v, n = max(cands)
    return n, float(v)
