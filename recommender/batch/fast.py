"""The batch job's compiled path: :func:`score_block` gives what ``MeetModel.score_block`` gives, faster.

The numpy path (:meth:`MeetModel.score_block <recommender.meet.model.MeetModel.score_block>`)
builds every candidate's features and then keeps the few that can reach the
top ``k``. Here a compiled kernel (:func:`recommender.batch.compiled.prune_block`)
walks each person's two hops and candidate pools once, with the same rules and
the same numbers, and bounds each candidate's log-odds; only the candidates
that may still reach the top ``k`` of their (person, group) go on to the very
numpy code ``recommend`` uses (``MeetModel._rank_candidates``: features,
profile similarity, scores, top ``k``, introducers). The kept set holds every
(person, group)'s top ``k`` with a margin, so the answer is the numpy path's:
ids, order, introducers, and scores (``tests/test_batch_fast.py`` checks it).

It is used when numba is installed, the ranker is linear and the model's
features are the ones the kernel knows (:data:`KERNEL_FEATURES`, the per-person
structural columns :data:`STRUCT_FEATURES`, which the kernel adds exactly, and
the rest) and the ranker gives the walk columns weight 0 (always above GLOBAL_MAX_N
people, where they are not computed); otherwise :func:`score_block` runs the numpy path.
:func:`path_taken` names the path (the batch job's summary shows it, each block
logs it at debug level and :data:`RUNS` counts the blocks of each). Numba is imported only here, never by
``fracnet meet``. Compiled code is cached on disk (``NUMBA_CACHE_DIR`` if set,
else beside the package if writable, else a temporary folder), so only the
first run on a machine compiles (~25 s of CPU).
"""

from __future__ import annotations

import collections
import logging
import threading

import numpy as np

from recommender.kernels import numba_cache_dir
from recommender.meet.candidates import tag_counts
from recommender.meet.features import FEATURE_NAMES, WALK_FEATURES, structure
from recommender.people import _GROUP_TABLE, GROUPS

#: Features :func:`~recommender.batch.compiled.prune_block` computes, in its order (the rest of FEATURE_NAMES
#: are ``katz`` and ``tag_sim``, bounded or zero, ``cand_activity`` and the group indicators).
KERNEL_FEATURES = ("cn", "jaccard", "aa", "ra", "pa", "complementarity", "specialty_affinity", "client_overlap",
                   "industry_overlap", "region_overlap", "icp_fit", "introducer_trust", "mutual_recency")
#: Per-person structural columns the kernel adds exactly (degrees, components, clustering, spectral embedding).
STRUCT_FEATURES = ("deg_min", "deg_max", "spec", "spec_cos", "same_component", "clust_min", "clust_max")
#: The rest; a model whose ranker weighs the walk columns (:data:`~recommender.meet.features.WALK_FEATURES`,
#: computed on networks of at most GLOBAL_MAX_N people) takes the numpy path (:func:`path_reason`).
_OTHERS = ("katz", "tag_sim", "cand_activity", "group_peer", "group_adjacent", "group_executive") + WALK_FEATURES

#: Slack on the bound (log-odds): far above rounding, far below any gap that matters; :func:`margin` adds
#: the rounding of large weights (a near-constant column can get a huge weight and intercept).
MARGIN = 1e-6


#: Columns whose transformed value is at most ``log 2`` (ratios, shares and indicators in [0, 1]).
_UNIT = ("jaccard", "same_component", "clust_min", "clust_max", "tag_sim", "complementarity", "client_overlap",
         "industry_overlap", "region_overlap", "icp_fit", "mutual_recency", "group_peer",
         "group_adjacent", "group_executive")


def margin(ctx, a: np.ndarray, c0: float) -> float:
    """The slack on the kernel's log-odds: :data:`MARGIN` plus 128 ulps of the largest sum the log-odds can reach.

    The kernel adds the same terms as the numpy code in another order, so the two differ by rounding: a few
    ulps (one per addition, on either side) of the partial sums' magnitude, at most ``|c0| + sum_j |a_j| T_j``
    with ``T_j`` above column j's transformed values: ``log 2`` for :data:`_UNIT` columns, 16 for the signed
    spectral ones (16 eigenvalues and embedding entries in [-1, 1]), else ``log1p`` of a bound on counts and
    products of a graph of ``nnz`` ties.
    """
    big = 2.0 * np.log1p(float(ctx.A.nnz) + len(ctx)) + 1.0
    T = np.array([np.log(2.0) if f in _UNIT else 16.0 if f in ("spec", "spec_cos") else big for f in FEATURE_NAMES])
    scale = abs(float(c0)) + float(np.abs(a) @ T)
    return MARGIN + 128.0 * np.finfo(np.float64).eps * scale


