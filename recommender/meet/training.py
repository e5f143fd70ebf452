"""History -> training rows for the pair ranker: pairs formed after a cut, labelled among the candidates of that date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recommender.meet.candidates import candidate_pairs
from recommender.meet.context import build_context
from recommender.meet.features import FEATURE_NAMES, pair_features
from recommender.meet.twohop import two_hop_paths
from recommender.memory import release_freed_memory
from recommender.network import Network, TieTable, parse_as_of
from recommender.kernels import sorted_unique


def formed_pairs(net: Network, after, until=None) -> pd.DataFrame:
    """Pairs who became connected in ``(after, until]``: new ties and connected introductions.

    Returns a frame ``a, b, date`` with ``a < b``, one row per pair (earliest date).
    """
    lo = parse_as_of(after)
    hi = parse_as_of(until)
    t = net.ties[["a", "b", "since"]].rename(columns={"since": "date"})
    i = net.introductions[net.introductions["outcome"] == "connected"][["a", "b", "date"]]
    df = pd.concat([t, i], ignore_index=True).dropna(subset=["a", "b", "date"])
    df = df[df["date"] > lo] if lo else df
    df = df[df["date"] <= hi] if hi else df
    a = df[["a", "b"]].astype(str).min(axis=1)
    b = df[["a", "b"]].astype(str).max(axis=1)
    out = pd.DataFrame({"a": a, "b": b, "date": df["date"].astype(str)})
    out = out[out["a"] != out["b"]]
    return out.sort_values(["a", "b", "date"]).drop_duplicates(["a", "b"]).reset_index(drop=True)


@dataclass
class TrainingSet:
    """Rows for the ranker: features ``X`` (m, F), labels ``y`` (m,), query ids ``qid`` (m,)."""

    X: np.ndarray
    y: np.ndarray
    qid: np.ndarray
    cutoffs: list
    queries: int = 0  # people queried (sampled) ...
    queriers: int = 0  # ... of the people who formed a pair in the windows (or had a tie hidden) used
    hidden: np.ndarray | None = None  # rows of net.ties the holdouts hid (their union), for a holdout set

    @property
    def n_positive(self) -> int:
        return int(self.y.sum())


def history_span(net: Network) -> tuple[str | None, str | None]:
    """Earliest and latest date of ties (``since``) and introductions."""
    d = pd.concat([net.ties["since"], net.introductions["date"]]).dropna().astype(str)
    if d.empty:
        return None, None
    return d.min(), d.max()


def query_pairs(ctx, net: Network, after: str, until: str | None, ties=None):
    """Query rows and their positive pairs (as person positions) for a label window.

    Pairs already tied at ``ctx.as_of`` or involving an opted-out person are dropped.
    ``ties`` is a :class:`~recommender.network.TieTable` of ``net`` on ``ctx.ids``
    when already computed (the same pairs as :func:`formed_pairs`, from arrays).
    """
    if ties is not None and ties.source is net.ties and (ties.ids is ctx.ids or np.array_equal(ties.ids, ctx.ids)):
        lo, hi = parse_as_of(after), parse_as_of(until)
        t = ties.named & ties.since.within(lo, hi)
        i = ties.intro_date.within(lo, hi)
        ia = np.r_[ties.a[t], ties.intro_a[i]].astype(np.int64)
        ib = np.r_[ties.b[t], ties.intro_b[i]].astype(np.int64)
        ok = (ia >= 0) & (ib >= 0) & (ia != ib)
        ia, ib = ia[ok], ib[ok]
    else:
        pos = pd.Series(np.arange(len(ctx)), index=ctx.ids)
        f = formed_pairs(net, after, until)
        ia = pos.reindex(f["a"]).to_numpy()
        ib = pos.reindex(f["b"]).to_numpy()
        ok = ~(np.isnan(ia) | np.isnan(ib))
        ia, ib = ia[ok].astype(np.int64), ib[ok].astype(np.int64)
    tied = np.asarray(ctx.A[ia, ib]).ravel() > 0 if len(ia) else np.zeros(0, bool)
    keep = ~tied & ~ctx.opt_out[ia] & ~ctx.opt_out[ib]
    ia, ib = ia[keep], ib[keep]
    u = np.r_[ia, ib]
    v = np.r_[ib, ia]
    return u, v


def label_candidates(ctx, rows, pr, pc, pos_u, pos_v) -> np.ndarray:
    """1 where (rows[pr], pc) is a positive pair, else 0."""
    n = len(ctx)
    pos_keys = np.unique(pos_u.astype(np.int64) * n + pos_v)
    keys = rows[pr].astype(np.int64) * n + pc
    return np.isin(keys, pos_keys).astype(np.int64)


#: A training window's (or a holdout's) rows: every candidate of each queried person is a row while the queries
#: hold at most about this many; past it, each query keeps all its positives and a random sample of its negatives
#: (:func:`negatives_per_query`, :func:`keep_rows`). A sample of the negatives is a cost measure, not a better
#: fit: it draws noise into the fit and the rows drift from the candidates the answer ranks (learning from its
#: history alone, the bundled sample's replay gave recall@10 0.257 to 0.262 by the model's seed with 100
#: negatives sampled, 0.265 at every seed with every candidate).
ROW_BUDGET = 60_000


def negatives_per_query(n_queries: int, max_negatives: int = 100) -> int:
    """How many negative candidates each of ``n_queries`` queries keeps: ``max_negatives``, or more while
    ``n_queries`` queries of that many stay within :data:`ROW_BUDGET` rows (a small network keeps every candidate).

    >>> negatives_per_query(300), negatives_per_query(2000)
    (200, 100)
    """
    return max(int(max_negatives), int(ROW_BUDGET) // max(int(n_queries), 1))


def keep_rows(pr: np.ndarray, y: np.ndarray, noise: np.ndarray, n_rows: int, cap: int) -> np.ndarray:
    """The training rows kept of a block's candidates: sorted indices into them.

    ``pr`` (m,) is each candidate's query (0 .. ``n_rows`` - 1), ``y`` its label, ``noise`` the random order
    negatives are drawn in. A query with no positive keeps nothing; one with positives keeps all of them and
    ``cap`` of its negatives (all, when it has fewer), first by ``noise``.

    >>> keep_rows(np.array([0, 0, 0, 0, 1, 1]), np.array([1, 0, 0, 0, 0, 0]), np.array([.1, .4, .3, .2, .5, .6]),
    ...           2, cap=2).tolist()
    [0, 2, 3]
    """
    order = np.lexsort((noise, -y, pr))
    pr_s = pr[order]
    first = np.r_[0, np.flatnonzero(pr_s[1:] != pr_s[:-1]) + 1]
    rank = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
    npos = np.bincount(pr, weights=y, minlength=n_rows).astype(np.int64)
    keep = np.sort(order[rank < npos[pr_s] + cap])
    return keep[npos[pr[keep]] > 0]


def _label(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """1 where ``keys`` occur in ``sorted_keys`` (sorted, unique), else 0."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), np.int64)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return (sorted_keys[pos] == keys).astype(np.int64)


