"""Whole-network jobs: "who should everyone meet next?" and many routings at once.

:func:`batch_meet` runs :meth:`MeetModel.score_block <recommender.meet.model.MeetModel.score_block>`
(the very code ``recommend`` uses) over every person in row blocks, and
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

import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from recommender.errors import DataValidationError, FracnetError, UsageError, ValidationProblem
from recommender.kernels import tune_allocator
from recommender.meet.features import FEATURE_NAMES
from recommender.people import GROUPS

__all__ = [
    "ENGINES",
    "OUTPUT_FORMATS",
    "MEET_COLUMNS",
    "REFER_COLUMNS",
    "BatchSummary",
    "OutputPathError",
    "SchedulerError",
    "check_output",
    "meet_rows",
    "iter_meet_blocks",
    "meet_frame",
    "batch_meet",
    "read_opportunities",
    "batch_refer",
    "DEFAULT_BLOCK_SIZE",
    "default_threads",
]

ENGINES = ("local", "dask")
OUTPUT_FORMATS = ("csv", "parquet")
DEFAULT_BLOCK_SIZE = 1024
#: Most threads the local engine uses.
MAX_THREADS = 4
#: The columns of a ``batch meet`` output file, in order.
MEET_COLUMNS = ("person_id", "rank", "group", "candidate_id", "score", "introducer_id", "introducer_trust",
                "top_reason")
#: The columns of a ``batch refer`` output file, in order.
REFER_COLUMNS = ("opportunity_id", "brought_by", "in_lane", "lane_fit", "rank", "person_id", "name", "score",
                 "covers", "partially_covers", "trust_path", "hops", "capacity")
#: Reason kinds in the order ``MeetModel`` builds them (ties in weight keep this order).
_REASON_ORDER = ("mutual_contacts", "complementary_specialties", "icp_fit", "shared_clients", "similar_profile",
                 "active")
_COL = {f: i for i, f in enumerate(FEATURE_NAMES)}


class OutputPathError(FracnetError):
    """The output path cannot be written (bad extension, missing folder, no permission)."""

    exit_code = 2


class SchedulerError(FracnetError):
    """The Dask scheduler cannot be reached, or Dask is not usable."""

    exit_code = 7


@dataclass
class BatchSummary:
    """What a batch job did: counts, time and memory."""

    out: str
    engine: str
    people: int
    rows: int
    seconds: float
    peak_memory_mb: float
    blocks: int = 0
    block_size: int = 0
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"out": self.out, "engine": self.engine, "people": self.people, "rows": self.rows,
                "seconds": round(self.seconds, 3), "peak_memory_mb": round(self.peak_memory_mb, 1),
                "blocks": self.blocks, "block_size": self.block_size, **self.extra}


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


# ---------------------------------------------------------------------------
# Output files: checked first, written atomically
# ---------------------------------------------------------------------------


def check_output(path) -> tuple[Path, str]:
    """Validate an output path before any work: its format and that its folder is writable.

    Returns
    -------
    (Path, str)
        The path and its format, ``"csv"`` or ``"parquet"``.

    Raises
    ------
    OutputPathError
        Unknown extension, missing folder, a folder at the path, or no permission.
    """
    p = Path(path)
    ext = p.suffix.lower().lstrip(".")
    fmt = {"csv": "csv", "parquet": "parquet", "pq": "parquet"}.get(ext)
    if fmt is None:
        raise OutputPathError(f"cannot write {p}: unknown output format {('.' + ext) if ext else '(no extension)'}",
                              hint="use a .csv or .parquet file name")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise OutputPathError(f"cannot write {p}: folder {folder} does not exist", hint="create it first")
    if p.is_dir():
        raise OutputPathError(f"cannot write {p}: it is a folder", hint="give a file name")
    if p.exists() and not os.access(p, os.W_OK):
        raise OutputPathError(f"cannot write {p}: permission denied")
    try:  # the real test: can we create a file in that folder?
        fd, probe = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".probe", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputPathError(f"cannot write {p}: {exc.strerror or exc}", hint="choose a writable folder") from None
    return p, fmt


class _AtomicTableWriter:
    """Append DataFrames to a CSV or Parquet file; the file appears only on success."""

    def __init__(self, path: Path, fmt: str, columns: Iterable[str], schema=None,
                 dictionary_columns: Iterable[str] | None = None):
        self.path = Path(path)
        #: Parquet: the columns to dictionary-encode (None: all). Columns with many distinct values
        #: (candidate ids, scores) are smaller and much cheaper to write without a dictionary.
        self.dictionary_columns = None if dictionary_columns is None else frozenset(dictionary_columns)
        self.fmt = fmt
        self.columns = list(columns)
        self.schema = schema
        self.rows = 0
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent or ".")
        os.close(fd)
        self.tmp = Path(tmp)
        self._fh = None
        self._pq = None

    def write(self, df) -> None:
        if not isinstance(df, pd.DataFrame):  # a pyarrow Table in the writer's schema (Parquet only)
            if self._pq is None:
                import pyarrow.parquet as pq

                self._pq = pq.ParquetWriter(self.tmp, df.schema, use_dictionary=self._dictionary_columns(df.schema))
            if df.num_rows:
                self._pq.write_table(df)
            self.rows += df.num_rows
            return
        df = df[self.columns]
        if self.fmt == "csv":
            if self._fh is None:
                self._fh = open(self.tmp, "w", encoding="utf-8", newline="")
                df.to_csv(self._fh, index=False)
            elif len(df):
                df.to_csv(self._fh, index=False, header=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(df, schema=self.schema, preserve_index=False)
            if self._pq is None:
                self._pq = pq.ParquetWriter(self.tmp, table.schema,
                                            use_dictionary=self._dictionary_columns(table.schema))
            if len(df):
                self._pq.write_table(table)
        self.rows += len(df)

    def _dictionary_columns(self, schema) -> list[str] | bool:
        if self.dictionary_columns is None:
            return True
        return [f for f in schema.names if f in self.dictionary_columns]

    def commit(self) -> None:
        if self._fh is None and self._pq is None:
            self.write(pd.DataFrame({c: pd.Series(dtype=_dtype_of(c)) for c in self.columns}))
        self._close()
        os.chmod(self.tmp, 0o666 & ~_umask())
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self._close()
        try:
            self.tmp.unlink()
        except FileNotFoundError:
            pass

    def _close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._pq is not None:
            self._pq.close()
            self._pq = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def _dtype_of(column: str):
    if column in ("rank", "hops", "capacity"):
        return "Int64"
    if column in ("score", "introducer_trust", "lane_fit"):
        return "float64"
    if column == "in_lane":
        return "bool"
    return "object"


def _meet_schema():
    import pyarrow as pa

    return pa.schema([("person_id", pa.string()), ("rank", pa.int32()), ("group", pa.string()),
                      ("candidate_id", pa.string()), ("score", pa.float64()), ("introducer_id", pa.string()),
                      ("introducer_trust", pa.float64()), ("top_reason", pa.string())])


# ---------------------------------------------------------------------------
# Who should everyone meet: the blocks
# ---------------------------------------------------------------------------


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


def top_reasons(model, X: np.ndarray) -> np.ndarray:
    """The kind of the first reason ``recommend`` would give each pair (index into the reason order, -1 none).

    Mirrors :meth:`MeetModel._recommendation`: the same conditions decide
    which reasons exist, and they are ordered by weight (summed
    contributions), ties kept in building order.
    """
    from recommender.meet.model import REASON_FEATURES

    if len(X) == 0:
        return np.zeros(0, np.int64)
    contrib, _ = model.ranker_.contributions(X)
    weight = np.column_stack([contrib[:, [_COL[f] for f in REASON_FEATURES[kind]]].sum(axis=1)
                              for kind in _REASON_ORDER])
    present = np.column_stack([
        X[:, _COL["cn"]] > 0,
        X[:, _COL["complementarity"]] > 0,
        X[:, _COL["icp_fit"]] > 0,
        (X[:, _COL["icp_fit"]] <= 0) & (X[:, _COL["client_overlap"]] > 0),
        X[:, _COL["tag_sim"]] > 0.2,
        X[:, _COL["cand_activity"]] > np.log1p(2),
    ])
    w = np.where(present, weight, -np.inf)
    best = np.argmax(w, axis=1)  # the first maximum: building order breaks ties, as a stable sort does
    return np.where(present.any(axis=1), best, -1)


def score_meet_block(model, rows: np.ndarray, k: int, group: str) -> dict:
    """One block: :meth:`MeetModel.score_block` plus what the output needs, as small arrays.

    Returns a dict of arrays aligned on the kept pairs: ``person`` and
    ``candidate`` (positions), ``group`` (code), ``rank`` (1-based within
    person and group), ``score``, ``introducer`` (position or -1),
    ``introducer_trust`` and ``reason`` (code, -1 none).
    """
    rows = np.asarray(rows, dtype=np.int64)
    pr, pc, score, X, intro = model.score_block(rows, k=k, group=group, introducers=True, katz=False)
    g = np.where(X[:, -3:].any(axis=1), X[:, -3:].argmax(axis=1), -1) if len(X) else np.zeros(0, np.int64)
    if len(pr):
        new = np.r_[True, (pr[1:] != pr[:-1]) | (g[1:] != g[:-1])]
        first = np.flatnonzero(new)
        rank = np.arange(len(pr)) - np.repeat(first, np.diff(np.r_[first, len(pr)])) + 1
    else:
        rank = np.zeros(0, np.int64)
    return {
        "person": rows[pr], "candidate": pc, "group": g.astype(np.int8), "rank": rank.astype(np.int32),
        "score": score.astype(np.float64), "introducer": intro.astype(np.int64),
        "introducer_trust": X[:, _COL["introducer_trust"]].astype(np.float64),
        "reason": top_reasons(model, X).astype(np.int8),
    }


def _blocks(rows: np.ndarray, block_size: int) -> list[np.ndarray]:
    return [rows[i:i + block_size] for i in range(0, len(rows), block_size)]


def _check_block_size(block_size) -> int:
    if not isinstance(block_size, (int, np.integer)) or isinstance(block_size, bool) or block_size < 1:
        raise UsageError(f"block size must be a positive integer, got {block_size!r}")
    return int(block_size)


def iter_meet_blocks(model, rows: np.ndarray, *, k: int = 10, group: str = "all",
                     block_size: int = DEFAULT_BLOCK_SIZE, engine: str = "local", scheduler: str | None = None,
                     client=None, threads: int | None = None) -> Iterator[tuple[np.ndarray, dict]]:
    """Yield ``(block_rows, result)`` for every block of ``rows``, in order.

    ``result`` is what :func:`score_meet_block` returns. The local engine
    runs ``threads`` blocks at a time (default: one per CPU, at most
    :data:`MAX_THREADS`; the array work releases the GIL). With
    ``engine="dask"`` the blocks run on Dask (``client``, else a client for
    ``scheduler``, else a two-worker LocalCluster), at most a few blocks per
    worker in flight.
    """
    from recommender.meet.model import _check_k_group

    model._check()
    _check_k_group(k, group)
    block_size = _check_block_size(block_size)
    if engine not in ENGINES:
        raise UsageError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    blocks = _blocks(np.asarray(rows, dtype=np.int64), block_size)
    if engine == "local":
        yield from _local_blocks(model, blocks, k, group, threads)
        return
    with _dask_client(scheduler, client) as cl:
        yield from _dask_blocks(cl, model, blocks, k, group)


def _local_blocks(model, blocks, k, group, threads) -> Iterator[tuple[np.ndarray, dict]]:
    threads = default_threads() if threads is None else max(1, int(threads))
    if threads == 1 or len(blocks) < 2:
        for b in blocks:
            yield b, score_meet_block(model, b, k, group)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    score_meet_block(model, blocks[0][:1], k, group)  # builds the context's lazy caches once, before threads
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fracnet-meet") as pool:
        pending: deque = deque()
        it = iter(blocks)
        for b in it:
            pending.append((b, pool.submit(score_meet_block, model, b, k, group)))
            if len(pending) >= threads + 1:
                break
        try:
            while pending:
                b, fut = pending.popleft()
                res = fut.result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.append((nxt, pool.submit(score_meet_block, model, nxt, k, group)))
                yield b, res
        finally:
            for _, fut in pending:
                fut.cancel()


def default_threads() -> int:
    """Blocks scored at once by the local engine: one per available CPU, at most :data:`MAX_THREADS`."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(n, MAX_THREADS))