_LOG = logging.getLogger(__name__)
_LOCK = threading.Lock()
_COMPILED = None


def _cache_dir() -> None:
    """Point numba's cache at a writable folder before it is imported (:func:`recommender.kernels.numba_cache_dir`)."""
    numba_cache_dir(__file__)


def compiled():
    """The compiled kernels module, or None when numba is not installed."""
    global _COMPILED
    if _COMPILED is None:
        with _LOCK:
            if _COMPILED is None:
                _cache_dir()
                try:
                    from recommender.batch import compiled as mod
                except ImportError:
                    mod = False
                _COMPILED = mod
    return _COMPILED or None


def path_reason(model) -> str:
    """Why :func:`score_block` runs the numpy path for ``model`` ("" when it takes the compiled path)."""
    known = KERNEL_FEATURES + STRUCT_FEATURES + _OTHERS
    if set(FEATURE_NAMES) != set(known) or len(FEATURE_NAMES) != len(known):
        unknown = sorted(set(FEATURE_NAMES) - set(known))
        return f"feature columns the kernel does not know: {', '.join(unknown) or 'a changed set'}"
    if compiled() is None:
        return "numba is not installed"
    lin = model.ranker_.linear_form()
    if lin is None:
        return "the ranker is not linear"
    if np.any(lin[0][[FEATURE_NAMES.index(f) for f in WALK_FEATURES]] != 0):
        return "the ranker weighs the walk columns, which the kernel does not compute"
    ctx = model.context_
    if "compiled_ok" not in ctx._pools:
        try:
            _people_arrays(model, model._candidate_kw["n_pool"])
            ctx._pools["compiled_ok"] = True
        except ValueError:  # a count or code too large for the kernel's compact record
            ctx._pools["compiled_ok"] = False
    return "" if ctx._pools["compiled_ok"] else "a count or code too large for the kernel's record"


def usable(model) -> bool:
    """Whether :func:`score_block` takes the compiled path for ``model`` (numba, a linear ranker, known features)."""
    return not path_reason(model)


#: Blocks scored on each path in this process (``compiled``, ``numpy``): what the batch job and tests read.
RUNS = collections.Counter()


def path_taken(model) -> str:
    """``"compiled"`` or ``"numpy (<why>)"``: the path :func:`score_block` takes for ``model``."""
    why = path_reason(model)
    return f"numpy ({why})" if why else "compiled"


def _aligned(n: int, dtype: np.dtype) -> np.ndarray:
    """``np.zeros(n, dtype)`` starting on a 64-byte boundary (one record, one cache line)."""
    raw = np.zeros(n * dtype.itemsize + 64, np.uint8)
    off = (-raw.ctypes.data) % 64
    return raw[off:off + n * dtype.itemsize].view(dtype)


#: Degrees below this take their degree-only log-odds terms from a table of every pair (1 MB; hubs compute theirs).
DEGREE_TABLE = 256

#: Stamps an accumulator hands out before it starts again from 0 (they are stored as int32).
STAMP_LIMIT = 2**31 - 1


class _Scratch(threading.local):
    """Per-thread accumulators of the network's size for the kernels, kept between blocks (rows are marked
    with fresh stamps, so nothing needs clearing)."""

    def stamps(self, n: int, b: int, kind: str = "spa") -> tuple[np.ndarray, np.ndarray, int]:
        """The accumulator of ``kind``, a ``touched`` list and the first of ``b`` fresh stamps (not used since
        the accumulator was last cleared: once :data:`STAMP_LIMIT` stamps were given, it is cleared)."""
        nb = compiled()
        store = self.__dict__.setdefault("store", {})
        entry = store.get((kind, n))
        if entry is None:
            entry = store[(kind, n)] = [_aligned(n, nb.SPA if kind == "spa" else nb.REF), np.zeros(n, np.int64), 0]
            entry[2] = STAMP_LIMIT
        if entry[2] + b > STAMP_LIMIT:  # new, or out of stamps: every mark back to "never"
            if b > STAMP_LIMIT:
                raise ValueError(f"a block of {b:,} rows is more than the kernels' {STAMP_LIMIT:,} stamps")
            for f in nb.STAMPS[kind]:
                entry[0][f] = -1
            entry[2] = 0
        first = entry[2]
        entry[2] = first + b
        return entry[0], entry[1], first


_THREAD = _Scratch()


