"""History replay for referral routing: would fracnet have picked the winner?

For each past opportunity that was referred and won, the network is cut to
what was known the day before the opportunity (:meth:`Network.until`), the
opportunity is routed from the person who referred it, and we record whether
the winner is among the ``k`` picks (hit@k) and what share of the needed
specialties the picks cover. Two baselines get the same requests:

* ``similarity``: the top ``k`` eligible fractionals by TF-IDF cosine of their
  profile to the needed tags and industry (ProfileModel), anywhere in the
  network;
* ``most_connected``: the top ``k`` eligible fractionals by number of ties,
  within ``max_hops`` of the referrer.

* ``tags_then_ra``: the eligible people within ``max_hops`` holding the most of
  the needed tags (a requested industry, size band and region count as one
  more each), ties broken by resource allocation with the referrer.

Eligible: a fractional, not the referrer, not opted out. ``similarity_in_reach``
(the similarity ranking restricted to the referrer's reach) is reported too,
as is ``reachable``, the share of winners within ``max_hops`` at the time.

Winners who could only be reached through someone who opted out are correctly
out of reach (an opted-out person is never a hop of a trust path): they are
counted apart (``unreachable_via_opted_out``) and left out of ``hit@k`` (and
``hit@k_all`` counts them as misses, as before). ``winner_covers_none`` counts
the winners listed for none of the needs (a pick covers at least one need, so
no method that follows the rule can name them) and ``winner_no_capacity``
those with no open slots today. Capacity is stored as it is now, with no
date: zero open slots today is evidence about a replayed date, not a fact, so
by default (``include_full``) the replay keeps people at zero today with the
routing penalty (``Router.full_penalty``) instead of leaving them out, as it
would for a live request; ``include_full=False`` leaves them out. ``weights`` is
what the routing model learned at the last replayed date (or why it used the
prior), and ``learned_cases`` how many cases were routed with learned weights.

Limits: referral outcomes are stored as they are now, not as they were, so a
track record replayed as of a date counts the final outcome of earlier
referrals (a referral still pending then counts as decided).

Example
-------
>>> from recommender.demo import generate_network
>>> from recommender.network import Network
>>> report = evaluate_referrals(Network.from_frames(**generate_network(150, seed=1)))
>>> sorted(report["methods"])
['fracnet', 'most_connected', 'similarity', 'similarity_in_reach', 'tags_then_ra']
>>> 0 <= report["methods"]["fracnet"]["hit@3"] <= 1
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender.network import Network
from recommender.refer.router import Router

__all__ = ["evaluate_referrals", "won_cases", "report_notes", "METHODS"]

METHODS = ("fracnet", "similarity", "most_connected", "similarity_in_reach", "tags_then_ra")


def won_cases(network: Network) -> pd.DataFrame:
    """Opportunities referred and won: one row each with ``from_id``, the
    ``winner`` and the opportunity's fields, oldest first."""
    ref = network.referrals
    won = ref[ref["outcome"] == "won"].sort_values(["opportunity_id", "date", "id"])
    won = won.drop_duplicates("opportunity_id")
    opp = network.opportunities.rename(columns={"id": "opportunity_id", "date": "opp_date"})
    cases = won[["opportunity_id", "from_id", "to_id"]].rename(columns={"to_id": "winner"}).merge(
        opp, on="opportunity_id", how="inner")
    cases = cases[cases["opp_date"].notna()]
    return cases.sort_values(["opp_date", "opportunity_id"]).reset_index(drop=True)


def _day_before(day: str) -> str:
    return (pd.Timestamp(day) - pd.Timedelta(days=1)).strftime("%Y-%m-%d")


