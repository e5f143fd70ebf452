"""Many opportunities at once: an opportunities file routed row by row, written like every batch output.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from recommender.batch.engines import BatchSummary, peak_memory_mb
from recommender.batch.writer import _AtomicTableWriter, check_output
from recommender.errors import DataValidationError, UsageError, ValidationProblem
from recommender.refer.request import CLOSED_STATUSES, needs_problems

#: The columns of a ``batch refer`` output file, in order.
REFER_COLUMNS = ("opportunity_id", "brought_by", "in_lane", "lane_fit", "rank", "person_id", "name", "score",
                 "covers", "partially_covers", "trust_path", "hops", "capacity")


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
        raise DataValidationError([ValidationProblem(name, None, None, f"not a readable CSV file ({exc})".strip(),
                                                     hint="save it as UTF-8 CSV with a header row")]) from None
    except OSError as exc:  # permission denied, a folder, an I/O error
        from recommender.io.atomic import file_error

        raise file_error(name, exc, "read") from None
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
        elif rec["needs"]:
            bad = needs_problems(rec["needs"])  # the same request check as `fracnet refer`
            if bad:
                problems.append(ValidationProblem(name, line, "needs", bad.removeprefix("needs: ")))
        if rec["date"]:
            try:
                pd.Timestamp(rec["date"])
            except (ValueError, TypeError):
                problems.append(ValidationProblem(name, line, "date", f"expected YYYY-MM-DD, got {rec['date']!r}"))
    if problems:
        raise DataValidationError(problems, hint="fix the rows above; nothing was routed")
    return df


def batch_refer(network, opportunities, out, *, k: int = 3, max_hops: int = 2, router=None,
                progress: Callable[[int, int], None] | None = None, anyway: bool = False) -> BatchSummary:
    """Route every opportunity of a CSV file and write one row per pick to ``out``.

    Parameters
    ----------
    network : Network or None
        The network routed on; None when ``router`` is given (a router loaded from the model cache
        knows its people: the network need not be read at all).
    opportunities : path
        CSV with columns like ``opportunities.csv`` (id, brought_by, needs,
        industry, size_band, region, description; date optional).
    out : path
        .csv or .parquet; checked before any work, written atomically.
    k, max_hops
        As for :meth:`Router.route <recommender.refer.router.Router.route>`.
    router : Router or RouteAnswers, optional
        A fitted router (default: fitted on ``network``), e.g. the cached one of
        :func:`recommender.model_cache.router`.
    anyway : bool, default False
        Also route rows whose ``status`` is closed (won, lost, closed); by
        default they are skipped and counted (``extra["skipped_closed"]``).

    Returns
    -------
    BatchSummary
        ``extra`` counts opportunities without picks.
    """
    path, fmt = check_output(out)
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise UsageError(f"k must be a positive integer, got {k!r}")
    from recommender.refer.request import MAX_HOPS

    if not isinstance(max_hops, (int, np.integer)) or not 1 <= max_hops <= MAX_HOPS:
        raise UsageError(f"max hops must be a whole number from 1 to {MAX_HOPS}, got {max_hops!r}")
    if router is None and network is None:
        raise UsageError("batch_refer needs a network or a fitted router")
    people = router.ids_ if router is not None else network.people["id"].astype(str)
    df = read_opportunities(opportunities, people)
    t0 = time.perf_counter()
    if router is None:
        from recommender.refer.router import Router  # fitting: scikit-learn is loaded here

        router = Router().fit(network)
    no_picks = skipped = 0
    with _AtomicTableWriter(path, fmt, REFER_COLUMNS) as writer:
        chunk: list[dict] = []
        for i, rec in enumerate(df.to_dict("records")):
            if not anyway and rec["status"].lower() in CLOSED_STATUSES:
                skipped += 1
                if progress is not None:
                    progress(i + 1, len(df))
                continue
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
                        extra={"opportunities": int(len(df)), "without_picks": no_picks, "skipped_closed": skipped,
                               "k": k,
                               "max_hops": max_hops, "format": fmt})


def _refer_frame(chunk: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(chunk, columns=list(REFER_COLUMNS))
    for c in ("rank", "hops", "capacity"):
        df[c] = pd.array(df[c], dtype="Int64")
    df["score"] = df["score"].astype(float)
    df["lane_fit"] = df["lane_fit"].astype(float)
    df["in_lane"] = df["in_lane"].astype(bool)
    return df
