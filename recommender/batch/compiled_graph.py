"""Compiled (numba) graph stage of the whole-network job: each person's two hops in one pass, and the reference.

:func:`two_hop_block` is the graph stage the batch job's kernel
(:func:`recommender.batch.compiled.prune_block`) runs for each person: every
path ``u - w - v`` accumulated per ``v`` (CN, RA and AA sums in the order the
numpy stage :func:`~recommender.meet.twohop.two_hop_paths` adds them, so the
same bits; max-min trust with its introducer, recency). :func:`reference_aa_topk`
is a plain compiled Adamic-Adar top-k two-hop kernel, the yardstick
``bench/batch.py`` compares the graph stage with. Both take per-thread scratch
(one record per person, marked with a fresh stamp per row, so never cleared),
release the GIL and are cached on disk.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_NOGIL = {"nogil": True, "cache": True, "boundscheck": False}

#: Per person, the per-row accumulator of the kernels (one cache line): stamps marking the row's two-hop
#: people, ties, pool members and two-hop candidates, then the two-hop aggregates, and the log1p of the AA and
#: RA weights of the first mutual contact (with one mutual contact, that pair's log1p(aa) and log1p(ra), read
#: here without a second lookup). Stamps are int32: :func:`~recommender.batch.fast._Scratch.stamps` starts them
#: again before they overflow.
SPA = np.dtype([("seen", "i4"), ("tied", "i4"), ("pool", "i4"), ("sel2", "i4"), ("ra", "f8"), ("aa", "f8"),
                ("laa", "f8"), ("lra", "f8"), ("tr", "f4"), ("rc", "f4"), ("cn", "i4"), ("intro", "i4")], align=True)

#: Per person, what the kernels read of them as a mutual contact ``w`` (one cache line, not seven arrays): where
#: their ties are (``start:end`` of the CSR), their RA and AA weights ``1 / d`` and ``1 / log d``, the
#: ``log1p`` of those, and whether they may introduce (1.0 or 0.0, float32 as the trust is).
NBR = np.dtype([("start", "i8"), ("end", "i8"), ("inv_deg", "f8"), ("inv_log_deg", "f8"), ("l_ra", "f8"),
                ("l_aa", "f8"), ("intro_ok", "f4"), ("_pad", "f4"), ("_pad2", "f8")], align=True)

#: Per directed tie (CSR order), what the two-hop pass reads of it in one 12-byte record: the other end, the
#: trust weight and the recency (three arrays read as one stream).
EDGE = np.dtype([("col", "i4"), ("w", "f4"), ("f", "f4")], align=True)

#: The stamp fields of each accumulator (set to -1 when it is made or started again).
STAMPS = {"spa": ("seen", "tied", "pool", "sel2"), "ref": ("seen",)}

#: The reference kernel's accumulator: a stamp and the Adamic-Adar sum.
REF = np.dtype([("seen", "i8"), ("acc", "f8")], align=True)


@njit(**_NOGIL)
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return int((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(**_NOGIL)
def _select(a, m):
    """The value ``np.partition(a, m)[m]`` (``a`` finite; reordered in place): Hoare's selection with a
    median-of-three pivot. numba's ``np.partition`` gives the same value but its generic implementation takes
    ~9 s of the kernels' first compile on a new machine; this takes a fraction of a second."""
    lo, hi = 0, len(a) - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        x, y, z = a[lo], a[mid], a[hi]
        p = max(min(x, y), min(max(x, y), z))
        i, j = lo, hi
        while i <= j:
            while a[i] < p:
                i += 1
            while a[j] > p:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if m <= j:
            hi = j
        elif m >= i:
            lo = i
        else:
            return a[m]
    return a[m]


@njit(**_NOGIL)
def _mark_above(vals, cnt, k, keep, tmp):
    """Mark in ``keep`` the entries of ``vals[:cnt]`` above its ``k``-th largest value (all of them, when at most
    ``k``); returns that value and how many of the entries equal to it are still wanted (0 when all were marked).
    ``tmp`` (at least ``cnt`` long) is the selection's scratch."""
    if k <= 0 or cnt == 0:
        return 0.0, 0
    if cnt <= k:
        for i in range(cnt):
            keep[i] = True
        return 0.0, 0
    for i in range(cnt):
        tmp[i] = vals[i]
    thr = _select(tmp[:cnt], cnt - k)
    need = k
    for i in range(cnt):
        if vals[i] > thr:
            keep[i] = True
            need -= 1
    return thr, need


@njit(**_NOGIL)
def _topk_keep(vals, cnt, k, keep, tmp):
    """``keep[:cnt]`` |= the ``k`` largest of ``vals[:cnt]``, ties at the k-th value to the earliest entries
    (``tmp``: scratch, at least ``cnt`` long)."""
    thr, need = _mark_above(vals, cnt, k, keep, tmp)
    for i in range(cnt):
        if need <= 0:
            break
        if vals[i] == thr:
            keep[i] = True
            need -= 1


@njit(**_NOGIL)
def _top_lowest(vals, ids, cnt, k, keep, tmp):
    """As :func:`_topk_keep`, ties at the k-th value to the lowest ``ids`` (distinct; entries in any order)."""
    thr, need = _mark_above(vals, cnt, k, keep, tmp)
    if need <= 0:
        return
    n_eq = 0
    for i in range(cnt):
        if vals[i] == thr:
            n_eq += 1
    # the ``need`` lowest ids of the tied entries (ids are distinct): those up to the need-th lowest, found by
    # selection (an argsort would add numba's sort to the first compile)
    tied = np.empty(n_eq, ids.dtype)
    q = 0
    for i in range(cnt):
        if vals[i] == thr:
            tied[q] = ids[i]
            q += 1
    cut = _select(tied, min(need, n_eq) - 1)
    for i in range(cnt):
        if vals[i] == thr and ids[i] <= cut:
            keep[i] = True