def evaluate_referrals(network: Network, *, k: int = 3, max_hops: int = 2, router: Router | None = None,
                       include_full: bool = True, limit: int | None = None) -> dict:
    """Replay past won referrals and compare fracnet with the baselines.

    Parameters
    ----------
    network : Network
        The whole history.
    k : int, default 3
        Picks per opportunity (hit@k).
    max_hops : int, default 2
        Reach of fracnet and of the most-connected baseline.
    router : Router, optional
        An unfitted router with the parameters to evaluate (default ``Router()``).
    include_full : bool, default True
        Keep people with zero open slots today (penalised) rather than leave them out: capacity
        is stored as it is now, not as it was at the replayed date.
    limit : int, optional
        Evaluate only the most recent ``limit`` cases.

    Returns
    -------
    dict
        ``n`` (cases scored), ``cases`` (with the unreachable-via-opted-out
        ones), ``k``, ``max_hops``, ``reachable`` (share of winners
        within reach), ``unreachable_via_opted_out``, ``winner_covers_none``,
        ``winner_no_capacity``, ``named_with_nearby`` (share of cases whose
        winner fracnet named as a pick or as nearby), ``weights``,
        ``learned_cases``, ``coverage_bound`` (mean share of the needs that some
        peer fracnet may pick covers: the best coverage within reach),
        ``methods``: per method ``hit@k`` and ``coverage`` (mean
        share of the needs fully covered by the picks), and ``skipped``
        (cases with no needs and no description), ``misses``: per case whose
        winner is not among fracnet's picks, why (see :func:`_why_missed`).
    """
    cases = won_cases(network)
    if limit is not None:
        cases = cases.tail(int(limit))
    base = (router or Router()).fit(network)
    hit_key = f"hit@{k}"
    hits = {m: [] for m in METHODS}
    cover = {m: [] for m in METHODS}
    reachable: list[bool] = []
    bound: list[float] = []
    skipped = 0
    via_opted_out = covers_none = no_capacity = learned_cases = 0
    named: list[bool] = []  # the winner among fracnet's picks or its "nearby" list
    misses: list[dict] = []  # why fracnet did not pick the winner, case by case
    last_weights = None
    cache: dict[str, Router] = {}
    for case in cases.to_dict("records"):
        cut = _day_before(case["opp_date"])
        r = cache.get(cut)
        if r is None:
            cache.clear()
            r = cache[cut] = base.with_history(network.until(cut))
        if case["from_id"] not in r.position_ or case["winner"] not in r.position_:
            skipped += 1
            continue
        try:
            req = r.make_request(case["from_id"], needs=case["needs"] or [], industry=case["industry"],
                                 size_band=case["size_band"], region=case["region"],
                                 description=case["description"], date=case["opp_date"])
        except Exception:  # nothing to match
            skipped += 1
            continue
        src = r.position_[case["from_id"]]
        winner = r.position_[case["winner"]]
        ans = r.route(req.from_id, needs=list(req.needs), industry=req.industry, size_band=req.size_band,
                      region=req.region, description=req.description, date=req.date, k=k, max_hops=max_hops,
                      include_full=include_full)
        dist, _ = r.strongest_paths(src, max_hops)
        in_reach = np.isfinite(dist)
        reachable.append(bool(in_reach[winner]))
        last_weights = r.weights_
        learned_cases += bool(r.weights_.learned)
        if req.needs and r._need_coverage(np.array([winner]), req.needs)[0].sum() == 0:
            covers_none += 1
        no_capacity += bool(r.capacity_[winner] == 0)
        if not in_reach[winner] and np.isfinite(r.strongest_paths(src, max_hops, through_opted_out=True)[0][winner]):
            via_opted_out += 1  # correctly unreachable: not a miss
            continue
        eligible = r.is_fractional_ & ~r.opt_out_
        eligible[src] = False
        tags_q = r.profiles_.transform([{"specialties": list(req.needs),
                                         "industries": [req.industry] if req.industry else []}])
        sim = np.asarray((r.profiles_.matrix_ @ tags_q.T).todense()).ravel()
        picks = {
            "fracnet": np.array([r.position_[p.person_id] for p in ans.picks], dtype=np.int64),
            "similarity": _top(sim, eligible, k),
            "similarity_in_reach": _top(sim, eligible & in_reach, k),
            "tags_then_ra": _top_lex(_held(r, req), _ra_with(r, src), eligible & in_reach, k),
            "most_connected": _top(r.degree_, eligible & in_reach, k),
        }
        if req.needs:
            pool = np.flatnonzero(eligible & in_reach & (include_full | ~(r.capacity_ == 0)))
            full, _ = r._need_coverage(pool, req.needs)
            bound.append(float(full.max(axis=0).mean()) if len(pool) else 0.0)
        named.append(case["winner"] in {p.person_id for p in ans.picks + ans.nearby})
        if case["winner"] not in {p.person_id for p in ans.picks}:
            misses.append({"opportunity_id": str(case["opportunity_id"]), "from_id": str(case["from_id"]),
                           "winner": str(case["winner"]), "learned": bool(r.weights_.learned),
                           **_why_missed(r, req, src, winner, ans, dist, include_full)})
        for m, rows in picks.items():
            hits[m].append(bool(winner in set(rows.tolist())))
            if req.needs:
                full, _ = r._need_coverage(rows, req.needs)
                cover[m].append(float(full.max(axis=0).mean()) if len(rows) else 0.0)
    n = len(hits["fracnet"])
    n_all = n + via_opted_out
    methods = {m: {hit_key: round(float(np.mean(hits[m])), 4) if n else None,
                   f"{hit_key}_all": round(float(np.sum(hits[m]) / n_all), 4) if n_all else None,
                   "coverage": round(float(np.mean(cover[m])), 4) if cover[m] else None} for m in METHODS}
    return {"n": n, "cases": n_all, "k": k, "max_hops": max_hops, "include_full": bool(include_full),
            "reachable": round(float(np.mean(reachable)), 4) if reachable else None,
            "unreachable_via_opted_out": via_opted_out, "winner_covers_none": covers_none,
            "winner_no_capacity": no_capacity,
            "named_with_nearby": round(float(np.mean(named)), 4) if named else None,
            "coverage_bound": round(float(np.mean(bound)), 4) if bound else None,
            "skipped": skipped, "methods": methods, "learned_cases": learned_cases, "misses": misses,
            "weights": last_weights.as_dict() if last_weights is not None else None}


