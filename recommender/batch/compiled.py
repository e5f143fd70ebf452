"""Compiled (numba) kernels of the whole-network job: one pass per person over the graph, candidates and bounds.

Imported only by :mod:`recommender.batch.fast` (whole-network work), never by
``fracnet meet``: the single-person path stays in numpy, and the batch path's
answers are checked against it (``tests/test_batch*.py``).

:func:`prune_block` does, for each query person ``u`` of a block, what
:func:`~recommender.meet.twohop.two_hop_paths` and
:func:`~recommender.meet.candidates.block_candidates` do in numpy (the same
numbers, bit for bit: sums in the same order, the same ties), then bounds each
candidate's log-odds under the linear ranker (every feature but the profile
similarity, whose term lies in ``[0, a_tag log 2]``) and emits only the
candidates that may still reach the top ``k`` of their (person, group). The
exact scores of those few are then computed by the numpy feature code
(:func:`recommender.batch.fast.score_block`).

:func:`~recommender.batch.compiled_graph.two_hop_block` (the graph stage alone)
and the reference kernel live in :mod:`recommender.batch.compiled_graph` and
are re-exported here.

Every kernel takes its per-thread scratch arrays from the caller (a few arrays
of the network's size, reused from block to block, left clean), releases the
GIL and is cached on disk (``cache=True``; see :mod:`recommender.batch.fast`
for where the cache goes).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from recommender.batch.compiled_graph import (  # noqa: F401  (re-exported: the kernels in one namespace)
    EDGE, NBR, REF, SPA, STAMPS, _accumulate, _kth_insert, _popcount, _top_lowest, _topk_keep, reference_aa_topk,
    two_hop_block,
)

_NOGIL = {"nogil": True, "cache": True, "boundscheck": False}

#: Per person, what the kernels read of a candidate, in one 64-byte record (one cache line): the first 64-bit
#: word of each tag kind's bit mask (specialties, industries, size bands, regions; wider masks keep their other
#: words in a side array), where their profile row is (``p_start``, ``p_len`` entries), then the counts and flags.
PERSON = np.dtype([("b_s", "u8"), ("b_i", "u8"), ("b_z", "u8"), ("b_g", "u8"), ("log1p_act", "f8"),
                   ("deg", "f4"), ("tag_norm", "f4"), ("p_start", "i4"), ("p_len", "u2"), ("n_spec", "u1"),
                   ("n_market", "u1"), ("n_ind", "u1"), ("n_reg", "u1"), ("function", "i1"), ("is_exec", "?"),
                   ("has_region", "?"), ("never", "?"), ("active", "?")], align=True)

@njit(**_NOGIL)
def _group(group_table, ue, ve, fu, fv, sp_, nsu, nsv, ind, size):
    code = (int(ue) << 5) | (int(ve) << 4) | (int(fu == fv) << 3)
    code |= int(sp_ == nsu and sp_ == nsv) << 2
    code |= int(ind > 0 or size > 0) << 1
    code |= int(ind > 0)
    return group_table[code]


@njit(**_NOGIL)
def _tags(pu, pv, u, v, extra, words):
    """Shared specialties, industries, size bands and regions of u and v (first words inline, then any others)."""
    sp_ = _popcount(pu.b_s & pv.b_s)
    ind = _popcount(pu.b_i & pv.b_i)
    size = _popcount(pu.b_z & pv.b_z)
    reg = _popcount(pu.b_g & pv.b_g)
    if extra.shape[1]:
        o = 0
        for kind in range(4):
            for j in range(words[kind] - 1):
                c = _popcount(extra[u, o + j] & extra[v, o + j])
                if kind == 0:
                    sp_ += c
                elif kind == 1:
                    ind += c
                elif kind == 2:
                    size += c
                else:
                    reg += c
            o += words[kind] - 1
    return sp_, ind, size, reg


@njit(**_NOGIL)
def _spec_codes(pu, u, extra, words, out):
    """u's specialty codes, ascending, into ``out``; returns how many."""
    n = 0
    for w in range(words[0]):
        xb = pu.b_s if w == 0 else extra[u, w - 1]
        while xb:
            low = xb & (~xb + np.uint64(1))
            out[n] = w * 64 + _popcount(low - np.uint64(1))
            n += 1
            xb ^= low
    return n


