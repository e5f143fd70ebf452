"""Whole-network jobs: "who should everyone meet next?" and many routings at once.

:func:`batch_meet` runs :meth:`MeetModel.score_block <recommender.meet.model.MeetModel.score_block>`
(the very code ``recommend`` uses; with numba, its compiled twin
:func:`recommender.batch.fast.score_block`, which gives the same answers) over every person in row blocks, and
streams the top ``k`` per person and group to a CSV or Parquet file. Memory is
bounded by the block size (one or two blocks in flight per worker), not by the
network, and a person's list never depends on the block it was scored in, so
the batch output equals ``fracnet meet --json`` for every person.

Engines
-------
``local``
    Blocks run in this process, a few at a time on threads (one per CPU;
    the array work releases the GIL); results are written in block order.
``dask``
    The same blocks run on Dask distributed: on an existing cluster
    (``scheduler="tcp://host:8786"``) or, without an address, on a
    :class:`distributed.LocalCluster` of two worker processes. The fitted
    model is scattered to every worker once (``broadcast=True``) and each task
    only carries its block of row positions; results come back as small
    arrays and are written in block order, so the file is identical to the
    local engine's.

Opted-out people
----------------
Opted-out people are never anyone's candidate (the candidate generator drops
them), and the batch job gives them no list of their own either: a batch
output is an export, and the design says opted-out people are never
exported. ``MeetModel.recommend`` still answers for them when they ask.

Output
------
One row per recommendation, compact: ``person_id, rank, group,
candidate_id, score, introducer_id, introducer_trust, top_reason`` (see
:data:`MEET_COLUMNS`). ``rank`` starts at 1 within (person, group);
``top_reason`` is the kind of the first reason ``recommend`` gives (a key of
:data:`~recommender.meet.model.REASON_FEATURES`, empty when there is none).

Files are written to a temporary file beside the output and moved into place
with :func:`os.replace` only when the whole job succeeded: an interrupted or
failed run leaves nothing at the output path. The output path is checked
(extension, folder, permission) before any work starts.

Example
-------
>>> from recommender.demo import generate_network
>>> from recommender.network import Network
>>> from recommender.meet.model import MeetModel
>>> model = MeetModel().fit(Network.from_frames(**generate_network(120, seed=1)))
>>> df = meet_frame(model, k=2, block_size=50)
>>> list(df.columns) == list(MEET_COLUMNS)
True
>>> bool((df.groupby(["person_id", "group"]).size() <= 2).all())
True
"""

from __future__ import annotations

import time
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from recommender.batch.engines import (
    DEFAULT_BLOCK_SIZE,
    ENGINES,
    BatchSummary,
    _blocks,
    _check_block_size,
    _dask_blocks,
    _dask_client,
    _local_blocks,
    peak_memory_mb,
    tune_allocator,
)
from recommender.batch.writer import _AtomicTableWriter, _dtype_of, check_output
from recommender.errors import UsageError
from recommender.meet import reasons as reason_rule
from recommender.meet.features import FEATURE_NAMES
from recommender.people import GROUPS

__all__ = ["MEET_COLUMNS", "NUMPY_BLOCK_SIZE", "meet_block_size", "meet_rows", "top_reasons", "score_meet_block",
           "iter_meet_blocks", "meet_frame", "batch_meet"]


#: The columns of a ``batch meet`` output file, in order.
MEET_COLUMNS = ("person_id", "rank", "group", "candidate_id", "score", "introducer_id", "introducer_trust",
                "top_reason")


_REASON_ORDER = reason_rule.REASON_ORDER


_COL = {f: i for i, f in enumerate(FEATURE_NAMES)}


#: Parquet columns with row-group statistics: all but the candidate's and introducer's ids (many distinct strings:
#: summarising them took 2.7 of a 1,024-person block's 6.0 ms of writing, and no one filters on them).
_STATISTICS_COLUMNS = ("person_id", "rank", "group", "score", "introducer_trust", "top_reason")