def _why_missed(r: Router, req, src: int, winner: int, ans, dist: np.ndarray, include_full: bool) -> dict:
    """Why the winner is not among fracnet's picks: ``cause`` (``out_of_reach``, ``no_capacity``,
    ``listed_for_none`` (routing never picks them), or ``outranked``) and, when outranked, the winner's
    ``rank`` among the people listed for a need, how many there were, and ``lost_on``: the features whose
    weighted difference to the lowest pick is most against the winner (``{feature: logit difference}``; first
    ``no open slots today``, the routing penalty, when the winner has none and the lowest pick has some)."""
    from recommender.refer.model import FEATURES

    if not np.isfinite(dist[winner]):
        return {"cause": "out_of_reach"}
    if r.capacity_[winner] == 0 and not include_full:
        return {"cause": "no_capacity"}
    if req.needs and r._need_coverage(np.array([winner]), req.needs)[0].sum() == 0:
        return {"cause": "listed_for_none"}
    pool = r.is_fractional_ & ~r.opt_out_ & np.isfinite(dist)
    pool[src] = False
    if not include_full:
        pool &= ~(r.capacity_ == 0)
    cand = np.flatnonzero(pool)  # the candidates route() scores, so trust is normalised the same way
    fs, _, X = r._features(src, cand, req, r._query_vector(req), dist=dist)
    w = r.weights_.vector
    rel = r.relevance(cand, X)  # with the penalty of zero open slots, as route() ranks
    listed = fs["full"].sum(axis=1) > 0 if req.needs else np.ones(len(cand), bool)
    jw = int(np.flatnonzero(cand == winner)[0])
    rank = int((listed & (rel > rel[jw])).sum()) + 1
    out = {"cause": "outranked", "rank": rank, "listed": int(listed.sum())}
    if ans.picks:
        last = int(np.flatnonzero(cand == r.position_[ans.picks[-1].person_id])[0])
        diff = (X[jw] - X[last]) * w
        lost = {FEATURES[i]: round(float(diff[i]), 2) for i in np.argsort(diff)[:3] if diff[i] < -0.01}
        if r.capacity_[winner] == 0 and r.capacity_[cand[last]] != 0:  # the winner has no open slots today
            lost = {"no open slots today": -float(r.full_penalty), **lost}
        out["lost_on"] = lost
    return out