def graph_arrays(ctx) -> dict:
    """What the kernels read of a context's graph, in the kernels' types (built once, kept with its pools)."""
    if "compiled" not in ctx._pools:
        nbr = _aligned(len(ctx), compiled().NBR)
        nbr["start"], nbr["end"] = ctx.indptr64[:-1], ctx.indptr64[1:]
        nbr["inv_deg"], nbr["inv_log_deg"] = ctx.inv_deg, ctx.inv_log_deg
        nbr["l_ra"], nbr["l_aa"] = np.log1p(ctx.inv_deg), np.log1p(ctx.inv_log_deg)
        nbr["intro_ok"] = ctx.introducer_ok
        edges = np.empty(len(ctx.A.indices), compiled().EDGE)  # W and F are float32: the same values
        edges["col"], edges["w"], edges["f"] = ctx.A.indices, ctx.W.data, ctx.F.data
        ctx._pools["compiled"] = {
            "nbr": nbr, "edges": edges,
            "indptr": ctx.indptr64, "indices": ctx.A.indices, "inv_log_deg": ctx.inv_log_deg,  # the reference's
        }
    return ctx._pools["compiled"]


def structure_arrays(ctx) -> dict:
    """The context's per-person structure (:func:`~recommender.meet.features.structure`) in the kernel's types."""
    if "compiled_structure" not in ctx._pools:
        st = structure(ctx)
        n = len(ctx)
        clust = st["clustering"]
        ctx._pools["compiled_structure"] = {
            "component": np.ascontiguousarray(st["component"], dtype=np.int64),
            "log1p_clustering": np.zeros(n) if clust is None else np.log1p(np.asarray(clust, dtype=np.float64)),
            "vecs": np.ascontiguousarray(st["vecs"], dtype=np.float64),
            "vals": np.ascontiguousarray(st["vals"], dtype=np.float64),
            "norm": np.ascontiguousarray(st["norm"], dtype=np.float64),
            "has_clustering": clust is not None,
        }
    return ctx._pools["compiled_structure"]


def _people_arrays(model, n_pool: int) -> dict:
    """Person records, the candidate pools, profiles and log1p tables, as the kernel reads them (built once)."""
    ctx = model.context_
    key = ("compiled_people", n_pool)
    if key not in ctx._pools:
        nb = compiled()
        pool = ctx.pool_index(n_pool)
        rec = _aligned(len(ctx), nb.PERSON)
        parts = (ctx.S_bits, ctx.I_bits, ctx.Z_bits, ctx.G_bits)
        for f, bits in zip(("b_s", "b_i", "b_z", "b_g"), parts):
            rec[f] = bits[:, 0]
        for f, col in (("deg", ctx.deg), ("n_spec", ctx.n_spec), ("n_market", ctx.n_market), ("n_ind", ctx.n_ind),
                       ("n_reg", ctx.n_reg), ("tag_norm", ctx.tag_norm), ("log1p_act", np.log1p(ctx.activity)),
                       ("function", ctx.function), ("is_exec", ctx.is_exec), ("has_region", ctx.has_region),
                       ("never", ctx.never_suggested), ("active", ctx.active_mask(n_pool)),
                       ("p_start", ctx.profile.indptr[:-1]), ("p_len", np.diff(ctx.profile.indptr))):
            rec[f] = col
            if rec.dtype[f].kind in "fiu" and not np.array_equal(rec[f], col):
                raise ValueError(f"{f} does not fit the compiled kernel's record")  # usable() says no
        extra = np.ascontiguousarray(np.hstack([p[:, 1:] for p in parts]))
        P = ctx.profile
        l_int, l_ratio, l_comp = nb.log1p_tables(max(int(ctx.deg.max(initial=0)) + 2, 64), 64)
        ctx._pools[key] = {
            "person": rec, "extra": extra, "words": np.array([p.shape[1] for p in parts], np.int64),
            "affinity": np.ascontiguousarray(ctx.affinity, dtype=np.float64),
            "group_table": _GROUP_TABLE.astype(np.int64),
            "pt_indptr": pool["tags"].indptr.astype(np.int64), "pt_indices": pool["tags"].indices.astype(np.int64),
            "pool_indptr": pool["indptr"].astype(np.int64), "pool_members": pool["members"].astype(np.int64),
            "p_indices": P.indices.astype(np.int32),
            "p_data": P.data.astype(np.float64), "n_terms": int(P.shape[1]),
            "l_int": l_int, "l_ratio": l_ratio, "l_comp": l_comp,
        }
    return ctx._pools[key]