def _meet_schema():
    import pyarrow as pa

    return pa.schema([("person_id", pa.string()), ("rank", pa.int32()), ("group", pa.string()),
                      ("candidate_id", pa.string()), ("score", pa.float64()), ("introducer_id", pa.string()),
                      ("introducer_trust", pa.float64()), ("top_reason", pa.string())])


#: People per block on the numpy path (no numba, a tree ranker, ...): it builds every candidate's features, so a
#: smaller block keeps them in cache and bounds memory (a 2,000-person network with a blend ranker: 3.3 s and
#: 740 MiB at 256 against 4.9 s and 1,701 MiB at 1,024; a linear ranker at 100k: 1.22 s against 1.40 s of CPU
#: for the same 4,096 people).
NUMPY_BLOCK_SIZE = 256


def meet_block_size(model) -> int:
    """The default people per block of :func:`batch_meet`: :data:`DEFAULT_BLOCK_SIZE` on the compiled path (the
    kernel keeps few pairs; 512 and 1,024 took the same time at 100k), :data:`NUMPY_BLOCK_SIZE` otherwise."""
    from recommender.batch import fast

    return DEFAULT_BLOCK_SIZE if fast.usable(model) else NUMPY_BLOCK_SIZE


def _block_size(model, block_size: int | None) -> int:
    """``block_size`` checked, or :func:`meet_block_size` when None."""
    return _check_block_size(meet_block_size(model) if block_size is None else block_size)


def meet_rows(model, person_ids=None, *, include_opted_out: bool = False) -> np.ndarray:
    """Positions of the people a batch job scores (default: everyone not opted out)."""
    model._check()
    ctx = model.context_
    if person_ids is None:
        rows = np.arange(len(ctx), dtype=np.int64)
    else:
        raw = person_ids.tolist() if isinstance(person_ids, np.ndarray) else list(person_ids)
        rows = model._positions(list(dict.fromkeys(str(p) for p in raw)))
    if not include_opted_out:
        rows = rows[~ctx.opt_out[rows]]
    return rows


def top_reasons(model, X) -> np.ndarray:
    """The kind of the first reason ``recommend`` would give each pair (index into ``REASON_ORDER``, -1 none).

    ``X``: the pairs' features, a matrix or :class:`~recommender.meet.scoring.KeptColumns`. The reason rule
    itself is :mod:`recommender.meet.reasons`, shared with ``recommend``.
    """
    from recommender.meet.scoring import KeptColumns

    if len(X) == 0:
        return np.zeros(0, np.int64)
    ranker = model.ranker_
    if not ranker.per_column:  # trees: every column's contributions at once
        X = X.matrix() if isinstance(X, KeptColumns) else X
        return reason_rule.top_reasons(X, ranker.contributions(X)[0])
    # only the contributions that weigh a reason (the same numbers as recommend's, which computes them all),
    # from those columns laid out contiguously (gathered once from a matrix)
    cols = reason_rule.WEIGHT_COLUMNS
    value = ({j: X.column(j) for j in cols} if isinstance(X, KeptColumns)
             else dict(zip(cols, np.ascontiguousarray(X[:, cols].T))))
    contrib = {j: ranker.column_contribution(j, value[j]) for j in cols}
    return reason_rule.top_reasons_of(value.__getitem__, contrib.__getitem__)