@njit(**_NOGIL)
def _pool_buffers(cap):
    """A row's pool candidates: person, tag pre-score, fit, kept, tag counts, group; the three selections'
    entries and values; selection scratch."""
    return (np.empty(cap, np.int64), np.empty(cap, np.float64), np.empty(cap, np.float64), np.empty(cap, np.bool_),
            np.empty((cap, 4), np.int64), np.empty(cap, np.int8), np.empty((3, cap), np.int64),
            np.empty((3, cap), np.float64), np.empty(cap, np.bool_), np.empty(cap, np.float64))


@njit(**_NOGIL)
def _candidate_buffers(cap):
    """A row's candidates: person, lower bound, group, log-odds, profile similarity; those needing their profile
    similarity (position, profile row start and end)."""
    return (np.empty(cap, np.int64), np.empty(cap, np.float64), np.empty(cap, np.int8), np.empty(cap, np.float64),
            np.empty(cap, np.float64), np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.int64))


@njit(**_NOGIL)
def log1p_tables(max_int, max_ratio):
    """``log1p(i)`` for integers ``i < max_int``; ``log1p(a / b)`` and ``log1p(1 - a / b)`` for ``a, b < max_ratio``."""
    ints = np.empty(max_int)
    for i in range(max_int):
        ints[i] = np.log1p(np.float64(i))
    ratio = np.zeros((max_ratio, max_ratio))
    comp = np.zeros((max_ratio, max_ratio))
    for a in range(max_ratio):
        for b in range(1, max_ratio):
            ratio[a, b] = np.log1p(a / b)
            comp[a, b] = np.log1p(1.0 - a / b)
    return ints, ratio, comp


@njit(**_NOGIL)
def _degree_terms(du_i, dv_i, coef, coef_s, l_int, l_ratio):
    """The log-odds terms of two degrees alone: preferential attachment and the degree columns (as
    feature_columns computes them), and those of a single mutual contact (CN 1, Jaccard ``1 / (du + dv - 1)``)."""
    x = coef[4] * _log1p(np.float64(du_i) * np.float64(dv_i))
    if coef_s[0] != 0.0 or coef_s[1] != 0.0:  # degrees are whole numbers below the table's end
        d_lo, d_hi = min(du_i, dv_i), max(du_i, dv_i)
        x += coef_s[0] * (l_int[d_lo] if d_lo < len(l_int) else _log1p(np.float64(d_lo)))
        x += coef_s[1] * (l_int[d_hi] if d_hi < len(l_int) else _log1p(np.float64(d_hi)))
    un = max(du_i + dv_i - 1, 1)
    return x, coef[0] * l_int[1] + coef[1] * (l_ratio[1, un] if un < l_ratio.shape[0] else _log1p(1.0 / un))


@njit(**_NOGIL)
def degree_tables(n, coef, coef_s, l_int, l_ratio):
    """:func:`_degree_terms` of every pair of degrees below ``n`` (two (n, n) tables), for :func:`prune_block`."""
    t_pa, t_h1 = np.empty((n, n)), np.empty((n, n))
    for a in range(n):
        for b in range(n):
            t_pa[a, b], t_h1[a, b] = _degree_terms(a, b, coef, coef_s, l_int, l_ratio)
    return t_pa, t_h1