class _Kept:
    """The two-hop aggregates of the kept candidates, as ``MeetModel._rank_candidates`` reads a TwoHop."""

    def __init__(self, cn, aa, ra, trust, recency, intro):
        def pad(a, fill=0):  # a trailing entry: index -1 reads "no two-hop path"
            return np.r_[a, fill]

        self._cn, self._aa, self._ra = pad(cn), pad(aa), pad(ra)
        self._trust, self._recency = pad(trust), pad(recency)
        self._intro = pad(intro, -1).astype(np.int64)

    def introducers(self, idx: np.ndarray) -> np.ndarray:
        return self._intro[np.asarray(idx, dtype=np.int64)]


def prune(model, rows: np.ndarray, k: int, group: str) -> dict:
    """The compiled kernel on a block: the kept candidates and their aggregates (see :func:`compiled.prune_block`)."""
    nb = compiled()
    ctx = model.context_
    kw = model._candidate_kw
    a, c0 = model.ranker_.linear_form()
    col = {f: i for i, f in enumerate(FEATURE_NAMES)}
    coef = np.array([a[col[f]] for f in KERNEL_FEATURES], dtype=np.float64)
    coef_s = np.array([a[col[f]] for f in STRUCT_FEATURES], dtype=np.float64)
    s = structure_arrays(ctx)
    if not s["has_clustering"]:  # both clustering columns are 0, their terms 0: the kernel need not read them
        coef_s[[STRUCT_FEATURES.index("clust_min"), STRUCT_FEATURES.index("clust_max")]] = 0.0
    gconst = np.array([a[col[f]] for f in ("group_peer", "group_adjacent", "group_executive")]) * np.log(2.0)
    g = graph_arrays(ctx)
    p = _people_arrays(model, kw["n_pool"])
    n_tab = min(DEGREE_TABLE, len(p["l_int"]))
    key = ("degree_tables", n_tab, coef.tobytes(), coef_s.tobytes())
    if key not in ctx._pools:  # once per model: the degree-only terms of every pair of usual degrees
        ctx._pools[key] = nb.degree_tables(n_tab, coef, coef_s, p["l_int"], p["l_ratio"])
    t_pa, t_h1 = ctx._pools[key]
    spa, touched, stamp0 = _THREAD.stamps(len(ctx), len(rows))
    out = nb.prune_block(
        np.asarray(rows, dtype=np.int64), int(k), -1 if group == "all" else GROUPS.index(group),
        int(kw["max_two_hop"]), int(kw["n_similar"]), int(kw["n_market"]),
        g["nbr"], g["edges"], p["person"], p["extra"], p["words"], p["affinity"],
        p["group_table"], p["pt_indptr"], p["pt_indices"], p["pool_indptr"], p["pool_members"], p["p_indices"],
        p["p_data"], p["n_terms"],
        coef, float(c0), gconst, float(a[col["cand_activity"]]), float(a[col["tag_sim"]]), margin(ctx, a, c0),
        p["l_int"], p["l_ratio"], p["l_comp"], t_pa, t_h1,
        coef_s, s["component"], s["log1p_clustering"], s["vecs"], s["vals"], s["norm"], spa, touched, stamp0)
    names = ("row", "col", "group", "has_hop", "aggregates", "introducer", "tag_sim", "candidates", "warm")
    return dict(zip(names, out))


def score_block(model, rows: np.ndarray, k: int = 10, group: str = "all", stacked: bool = True):
    """``model.score_block(rows, k, group, introducers=True, katz=False)``, on the compiled path when usable.

    ``stacked=False``: on the compiled path the features come as :class:`~recommender.meet.scoring.KeptColumns`
    (the same values, a column at a time; the numpy path gives the matrix either way)."""
    rows = np.asarray(rows, dtype=np.int64)
    why = path_reason(model)
    if why or len(rows) == 0:
        if why:
            RUNS["numpy"] += 1
            _LOG.debug("batch meet block of %d rows on the numpy path: %s", len(rows), why)
        return model.score_block(rows, k=k, group=group, introducers=True, katz=False)
    RUNS["compiled"] += 1
    _LOG.debug("batch meet block of %d rows on the compiled path", len(rows))
    r = prune(model, rows, model.stage1_k(k), group)  # stage 1's top M when a stage 2 reranks them
    pr, pc = r["row"], r["col"]
    hop = _Kept(*r["aggregates"].T, r["introducer"])
    hidx = np.where(r["has_hop"], np.arange(len(pr)), -1)
    tags = tag_counts(model.context_, rows, pr, pc)
    tags["group"] = r["group"]
    return model._rank_candidates(rows, pr, pc, hop, hidx, tags, k, introducers=True, katz=False,
                                  tag_sim=r["tag_sim"], stacked=stacked)
