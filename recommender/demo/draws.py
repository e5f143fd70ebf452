"""Vectorised helpers of the generator: tag bit masks, weighted draws, row picks, CSR building.
"""

from __future__ import annotations

import numpy as np

from recommender.demo.vocab import _label, _list_phrase

_ONE = np.uint64(1)


def _bits(idx: np.ndarray) -> np.ndarray:
    """``1 << idx`` as uint64 (idx >= 0)."""
    return np.left_shift(_ONE, idx.astype(np.uint64))


def _mask_of(lists: np.ndarray) -> np.ndarray:
    """Bit masks of -1-padded index rows."""
    out = np.zeros(lists.shape[0], dtype=np.uint64)
    for j in range(lists.shape[1]):
        col = lists[:, j]
        sel = col >= 0
        out[sel] |= _bits(col[sel])
    return out


def _has(mask: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Whether bit ``idx`` is set in ``mask`` (idx < 0 gives False)."""
    ok = idx >= 0
    safe = np.where(ok, idx, 0).astype(np.uint64)
    return ok & ((np.right_shift(mask, safe) & _ONE) == _ONE)


def _popcount(mask: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(mask).astype(np.int64)
    m = mask.copy()
    c = np.zeros(m.shape, dtype=np.int64)
    while m.any():
        c += (m & _ONE).astype(np.int64)
        m >>= _ONE
    return c


def _mask_strings(mask: np.ndarray, tags: list[str], sep: str = ";", labels: bool = False) -> np.ndarray:
    """Each mask as a string of its tags in taxonomy order (computed once per distinct mask)."""
    uniq, inv = np.unique(mask, return_inverse=True)
    out = []
    for m in uniq.tolist():
        words = [tags[b] for b in range(len(tags)) if (m >> b) & 1]
        out.append(_list_phrase([_label(w) for w in words]) if labels else sep.join(words))
    return np.array(out, dtype=object)[inv.reshape(-1)]


def _pick_rows(rng, choices: np.ndarray, nchoices: np.ndarray, k: np.ndarray, kmax: int) -> np.ndarray:
    """Per row, ``k`` distinct entries of ``choices[:nchoices]``, -1 padded to ``kmax`` columns."""
    n, m = choices.shape
    col = np.arange(m)
    keys = rng.random((n, m), dtype=np.float32)
    keys[col[None, :] >= nchoices[:, None]] = 2.0
    order = np.argsort(keys, axis=1)[:, :kmax]
    picked = np.take_along_axis(choices, order, axis=1)
    if picked.shape[1] < kmax:
        picked = np.pad(picked, ((0, 0), (0, kmax - picked.shape[1])), constant_values=-1)
    picked[np.arange(kmax)[None, :] >= k[:, None]] = -1
    return picked


def _pick_random_entry(rng, lists: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """A random entry of each -1-padded row (rows with count 0 give -1)."""
    pos = (rng.random(len(counts)) * np.maximum(counts, 1)).astype(np.int64)
    out = lists[np.arange(len(counts)), np.minimum(pos, lists.shape[1] - 1)]
    return np.where(counts > 0, out, -1)


class _Groups:
    """Uniform sampling of a random member of a group, for many queries at once."""

    def __init__(self, keys: np.ndarray):
        idx = np.flatnonzero(keys >= 0)
        self.order = idx[np.argsort(keys[idx], kind="stable")]
        self.keys = keys[self.order]

    def sample(self, rng, query: np.ndarray) -> np.ndarray:
        if len(self.order) == 0:
            return np.full(len(query), -1, dtype=np.int64)
        lo = np.searchsorted(self.keys, query, "left")
        hi = np.searchsorted(self.keys, query, "right")
        cnt = hi - lo
        pos = np.minimum(lo + (rng.random(len(query)) * cnt).astype(np.int64), len(self.order) - 1)
        return np.where((cnt > 0) & (query >= 0), self.order[pos], -1)


def _pair_keys(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    lo = np.minimum(a, b).astype(np.int64)
    hi = np.maximum(a, b).astype(np.int64)
    return lo * n + hi


def _weighted_draw(rng, weights: np.ndarray, size: int) -> np.ndarray:
    cum = np.cumsum(weights, dtype=float)
    if size == 0 or cum[-1] <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.minimum(np.searchsorted(cum, rng.random(size) * cum[-1], "right"), len(weights) - 1)


def _gumbel(rng, shape) -> np.ndarray:
    return -np.log(-np.log(rng.random(shape) * (1 - 1e-12) + 1e-12))


def _csr(rows: np.ndarray, cols: np.ndarray, n: int, *data: np.ndarray, order_by: np.ndarray | None = None):
    """indptr, cols, data... of entries sorted by row (then by ``order_by``)."""
    order = np.argsort(rows, kind="stable") if order_by is None else np.lexsort((order_by, rows))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return (indptr, cols[order]) + tuple(d[order] for d in data)


def _expand(indptr: np.ndarray, rows: np.ndarray):
    """For each query row, all its entry positions: (query index, entry position)."""
    deg = indptr[rows + 1] - indptr[rows]
    total = int(deg.sum())
    q = np.repeat(np.arange(len(rows)), deg)
    starts = np.repeat(indptr[rows] - (np.cumsum(deg) - deg), deg)
    return q, starts + np.arange(total)