@njit(**_NOGIL)
def _kth_insert(top, n, k, x):
    """Add ``x`` to ``top[:n]`` (the ``k`` largest values seen so far, descending); returns the new count."""
    if n == k:
        if x <= top[k - 1]:
            return n
        j = k - 1
    else:
        j = n
        n += 1
    while j > 0 and top[j - 1] < x:
        top[j] = top[j - 1]
        j -= 1
    top[j] = x
    return n


@njit(**_NOGIL)
def _accumulate(u, nbr, edges, stamp, spa, touched):
    """Every path u - w - v: per v the count, RA and AA sums (ascending w, as numpy sums them), max-min trust
    (the first w reaching it) and recency, and the first w's log1p weights. Returns the number of people
    touched (``touched[:t]``). ``nbr`` holds :data:`NBR` records, ``edges`` :data:`EDGE` records."""
    t = 0
    nu = nbr[u]
    for e in range(nu.start, nu.end):
        ed = edges[e]
        w = ed.col
        nw = nbr[w]
        wt = ed.w * nw.intro_ok  # float32, as the numpy stage computes it
        wf = ed.f
        xr = nw.inv_deg
        xa = nw.inv_log_deg
        lr = nw.l_ra
        la = nw.l_aa
        for e2 in range(nw.start, nw.end):
            ed2 = edges[e2]
            v = ed2.col
            pt = min(wt, ed2.w)
            pf = min(wf, ed2.f)
            r = spa[v]
            if r.seen != stamp:
                r.seen = stamp
                touched[t] = v
                t += 1
                r.cn = 1
                r.ra = xr
                r.aa = xa
                r.lra = lr
                r.laa = la
                r.tr = pt
                r.rc = pf
                r.intro = w
            else:
                r.cn += 1
                r.ra += xr
                r.aa += xa
                if pt > r.tr:
                    r.tr = pt
                    r.intro = w
                if pf > r.rc:
                    r.rc = pf
    return t


@njit(**_NOGIL)
def two_hop_block(rows, nbr, edges, spa, touched, stamp0):
    """The graph stage of a block: per (row, person two hops away) CN, RA, AA, trust, recency and introducer.

    Returns ``(ptr, col, cn, ra, aa, trust, recency, introducer)``: the pairs of
    row ``i`` are ``ptr[i]:ptr[i + 1]`` (in the order they were reached; the
    row's own person and its ties included, as in
    :func:`~recommender.meet.twohop.two_hop_paths`).
    """
    b = len(rows)
    total = 0
    for i in range(b):
        u = rows[i]
        for e in range(nbr[u].start, nbr[u].end):
            w = edges[e].col
            total += nbr[w].end - nbr[w].start
    cap = max(total, 1)
    o_col = np.empty(cap, np.int64)
    o_cn = np.empty(cap, np.int32)
    o_ra = np.empty(cap, np.float64)
    o_aa = np.empty(cap, np.float64)
    o_tr = np.empty(cap, np.float32)
    o_rc = np.empty(cap, np.float32)
    o_in = np.empty(cap, np.int64)
    ptr = np.zeros(b + 1, np.int64)
    m = 0
    for i in range(b):
        t = _accumulate(rows[i], nbr, edges, stamp0 + i, spa, touched)
        for j in range(t):
            v = touched[j]
            r = spa[v]
            o_col[m] = v
            o_cn[m] = r.cn
            o_ra[m] = r.ra
            o_aa[m] = r.aa
            o_tr[m] = r.tr
            o_rc[m] = r.rc
            o_in[m] = r.intro if r.tr > 0 else -1
            m += 1
        ptr[i + 1] = m
    return ptr, o_col[:m], o_cn[:m], o_ra[:m], o_aa[:m], o_tr[:m], o_rc[:m], o_in[:m]


@njit(**_NOGIL)
def reference_aa_topk(rows, indptr, indices, inv_log_deg, k, ref, touched, stamp0):
    """The reference: plain Adamic-Adar over two-hop people (not tied, not self), top ``k`` per row.

    Returns ``(ptr, col, score)``; the benchmark's yardstick for the graph stage.
    """
    b = len(rows)
    o_col = np.empty(b * k, np.int64)
    o_sc = np.empty(b * k, np.float64)
    ptr = np.zeros(b + 1, np.int64)
    vals = np.empty(len(touched), np.float64)
    tmp = np.empty(len(touched), np.float64)
    keep = np.zeros(len(touched), np.bool_)
    m = 0
    for i in range(b):
        u = rows[i]
        stamp = stamp0 + i
        t = 0
        for e in range(indptr[u], indptr[u + 1]):
            w = indices[e]
            x = inv_log_deg[w]
            for e2 in range(indptr[w], indptr[w + 1]):
                r = ref[indices[e2]]
                if r.seen != stamp:
                    r.seen = stamp
                    touched[t] = indices[e2]
                    t += 1
                    r.acc = x
                else:
                    r.acc += x
        for e in range(indptr[u], indptr[u + 1]):  # ties and self are no candidates
            ref[indices[e]].acc = -1.0
        ref[u].acc = -1.0
        for j in range(t):
            vals[j] = ref[touched[j]].acc
            keep[j] = False
        _topk_keep(vals, t, k, keep, tmp)
        for j in range(t):
            if keep[j] and vals[j] >= 0:
                o_col[m] = touched[j]
                o_sc[m] = vals[j]
                m += 1
        ptr[i + 1] = m
    return ptr, o_col[:m], o_sc[:m]