def _top(score: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    """Rows of the ``k`` highest scores among ``mask`` (ties: lower row first)."""
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return idx
    order = np.lexsort((idx, -score[idx]))
    return idx[order[:k]]


def _held(r: Router, req) -> np.ndarray:
    """Per person, how many of the needed tags they hold (+1 for each requested industry, size band, region)."""
    rows = np.arange(len(r.ids_))
    full, _ = r._need_coverage(rows, req.needs)
    held = full.sum(axis=1) if len(req.needs) else np.zeros(len(rows))
    if req.industry is not None:
        held = held + (r._industry_fit(rows, req.industry) >= 1)
    if req.size_band is not None:
        held = held + (r._size_fit(rows, req.size_band) >= 1)
    if req.region is not None:
        held = held + ((r._region_fit(rows, req.region) >= 1) & r.has_region_)
    return held


def _ra_with(r: Router, src: int) -> np.ndarray:
    """Resource allocation of everyone with the referrer on the unweighted tie graph."""
    A = r.cost_.copy()
    A.data[:] = 1.0
    deg = np.asarray(A.sum(axis=1)).ravel()
    inv = np.divide(1.0, deg, out=np.zeros(len(deg)), where=deg > 0)
    return np.asarray((A[src].multiply(inv) @ A).todense()).ravel()


def _top_lex(primary: np.ndarray, secondary: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    """Rows of the ``k`` best by ``primary``, then ``secondary`` (ties: lower row first), among ``mask``."""
    idx = np.flatnonzero(mask)
    order = np.lexsort((idx, -secondary[idx], -primary[idx]))
    return idx[order[:k]]


def report_notes(report: dict) -> list[str]:
    """The lines under the table: what was left out and why, and what the routing model learned from."""
    from recommender.words import plural

    out = []
    k = report["k"]
    if report.get("unreachable_via_opted_out"):
        n = report["unreachable_via_opted_out"]
        out.append(f"{plural(n, 'winner')} reachable only through someone who opted out: correctly out of reach, "
                   f"not counted as {'misses' if n > 1 else 'a miss'} (fracnet hit@{k} counting them: "
                   f"{report['methods']['fracnet'][f'hit@{k}_all']:.1%} of {report['cases']})")
    if report.get("winner_covers_none"):
        out.append(f"{plural(report['winner_covers_none'], 'winner')} listed for none of the needs "
                   "(a pick covers at least one need, so no pick names them; fracnet named the winner among its "
                   f"picks or its 'nearby' list in {report['named_with_nearby']:.1%} of the cases)")
    if report.get("winner_no_capacity"):
        kept = ("kept with the routing penalty, not left out: today's slots are not what they were"
                if report.get("include_full") else "left out, as asked")
        out.append(f"{plural(report['winner_no_capacity'], 'winner')} with no open slots today "
                   f"({kept}; capacity is stored as it is now, not as it was)")
    causes = {}
    for m in report.get("misses", []):
        causes[m["cause"]] = causes.get(m["cause"], 0) + 1
    if causes:
        words = {"outranked": "outranked by people routing scored higher", "listed_for_none": "listed for none of the needs",
                 "no_capacity": "no open slots", "out_of_reach": "out of reach"}
        out.append(f"fracnet missed {plural(sum(causes.values()), 'winner')}: " + ", ".join(
            f"{n} {words[c]}" for c, n in sorted(causes.items(), key=lambda t: -t[1])))
    w = report.get("weights")
    if w:
        out.append(f"routing weights at the last replayed date: {w['description']}; "
                   f"{report['learned_cases']} of {report['n']} cases routed with learned weights")
    return out