class _dask_client:
    """A context manager giving a distributed Client (owned or borrowed)."""

    def __init__(self, scheduler: str | None, client=None):
        self.scheduler = scheduler
        self.client = client
        self._own = []

    def __enter__(self):
        if self.client is not None:
            return self.client
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - a declared dependency
            raise SchedulerError("the dask engine needs dask[distributed]",
                                 hint="pip install 'dask[distributed]'") from None
        if self.scheduler:
            try:
                cl = Client(self.scheduler, timeout="5s", set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise SchedulerError(
                    f"cannot reach the Dask scheduler at {self.scheduler} within 5 s ({type(exc).__name__})",
                    hint="start one with `dask scheduler` and workers with `dask worker ADDRESS`, or drop "
                         "--scheduler to use a local cluster") from None
        else:
            import dask

            with dask.config.set({"distributed.worker.daemon": False}):
                cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
            self._own.append(cluster)
            cl = Client(cluster, set_as_default=False)
        self._own.insert(0, cl)
        return cl

    def __exit__(self, *exc) -> None:
        for obj in self._own:
            try:
                obj.close()
            except Exception:  # pragma: no cover - closing is best effort
                pass


def _dask_blocks(client, model, blocks, k, group) -> Iterator[tuple[np.ndarray, dict]]:
    from collections import deque

    n_workers = max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})) or 1)
    [remote_model] = client.scatter([model], broadcast=True, hash=False)
    window = max(2, 2 * n_workers)
    pending: deque = deque()
    it = iter(blocks)
    try:
        for b in it:
            pending.append((b, client.submit(score_meet_block, remote_model, b, k, group, pure=False)))
            if len(pending) >= window:
                break
        while pending:
            b, fut = pending.popleft()
            res = fut.result()
            nxt = next(it, None)
            if nxt is not None:
                pending.append((nxt, client.submit(score_meet_block, remote_model, nxt, k, group, pure=False)))
            yield b, res
    finally:
        for _, fut in pending:
            fut.cancel()
        try:
            remote_model.release()
        except Exception:  # pragma: no cover
            pass


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


