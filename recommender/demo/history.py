"""The generated history: ties formed over time, introductions, opportunities and referrals.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from recommender.demo.draws import (
    _bits,
    _csr,
    _expand,
    _Groups,
    _gumbel,
    _has,
    _mask_of,
    _pair_keys,
    _pick_random_entry,
    _pick_rows,
    _popcount,
    _weighted_draw,
)
from recommender.demo.vocab import (
    _CHUNK,
    _CLOSURE,
    _COMMUNITY,
    _ICP,
    _INDUSTRY,
    _INTRO,
    _MODE_P,
    _MODE_SOURCES,
    _MODE_STRENGTH,
    _PEER,
    _RANDOM,
    FIT_SHARPNESS,
    INTRO_CHOICES,
    INTRO_RATE,
    OPP_RATE,
    ORGANIC_CHOICES,
    QUARTERS,
    SOURCES,
    TIE_DAYS,
)

if TYPE_CHECKING:  # annotations only
    from recommender.demo.generate import Progress


def _make_base_ties(rng, P, V, m_target: int, t0: int, h0: int, end: int) -> SimpleNamespace:
    """Homophilous ties plus triadic closure; sorted by pair key, a < b."""
    n, S, R = P.n, len(V.sizes), len(V.regions)
    m_closure = int(round(0.15 * m_target))
    m_direct = m_target - m_closure
    m_gen = int(m_direct * 1.12) + 16
    u = _weighted_draw(rng, P.activity, m_gen)
    mode = rng.choice(5, m_gen, p=_MODE_P)
    K = ORGANIC_CHOICES
    cand = np.full((m_gen, K), -1, dtype=np.int64)

    def fill(sel, groups, query):
        # K members of the group per tie; the best fit among them is chosen below
        idx = np.flatnonzero(sel)
        cand[idx] = groups.sample(rng, np.repeat(query(u[idx]), K)).reshape(-1, K)

    frac_u = P.is_frac[u]
    fill(mode == _COMMUNITY, _Groups(P.comm), lambda x: P.comm[x])
    fill(mode == _INDUSTRY, _Groups(P.industry), lambda x: _pick_random_entry(rng, P.ind_list[x], P.nind[x]))
    exec_key = np.where(~P.is_frac, P.industry * S + P.size_list[:, 0], -1)
    fill((mode == _ICP) & frac_u, _Groups(exec_key),
         lambda x: _pick_random_entry(rng, P.ind_list[x], P.nind[x]) * S + _pick_random_entry(rng, P.size_list[x], P.nsize[x]))
    frac_key = np.where(P.is_frac, P.industry * S + P.size_list[:, 0], -1)
    fill((mode == _ICP) & ~frac_u, _Groups(frac_key), lambda x: P.industry[x] * S + P.size_list[x, 0])
    peer_key = np.where(P.is_frac, P.func * R + P.region, -1)
    fill((mode == _PEER) & frac_u, _Groups(peer_key), lambda x: P.func[x] * R + P.region[x])
    # organic partners: within the group, with probability ~ exp(fit of the pair)
    v = np.full(m_gen, -1, dtype=np.int64)
    for c0 in range(0, m_gen, _CHUNK):
        cu = np.repeat(u[c0:c0 + _CHUNK], K)
        cv = cand[c0:c0 + _CHUNK].ravel()
        ok = (cv >= 0) & (cv != cu)
        safe = np.where(ok, cv, 0)
        noisy = np.where(ok, _pair_score(P, cu, safe, np.zeros(len(cu)), FIT_SHARPNESS) + _gumbel(rng, len(cu)), -np.inf)
        noisy = noisy.reshape(-1, K)
        best = np.argmax(noisy, axis=1)
        v[c0:c0 + _CHUNK] = cand[c0:c0 + _CHUNK][np.arange(len(best)), best]
    cand = None  # free it (the closure above is done with it)
    rand = (mode == _RANDOM) | (v < 0)  # random ties, and the fallback for empty groups
    v[rand] = rng.integers(0, n, int(rand.sum()))
    mode[rand] = _RANDOM

    ok = v != u
    u, v, mode = u[ok], v[ok], mode[ok]
    keys = _pair_keys(u, v, n)
    keys, first = np.unique(keys, return_index=True)
    mode = mode[first]
    if len(keys) > m_direct:
        keep = np.sort(rng.choice(len(keys), m_direct, replace=False))
        keys, mode = keys[keep], mode[keep]
    a, b = keys // n, keys % n
    since = np.where(
        rng.random(len(keys)) < 0.62,
        rng.integers(t0, h0, len(keys)),
        rng.integers(h0, end + 1, len(keys)),
    )

    # triadic closure: close random wedges (centre chosen proportional to degree)
    rows = np.concatenate([a, b])
    cols = np.concatenate([b, a])
    ssince = np.concatenate([since, since])
    indptr, ccols, csince = _csr(rows, cols, n, ssince)
    nnz = len(ccols)
    if nnz and m_closure:
        w = int(m_closure * 1.4) + 16
        e1 = rng.integers(0, nnz, w)
        centre = np.searchsorted(indptr, e1, "right") - 1
        deg = indptr[centre + 1] - indptr[centre]
        e2 = indptr[centre] + (rng.random(w) * deg).astype(np.int64)
        x, y = ccols[e1], ccols[e2]
        base_since = np.maximum(csince[e1], csince[e2])
        ok = x != y
        ck = _pair_keys(x[ok], y[ok], n)
        base_since = base_since[ok]
        ck, cfirst = np.unique(ck, return_index=True)
        base_since = base_since[cfirst]
        new = ~np.isin(ck, keys, assume_unique=True)
        ck, base_since = ck[new], base_since[new]
        if len(ck) > m_closure:
            keep = np.sort(rng.choice(len(ck), m_closure, replace=False))
            ck, base_since = ck[keep], base_since[keep]
        csince_new = base_since + (rng.random(len(ck)) * 0.5 * (end - base_since)).astype(np.int64)
        keys = np.concatenate([keys, ck])
        mode = np.concatenate([mode, np.full(len(ck), _CLOSURE)])
        since = np.concatenate([since, csince_new])
        order = np.argsort(keys)
        keys, mode, since = keys[order], mode[order], since[order]
    return SimpleNamespace(key=keys, a=keys // n, b=keys % n, since=since.astype(np.int64), mode=mode.astype(np.int8))


def _pair_score(P, v: np.ndarray, w: np.ndarray, cn: np.ndarray, fit_weight: float = 1.0) -> np.ndarray:
    """How good an introduction (or a tie) of v and w is: the planted preference.

    ``0.8 log(1 + cn)`` for mutual contacts plus ``fit_weight`` times the fit of
    the two profiles (complementary peers, adjacent fractionals sharing a market,
    fractional <-> executive ICP fit).
    """
    fv, fw = P.is_frac[v], P.is_frac[w]
    both = fv & fw
    same_func = both & (P.func[v] == P.func[w])
    spec_overlap = _popcount(P.spec_mask[v] & P.spec_mask[w])
    ind_overlap = _popcount(P.ind_mask[v] & P.ind_mask[w]) > 0
    size_overlap = _popcount(P.size_mask[v] & P.size_mask[w]) > 0
    complementary = same_func & (spec_overlap == 0)
    adjacent = both & ~same_func
    fr = np.where(fv, v, w)
    ex = np.where(fv, w, v)
    icp = (fv ^ fw) & _has(P.ind_mask[fr], P.industry[ex])
    icp_size = (fv ^ fw) & (_popcount(P.size_mask[fr] & P.size_mask[ex]) > 0)
    execs = ~fv & ~fw
    return 0.8 * np.log1p(cn) + fit_weight * (
        1.6 * complementary
        + 0.2 * (same_func & ~complementary)
        + adjacent * (0.7 * ind_overlap + 0.5 * size_overlap)
        + 1.2 * icp
        + 0.6 * icp_size
        + 0.3 * (execs & (P.industry[v] == P.industry[w]))
        - 0.3 * execs
    )


def _make_introductions(rng, P, base, qbounds: np.ndarray, end: int, progress: Progress):
    n = P.n
    rows = np.concatenate([base.a, base.b])
    cols = np.concatenate([base.b, base.a])
    since2 = np.concatenate([base.since, base.since])
    indptr, ccols, csince = _csr(rows, cols, n, since2, order_by=since2)
    crow = np.repeat(np.arange(n), np.diff(indptr))
    ones = np.ones(len(ccols), dtype=np.float32)
    n_total = int(round(INTRO_RATE * n))
    growth = 1.0 + 0.06 * np.arange(QUARTERS)
    per_q = np.floor(n_total * growth / growth.sum() + rng.random(QUARTERS)).astype(np.int64)
    K = INTRO_CHOICES
    introduced = np.zeros(0, dtype=np.int64)
    out = []
    for q in range(QUARTERS):
        t, t_next = int(qbounds[q]), int(qbounds[q + 1])
        valid = csince < t
        cnt = np.bincount(crow[valid], minlength=n)
        m = int(per_q[q])
        wts = P.activity * ((cnt >= 2) & ~P.opt_out)
        if m == 0 or wts.sum() == 0:
            continue
        intro = _weighted_draw(rng, wts, m)
        c = cnt[intro][:, None]
        # matchmaking: the introducer thinks of one contact, then of whom among their other
        # contacts that person should meet (K candidates; the best fit, with noise, wins)
        p1 = np.repeat((rng.random((m, 1)) * c).astype(np.int64), K, axis=1)
        p2 = (rng.random((m, K)) * (c - 1)).astype(np.int64)
        p2 += p2 >= p1
        base_pos = indptr[intro][:, None]
        v = ccols[base_pos + p1].ravel()
        w = ccols[base_pos + p2].ravel()
        date = np.repeat(t + (rng.random(m) * (t_next - t)).astype(np.int64), K)
        keys = _pair_keys(v, w, n)
        # not yet tied at the introduction date, never introduced before, nobody opted out
        pos = np.minimum(np.searchsorted(base.key, keys), len(base.key) - 1)
        tied = (base.key[pos] == keys) & (base.since[pos] < date)
        bad = tied | P.opt_out[v] | P.opt_out[w] | np.isin(keys, introduced)
        # mutual contacts at the quarter start
        A = sp.csr_matrix((ones[valid], ccols[valid], np.concatenate([[0], np.cumsum(cnt)])), shape=(n, n))
        cn = np.asarray(A[v].multiply(A[w]).sum(axis=1)).ravel()
        score = _pair_score(P, v, w, cn)
        pick = _pair_score(P, v, w, cn, FIT_SHARPNESS)
        noisy = np.where(bad, -np.inf, pick + _gumbel(rng, len(score))).reshape(m, K)
        best = np.argmax(noisy, axis=1)
        sel = np.arange(m) * K + best
        sel = sel[np.isfinite(noisy[np.arange(m), best])]
        sk, first = np.unique(keys[sel], return_index=True)
        sel = np.sort(sel[first])
        introduced = np.union1d(introduced, keys[sel])
        p_conn = np.clip(0.57 + 0.12 * score[sel], 0.3, 0.95)
        r = rng.random(len(sel))
        outcome = np.where(r < p_conn, 0, np.where(rng.random(len(sel)) < 0.4, 1, 2))  # connected, declined, no_response
        recent = (date[sel] > end - 21) & (rng.random(len(sel)) < 0.6)
        outcome = np.where(recent, 3, outcome)  # pending
        out.append((date[sel], intro[sel // K], np.minimum(v[sel], w[sel]), np.maximum(v[sel], w[sel]), outcome, score[sel]))
        progress(f"introductions {q + 1}/{QUARTERS}")
    if not out:
        z = np.zeros(0, dtype=np.int64)
        return SimpleNamespace(date=z, introducer=z, a=z, b=z, outcome=z, score=z.astype(float))
    cat = [np.concatenate(x) for x in zip(*out)]
    order = np.lexsort((cat[2], cat[0]))
    date, introducer, a, b, outcome, score = (x[order] for x in cat)
    return SimpleNamespace(date=date, introducer=introducer, a=a, b=b, outcome=outcome, score=score)


def _finish_ties(rng, P, base, intros, end: int) -> SimpleNamespace:
    n = P.n
    conn = intros.outcome == 0
    ik = _pair_keys(intros.a[conn], intros.b[conn], n)
    keep = ~np.isin(base.key, ik)  # an introduction made these ties; the later organic tie is the same one
    keys = np.concatenate([base.key[keep], ik])
    since = np.concatenate([base.since[keep], intros.date[conn]])
    mode = np.concatenate([base.mode[keep], np.full(len(ik), _INTRO, dtype=np.int8)])
    order = np.argsort(keys)
    keys, since, mode = keys[order], since[order], mode[order]
    m = len(keys)
    last = since + ((end - since) * rng.random(m) ** 0.4).astype(np.int64)
    recency = 1.0 - (end - last) / float(TIE_DAYS)
    strength = _MODE_STRENGTH[mode] + 0.35 * rng.beta(2.0, 2.0, m) - 0.15 + 0.25 * recency
    strength = np.clip(np.round(strength, 2), 0.01, 1.0)
    source = np.zeros(m, dtype=np.int8)
    r = rng.random(m)
    for md, (names, probs) in enumerate(_MODE_SOURCES):
        sel = mode == md
        cum = np.cumsum(probs)
        idx = np.minimum(np.searchsorted(cum, r[sel], "right"), len(names) - 1)
        source[sel] = np.array([SOURCES.index(s) for s in names], dtype=np.int8)[idx]
    return SimpleNamespace(key=keys, a=keys // n, b=keys % n, since=since, last=last, strength=strength, source=source, mode=mode)


def _make_opportunities(rng, P, V, ties, qbounds: np.ndarray, h0: int, end: int) -> SimpleNamespace:
    n, S, F = P.n, len(V.sizes), len(V.functions)
    C = P.comp
    n_total = int(round(OPP_RATE * n))
    growth = 1.0 + 0.06 * np.arange(QUARTERS)
    per_q = np.floor(n_total * growth / growth.sum() + rng.random(QUARTERS)).astype(np.int64)
    quarter = np.repeat(np.arange(QUARTERS), per_q)
    m = len(quarter)
    date = qbounds[quarter] + (rng.random(m) * (qbounds[quarter + 1] - qbounds[quarter])).astype(np.int64)
    order = np.argsort(date, kind="stable")
    date = date[order]
    deg = np.bincount(np.concatenate([ties.a, ties.b]), minlength=n)
    wts = P.activity * np.where(P.is_frac, 1.3, 1.0) * ((deg > 0) & ~P.opt_out)
    if wts.sum() == 0:
        wts = P.activity * ~P.opt_out
    bringer = _weighted_draw(rng, wts, m)
    frac = P.is_frac[bringer]
    in_lane = frac & (rng.random(m) < 0.2)

    # the client company: fits the bringer's industries (and ICP size if possible); execs often bring their own
    comp_by_ind_size = _Groups(C.industry * S + C.size)
    comp_by_ind = _Groups(C.industry)
    ind_q = _pick_random_entry(rng, P.ind_list[bringer], P.nind[bringer])
    size_q = _pick_random_entry(rng, P.size_list[bringer], P.nsize[bringer])
    company = comp_by_ind_size.sample(rng, np.where(frac, ind_q * S + size_q, -1))
    company = np.where(company < 0, comp_by_ind.sample(rng, ind_q), company)
    own = ~frac & (rng.random(m) < 0.35)
    company = np.where(own, P.company[bringer], company)
    rand = (company < 0) | (rng.random(m) < 0.15)
    company = np.where(rand, rng.integers(0, C.n, m), company)

    # needs: one function (the bringer's own when in lane), sometimes a second one. Out of
    # lane, people hear of needs their network can serve: the needed specialties are held
    # by fractionals with open capacity within two hops of the bringer (ties formed before
    # the quarter began), whenever the bringer's reach has any.
    own_f = np.where(frac, P.func[bringer], -1)
    func_mask = _mask_of(V.func_specs)
    reach = _open_reach(P, ties, qbounds)[quarter, bringer]
    reach &= ~np.where(own_f >= 0, func_mask[np.maximum(own_f, 0)], np.uint64(0))
    func_ok = (reach[:, None] & func_mask[None, :]) != 0  # (m, F): functions servable in reach
    served = ~in_lane & func_ok.any(axis=1)
    wf = np.where(served[:, None], func_ok, np.arange(F)[None, :] != own_f[:, None]) * V.func_w[None, :]
    avail = np.where(served, reach, ~np.uint64(0))  # specialties a need may be drawn from
    need_f = np.where(in_lane, own_f, _choice_rows(rng, wf))
    choices = V.func_specs[need_f]
    ok = (choices >= 0) & _has(avail[:, None], choices)
    k = np.minimum(rng.choice([1, 2, 3], m, p=[0.45, 0.4, 0.15]), ok.sum(axis=1))
    picks = _pick_rows(rng, np.where(ok, choices, -1)[np.arange(m)[:, None], np.argsort(~ok, axis=1, kind="stable")],
                       ok.sum(axis=1), k, 3)
    wf2 = wf * (np.arange(F)[None, :] != need_f[:, None])
    has2 = wf2.sum(axis=1) > 0
    f2 = np.where(has2, _choice_rows(rng, np.where(has2[:, None], wf2, 1.0)), need_f)
    ch2 = V.func_specs[f2]
    ok2 = (ch2 >= 0) & _has(avail[:, None], ch2)
    spec2 = _pick_rows(rng, np.where(ok2, ch2, -1)[np.arange(m)[:, None], np.argsort(~ok2, axis=1, kind="stable")],
                       ok2.sum(axis=1), np.ones(m, dtype=np.int64), 1)[:, 0]
    second = ~in_lane & has2 & (k >= 2) & (rng.random(m) < 0.2) & (f2 != need_f) & (spec2 >= 0)
    picks[np.arange(m), np.maximum(k - 1, 0)] = np.where(second, spec2, picks[np.arange(m), np.maximum(k - 1, 0)])
    needs = _mask_of(picks)
    need_funcs = _bits(need_f) | np.where(second, _bits(f2), np.uint64(0))
    return SimpleNamespace(
        m=m, date=date, quarter=quarter, bringer=bringer, company=company, in_lane=in_lane, needs=needs,
        need_funcs=need_funcs, industry=C.industry[company], size=C.size[company], region=C.region[company],
    )


def _or_by_row(rows: np.ndarray, vals: np.ndarray, n: int) -> np.ndarray:
    """Bitwise OR of ``vals`` per row (``rows`` sorted); rows without entries give 0."""
    out = np.zeros(n, dtype=np.uint64)
    if len(rows):
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        out[rows[starts]] = np.bitwise_or.reduceat(vals, starts)
    return out


def _open_reach(P, ties, qbounds: np.ndarray) -> np.ndarray:
    """Per quarter and person, the specialties held by open fractionals (capacity > 0,
    not opted out) within two hops, over ties formed before the quarter began: shape (Q, n)."""
    n = P.n
    rows = np.concatenate([ties.a, ties.b])
    cols = np.concatenate([ties.b, ties.a])
    since = np.concatenate([ties.since, ties.since])
    order = np.argsort(rows, kind="stable")
    rows, cols, since = rows[order], cols[order], since[order]
    open_spec = np.where(P.is_frac & ~P.opt_out & (P.capacity > 0), P.spec_mask, np.uint64(0))
    out = np.zeros((QUARTERS, n), dtype=np.uint64)
    for q in range(QUARTERS):
        valid = since < qbounds[q]
        r, c = rows[valid], cols[valid]
        one = _or_by_row(r, open_spec[c], n)
        out[q] = _or_by_row(r, (open_spec | one)[c], n)
    return out


def _choice_rows(rng, w: np.ndarray) -> np.ndarray:
    """One index per row of the weight matrix ``w`` (rows must have a positive sum)."""
    cum = np.cumsum(w, axis=1)
    r = rng.random(len(w)) * cum[:, -1]
    return np.minimum((cum <= r[:, None]).sum(axis=1), w.shape[1] - 1)


def _make_referrals(rng, P, V, ties, O, qbounds: np.ndarray, end: int) -> SimpleNamespace:
    """Referrals quarter by quarter, so the track record (past wins) feeds the next quarter."""
    n = P.n
    rows = np.concatenate([ties.a, ties.b])
    cols = np.concatenate([ties.b, ties.a])
    indptr, ccols, csince, cstr = _csr(rows, cols, n, np.concatenate([ties.since, ties.since]),
                                       np.concatenate([ties.strength, ties.strength]))
    deg = np.diff(indptr)
    past_wins = np.zeros(n, dtype=np.int64)
    status = np.full(O.m, -1, dtype=np.int64)  # index into OPPORTUNITY_STATUSES
    out = []
    H = 30  # two-hop samples per opportunity
    for q in range(QUARTERS):
        oq = np.flatnonzero(O.quarter == q)
        # in-lane: the bringer takes it on; out-of-lane: refer it
        lane = oq[O.in_lane[oq]]
        recent = O.date[lane] > end - 45
        r = rng.random(len(lane))
        p_win = 1.0 / (1.0 + np.exp(-(0.2 * P.skill[O.bringer[lane]] - 0.2)))
        st = np.where(r < p_win, 2, np.where(rng.random(len(lane)) < 0.55, 3, 4))
        status[lane] = np.where(recent, 0, st)
        np.add.at(past_wins, O.bringer[lane][(~recent) & (st == 2)], 1)

        ref = oq[~O.in_lane[oq]]
        if len(ref) == 0:
            continue
        b = O.bringer[ref]
        odate = O.date[ref]
        # one hop: every contact of the bringer known by the opportunity date
        qi, e = _expand(indptr, b)
        c1, t1, ok1 = ccols[e], cstr[e], csince[e] < odate[qi]
        # two hops: random contact of a random contact
        qi2 = np.repeat(np.arange(len(ref)), H)
        bb = b[qi2]
        has = deg[bb] > 0
        e1 = indptr[bb] + (rng.random(len(qi2)) * deg[bb]).astype(np.int64)
        e1 = np.minimum(e1, len(ccols) - 1)
        mid = ccols[e1]
        e2 = np.minimum(indptr[mid] + (rng.random(len(qi2)) * deg[mid]).astype(np.int64), len(ccols) - 1)
        c2 = ccols[e2]
        ok2 = has & (csince[e1] < odate[qi2]) & (csince[e2] < odate[qi2])
        t2 = 0.6 * cstr[e1] * cstr[e2]
        qa = np.concatenate([qi, qi2])
        ca = np.concatenate([c1, c2])
        ta = np.concatenate([t1, t2])
        ok = np.concatenate([ok1, ok2]) & P.is_frac[ca] & ~P.opt_out[ca] & (ca != b[qa])
        qa, ca, ta = qa[ok], ca[ok], ta[ok]
        # one row per (opportunity, candidate), keeping the strongest trust path
        o = np.lexsort((-ta, ca, qa))
        qa, ca, ta = qa[o], ca[o], ta[o]
        first = np.ones(len(qa), dtype=bool)
        first[1:] = (qa[1:] != qa[:-1]) | (ca[1:] != ca[:-1])
        qa, ca, ta = qa[first], ca[first], ta[first]
        opp = ref[qa]
        need = O.needs[opp]
        cov = _popcount(P.spec_mask[ca] & need) / np.maximum(_popcount(need), 1)
        fmatch = _has(O.need_funcs[opp], P.func[ca])
        ind = _has(P.ind_mask[ca], O.industry[opp])
        size = _has(P.size_mask[ca], O.size[opp])
        reg = _has(P.region_mask[ca], O.region[opp]) | (_has(P.region_mask[ca], np.full(len(ca), V.remote)))
        cap = P.capacity[ca]
        track = np.log1p(past_wins[ca])
        elig = (cov > 0) | fmatch
        qa, ca, ta, opp = qa[elig], ca[elig], ta[elig], opp[elig]
        cov, ind, size, reg, cap, track = cov[elig], ind[elig], size[elig], reg[elig], cap[elig], track[elig]
        sel_score = (3.0 * cov + 0.8 * ind + 0.4 * size + 0.2 * reg + 1.5 * ta + 0.4 * track
                     + 0.3 * (cap > 0) - 0.8 * (cap == 0) + 0.6 * _gumbel(rng, len(qa)))
        k = rng.choice([1, 2, 3], len(ref), p=[0.3, 0.45, 0.25])
        o = np.lexsort((-sel_score, qa))
        qa, ca, opp, cov, ind, size, cap, track = (x[o] for x in (qa, ca, opp, cov, ind, size, cap, track))
        starts = np.flatnonzero(np.r_[True, qa[1:] != qa[:-1]])
        rank = np.arange(len(qa)) - np.repeat(starts, np.diff(np.r_[starts, len(qa)]))
        keep = rank < k[qa]
        qa, ca, opp, cov, ind, size, cap, track, rank = (x[keep] for x in (qa, ca, opp, cov, ind, size, cap, track, rank))
        rdate = np.minimum(O.date[opp] + np.minimum(rng.geometric(0.3, len(qa)) - 1, 20), end)
        p_decl = np.where(cap == 0, 0.45, 0.1)
        logit = -1.3 + 2.2 * cov + 0.5 * ind + 0.3 * size + 0.7 * P.skill[ca] + 0.4 * track - 1.0 * (cap == 0)
        p_win = 1.0 / (1.0 + np.exp(-logit))
        r1, r2 = rng.random(len(qa)), rng.random(len(qa))
        # outcome codes: 0 pending, 1 accepted, 2 declined, 3 won, 4 lost
        outcome = np.where(r1 < p_decl, 2, np.where(r2 < p_win, 3, 4))
        recent = rdate > end - 45
        outcome = np.where(recent, np.where(rng.random(len(qa)) < 0.55, 0, 1), outcome)
        # the client hires one fractional at most: the first winner in pick order
        won = outcome == 3
        won_opp = opp[won]
        first_win = np.ones(len(won_opp), dtype=bool)
        first_win[1:] = won_opp[1:] != won_opp[:-1]
        outcome[np.flatnonzero(won)[~first_win]] = 4
        np.add.at(past_wins, ca[outcome == 3], 1)
        # the opportunity's status follows its referrals
        prio = np.array([2, 2, 0, 3, 1])[outcome]  # won 3 > pending/accepted 2 > lost 1 > declined 0
        best = np.full(O.m, -1, dtype=np.int64)
        np.maximum.at(best, opp, prio)
        st_of_prio = np.array([4, 3, 1, 2])  # closed, lost, referred, won
        has_ref = best[ref] >= 0
        status[ref] = np.where(has_ref, st_of_prio[np.maximum(best[ref], 0)], np.where(O.date[ref] > end - 45, 0, 4))
        out.append((opp, O.bringer[opp], ca, rdate, outcome))
    if out:
        opp, frm, to, rdate, outcome = (np.concatenate(x) for x in zip(*out))
    else:
        opp = frm = to = rdate = outcome = np.zeros(0, dtype=np.int64)
    order = np.lexsort((to, opp, rdate))
    return SimpleNamespace(opp=opp[order], frm=frm[order], to=to[order], date=rdate[order], outcome=outcome[order]), status
