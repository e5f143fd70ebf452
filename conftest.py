"""Root conftest: no test and no doctest ever touches the user's home or default database.

It sits at the project root so it covers ``tests/`` and the doctests collected
from ``recommender/`` (``--doctest-modules``) alike. Every test runs with
``HOME`` and ``FRACNET_DB`` pointing into pytest's temporary folder, and the
session fails if the real ``~/.fracnet`` changed while it ran.
"""

from __future__ import annotations

import os
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