def meet_frame(model, person_ids=None, *, k: int = 10, group: str = "all", block_size: int = DEFAULT_BLOCK_SIZE,
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


def batch_meet(model, out, *, k: int = 10, group: str = "all", block_size: int = DEFAULT_BLOCK_SIZE,
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
    block_size : int
        People per block; bounds memory, never changes results.
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
    from recommender.meet.model import _check_k_group

    path, fmt = check_output(out)
    model._check()
    _check_k_group(k, group)
    block_size = _check_block_size(block_size)
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
                            dictionary_columns=("person_id", "group", "top_reason")) as writer:
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
                        block_size=block_size, extra={"k": k, "group": group, "format": fmt})


# ---------------------------------------------------------------------------
# Many opportunities at once
# ---------------------------------------------------------------------------

_OPP_REQUIRED = ("id", "brought_by")
_OPP_KNOWN = ("id", "date", "brought_by", "company_id", "needs", "industry", "size_band", "region", "description",
              "status")


def read_opportunities(path, person_ids) -> pd.DataFrame:
    """Read and validate an opportunities CSV (columns as ``opportunities.csv``).

    Every problem is collected with its file, line and field, and raised
    together before any routing starts.

    Raises
    ------
    DataValidationError
        Missing file or columns, empty or duplicate ids, unknown ``brought_by``,
        rows with neither needs nor a description, bad dates.
    """
    p = Path(path)
    name = str(path)
    if not p.is_file():
        raise DataValidationError([ValidationProblem(name, None, None, "file not found")])
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataValidationError([ValidationProblem(name, None, None, f"not a readable CSV file ({exc})".strip())])
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in _OPP_REQUIRED if c not in df.columns]
    if missing or not ({"needs", "description"} & set(df.columns)):
        need = missing + ([] if {"needs", "description"} & set(df.columns) else ["needs or description"])
        raise DataValidationError([ValidationProblem(name, 1, need[0], f"missing column(s): {', '.join(need)}",
                                                     hint="expected columns: " + ", ".join(_OPP_KNOWN))])
    for c in _OPP_KNOWN:
        if c not in df.columns:
            df[c] = ""
    df = df.apply(lambda s: s.str.strip())
    known = set(map(str, person_ids))
    problems: list[ValidationProblem] = []
    seen: dict[str, int] = {}
    for i, rec in enumerate(df.to_dict("records")):
        line = i + 2  # the header is line 1
        oid = rec["id"]
        if not oid:
            problems.append(ValidationProblem(name, line, "id", "empty opportunity id"))
        elif oid in seen:
            problems.append(ValidationProblem(name, line, "id", f"duplicate id {oid!r} (first on line {seen[oid]})"))
        else:
            seen[oid] = line
        if not rec["brought_by"]:
            problems.append(ValidationProblem(name, line, "brought_by", "empty: who brought the opportunity?"))
        elif rec["brought_by"] not in known:
            problems.append(ValidationProblem(name, line, "brought_by", f"unknown person {rec['brought_by']!r}"))
        if not rec["needs"] and not rec["description"]:
            problems.append(ValidationProblem(name, line, "needs", "no needs and no description: nothing to match"))
        if rec["date"]:
            try:
                pd.Timestamp(rec["date"])
            except (ValueError, TypeError):
                problems.append(ValidationProblem(name, line, "date", f"expected YYYY-MM-DD, got {rec['date']!r}"))
    if problems:
        raise DataValidationError(problems, hint="fix the rows above; nothing was routed")
    return df