def build_training_set(net: Network, end=None, *, profile=None, horizon_days: int = 180, n_windows: int = 3,
                       max_queries: int = 2000, max_negatives: int = 100, block_size: int = 256,
                       random_state: int = 0, candidate_kw: dict | None = None, people=None,
                       enough_positives: int | None = None, ties: TieTable | None = None,
                       time_scale: float | None = None, katz: bool = True, executor=None) -> TrainingSet:
    """Training rows from the history before ``end`` (default: the latest date).

    For ``i = 1 .. n_windows``, the cutoff ``end - i * horizon_days`` gives
    features (graph as of the cutoff) and the pairs formed in the following
    ``horizon_days`` give labels. Only people who formed a pair in the window
    are queried (at most ``max_queries``, sampled); each keeps all its
    positive candidates and its negative ones: all of them while the window's
    queries stay within :data:`ROW_BUDGET` rows, else ``max_negatives`` sampled
    (:func:`negatives_per_query`). Queries are processed ``block_size`` at a time, bounding memory.

    ``people`` is the :func:`~recommender.meet.features.encode_people` of ``net``
    and ``ties`` its :class:`~recommender.network.TieTable`, if already computed
    (they are shared by every window). With
    ``enough_positives``, older windows are skipped once that many positive
    rows were collected; and a window with more querying people than
    ``max_queries`` (a big network) that gave fewer positives samples more of
    its people (at most ``n_windows * max_queries`` in all) instead of
    encoding the graph as of an older cutoff: one graph of the network instead
    of several, for as many training rows. ``katz`` False leaves that column 0
    (a ranker that gives it no weight). ``executor`` is an idle worker thread, if
    any: it finds the next block's candidates while a block's features are
    computed (the same rows).

    ``TrainingSet.queries`` counts the people queried and ``TrainingSet.queriers``
    the people who formed a pair in the windows used (the sample's population).
    """
    from recommender.people import encode_people

    if ties is None or ties.source is not net.ties:
        ids = people.ids if people is not None else net.people["id"].astype(str).to_numpy()
        ties = TieTable.encode(net, ids)  # every window is a date filter of it
    start, last = ties.span
    end = parse_as_of(end) or last
    rng = np.random.default_rng(random_state)
    Xs, ys, qs, cuts = [], [], [], []
    asked = available = 0
    if end is None:
        return TrainingSet(np.zeros((0, len(FEATURE_NAMES))), np.zeros(0, np.int64), np.zeros(0, np.int64), [])
    enc = None
    for i in range(1, n_windows + 1):
        if enough_positives and sum(int(y.sum()) for y in ys) >= enough_positives:
            break
        cut = (pd.Timestamp(end) - pd.Timedelta(days=i * horizon_days)).strftime("%Y-%m-%d")
        if start is None or cut <= start:
            break
        hi = (pd.Timestamp(cut) + pd.Timedelta(days=horizon_days)).strftime("%Y-%m-%d")
        hi = min(hi, end)
        if enc is None:
            enc = people if people is not None else encode_people(net, profile)
        ctx = None  # the previous window's graph can go before this one is built
        ctx = build_context(net, profile, as_of=cut, people=enc, ties=ties, time_scale=time_scale)
        release_freed_memory()  # the graph's temporaries (at 1M people, several arrays of 20M directed ties)
        pu, pv = query_pairs(ctx, net, cut, hi, ties=ties)
        pos_keys = sorted_unique(pu.astype(np.int64) * len(ctx) + pv)
        everyone = queries = sorted_unique(pu)
        if len(queries) > max_queries:
            queries = np.sort(rng.choice(queries, max_queries, replace=False))
        if len(queries) == 0:
            continue
        cuts.append(cut)
        available += len(everyone)
        rows_of = dict(rng=rng, cap=negatives_per_query(len(queries), max_negatives), block_size=block_size,
                       candidate_kw=candidate_kw, katz=katz, qid_offset=i * len(ctx), executor=executor)
        got = _window_rows(ctx, queries, pos_keys, Xs, ys, qs, **rows_of)
        asked += len(queries)
        have = sum(int(y.sum()) for y in ys)
        if enough_positives and have < enough_positives and len(everyone) > len(queries) and got:
            # a big window: more of its people rather than another graph (as many as the positives per query
            # so far say are needed, with a tenth more, within what n_windows windows would have queried)
            more = int(np.ceil(1.1 * (enough_positives - have) * len(queries) / got))
            more = min(more, len(everyone) - len(queries), n_windows * max_queries - len(queries))
            if more > 0:
                rest = everyone[~np.isin(everyone, queries, assume_unique=True)]
                extra = np.sort(rng.choice(rest, more, replace=False))
                _window_rows(ctx, extra, pos_keys, Xs, ys, qs, **rows_of)
                asked += len(extra)
    if not Xs:
        return TrainingSet(np.zeros((0, len(FEATURE_NAMES))), np.zeros(0, np.int64), np.zeros(0, np.int64), cuts,
                           asked, available)
    return TrainingSet(_stack_rows(Xs), np.concatenate(ys), np.concatenate(qs), cuts, asked, available)


