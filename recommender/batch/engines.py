"""Where the blocks run: threads in this process (``local``) or Dask distributed (``dask``), results in block order.
"""

from __future__ import annotations

import os
import resource
import sys
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from recommender.errors import FracnetError, UsageError

ENGINES = ("local", "dask")


DEFAULT_BLOCK_SIZE = 1024


#: Most threads the local engine uses.
MAX_THREADS = 4


#: Seconds a ``--scheduler`` address gets to answer before the batch job gives up with a hint.
CONNECT_TIMEOUT_S = 5


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


_ALLOCATOR_TUNED = False


def tune_allocator() -> bool:
    """Let glibc keep freed block arrays for reuse (once per process; a no-op elsewhere).

    Block scoring allocates and frees arrays of a few MB per step. By default
    glibc serves those with fresh ``mmap`` pages and returns freed heap to the
    system, so every block pays page faults again (about half the time of a
    whole-network job). Raising the mmap and trim thresholds (``mallopt``)
    keeps that memory in the process; peak memory does not grow. Called once
    where a process starts whole-network work (:func:`~recommender.batch.meet.batch_meet`),
    not by every fit. Returns whether the settings were applied.
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return True
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
        ok = (libc.mallopt(m_trim_threshold, 1 << 30) == 1 and libc.mallopt(m_top_pad, 64 << 20) == 1
              and libc.mallopt(m_mmap_threshold, 32 << 20) == 1)
    except (OSError, AttributeError):  # not glibc
        ok = False
    _ALLOCATOR_TUNED = ok
    return ok


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def _blocks(rows: np.ndarray, block_size: int) -> list[np.ndarray]:
    return [rows[i:i + block_size] for i in range(0, len(rows), block_size)]


def _check_block_size(block_size) -> int:
    if not isinstance(block_size, (int, np.integer)) or isinstance(block_size, bool) or block_size < 1:
        raise UsageError(f"block size must be a positive integer, got {block_size!r}")
    return int(block_size)


def _local_blocks(score, model, blocks, k, group, threads) -> Iterator[tuple[np.ndarray, dict]]:
    """``(block, score(model, block, k, group))`` for every block, in order, ``threads`` blocks at a time."""
    threads = default_threads() if threads is None else max(1, int(threads))
    if threads == 1 or len(blocks) < 2:
        for b in blocks:
            yield b, score(model, b, k, group)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    score(model, blocks[0][:1], k, group)  # builds the context's lazy caches once, before threads
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fracnet-meet") as pool:
        pending: deque = deque()
        it = iter(blocks)
        for b in it:
            pending.append((b, pool.submit(score, model, b, k, group)))
            if len(pending) >= threads + 1:
                break
        try:
            while pending:
                b, fut = pending.popleft()
                res = fut.result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.append((nxt, pool.submit(score, model, nxt, k, group)))
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
                cl = Client(self.scheduler, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise SchedulerError(
                    f"cannot reach the Dask scheduler at {self.scheduler} within {CONNECT_TIMEOUT_S} s ({type(exc).__name__})",
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


def _dask_blocks(score, client, model, blocks, k, group) -> Iterator[tuple[np.ndarray, dict]]:
    """As :func:`_local_blocks` on Dask: the model scattered once, a few blocks per worker in flight."""
    from collections import deque

    n_workers = max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})) or 1)
    [remote_model] = client.scatter([model], broadcast=True, hash=False)
    window = max(2, 2 * n_workers)
    pending: deque = deque()
    it = iter(blocks)
    try:
        for b in it:
            pending.append((b, client.submit(score, remote_model, b, k, group, pure=False)))
            if len(pending) >= window:
                break
        while pending:
            b, fut = pending.popleft()
            res = fut.result()
            nxt = next(it, None)
            if nxt is not None:
                pending.append((nxt, client.submit(score, remote_model, nxt, k, group, pure=False)))
            yield b, res
    finally:
        for _, fut in pending:
            fut.cancel()
        try:
            remote_model.release()
        except Exception:  # pragma: no cover
            pass
