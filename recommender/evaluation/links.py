"""Evaluation protocols; each takes the models it compares as arguments.

Link prediction (:func:`evaluate_links`): per run, a random ``test_frac`` of
the edges is held out as positives together with as many sampled non-edges;
the graph is rebuilt from the remaining edges, every method scores the test
pairs, and AUC and average precision are averaged over the runs. With fixed
split files (the SEAL format, see :func:`read_split`) the runs are the splits.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

import numpy as np

from recommender.errors import DataValidationError, UsageError, ValidationProblem
from recommender.evaluation import linkpred

__all__ = [
    "EdgeList",
    "Split",
    "read_edge_list",
    "read_split",
    "evaluate_links",
    "plot_roc",
    "DEFAULT_LINK_METHODS",
]

#: Methods compared by :func:`evaluate_links` when none are given.
DEFAULT_LINK_METHODS = ("cn", "jaccard", "aa", "ra", "pa", "katz", "ppr", "fracnet")

_HEADER_NAMES = {
    ("u", "v"),
    ("source", "target"),
    ("src", "dst"),
    ("from", "to"),
    ("node1", "node2"),
    ("id1", "id2"),
    ("a", "b"),
}
_MAX_PROBLEMS = 20


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EdgeList:
    """An undirected edge list with node ids mapped to ``0 .. n-1``.

    Attributes
    ----------
    edges : ndarray of int64, shape (m, 2)
        Each edge once, ``u < v``, sorted, no self loops.
    nodes : ndarray, shape (n,)
        The original id of every node index (ints, or strings).
    name : str
        A short name for reports (the file's folder for ``edges.csv``).
    """

    edges: np.ndarray
    nodes: np.ndarray
    name: str = "edges"

    @property
    def n_nodes(self) -> int:
        return int(len(self.nodes))


@dataclass(frozen=True)
class Split:
    """One fixed train/test split: arrays of pairs, shape ``(k, 2)`` each."""

    train_pos: np.ndarray
    train_neg: np.ndarray
    test_pos: np.ndarray
    test_neg: np.ndarray
    name: str = field(default="split")

    @property
    def max_id(self) -> int:
        arrays = [a for a in (self.train_pos, self.train_neg, self.test_pos, self.test_neg) if a.size]
        return int(max(a.max() for a in arrays)) if arrays else -1


def _dataset_name(path: Path) -> str:
    if path.stem.lower() in ("edges", "edge_list", "edgelist", "graph", "network"):
        return path.parent.name or path.stem
    return path.stem


def _split_fields(line: str, delimiter: str | None) -> list[str]:
    if delimiter == ",":
        return next(csv.reader([line]))
    return line.split()


def read_edge_list(path) -> EdgeList:
    """Read an undirected edge list from a CSV or whitespace-separated file.

    The first two columns are the endpoints (extra columns such as weights are
    ignored). A first row of non-numeric names over numeric ids, or a usual
    header (``u,v``, ``source,target``, ...), is a header. Lines starting with
    ``#`` or ``%`` are comments. Node ids may be strings; they are mapped to
    indices ``0 .. n-1`` (in sorted order). Non-negative integer ids are kept
    as they are when they are dense enough (largest id below twice the number
    of distinct ids plus 1000), so that split files using the same ids line up.
    Self loops are dropped and duplicate edges (either direction) merged.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    EdgeList

    Raises
    ------
    DataValidationError
        Naming the file and line of each bad row (missing column, empty id),
        or if the file holds no edge at all.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "g.csv")
    ...     _ = open(p, "w").write("u,v\\nann,bob\\nbob,cy\\ncy,bob\\n")
    ...     el = read_edge_list(p)
    >>> el.edges.tolist(), el.nodes.tolist()
    ([[0, 1], [1, 2]], ['ann', 'bob', 'cy'])
    """
    path = Path(path)
    fname = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataValidationError([ValidationProblem(fname, None, None, "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataValidationError([ValidationProblem(fname, None, None, f"cannot read the file: {exc}")]) from None
    rows: list[tuple[int, str, str]] = []
    problems: list[ValidationProblem] = []
    delimiter: str | None = None
    header_checked = False
    header_row: tuple[int, str, str] | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#%":
            continue
        if delimiter is None and not header_checked:
            delimiter = "," if "," in line else ("\t" if "\t" in line else None)
        fields = [f.strip() for f in _split_fields(line, delimiter)]
        if not header_checked:
            header_checked = True
            key = tuple(f.lower() for f in fields[:2])
            if key in _HEADER_NAMES:
                continue
            if len(fields) >= 2 and fields[0] and fields[1]:
                header_row = (lineno, fields[0], fields[1])  # decided below
                continue
        if len(fields) < 2:
            problems.append(
                ValidationProblem(fname, lineno, None, f"expected two node ids, got {len(fields)} column(s): {line!r}")
            )
        elif not fields[0] or not fields[1]:
            col = "u" if not fields[0] else "v"
            problems.append(ValidationProblem(fname, lineno, col, "empty node id"))
        else:
            rows.append((lineno, fields[0], fields[1]))
        if len(problems) >= _MAX_PROBLEMS:
            break
    if header_row is not None:
        # a non-numeric first row over numeric ids is a header
        first_numeric = all(_is_int(x) for x in header_row[1:])
        rest_numeric = bool(rows) and all(_is_int(a) and _is_int(b) for _, a, b in rows[:1000])
        if first_numeric or not rest_numeric:
            rows.insert(0, header_row)
    if problems:
        raise DataValidationError(problems, hint="each row needs two node ids, e.g. 'u,v' or 'u v'")
    if not rows:
        raise DataValidationError([ValidationProblem(fname, None, None, "no edges found")])
    a = np.array([r[1] for r in rows], dtype=object)
    b = np.array([r[2] for r in rows], dtype=object)
    ids = np.concatenate([a, b])
    if all(_is_int(x) for x in ids):
        ints = np.array([int(x) for x in ids], dtype=np.int64)
        uniq = np.unique(ints)
        if uniq[0] >= 0 and uniq[-1] < 2 * uniq.size + 1000:
            nodes = np.arange(uniq[-1] + 1, dtype=np.int64)
            idx = ints
        else:
            nodes = uniq
            idx = np.searchsorted(uniq, ints)
    else:
        nodes, idx = np.unique(ids.astype(str), return_inverse=True)
    m = len(rows)
    u, v = idx[:m], idx[m:]
    keep = u != v
    lo = np.minimum(u, v)[keep]
    hi = np.maximum(u, v)[keep]
    pairs = np.unique(np.column_stack([lo, hi]).astype(np.int64), axis=0) if keep.any() else np.zeros((0, 2), np.int64)
    return EdgeList(edges=pairs, nodes=nodes, name=_dataset_name(path))


def _is_int(x: str) -> bool:
    return bool(re.fullmatch(r"[+-]?\d+", x))


def read_split(path) -> Split:
    """Read one fixed split file with columns ``u,v,label,part``.

    ``label`` is 1 for an edge and 0 for a sampled non-edge; ``part`` is
    ``train`` or ``test``. Ids are non-negative integer node indices.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Split

    Raises
    ------
    DataValidationError
        Naming the line and column of every bad row.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "split_01.csv")
    ...     _ = open(p, "w").write("u,v,label,part\\n0,1,1,train\\n1,2,1,test\\n0,2,0,test\\n")
    ...     s = read_split(p)
    >>> s.train_pos.tolist(), s.test_pos.tolist(), s.test_neg.tolist()
    ([[0, 1]], [[1, 2]], [[0, 2]])
    """
    path = Path(path)
    fname = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DataValidationError([ValidationProblem(fname, None, None, f"cannot read the file: {exc}")]) from None
    lines = text.splitlines()
    if not lines:
        raise DataValidationError([ValidationProblem(fname, 1, None, "empty file; expected header u,v,label,part")])
    header = [h.strip().lower() for h in next(csv.reader([lines[0]]))]
    missing = [c for c in ("u", "v", "label", "part") if c not in header]
    if missing:
        raise DataValidationError(
            [ValidationProblem(fname, 1, None, f"missing column(s) {', '.join(missing)}; expected header u,v,label,part")]
        )
    iu, iv, il, ip = (header.index(c) for c in ("u", "v", "label", "part"))
    buckets: dict[tuple[str, int], list[tuple[int, int]]] = {(p, l): [] for p in ("train", "test") for l in (0, 1)}
    problems: list[ValidationProblem] = []
    for lineno, fields in enumerate(csv.reader(lines[1:]), start=2):
        if not fields or not any(f.strip() for f in fields):
            continue
        if len(fields) < len(header):
            problems.append(ValidationProblem(fname, lineno, None, f"expected {len(header)} columns, got {len(fields)}"))
            continue
        f = [x.strip() for x in fields]
        bad = False
        for col, i in (("u", iu), ("v", iv)):
            if not re.fullmatch(r"\d+", f[i]):
                problems.append(ValidationProblem(fname, lineno, col, f"expected a non-negative integer, got {f[i]!r}"))
                bad = True
        if f[il] not in ("0", "1"):
            problems.append(ValidationProblem(fname, lineno, "label", f"expected 0 or 1, got {f[il]!r}"))
            bad = True
        part = f[ip].lower()
        if part not in ("train", "test"):
            problems.append(ValidationProblem(fname, lineno, "part", f"expected 'train' or 'test', got {f[ip]!r}"))
            bad = True
        if not bad:
            buckets[(part, int(f[il]))].append((int(f[iu]), int(f[iv])))
        if len(problems) >= _MAX_PROBLEMS:
            break
    if problems:
        raise DataValidationError(problems)

    def arr(key):
        return np.array(buckets[key], dtype=np.int64).reshape(-1, 2)

    return Split(arr(("train", 1)), arr(("train", 0)), arr(("test", 1)), arr(("test", 0)), name=path.stem)


# ---------------------------------------------------------------------------
# The link-prediction protocol
# ---------------------------------------------------------------------------


def _resolve_methods(methods):
    """Name -> scorer ``f(A_train, pairs) -> scores`` (fitting models as needed)."""
    if methods is None:
        methods = DEFAULT_LINK_METHODS
    if isinstance(methods, Mapping):
        items = list(methods.items())
    else:
        items = [(m, m) for m in methods]
    resolved = {}
    for name, spec in items:
        if isinstance(spec, str):
            if spec == "fracnet":
                resolved[name] = "fracnet"
            elif spec in linkpred.HEURISTICS:
                resolved[name] = linkpred.HEURISTICS[spec]
            else:
                known = ", ".join(list(linkpred.HEURISTICS) + ["fracnet"])
                raise UsageError(f"unknown link-prediction method {spec!r}", hint=f"choose from {known}")
        elif hasattr(spec, "fit") and (hasattr(spec, "score_pairs") or hasattr(spec, "predict_proba")):
            resolved[name] = spec
        elif callable(spec):
            resolved[name] = spec
        else:
            raise UsageError(f"method {name!r} must be a name, a scorer f(A, pairs) or a model with fit(A)")
    if not resolved:
        raise UsageError("no methods to evaluate")
    return resolved


def _score(spec, A_train, pairs, run_seed):
    from sklearn.base import clone

    if isinstance(spec, str):  # "fracnet"
        model = linkpred.LinkPredictor(random_state=run_seed).fit(A_train)
        return model.score_pairs(pairs)
    if hasattr(spec, "fit"):
        try:
            model = clone(spec)
        except (TypeError, RuntimeError, AttributeError):  # not scikit-learn style: refit in place
            model = spec
        model.fit(A_train)
        if hasattr(model, "score_pairs"):
            return np.asarray(model.score_pairs(pairs), dtype=float)
        proba = np.asarray(model.predict_proba(pairs), dtype=float)
        return proba[:, 1] if proba.ndim == 2 else proba
    return np.asarray(spec(A_train, pairs), dtype=float)


def _thin_curve(fpr, tpr, max_points=512):
    if fpr.size <= max_points:
        return fpr, tpr
    grid = np.linspace(0.0, 1.0, max_points)
    return grid, np.interp(grid, fpr, tpr)


def _random_runs(edges: np.ndarray, n: int, runs: int, test_frac: float, seed: int):
    if not (0 < test_frac < 1):
        raise UsageError(f"test_frac must be between 0 and 1, got {test_frac}")
    m = len(edges)
    n_test = int(round(test_frac * m))
    if m < linkpred.MIN_EDGES or n_test < 1 or m - n_test < linkpred.MIN_EDGES:
        raise UsageError(
            f"the graph has {m} edges; evaluating link prediction needs at least "
            f"{linkpred.MIN_EDGES} training edges plus at least one test edge"
        )
    non_edges = n * (n - 1) // 2 - m
    if non_edges < n_test:
        raise UsageError(f"the graph has only {non_edges} non-edges; cannot sample {n_test} negative test pairs")
    A_full = linkpred.adjacency_from_edges(edges[:, 0], edges[:, 1], n=n)
    for r in range(runs):
        rng = np.random.default_rng([seed, r])
        perm = rng.permutation(m)
        test_pos = edges[perm[:n_test]]
        train = edges[perm[n_test:]]
        test_neg = linkpred.sample_non_edges(A_full, n_test, rng)
        A_train = linkpred.adjacency_from_edges(train[:, 0], train[:, 1], n=n)
        yield f"run {r + 1}", A_train, test_pos, test_neg


def _split_runs(splits_dir: Path, runs: int, n_hint: int):
    files = sorted(splits_dir.glob("split_*.csv")) or sorted(splits_dir.glob("*.csv"))
    if not files:
        raise UsageError(f"no split files (split_*.csv) in {splits_dir}")
    splits = [read_split(f) for f in files[: max(1, runs)]]
    n = max([n_hint] + [s.max_id + 1 for s in splits])
    for s in splits:
        if len(s.train_pos) < linkpred.MIN_EDGES or len(s.test_pos) == 0 or len(s.test_neg) == 0:
            raise UsageError(
                f"split {s.name} has {len(s.train_pos)} training edges and "
                f"{len(s.test_pos)}+{len(s.test_neg)} test pairs; need at least {linkpred.MIN_EDGES} "
                "training edges and both positive and negative test pairs"
            )
        A_train = linkpred.adjacency_from_edges(s.train_pos[:, 0], s.train_pos[:, 1], n=n)
        yield s.name, A_train, s.test_pos, s.test_neg


def evaluate_links(
    edges,
    *,
    runs: int = 10,
    test_frac: float = 0.1,
    seed: int = 0,
    splits_dir=None,
    methods: Iterable[str] | Mapping[str, object] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict:
    """Run the standard link-prediction protocol and compare methods.

    Per run, ``test_frac`` of the edges (chosen at random) are held out as
    positive test pairs, the same number of non-edges of the full graph are
    sampled as negatives, and the training graph is built from the remaining
    edges. Each method scores the test pairs on the training graph only; AUC
    and average precision (``sklearn.metrics``) are averaged over the runs.
    With ``splits_dir`` the runs are the fixed split files in it instead
    (train positives build the graph; the split's train negatives are not
    used; test pairs are scored).

    Parameters
    ----------
    edges : str, Path, EdgeList or array-like of int, shape (m, 2)
        The graph: a file for :func:`read_edge_list`, or pairs of node indices.
    runs : int, default 10
        Number of random runs (or at most this many split files).
    test_frac : float, default 0.1
    seed : int, default 0
        Run ``r`` uses ``numpy.random.default_rng([seed, r])``; learned models
        get ``random_state = seed + r``.
    splits_dir : str or Path, optional
        A folder of ``split_*.csv`` files (see :func:`read_split`).
    methods : sequence of names, or mapping name -> method, optional
        Names among ``cn, jaccard, aa, ra, pa, katz, ppr, fracnet`` (the
        default is all of them), or a mapping from a display name to a name,
        a scorer ``f(A_train, pairs) -> scores``, or a model with ``fit(A)``
        and ``score_pairs(pairs)`` (cloned and fitted per run).
    progress : callable ``(done, total, label)``, optional
        Called after each method of each run.

    Returns
    -------
    dict
        ``{"dataset", "runs", "protocol", "n_nodes", "n_edges", "methods":
        {name: {"auc", "auc_std", "ap", "ap_std", "auc_runs", "ap_runs",
        "seconds"}}, "roc": {name: [(fpr, tpr), ...]}}``; AUC and AP are
        fractions in ``[0, 1]``; ``roc`` holds one (thinned) ROC curve per run
        for :func:`plot_roc`.

    Raises
    ------
    UsageError
        If the graph is too small (fewer than 20 training edges, no test
        edge) or too dense to sample negatives, or a method is unknown.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> e = rng.integers(0, 60, size=(300, 2))
    >>> res = evaluate_links(e, runs=1, methods=["cn", "ra"])
    >>> sorted(res["methods"]), 0 <= res["methods"]["ra"]["auc"] <= 1
    (['cn', 'ra'], True)
    """
    import time

    from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

    if not isinstance(runs, (int, np.integer)) or runs < 1:
        raise UsageError(f"runs must be a positive integer, got {runs!r}")
    resolved = _resolve_methods(methods)
    if isinstance(edges, (str, Path)):
        edges = read_edge_list(edges)
    if isinstance(edges, EdgeList):
        name, n, E = edges.name, edges.n_nodes, edges.edges
    else:
        arr = np.asarray(edges)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise UsageError(f"edges must be an (m, 2) array of node indices, got shape {arr.shape}")
        arr = arr.astype(np.int64)
        if arr.size and arr.min() < 0:
            raise UsageError("node indices must be non-negative")
        arr = arr[arr[:, 0] != arr[:, 1]]
        E = np.unique(np.sort(arr, axis=1), axis=0) if len(arr) else np.zeros((0, 2), np.int64)
        n = int(E.max()) + 1 if len(E) else 0
        name = "edges"
    if splits_dir is not None:
        splits_dir = Path(splits_dir)
        if not splits_dir.is_dir():
            raise UsageError(f"splits folder {splits_dir} does not exist")
        if name == "edges" and splits_dir.name == "splits":
            name = splits_dir.parent.name
        run_iter = list(_split_runs(splits_dir, runs, n))
        protocol = f"fixed splits from {splits_dir}"
    else:
        run_iter = _random_runs(E, n, runs, test_frac, seed)
        protocol = f"random {test_frac:.0%} holdout"
    n_runs = len(run_iter) if isinstance(run_iter, list) else runs
    total = n_runs * len(resolved)
    aucs = {k: [] for k in resolved}
    aps = {k: [] for k in resolved}
    secs = {k: 0.0 for k in resolved}
    curves = {k: [] for k in resolved}
    done = 0
    for r, (label, A_train, pos, neg) in enumerate(run_iter):
        pairs = np.vstack([pos, neg])
        y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
        for mname, spec in resolved.items():
            t0 = time.perf_counter()
            scores = _score(spec, A_train, pairs, seed + r)
            secs[mname] += time.perf_counter() - t0
            if scores.shape != y.shape:
                raise UsageError(f"method {mname!r} returned {scores.shape} scores for {len(y)} pairs")
            scores = np.nan_to_num(scores, nan=0.0, posinf=np.finfo(float).max, neginf=-np.finfo(float).max)
            aucs[mname].append(float(roc_auc_score(y, scores)))
            aps[mname].append(float(average_precision_score(y, scores)))
            fpr, tpr, _ = roc_curve(y, scores)
            curves[mname].append(_thin_curve(fpr, tpr))
            done += 1
            if progress is not None:
                progress(done, total, f"{label}: {mname}")
    result_methods = {}
    for k in resolved:
        a, p = np.array(aucs[k]), np.array(aps[k])
        result_methods[k] = {
            "auc": float(a.mean()),
            "auc_std": float(a.std()),
            "ap": float(p.mean()),
            "ap_std": float(p.std()),
            "auc_runs": a.tolist(),
            "ap_runs": p.tolist(),
            "seconds": secs[k],
        }
    return {
        "dataset": name,
        "runs": n_runs,
        "protocol": protocol,
        "n_nodes": int(n),
        "n_edges": int(len(E)),
        "methods": result_methods,
        "roc": curves,
    }


def plot_roc(result: dict, path, *, title: str | None = None):
    """Draw every method's mean ROC curve (over runs) on one chart and save it.

    Parameters
    ----------
    result : dict
        The return value of :func:`evaluate_links`.
    path : str or Path
        Image file to write (format from the suffix, e.g. ``.png``).
    title : str, optional

    Returns
    -------
    pathlib.Path
        The file written.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    path = Path(path)
    curves = result.get("roc") or {}
    if not curves:
        raise UsageError("the result holds no ROC curves to plot")
    grid = np.linspace(0.0, 1.0, 201)
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    try:
        for name, runs in curves.items():
            if not runs:
                continue
            tprs = np.array([np.interp(grid, np.asarray(f), np.asarray(t)) for f, t in runs])
            mean = tprs.mean(axis=0)
            mean[0] = 0.0
            auc = result["methods"][name]["auc"]
            hi = name == "fracnet"
            ax.plot(
                grid,
                mean,
                label=f"{name} (AUC {100 * auc:.2f}%)",
                linewidth=2.8 if hi else 1.2,
                color="black" if hi else None,
                zorder=3 if hi else 2,
            )
        ax.plot([0, 1], [0, 1], linestyle=":", color="grey", linewidth=0.8)
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.set_title(title or f"Link prediction on {result.get('dataset', 'graph')} ({result.get('runs', '?')} runs)")
        ax.legend(loc="lower right", fontsize=8)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)
    return path
