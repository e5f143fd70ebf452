"""Root conftest: no test and no doctest ever touches the user's home or default database.

It sits at the project root so it covers ``tests/`` and the doctests collected
from ``recommender/`` (``--doctest-modules``) alike. Every test runs with
``HOME`` and ``FRACNET_DB`` pointing into pytest's temporary folder, and the
session fails if the real ``~/.fracnet`` changed while it ran.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

# The suite runs on two workers (pytest-xdist) on a two-core machine: one BLAS/OpenMP thread per worker keeps
# them from oversubscribing the cores (results do not depend on it; set before numpy or scikit-learn load)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

#: The user's real home and fracnet folder, read before any test changes HOME.
REAL_HOME = Path(os.path.expanduser("~")).resolve()
REAL_FRACNET = REAL_HOME / ".fracnet"

# scripts that run the explorer when imported: never collected as doctest modules
collect_ignore = ["app.py", "recommender/ui/standalone.py"]


def fracnet_home_snapshot(folder: Path = REAL_FRACNET):
    """What ``~/.fracnet`` holds: None if absent, else {relative path: (size, mtime_ns)}."""
    if not folder.exists():
        return None
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.name.endswith(("-wal", "-shm", "-journal")):  # SQLite's transient files while a database is open
            continue
        try:
            st = p.lstat()
        except OSError:
            continue
        out[str(p.relative_to(folder))] = (st.st_size, st.st_mtime_ns)
    return out


_BEFORE = fracnet_home_snapshot()

ROOT = Path(__file__).resolve().parent
#: Set by the controlling pytest process for its workers: "<marker file>:<pid>" of the numba warm-up.
WARMUP_ENV = "FRACNET_TEST_NUMBA_WARMUP"
_WARMUP: subprocess.Popen | None = None


def pytest_configure(config):
    """On a fresh clone, compile the batch kernels once in the background (tests/numba_warmup.py).

    Only the controlling process starts it (pytest-xdist workers inherit :data:`WARMUP_ENV` and wait for it in
    the ``compiled_kernels`` fixture), and only when numba is installed and its cache is missing or stale.
    """
    global _WARMUP
    if (hasattr(config, "workerinput") or os.environ.get(WARMUP_ENV)
            or not (ROOT / "tests" / "numba_warmup.py").exists()):
        return  # a worker, a nested session, or a copy of this file outside the project (tests/test_isolation.py)
    import importlib.util

    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from numba_warmup import cache_is_fresh
    finally:
        sys.path.pop(0)
    if importlib.util.find_spec("numba") is None or cache_is_fresh(ROOT / "recommender"):
        return
    work = Path(tempfile.mkdtemp(prefix="fracnet-numba-warmup-"))
    marker = work / "done"
    env = dict(os.environ, HOME=str(work), FRACNET_DB=str(work / "never.db"),
               PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    with open(work / "warmup.log", "w") as log:
        _WARMUP = subprocess.Popen([sys.executable, str(ROOT / "tests" / "numba_warmup.py"), str(marker)],
                                   cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    os.environ[WARMUP_ENV] = f"{marker}:{_WARMUP.pid}"


def pytest_unconfigure(config):
    global _WARMUP
    if _WARMUP is not None:
        if _WARMUP.poll() is None:
            _WARMUP.terminate()
        _WARMUP.wait()
        marker = os.environ.get(WARMUP_ENV, "").rsplit(":", 1)[0]
        if marker:
            import shutil

            shutil.rmtree(Path(marker).parent, ignore_errors=True)
        _WARMUP = None
        os.environ.pop(WARMUP_ENV, None)


#: The slowest test files (a real browser, the README tour, the explorer's pages), handed to the two workers first
#: so neither ends the run alone with one of them. Only the order changes, never what runs.
SLOW_FILES_FIRST = ("tests/test_browser.py", "tests/test_readme_tour.py", "tests/test_app.py",
                    "tests/test_app_scale.py", "tests/test_evaluate_links.py", "tests/test_app_practice.py")


def pytest_collection_modifyitems(session, config, items):
    """Order the test files for the two workers (``--dist loadfile --no-loadscope-reorder`` hands them out
    in this order, one file at a time to whichever worker is free): :data:`SLOW_FILES_FIRST`, then the files
    with a test on the compiled kernels (``compiled_kernels``: by then the background warm-up is done, so no
    worker sits waiting for it), then the other test files, then the doctests of ``recommender/``. Within a
    file the order is the collected one."""
    def file_of(item):
        return item.nodeid.split("::", 1)[0]

    compiled = {file_of(i) for i in items if "compiled_kernels" in getattr(i, "fixturenames", ())}
    first = {f: n for n, f in enumerate(SLOW_FILES_FIRST)}

    def rank(pair):
        n, item = pair
        f = file_of(item)
        if f in first:
            return (0, first[f], n)
        if f in compiled:
            return (1, 0, n)
        return (2 if f.startswith("tests/") else 3, 0, n)

    items[:] = [item for _, item in sorted(enumerate(items), key=rank)]


@pytest.fixture(scope="session")
def compiled_kernels():
    """Wait (at most 5 minutes) for the session's numba warm-up, if one runs, so this worker loads the
    compiled kernels from the cache instead of compiling them a second time. Results never depend on it."""
    value = os.environ.get(WARMUP_ENV)
    if not value:
        return
    marker, pid = value.rsplit(":", 1)
    deadline = time.monotonic() + 300
    while not os.path.exists(marker) and time.monotonic() < deadline:
        try:
            os.kill(int(pid), 0)
        except OSError:  # gone without a marker (killed): compile here as usual
            return
        time.sleep(0.2)


@pytest.fixture(autouse=True)
def _main_module_kept():
    """Put back ``sys.modules["__main__"]`` after every test.

    Streamlit's AppTest runs ``app.py`` as ``__main__`` and leaves it there; a later test in the same worker
    that starts a process with multiprocessing's ``spawn`` (the Dask engine's LocalCluster, test_faults'
    writers) would then run the whole explorer again in every child (``spawn`` re-runs ``__main__``'s file):
    each child builds the default sample database and fits its model and router before doing its work."""
    main = sys.modules.get("__main__")
    yield
    if main is not None and sys.modules.get("__main__") is not main:
        sys.modules["__main__"] = main


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """HOME and FRACNET_DB in a per-session temp folder, for tests and doctests alike."""
    home = tmp_path_factory.getbasetemp() / "fracnet-home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("FRACNET_DB", str(home / "default.db"))
    monkeypatch.delenv("FRACNET_AUTH_CONFIG", raising=False)


def pytest_sessionfinish(session, exitstatus):
    """Fail the run if the user's real ``~/.fracnet`` was written during it."""
    after = fracnet_home_snapshot()
    if after != _BEFORE:
        session.exitstatus = 1
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        changed = sorted(k for k in set(after or {}) | set(_BEFORE or {}) if (after or {}).get(k) != (_BEFORE or {}).get(k))
        msg = (f"the test suite changed {REAL_FRACNET} (tests must never touch the user's home): "
               + (", ".join(changed[:5]) or "created or removed"))
        if reporter is not None:
            reporter.write_line(f"ERROR: {msg}", red=True)
        else:
            print(f"ERROR: {msg}")
