"""Groups and candidates: who is proposed to whom, in which of the three groups (:func:`candidate_pairs`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from recommender.kernels import _SCRATCH, _merge_rows, _ranges, _top_per_row
from recommender.meet.twohop import two_hop_paths
from recommender.people import _GROUP_TABLE, GROUPS

if TYPE_CHECKING:  # annotations only
    from recommender.meet.context import FeatureContext
    from recommender.meet.twohop import TwoHop


#: Cells of the per-thread scratch (int32) used for joins on a small column space; sized for the CPU cache.
_SCRATCH_JOIN = 1 << 20


#: Per-person integers read for every candidate, kept side by side in one record (:func:`person_attrs`).
_PERSON_ATTRS = ("deg", "recent", "function", "n_spec", "n_market", "n_ind", "n_reg", "is_exec", "has_region")


def _int_type(lo: int, hi: int) -> np.dtype:
    """The smallest signed integer type holding ``lo`` .. ``hi``."""
    for t in (np.int8, np.int16, np.int32):
        if np.iinfo(t).min <= lo and hi <= np.iinfo(t).max:
            return np.dtype(t)
    return np.dtype(np.int64)


def _person_table(ctx: FeatureContext) -> tuple[np.ndarray, np.ndarray]:
    """One record per person of :data:`_PERSON_ATTRS` and ``spec`` (specialty codes), and ``log1p`` of each count.

    Each field has the smallest integer type that holds it and the record is
    padded to 32 bytes where it fits (else a multiple of 32): numpy gathers
    records of 32 bytes or less with a fixed-size copy, more than twice as
    fast as wider ones. ``spec`` lists the person's specialty codes, padded
    with ``k`` (the number of specialties), which reads a column of zeros in
    :func:`_affinity`. ``recent`` is the count behind ``ctx.activity``
    (``log1p(recent)``); the second array maps a count to that value (None if
    that does not reproduce ``ctx.activity`` exactly), so a candidate's
    activity is read from the record.
    """
    if "person_table" not in ctx._pools:
        n = len(ctx)
        recent = np.rint(np.expm1(ctx.activity)).astype(np.int64)
        n_spec = ctx.n_spec_i.astype(np.int64)
        cols = dict(zip(_PERSON_ATTRS, (ctx.deg, recent, ctx.function, n_spec, ctx.n_market, ctx.n_ind, ctx.n_reg,
                                        ctx.is_exec, ctx.has_region)))
        cols = {name: np.asarray(c).astype(np.int64) for name, c in cols.items()}
        k = ctx.S.shape[1]
        width = int(n_spec.max(initial=0))
        fields = [(name, _int_type(int(c.min(initial=0)), int(c.max(initial=0)))) for name, c in cols.items()]
        fields.append(("spec", _int_type(0, k)))
        fields.sort(key=lambda f: -f[1].itemsize)  # widest first: every field aligned
        names, formats, offsets, at = [], [], [], 0
        for name, t in fields:
            names.append(name)
            formats.append((t, (width,)) if name == "spec" else t)
            offsets.append(at)
            at += t.itemsize * (width if name == "spec" else 1)
        dt = np.dtype({"names": names, "formats": formats, "offsets": offsets,
                       "itemsize": 32 if at <= 32 else -(-at // 32) * 32})
        table = np.zeros(n, dtype=dt)
        for name, c in cols.items():
            table[name] = c
        if width:
            spec = np.full((n, width), k, dtype=dt["spec"].base)
            S = ctx.S
            row = np.repeat(np.arange(n), n_spec)
            spec[row, np.arange(S.nnz) - S.indptr[row]] = S.indices
            table["spec"] = spec
        activity = np.log1p(np.arange(int(recent.max(initial=0)) + 1, dtype=float))
        if not np.array_equal(activity[recent], ctx.activity):  # not the context's numbers: read those
            activity = None
        ctx._pools["person_table"] = (table, activity)
    return ctx._pools["person_table"]


def _group_keys(ctx: FeatureContext) -> np.ndarray:
    """Per person, what :func:`_groups` reads of the candidate, packed in one integer (built once)."""
    if "group_keys" not in ctx._pools:
        keys = ((ctx.function.astype(np.int64) + 1) | (ctx.is_exec.astype(np.int64) << 16)
                | (ctx.n_spec_i.astype(np.int64) << 17))
        ctx._pools["group_keys"] = keys.astype(np.int32) if keys.max(initial=0) < 2**31 else keys
    return ctx._pools["group_keys"]


def person_attrs(ctx: FeatureContext, people: np.ndarray) -> dict:
    """:data:`_PERSON_ATTRS` and ``spec`` of ``people`` (positions), read with one gather of their records.

    Candidates are scattered over the network; reading one record per
    candidate costs one cache miss where separate arrays cost ten. The values
    are views of the gathered records (small integer types). ``activity``
    (float) is added, equal to ``ctx.activity[people]``.
    """
    table, activity = _person_table(ctx)
    rec = np.take(table, people)
    out = {name: rec[name] for name in table.dtype.names}
    out["activity"] = activity[out["recent"]] if activity is not None else ctx.activity[people]
    return out


def _groups(ctx: FeatureContext, u: np.ndarray, v: np.ndarray, ind: np.ndarray, size: np.ndarray,
            spec_inter: np.ndarray, vattr: dict | None = None) -> np.ndarray:
    """Group code (0 peers, 1 adjacent, 2 executives, -1 none) of pairs (u, v), by a table lookup.

    ``vattr`` is :func:`person_attrs` of ``v`` when already read.
    """
    fu = ctx.function[u]
    if vattr is None:  # one gather of a packed key: function + 1, is_exec, number of specialties
        gk = _group_keys(ctx)[v]
        fv, ev, nsv = (gk & 0xFFFF) - 1, (gk >> 16) & 1, gk >> 17
    else:
        fv, ev, nsv = vattr["function"], vattr["is_exec"], vattr["n_spec"]
    code = ctx.is_exec[u].astype(np.uint8) << 5
    code |= ev.astype(np.uint8) << 4
    code |= ((fu == fv).astype(np.uint8) << 3)  # both without a function count as the same
    code |= (((spec_inter == ctx.n_spec_i[u]) & (spec_inter == nsv)).astype(np.uint8) << 2)
    ind_pos = ind > 0
    code |= ((ind_pos | (size > 0)).astype(np.uint8) << 1)
    code |= ind_pos
    return _GROUP_TABLE[code]


_TAG_FIELDS = ("spec", "ind", "size", "reg")


def _tag_bits(ctx: FeatureContext) -> np.ndarray | None:
    """The four tag bit masks side by side, shape (n, 4) (one cache line per person), or None if wider.

    Built once per context (kept with its pools; :meth:`FeatureContext.pools`).
    """
    if "tag_bits" not in ctx._pools:
        parts = (ctx.S_bits, ctx.I_bits, ctx.Z_bits, ctx.G_bits)
        ctx._pools["tag_bits"] = (np.ascontiguousarray(np.hstack(parts))
                                  if all(p.shape[1] == 1 for p in parts) else None)
    return ctx._pools["tag_bits"]


def tag_counts(ctx: FeatureContext, rows: np.ndarray, pr: np.ndarray, pc: np.ndarray) -> dict:
    """Shared specialties, industries, size bands and regions of pairs (``rows[pr]``, ``pc``), as uint8."""
    bits = _tag_bits(ctx)
    if bits is not None:  # one gather per pair for all four fields
        shared = np.bitwise_count(np.take(bits[rows], pr, axis=0) & np.take(bits, pc, axis=0)).T.copy()
        return dict(zip(_TAG_FIELDS, shared))
    out = {}
    for name, bits in (("spec", ctx.S_bits), ("ind", ctx.I_bits), ("size", ctx.Z_bits), ("reg", ctx.G_bits)):
        br = bits[rows]
        if bits.shape[1] == 1:
            out[name] = np.bitwise_count(br[:, 0][pr] & bits[:, 0][pc])
        else:
            out[name] = np.bitwise_count(br[pr] & bits[pc]).sum(axis=1).astype(np.uint8)
    return out


def block_candidates(ctx: FeatureContext, rows: np.ndarray, hop: TwoHop, *, group: str = "all",
                     n_similar: int = 50, n_market: int = 50, max_two_hop: int = 400, n_pool: int = 64):
    """Candidates of a block, grouped by row (see :func:`candidate_pairs`), with their two-hop index.

    Returns
    -------
    pair_row, pair_col, hop_index : ndarray of int, shape (m,)
        Grouped by row (within a row: two-hop candidates by person, then
        pool candidates); ``hop_index`` points into ``hop`` (-1: no mutual
        contact).
    tags : dict
        :func:`tag_counts` of the pairs.
    """
    rows = np.asarray(rows, dtype=np.int64)
    b = len(rows)
    e = np.zeros(0, np.int64)
    if b == 0 or len(ctx) == 0:
        return e, e, e, tag_counts(ctx, rows, e, e)
    gcode = None if group == "all" else GROUPS.index(group)

    def in_group(r, c, tg, va=None):
        g = _groups(ctx, rows[r], c, tg["ind"], tg["size"], tg["spec"], va)
        tg["group"] = g
        return np.flatnonzero(g >= 0 if gcode is None else g == gcode)

    # -- two hops in the wanted group(s): the best ``max_two_hop`` per row by resource allocation
    i2 = np.flatnonzero(~hop.tied & ~ctx.opt_out[hop.col]) if max_two_hop else e
    tags2 = tag_counts(ctx, rows, hop.row[i2], hop.col[i2])
    j = in_group(hop.row[i2], hop.col[i2], tags2)
    i2 = i2[j]
    tags2 = {k: v[j] for k, v in tags2.items()}
    j = _top_per_row(hop.row[i2], hop.ra[i2], max_two_hop, b) if len(i2) else np.zeros(0, bool)
    sel2 = i2[j]
    tags2 = {k: v[j] for k, v in tags2.items()}
    r2, c2 = hop.row[sel2], hop.col[sel2]

    # -- pools: people in the same market / specialty, deduplicated and joined to ``hop``
    pool = ctx.pool_index(n_pool)
    pr, pc = _expand(pool["tags"], rows, pool["indptr"], pool["members"])
    hidx = e
    tagsp = {k: v[:0] for k, v in tags2.items()}
    if len(pr):
        hidx, first, tied = _join_pool(ctx, rows, hop, pool, pr, pc)
        idx = np.flatnonzero(first & ~tied & (pc != rows[pr]))
        pr, pc, hidx = pr[idx], pc[idx], hidx[idx]
        tg = tag_counts(ctx, rows, pr, pc)
        va = person_attrs(ctx, pc)
        idx = in_group(pr, pc, tg, va)
        pr, pc, hidx = pr[idx], pc[idx], hidx[idx]
        tg = {k: v[idx] for k, v in tg.items()}
        va = {k: va[k][idx] for k in ("function", "n_spec", "n_ind", "n_market", "n_reg", "has_region", "is_exec")}
        spec, ind, size, reg = (tg[k].astype(float) for k in ("spec", "ind", "size", "reg"))
        u = rows[pr]
        fu, fv = ctx.function[u], va["function"]
        same_fn = (fu == fv) & (fu >= 0)
        norm = ctx.tag_norm
        # the candidate's squared tag norm, as FeatureContext.tag_norm computes it
        norm_v = (9.0 * va["n_spec"].astype(float) + 4.0 * va["n_ind"] + (va["n_market"] - va["n_ind"].astype(float))
                  + va["n_reg"] + (fv >= 0))
        dot = 9.0 * spec + 4.0 * ind + size + reg + same_fn
        den = np.sqrt(norm[u] * norm_v)
        tag = np.divide(dot, den, out=np.zeros(len(dot)), where=den > 0)
        keep = np.zeros(len(pr), dtype=bool)
        j = np.flatnonzero(tag > 0)
        keep[j[_top_per_row(pr[j], tag[j], n_similar, b)]] = True
        inter = ind + size
        union = ctx.n_market[u] + va["n_market"] - inter
        jac = np.divide(inter, union, out=np.zeros(len(inter)), where=union > 0)
        fit = (ind > 0).astype(float) + (size > 0) + 0.5 * (reg > 0) + 0.1 * jac + 0.01 * tag
        ve = va["is_exec"].astype(bool)
        for mask in (~ve & (fu != fv), ve):
            j = np.flatnonzero(mask & (fit > 0))
            if len(j):
                keep[j[_top_per_row(pr[j], fit[j], n_market, b)]] = True
        keep |= ctx.active_mask(n_pool)[pc]  # the network's most active people, for everyone
        in_sel2 = np.zeros(len(hop) + 1, dtype=bool)
        in_sel2[sel2] = True
        keep &= ~in_sel2[hidx]  # already a two-hop candidate
        j = np.flatnonzero(keep)
        pr, pc, hidx = pr[j], pc[j], hidx[j]
        tagsp = {k: v[j] for k, v in tg.items()}
    # -- merge, grouped by row: two-hop candidates first; keep pairs in the wanted group(s)
    pos_a, pos_b = _merge_rows(r2, pr, b)
    m = len(sel2) + len(pr)

    def merged(a, bb):
        out = np.empty(m, dtype=np.result_type(a, bb))
        out[pos_a] = a
        out[pos_b] = bb
        return out

    out_r, out_c, out_h = merged(r2, pr), merged(c2, pc), merged(sel2, hidx)
    return out_r, out_c, out_h, {k: merged(tags2[k], tagsp[k]) for k in tags2}


def _expand(M: sp.csr_matrix, rows: np.ndarray, indptr: np.ndarray, indices: np.ndarray):
    """(block row, member) for every pool of every pool tag of each row, grouped by row."""
    s = M.indptr[rows].astype(np.int64)
    c = M.indptr[rows + 1].astype(np.int64) - s
    r1 = np.repeat(np.arange(len(rows), dtype=np.int64), c)
    tags = M.indices[_ranges(s, c)].astype(np.int64)
    s2 = indptr[tags]
    c2 = indptr[tags + 1] - s2
    return np.repeat(r1, c2), indices[_ranges(s2, c2)]


def _join_pool(ctx: FeatureContext, rows: np.ndarray, hop: TwoHop, pool: dict, pr: np.ndarray, pc: np.ndarray):
    """For pool pairs (grouped by row): their ``hop`` index (-1 none), first occurrence, and tie flags.

    Pool members are few (a compact index), so a per-thread scratch of
    (rows x members) cells, small enough for the CPU cache, replaces any sort.
    """
    b = len(rows)
    compact = pool["compact"]
    npp = max(int(pool["n_members"]), 1)
    step = max(1, _SCRATCH_JOIN // npp)
    scr = _SCRATCH.get(step * npp)
    cid = compact[pc].astype(np.int64)
    # hop entries and ties whose person is a pool member
    hc = compact[hop.col]
    hsel = np.flatnonzero(hc >= 0)
    A = ctx.A
    s1 = ctx.indptr64[rows]
    c1 = ctx.indptr64[rows + 1] - s1
    t_row = np.repeat(np.arange(b, dtype=np.int64), c1)
    t_c = compact[A.indices[_ranges(s1, c1)]]
    tsel = np.flatnonzero(t_c >= 0)
    t_row, t_c = t_row[tsel], t_c[tsel].astype(np.int64)
    h_row, h_c = hop.row[hsel], hc[hsel].astype(np.int64)
    bounds = np.arange(0, b + step, step)
    bp = np.searchsorted(pr, bounds)
    bh = np.searchsorted(h_row, bounds)
    bt = np.searchsorted(t_row, bounds)
    hidx = np.full(len(pr), -1, dtype=np.int64)
    tied = np.zeros(len(pr), dtype=bool)
    first = np.zeros(len(pr), dtype=bool)
    for j in range(len(bounds) - 1):
        p0, p1 = bp[j], bp[j + 1]
        if p0 == p1:
            continue
        r0 = bounds[j]
        kp = (pr[p0:p1] - r0) * npp + cid[p0:p1]
        kt = (t_row[bt[j]:bt[j + 1]] - r0) * npp + t_c[bt[j]:bt[j + 1]]
        kh = (h_row[bh[j]:bh[j + 1]] - r0) * npp + h_c[bh[j]:bh[j + 1]]
        # ties
        scr[kt] = 0
        tied[p0:p1] = scr[kp] == 0
        scr[kt] = -1
        # two-hop entries
        scr[kh] = hsel[bh[j]:bh[j + 1]]
        hidx[p0:p1] = scr[kp]
        scr[kh] = -1
        # first occurrence of each pool pair
        scr[kp] = np.arange(p1 - p0, dtype=np.int32)
        first[p0:p1] = scr[kp] == np.arange(p1 - p0)
        scr[kp] = -1
    return hidx, first, tied


def candidate_pairs(ctx: FeatureContext, rows: np.ndarray, *, group: str = "all", n_similar: int = 50,
                    n_market: int = 50, max_two_hop: int = 400, n_pool: int = 64, hop: "TwoHop | None" = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Candidates for each query row of a block.

    Work per row is bounded by the row's neighbourhood and the pool size,
    never by the network: two-hop people come from :func:`two_hop_paths`;
    profile and market candidates come from the static pools of
    :meth:`FeatureContext.pools` (per market industry, size band and specialty),
    pre-scored with tag bit masks.

    Parameters
    ----------
    ctx : FeatureContext
    rows : ndarray of int, shape (b,)
        Positions of the query people.
    group : {"all", "peers", "adjacent", "executives"}
    n_similar : int
        Per row, the pool members in the requested group(s) with the most
        similar tags (weighted cosine of specialties, industries, size bands,
        regions and function).
    n_market : int
        Per row, the fractionals of another function and the executives with
        the best market match.
    max_two_hop : int
        At most this many two-hop people per row (highest resource allocation
        among those in the requested group(s)).
    n_pool : int
        Pool size per industry and specialty.
    hop : TwoHop, optional
        :func:`two_hop_paths` of ``rows`` if already computed.

    Returns
    -------
    pair_row, pair_col : ndarray of int, shape (m,)
        ``pair_row`` indexes ``rows`` (the block), ``pair_col`` is a person
        position. Sorted by (row, person); no self, tie, opted-out person or
        pair outside the requested group(s).
    """
    rows = np.asarray(rows, dtype=np.int64)
    hop = two_hop_paths(ctx, rows) if hop is None else hop
    pr, pc, _, _ = block_candidates(ctx, rows, hop, group=group, n_similar=n_similar, n_market=n_market,
                                 max_two_hop=max_two_hop, n_pool=n_pool)
    o = np.lexsort((pc, pr))
    return pr[o], pc[o]


def _tied(ctx: FeatureContext, rows: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Whether each ``key = block_row * n + person`` is an existing tie."""
    n = len(ctx)
    s = ctx.indptr64[rows]
    c = ctx.indptr64[rows + 1] - s
    tie_keys = np.repeat(np.arange(len(rows), dtype=np.int64), c) * n + ctx.A.indices[_ranges(s, c)]
    if len(tie_keys) == 0 or len(keys) == 0:
        return np.zeros(len(keys), bool)
    pos = np.minimum(np.searchsorted(tie_keys, keys), len(tie_keys) - 1)  # rows ascending, A rows sorted
    return tie_keys[pos] == keys