def score_meet_block(model, rows: np.ndarray, k: int, group: str) -> dict:
    """One block: :meth:`MeetModel.score_block` plus what the output needs, as small arrays.

    Returns a dict of arrays aligned on the kept pairs: ``person`` and
    ``candidate`` (positions), ``group`` (code), ``rank`` (1-based within
    person and group), ``score``, ``introducer`` (position or -1),
    ``introducer_trust`` and ``reason`` (code, -1 none).
    """
    from recommender.batch import fast
    from recommender.meet.scoring import _group_codes, feature_column

    rows = np.asarray(rows, dtype=np.int64)
    # compiled when usable; the features a column at a time (only a few are read)
    pr, pc, score, X, intro = fast.score_block(model, rows, k=k, group=group, stacked=False)
    g = _group_codes(X)  # the groups of the kept pairs
    if len(pr):
        new = np.r_[True, (pr[1:] != pr[:-1]) | (g[1:] != g[:-1])]
        first = np.flatnonzero(new)
        rank = np.arange(len(pr)) - np.repeat(first, np.diff(np.r_[first, len(pr)])) + 1
    else:
        rank = np.zeros(0, np.int64)
    return {
        "person": rows[pr], "candidate": pc, "group": g.astype(np.int8), "rank": rank.astype(np.int32),
        "score": score.astype(np.float64), "introducer": intro.astype(np.int64),
        "introducer_trust": feature_column(X, _COL["introducer_trust"]).astype(np.float64),
        "reason": top_reasons(model, X).astype(np.int8),
    }


def iter_meet_blocks(model, rows: np.ndarray, *, k: int = 10, group: str = "all",
                     block_size: int | None = None, engine: str = "local", scheduler: str | None = None,
                     client=None, threads: int | None = None) -> Iterator[tuple[np.ndarray, dict]]:
    """Yield ``(block_rows, result)`` for every block of ``rows``, in order.

    ``result`` is what :func:`score_meet_block` returns. The local engine
    runs ``threads`` blocks at a time (default: one per CPU, at most
    :data:`MAX_THREADS`; the array work releases the GIL). With
    ``engine="dask"`` the blocks run on Dask (``client``, else a client for
    ``scheduler``, else a two-worker LocalCluster), at most a few blocks per
    worker in flight.
    """
    from recommender.meet.scoring import _check_k_group

    model._check()
    _check_k_group(k, group)
    block_size = _block_size(model, block_size)
    if engine not in ENGINES:
        raise UsageError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    blocks = _blocks(np.asarray(rows, dtype=np.int64), block_size)
    if engine == "local":
        yield from _local_blocks(score_meet_block, model, blocks, k, group, threads)
        return
    with _dask_client(scheduler, client) as cl:
        yield from _dask_blocks(score_meet_block, cl, model, blocks, k, group)


def _meet_frame_of(model, res: dict) -> pd.DataFrame:
    ctx = model.context_
    ids = ctx.ids
    intro = res["introducer"]
    has = intro >= 0
    intro_ids = np.full(len(intro), None, dtype=object)
    intro_ids[has] = ids[intro[has]]
    groups = np.array(GROUPS, dtype=object)
    reasons = np.array(_REASON_ORDER + ("",), dtype=object)  # -1 -> ""
    return pd.DataFrame({
        "person_id": ids[res["person"]].astype(object),
        "rank": res["rank"],
        "group": groups[res["group"]],
        "candidate_id": ids[res["candidate"]].astype(object),
        "score": res["score"],
        "introducer_id": intro_ids,
        "introducer_trust": res["introducer_trust"],
        "top_reason": reasons[res["reason"]],
    }, columns=list(MEET_COLUMNS))


class _ArrowMeet:
    """Builds the Parquet table of a block straight from the block's arrays (no Python objects)."""

    def __init__(self, model):
        import pyarrow as pa

        self.pa = pa
        self.schema = _meet_schema()
        self.ids = pa.array(model.context_.ids.astype(str), type=pa.string())
        self.groups = pa.array(list(GROUPS), type=pa.string())
        self.reasons = pa.array(list(_REASON_ORDER) + [""], type=pa.string())

    def table(self, res: dict):
        pa = self.pa
        intro = res["introducer"]
        reason = res["reason"].astype(np.int64)
        cols = [
            self.ids.take(pa.array(res["person"])),
            pa.array(res["rank"], type=pa.int32()),
            self.groups.take(pa.array(res["group"].astype(np.int64))),
            self.ids.take(pa.array(res["candidate"])),
            pa.array(res["score"], type=pa.float64()),
            self.ids.take(pa.array(intro, mask=intro < 0)),
            pa.array(res["introducer_trust"], type=pa.float64()),
            self.reasons.take(pa.array(np.where(reason < 0, len(_REASON_ORDER), reason))),
        ]
        return pa.Table.from_arrays(cols, schema=self.schema)