def _stack_rows(parts: list) -> np.ndarray:
    """``np.vstack(parts)``, emptying ``parts`` as it copies them: a block's rows are freed once copied (and freed
    memory given back every 16 blocks), so the training rows are not held twice (at 1M people 90 MB)."""
    out = np.empty((sum(len(p) for p in parts), parts[0].shape[1]), dtype=np.result_type(*parts))
    r = 0
    for i in range(len(parts)):
        p, parts[i] = parts[i], None
        out[r:r + len(p)] = p
        r += len(p)
        del p
        if i % 16 == 15:
            release_freed_memory()
    return out


def _window_rows(ctx, queries, pos_keys, Xs, ys, qs, *, rng, cap, block_size, candidate_kw, katz, qid_offset,
                 executor=None) -> int:
    """Append the training rows of ``queries`` (one window's graph ``ctx``) to ``Xs``, ``ys``, ``qs`` (every
    positive and ``cap`` negatives per query: :func:`keep_rows`); their positives.

    With ``executor`` (one idle worker thread), the next block's candidates are found while this block's
    features are computed; the random draws stay on this thread, in block order, so the rows are the same.
    """
    blocks = [queries[b0:b0 + block_size] for b0 in range(0, len(queries), block_size)]

    def candidates(rows):
        hop = two_hop_paths(ctx, rows)
        pr, pc = candidate_pairs(ctx, rows, hop=hop, **(candidate_kw or {}))
        return hop, pr, pc, _label(pos_keys, rows[pr].astype(np.int64) * len(ctx) + pc)

    got = 0
    ahead = None
    for i, rows in enumerate(blocks):
        hop, pr, pc, y = ahead.result() if ahead is not None else candidates(rows)
        # the first block's candidates are found here (they fill the graph's candidate caches), then one block ahead
        ahead = executor.submit(candidates, blocks[i + 1]) if executor is not None and i + 1 < len(blocks) else None
        # all positives, and at most ``cap`` sampled negatives per query
        if len(pr) == 0:
            continue
        keep = keep_rows(pr, y, rng.random(len(pr)), len(rows), cap)
        Xs.append(pair_features(ctx, rows, pr[keep], pc[keep], hop=hop, katz=katz))
        ys.append(y[keep])
        qs.append(rows[pr[keep]] + qid_offset)
        got += int(y[keep].sum())
    return got