def batch_refer(network, opportunities, out, *, k: int = 3, max_hops: int = 2, router=None,
                progress: Callable[[int, int], None] | None = None) -> BatchSummary:
    """Route every opportunity of a CSV file and write one row per pick to ``out``.

    Parameters
    ----------
    network : Network
    opportunities : path
        CSV with columns like ``opportunities.csv`` (id, brought_by, needs,
        industry, size_band, region, description; date optional).
    out : path
        .csv or .parquet; checked before any work, written atomically.
    k, max_hops
        As for :meth:`Router.route <recommender.refer.router.Router.route>`.
    router : Router, optional
        A fitted router (default: fitted on ``network``).

    Returns
    -------
    BatchSummary
        ``extra`` counts opportunities without picks.
    """
    from recommender.refer.router import Router

    path, fmt = check_output(out)
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise UsageError(f"k must be a positive integer, got {k!r}")
    if not isinstance(max_hops, (int, np.integer)) or max_hops < 1:
        raise UsageError(f"max hops must be a positive integer, got {max_hops!r}")
    people = network.people["id"].astype(str)
    df = read_opportunities(opportunities, people)
    t0 = time.perf_counter()
    router = router if router is not None else Router().fit(network)
    no_picks = 0
    with _AtomicTableWriter(path, fmt, REFER_COLUMNS) as writer:
        chunk: list[dict] = []
        for i, rec in enumerate(df.to_dict("records")):
            opt = lambda c: rec[c] or None  # noqa: E731
            routing = router.route(rec["brought_by"], needs=opt("needs"), industry=opt("industry"),
                                   size_band=opt("size_band"), region=opt("region"),
                                   description=opt("description"), date=opt("date"), k=k, max_hops=max_hops)
            if not routing.picks:
                no_picks += 1
            for rank, pick in enumerate(routing.picks, start=1):
                chunk.append({
                    "opportunity_id": rec["id"], "brought_by": rec["brought_by"],
                    "in_lane": bool(routing.lane.in_lane), "lane_fit": float(routing.lane.fit), "rank": rank,
                    "person_id": pick.person_id, "name": pick.name, "score": float(pick.score),
                    "covers": ";".join(pick.covers), "partially_covers": ";".join(pick.partial),
                    "trust_path": ">".join(pid for pid, _ in pick.trust_path),
                    "hops": max(len(pick.trust_path) - 1, 0) if pick.trust_path else None,
                    "capacity": pick.capacity,
                })
            if len(chunk) >= 5000:
                writer.write(_refer_frame(chunk))
                chunk = []
            if progress is not None:
                progress(i + 1, len(df))
        writer.write(_refer_frame(chunk))
        n_rows = writer.rows
    return BatchSummary(out=str(path), engine="local", people=int(df["brought_by"].nunique()), rows=int(n_rows),
                        seconds=time.perf_counter() - t0, peak_memory_mb=peak_memory_mb(),
                        extra={"opportunities": int(len(df)), "without_picks": no_picks, "k": k,
                               "max_hops": max_hops, "format": fmt})


def _refer_frame(chunk: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(chunk, columns=list(REFER_COLUMNS))
    for c in ("rank", "hops", "capacity"):
        df[c] = pd.array(df[c], dtype="Int64")
    df["score"] = df["score"].astype(float)
    df["lane_fit"] = df["lane_fit"].astype(float)
    df["in_lane"] = df["in_lane"].astype(bool)
    return df