def meet_frame(model, person_ids=None, *, k: int = 10, group: str = "all", block_size: int | None = None,
               engine: str = "local", scheduler: str | None = None, client=None,
               include_opted_out: bool = False, threads: int | None = None) -> pd.DataFrame:
    """The batch answer as one DataFrame (:data:`MEET_COLUMNS`), in memory: for tests and small networks."""
    rows = meet_rows(model, person_ids, include_opted_out=include_opted_out)
    frames = [_meet_frame_of(model, res) for _, res in
              iter_meet_blocks(model, rows, k=k, group=group, block_size=block_size, engine=engine,
                               scheduler=scheduler, client=client, threads=threads)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=_dtype_of(c)) for c in MEET_COLUMNS})
    return pd.concat(frames, ignore_index=True)


def batch_meet(model, out, *, k: int = 10, group: str = "all", block_size: int | None = None,
               engine: str = "local", scheduler: str | None = None, client=None, person_ids=None,
               include_opted_out: bool = False, threads: int | None = None,
               progress: Callable[[int, int], None] | None = None) -> BatchSummary:
    """Recommend for everyone and write the lists to ``out`` (.csv or .parquet).

    Parameters
    ----------
    model : MeetModel
        A fitted model.
    out : path
        Checked before any work (:func:`check_output`); written atomically.
    k, group
        As for :meth:`MeetModel.recommend`.
    block_size : int, optional
        People per block; bounds memory, never changes results (default :func:`meet_block_size`).
    threads : int, optional
        Blocks scored at once by the local engine (default :func:`default_threads`).
    engine : {"local", "dask"}
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``); default a LocalCluster.
    person_ids : list of str, optional
        Only these people (default: everyone not opted out).
    progress : callable, optional
        Called as ``progress(people_done, people_total)`` after each block.

    Returns
    -------
    BatchSummary
    """
    from recommender.batch import fast
    from recommender.meet.scoring import _check_k_group

    path, fmt = check_output(out)
    model._check()
    _check_k_group(k, group)
    block_size = _block_size(model, block_size)
    if engine not in ENGINES:
        raise UsageError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    t0 = time.perf_counter()
    tune_allocator()
    rows = meet_rows(model, person_ids, include_opted_out=include_opted_out)
    done = 0
    n_blocks = 0
    schema = _meet_schema() if fmt == "parquet" else None
    arrow = _ArrowMeet(model) if fmt == "parquet" else None
    with _AtomicTableWriter(path, fmt, MEET_COLUMNS, schema=schema,
                            dictionary_columns=("person_id", "group", "top_reason"),
                            statistics_columns=_STATISTICS_COLUMNS) as writer:
        for b, res in iter_meet_blocks(model, rows, k=k, group=group, block_size=block_size, engine=engine,
                                       scheduler=scheduler, client=client, threads=threads):
            writer.write(arrow.table(res) if arrow is not None else _meet_frame_of(model, res))
            done += len(b)
            n_blocks += 1
            if progress is not None:
                progress(done, len(rows))
        n_rows = writer.rows
    return BatchSummary(out=str(path), engine=engine, people=int(len(rows)), rows=int(n_rows),
                        seconds=time.perf_counter() - t0, peak_memory_mb=peak_memory_mb(), blocks=n_blocks,
                        block_size=block_size,
                        extra={"k": k, "group": group, "format": fmt, "path": fast.path_taken(model)})