@njit(**_NOGIL)
def prune_block(rows, k, gcode, max_two_hop, n_similar, n_market,
                nbr, edges, person, extra, words, affinity,
                group_table, pt_indptr, pt_indices, pool_indptr, pool_members, p_indices, p_data,
                n_terms, coef, c0, gconst, a_act, a_tag, margin, l_int, l_ratio, l_comp, t_pa, t_h1,
                coef_s, s_comp, s_clust, s_vecs, s_vals, s_norm, spa, touched, stamp0):
    """Candidates of a block that may reach the top ``k`` of their (row, group) under the linear ranker.

    ``person`` holds :data:`PERSON` records (``extra``: the tag mask words
    past the first, ``words`` per kind), ``spa`` is :data:`SPA` scratch,
    ``p_indices``/``p_data`` the L2-normalised profile rows' entries (a person's from
    their record's ``p_start``, ``p_len`` of them). ``coef`` are the ranker's
    weights on ``log1p`` of the features in the order ``cn, jaccard, aa, ra,
    pa, complementarity, specialty_affinity, client_overlap, industry_overlap,
    region_overlap, icp_fit, introducer_trust, mutual_recency``; ``gconst``
    the log-odds of each group, ``a_act`` the weight of the candidate's
    activity, ``a_tag`` that of the profile similarity. ``l_*`` are
    :func:`log1p_tables`, ``t_*`` :func:`degree_tables`; ``nbr`` holds
    :data:`NBR` records (each person as a mutual contact), ``edges``
    :data:`EDGE` records (the ties, in CSR order).
    ``coef_s`` are the weights of the per-person structural columns ``deg_min,
    deg_max, spec, spec_cos, same_component, clust_min, clust_max`` (``spec``
    and ``spec_cos`` as they are, the others through ``log1p``; a zero weight
    skips its column), read from ``s_comp`` (component labels), ``s_clust``
    (``log1p`` of the clustering coefficients), ``s_vecs``/``s_vals``/``s_norm`` (the spectral
    embedding, its eigenvalues and row norms; no columns: the features are 0).

    Every candidate's log-odds without the profile term is bounded (that
    term lies between 0 and ``a_tag log 2``); those that may reach the
    ``k``-th lower bound of their (row, group) get their profile similarity
    and log-odds, and those within ``margin`` of the ``k``-th log-odds are
    returned: a superset of each (row, group)'s top ``k``. Comparisons go
    through the score (:func:`_sig`), as the numpy code ranks by it.

    Returns ``(pair_row, pair_col, group, has_hop, aggregates, introducer,
    tag_sim, n_candidates, warm)`` (``warm``: what the cache-warming passes read, of no
    meaning); ``aggregates`` holds each pair's CN, AA, RA, trust and
    recency (0 without a mutual contact), as :func:`two_hop_paths` gives them; ``tag_sim`` each pair's
    profile similarity, the same products summed in the same order as
    :func:`~recommender.meet.features.block_tag_similarity` (so the same number).
    """
    b = len(rows)
    kspec = affinity.shape[0]
    n_dim = s_vecs.shape[1]
    n_int = len(l_int)
    n_rat = l_ratio.shape[0]
    cap = 1024
    o_row = np.empty(cap, np.int64)
    o_col = np.empty(cap, np.int64)
    o_g = np.empty(cap, np.int8)
    o_hh = np.empty(cap, np.bool_)
    o_agg = np.empty((cap, 5), np.float64)  # cn, aa, ra, trust, recency
    o_in = np.empty(cap, np.int64)
    o_tag = np.empty(cap, np.float64)  # the profile similarity, summed as block_tag_similarity sums it
    m = 0
    n_cand = 0
    n_touch = len(touched)
    c2v = np.empty(n_touch, np.int64)  # two-hop candidates of the row
    c2r = np.empty(n_touch, np.float64)
    c2keep = np.empty(n_touch, np.bool_)
    c2tmp = np.empty(n_touch, np.float64)
    c2t = np.empty((n_touch, 4), np.int64)
    c2g = np.empty(n_touch, np.int8)
    cap_p = 1024
    pv, ptag, pfit, pkeep, pt4, pg, sub, vals, ks, tmp = _pool_buffers(cap_p)  # pool candidates of the row
    SL = np.zeros(kspec + 1)
    codes = np.empty(kspec + 1, np.int64)
    Q = np.zeros(n_terms)
    cap_c = 1024
    cv, lo, cg, sc, ct, dj, ds, de = _candidate_buffers(cap_c)  # all candidates of the row
    top = np.empty((3, max(k, 1)), np.float64)  # per group: the k largest bounds / log-odds so far
    ntop = np.zeros(3, np.int64)
    ng = np.zeros(3, np.int64)
    thr = np.empty(3, np.float64)
    sthr = np.empty(3, np.float64)
    n_tab = t_pa.shape[0]
    warm = 0  # what the cache-warming passes read (returned, so they are not optimised away)
    ln2 = np.log(2.0)
    tag_span_lo = min(a_tag, 0.0) * ln2
    tag_span = (max(a_tag, 0.0) - min(a_tag, 0.0)) * ln2
    for i in range(b):
        u = rows[i]
        stamp = stamp0 + i
        pu = person[u]
        fu = pu.function
        ue = pu.is_exec
        du_i = int(pu.deg)
        nsu = int(pu.n_spec)
        # ties of u (and u itself) are never candidates
        for e in range(nbr[u].start, nbr[u].end):
            spa[edges[e].col].tied = stamp
        spa[u].tied = stamp
        warm += _warm_paths(u, nbr, edges, spa, person)
        t = _accumulate(u, nbr, edges, stamp, spa, touched)
        # -- two hops in the wanted group(s): the best max_two_hop by resource allocation (ties: lowest position)
        n2 = np.int64(0)  # not a literal 0: numba would compile _top_lowest twice, for Literal[int](0) and int64
        if max_two_hop > 0:
            for j in range(t):
                v = touched[j]
                pv_ = person[v]
                if spa[v].tied == stamp or pv_.never:
                    continue
                sp_, ind, size, reg = _tags(pu, pv_, u, v, extra, words)
                g = _group(group_table, ue, pv_.is_exec, fu, pv_.function, sp_, nsu, pv_.n_spec, ind, size)
                if g < 0 or (gcode >= 0 and g != gcode):
                    continue
                c2v[n2] = v
                c2r[n2] = spa[v].ra
                c2t[n2, 0] = sp_
                c2t[n2, 1] = ind
                c2t[n2, 2] = size
                c2t[n2, 3] = reg
                c2g[n2] = g
                n2 += 1
        c2keep[:n2] = False
        _top_lowest(c2r, c2v, n2, max_two_hop, c2keep, c2tmp)
        n2k = 0
        for j in range(n2):
            if c2keep[j]:
                c2v[n2k] = c2v[j]
                for c in range(4):  # not c2t[n2k] = c2t[j]: see _grow
                    c2t[n2k, c] = c2t[j, c]
                c2g[n2k] = c2g[j]
                spa[c2v[j]].sel2 = stamp
                n2k += 1
        # -- pools: each member once, not tied, in the wanted group(s)
        tot = 0
        for q in range(pt_indptr[u], pt_indptr[u + 1]):
            tg = pt_indices[q]
            tot += pool_indptr[tg + 1] - pool_indptr[tg]
        if cap_p < tot:
            cap_p = 2 * tot
            pv, ptag, pfit, pkeep, pt4, pg, sub, vals, ks, tmp = _pool_buffers(cap_p)
        # a member of several pools counts at its last occurrence, as the numpy join keeps it: walk backwards,
        # keep the first seen, then reverse
        np_ = 0
        for q in range(pt_indptr[u + 1] - 1, pt_indptr[u] - 1, -1):
            tg = pt_indices[q]
            for e in range(pool_indptr[tg + 1] - 1, pool_indptr[tg] - 1, -1):
                v = pool_members[e]
                r = spa[v]
                if r.pool == stamp:
                    continue
                r.pool = stamp
                if r.tied == stamp:
                    continue
                pv_ = person[v]
                sp_, ind, size, reg = _tags(pu, pv_, u, v, extra, words)
                fv = pv_.function
                g = _group(group_table, ue, pv_.is_exec, fu, fv, sp_, nsu, pv_.n_spec, ind, size)
                if g < 0 or (gcode >= 0 and g != gcode):
                    continue
                same_fn = 1.0 if (fu == fv and fu >= 0) else 0.0
                dot = 9.0 * sp_ + 4.0 * ind + size + reg + same_fn
                den = np.sqrt(np.float64(pu.tag_norm) * np.float64(pv_.tag_norm))
                tag = dot / den if den > 0 else 0.0
                inter = np.float64(ind + size)
                union = np.float64(pu.n_market) + np.float64(pv_.n_market) - inter
                jac = inter / union if union > 0 else 0.0
                fit = (1.0 if ind > 0 else 0.0) + (1.0 if size > 0 else 0.0)
                fit = fit + 0.5 * (1.0 if reg > 0 else 0.0)
                fit = fit + 0.1 * jac
                fit = fit + 0.01 * tag
                pv[np_] = v
                ptag[np_] = tag
                pfit[np_] = fit
                pt4[np_, 0] = sp_
                pt4[np_, 1] = ind
                pt4[np_, 2] = size
                pt4[np_, 3] = reg
                pg[np_] = g
                np_ += 1
        for j in range(np_ // 2):
            j2 = np_ - 1 - j
            pv[j], pv[j2] = pv[j2], pv[j]
            ptag[j], ptag[j2] = ptag[j2], ptag[j]
            pfit[j], pfit[j2] = pfit[j2], pfit[j]
            pg[j], pg[j2] = pg[j2], pg[j]
            for c in range(4):
                pt4[j, c], pt4[j2, c] = pt4[j2, c], pt4[j, c]
        # top n_similar by the tag pre-score among tag > 0; top n_market by fit among (other function, not an
        # executive) and among executives, fit > 0; the network's most active people; in pool order
        pkeep[:np_] = False
        ns0 = ns1 = ns2 = np.int64(0)  # see n2; the three selections' entries, in one pass
        for j in range(np_):
            if ptag[j] > 0:
                sub[0, ns0] = j
                vals[0, ns0] = ptag[j]
                ns0 += 1
            if pfit[j] > 0:
                pv_ = person[pv[j]]
                if pv_.is_exec:
                    sub[2, ns2] = j
                    vals[2, ns2] = pfit[j]
                    ns2 += 1
                elif fu != pv_.function:
                    sub[1, ns1] = j
                    vals[1, ns1] = pfit[j]
                    ns1 += 1
        for which in range(3):
            ns = ns0 if which == 0 else ns1 if which == 1 else ns2
            ks[:ns] = False
            _topk_keep(vals[which], ns, n_similar if which == 0 else n_market, ks, tmp)
            for j in range(ns):
                if ks[j]:
                    pkeep[sub[which, j]] = True
        npk = 0
        for j in range(np_):
            v = pv[j]
            if (pkeep[j] or person[v].active) and spa[v].sel2 != stamp:
                pv[npk] = v
                for c in range(4):
                    pt4[npk, c] = pt4[j, c]
                pg[npk] = pg[j]
                npk += 1
        # -- bounds of every candidate's log-odds
        ntop[:] = 0
        ng[:] = 0
        nc = n2k + npk
        n_cand += nc
        if cap_c < nc:
            cap_c = 2 * nc
            cv, lo, cg, sc, ct, dj, ds, de = _candidate_buffers(cap_c)
        SL[:] = 0.0
        nu = _spec_codes(pu, u, extra, words, codes)
        for q in range(nu):  # u's specialties: the sum of their lift rows
            for cc in range(kspec):
                SL[cc] += affinity[codes[q], cc]
        for j in range(nc):
            if j < n2k:
                v = c2v[j]
                sp_, ind, size, reg = c2t[j, 0], c2t[j, 1], c2t[j, 2], c2t[j, 3]
                g = c2g[j]
            else:
                v = pv[j - n2k]
                sp_, ind, size, reg = pt4[j - n2k, 0], pt4[j - n2k, 1], pt4[j - n2k, 2], pt4[j - n2k, 3]
                g = pg[j - n2k]
            cv[j] = v
            cg[j] = g
            r = spa[v]
            pv_ = person[v]
            hh = r.seen == stamp
            dv_i = int(pv_.deg)
            fv = pv_.function
            ve = pv_.is_exec
            nsv = int(pv_.n_spec)
            # what the degrees alone give (:func:`degree_tables`, computed for the usual degrees once a model)
            if du_i < n_tab and dv_i < n_tab:
                x_pa, x_h1 = t_pa[du_i, dv_i], t_h1[du_i, dv_i]
            else:
                x_pa, x_h1 = _degree_terms(du_i, dv_i, coef, coef_s, l_int, l_ratio)
            part = c0 + gconst[g] + a_act * pv_.log1p_act + x_pa
            if hh:
                cn_i = int(r.cn)
                if cn_i == 1:  # one mutual contact: its own RA and AA weights, kept with the pair
                    part += x_h1 + coef[2] * r.laa + coef[3] * r.lra
                else:
                    part += coef[0] * (l_int[cn_i] if cn_i < n_int else _log1p(np.float64(cn_i)))
                    un = max(du_i + dv_i - cn_i, 1)
                    part += coef[1] * (l_ratio[cn_i, un] if (cn_i < n_rat and un < n_rat) else _log1p(cn_i / un))
                    part += coef[2] * _log1p(r.aa) + coef[3] * _log1p(r.ra)
                if r.tr > 0:
                    part += coef[11] * _log1p(np.float64(r.tr))
                if r.rc > 0:
                    part += coef[12] * _log1p(np.float64(r.rc))
            # the other structural columns: per-person lookups, as feature_columns computes them
            if coef_s[4] != 0.0 and (hh or s_comp[u] == s_comp[v]):  # a two-hop path: the same component
                part += coef_s[4] * ln2
            if coef_s[5] != 0.0:  # log1p is increasing: log1p(min) is the min of the log1p's
                part += coef_s[5] * min(s_clust[u], s_clust[v])
            if coef_s[6] != 0.0:
                part += coef_s[6] * max(s_clust[u], s_clust[v])
            if n_dim > 0 and (coef_s[2] != 0.0 or coef_s[3] != 0.0):
                sdot = 0.0
                sproj = 0.0
                for jj in range(n_dim):  # column by column, as feature_columns sums them
                    sp = s_vecs[u, jj] * s_vecs[v, jj]
                    sdot += s_vals[jj] * sp
                    sproj += sp
                part += coef_s[2] * sdot
                sden = s_norm[u] * s_norm[v]
                if sden > 0:
                    part += coef_s[3] * (sproj / sden)
            if fu == fv and fu >= 0 and not ue and not ve:  # complementarity: 1 - jaccard of the specialties
                den = nsu + nsv - sp_
                if den < 1:
                    den = 1
                part += coef[5] * (l_comp[sp_, den] if den < n_rat else _log1p(1.0 - sp_ / den))
            den = nsu * nsv
            if den > 0:
                num = 0.0  # v's specialties' lifts, ascending
                if extra.shape[1] == 0:  # one word of specialties: read its bits in place
                    xb = pv_.b_s
                    while xb:
                        low = xb & (~xb + np.uint64(1))
                        num += SL[_popcount(low - np.uint64(1))]
                        xb ^= low
                else:
                    for q in range(_spec_codes(pv_, v, extra, words, codes)):
                        num += SL[codes[q]]
                part += coef[6] * _log1p(num / den)
            both = ind + size
            d1 = int(pu.n_market) + int(pv_.n_market) - both
            d2 = int(pu.n_ind) + int(pv_.n_ind) - ind
            d3 = int(pu.n_reg) + int(pv_.n_reg) - reg
            d1 = max(d1, 1)
            d2 = max(d2, 1)
            d3 = max(d3, 1)
            part += coef[7] * (l_ratio[both, d1] if (both < n_rat and d1 < n_rat) else _log1p(both / d1))
            part += coef[8] * (l_ratio[ind, d2] if (ind < n_rat and d2 < n_rat) else _log1p(ind / d2))
            part += coef[9] * (l_ratio[reg, d3] if (reg < n_rat and d3 < n_rat) else _log1p(reg / d3))
            if ue != ve:
                region_ok = reg > 0 or not pu.has_region or not pv_.has_region
                icp = (1 if ind > 0 else 0) + (1 if size > 0 else 0) + (1 if region_ok else 0)
                part += coef[10] * l_ratio[icp, 3]
            lo[j] = part + tag_span_lo
            ng[g] += 1  # per group: the k-th largest lower bound so far
            ntop[g] = _kth_insert(top[g], ntop[g], k, lo[j])
        # the profile similarity of what may reach the k-th lower bound
        _thresholds(top, ntop, ng, k, margin, thr, sthr)
        for q in range(pu.p_start, pu.p_start + pu.p_len):
            Q[p_indices[q]] = p_data[q]
        # in three passes, so that the profile rows' misses overlap: which rows, a touch of their lines, the dots
        nd = 0
        for j in range(nc):
            if _below(lo[j] + tag_span + margin, thr[cg[j]], sthr[cg[j]]):
                sc[j] = -np.inf
                continue
            pv_ = person[cv[j]]  # in cache: the bound read it
            dj[nd] = j
            ds[nd] = pv_.p_start
            de[nd] = pv_.p_start + pv_.p_len
            nd += 1
        for d in range(nd):
            for q in range(ds[d], de[d], 8):  # eight 8-byte entries a cache line
                warm += p_indices[q] + int(p_data[q] > 0.0)
        for d in range(nd):
            dot = 0.0
            for q in range(ds[d], de[d]):
                dot += p_data[q] * Q[p_indices[q]]
            j = dj[d]
            ct[j] = dot
            sc[j] = lo[j] - tag_span_lo + a_tag * _log1p(dot)
        for q in range(pu.p_start, pu.p_start + pu.p_len):
            Q[p_indices[q]] = 0.0
        # per group: the k-th largest log-odds; keep what is within the margin of it
        ntop[:] = 0
        ng[:] = 0
        for d in range(nd):  # only those with a profile similarity (dj, in candidate order): the others' sc is -inf
            j = dj[d]
            if sc[j] > -np.inf:
                g = cg[j]
                ng[g] += 1
                ntop[g] = _kth_insert(top[g], ntop[g], k, sc[j])
        _thresholds(top, ntop, ng, k, margin, thr, sthr)
        for d in range(nd):
            j = dj[d]
            if sc[j] == -np.inf or _below(sc[j] + margin, thr[cg[j]], sthr[cg[j]]):
                continue
            if m == cap:
                cap *= 2
                o_row, o_col, o_g = _grow(o_row, cap), _grow(o_col, cap), _grow(o_g, cap)
                o_hh, o_in, o_tag = _grow(o_hh, cap), _grow(o_in, cap), _grow(o_tag, cap)
                agg = np.empty((cap, 5), np.float64)
                for q in range(m):
                    for c in range(5):
                        agg[q, c] = o_agg[q, c]
                o_agg = agg
            v = cv[j]
            r = spa[v]
            hh = r.seen == stamp
            o_row[m] = i
            o_col[m] = v
            o_g[m] = cg[j]
            o_hh[m] = hh
            o_tag[m] = ct[j]
            if hh:
                o_agg[m, 0] = np.float64(r.cn)
                o_agg[m, 1] = r.aa
                o_agg[m, 2] = r.ra
                o_agg[m, 3] = np.float64(r.tr)
                o_agg[m, 4] = np.float64(r.rc)
                o_in[m] = r.intro if r.tr > 0 else -1
            else:
                o_agg[m] = 0.0
                o_in[m] = -1
            m += 1
    return o_row[:m], o_col[:m], o_g[:m], o_hh[:m], o_agg[:m], o_in[:m], o_tag[:m], n_cand, warm


@njit(**_NOGIL)
def _warm_paths(u, nbr, edges, spa, person):
    """Read the accumulator and person records of everyone two hops from ``u`` in one tight loop, before the
    two-hop pass and the filtering use them: with no branch on what is read, many cache misses are in flight at
    once instead of one at a time. Returns what it read (so the reads are kept)."""
    acc = 0
    for e in range(nbr[u].start, nbr[u].end):
        nw = nbr[edges[e].col]
        for e2 in range(nw.start, nw.end):
            v = edges[e2].col
            acc += spa[v].seen + person[v].n_spec
    return acc


@njit(**_NOGIL)
def _sig(z):
    """The ranker's score of log-odds ``z`` (clipped at +-50): the kernel compares candidates as the numpy code
    does, so log-odds the score cannot tell apart (saturated, or within its rounding) count as tied."""
    z = min(max(z, -50.0), 50.0)
    return 1.0 / (1.0 + np.exp(-z))


@njit(**_NOGIL)
def _log1p(x):
    """``log1p(x)`` to a few ulps at half the cost of the library's (a logarithm and a division: the classic
    ``log(1 + x) x / ((1 + x) - 1)``, whose rounding errors cancel); the kernel's margin covers the difference."""
    w = 1.0 + x
    if w == 1.0:
        return x
    return np.log(w) * x / (w - 1.0)


@njit(**_NOGIL)
def _thresholds(top, ntop, ng, k, margin, thr, sthr):
    """Per group: ``thr`` the k-th largest value less ``margin`` (``-inf`` with at most ``k`` values; ``top``,
    ``ntop`` and ``ng`` as :func:`_kth_insert` left them, ``ng`` counting every value), ``sthr`` its score."""
    for g in range(3):
        thr[g] = top[g, k - 1] - margin if ng[g] > k else -np.inf
        sthr[g] = _sig(thr[g])


@njit(**_NOGIL)
def _below(x, y, sy):
    """``_sig(x) < sy`` with ``sy = _sig(y)``, without the exponential where the log-odds decide it: the score
    increases with the log-odds, and one unit of log-odds between -49 and 30 changes it far beyond rounding."""
    if x >= y:
        return False
    if -49.0 < y < 30.0 and x < y - 1.0:
        return True
    if -10.0 < y < 10.0 and x < y - 1e-6:  # the slope there: 1e-6 of log-odds is >= 1.7e-11 of score, >> rounding
        return True
    return _sig(x) < sy


@njit(**_NOGIL)
def _grow(a, cap):
    # element by element: a slice assignment compiles numba's broadcast checks (~5 s of a new machine's first compile)
    out = np.empty(cap, a.dtype)
    for q in range(len(a)):
        out[q] = a[q]
    return out
