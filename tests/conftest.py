"""Shared fixtures: a small sample store (isolation from the user's home: the root conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "data" / "sample"
#: Names that test escaping (HTML, a script, a spreadsheet formula): planted on
#: the test copies of the sample, never shipped in it.
HOSTILE_NAMES = ROOT / "tests" / "data" / "hostile_names.csv"


def plant_hostile_names(store) -> dict[str, str]:
    """Rename a few sample people to hostile names (tests/data/hostile_names.csv); return id -> name."""
    import csv

    with open(HOSTILE_NAMES, newline="", encoding="utf-8") as fh:
        names = {r["id"]: r["name"] for r in csv.DictReader(fh)}
    with store.transaction() as con:
        con.executemany("UPDATE people SET name = ? WHERE id = ?", [(n, i) for i, n in names.items()])
    return names


# HOME and FRACNET_DB point into a temp folder for every test and doctest: see the root conftest.py.


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE_DIR


def built_once(tmp_path_factory, name: str, build) -> Path:
    """A folder ``build(folder)`` fills once per test run, shared by the pytest-xdist workers (read-only).

    It sits in the run's shared temp root (``getbasetemp().parent`` under xdist, the run's own base temp
    without it, so never a previous run's); the first worker to ask builds it under a file lock while
    the other waits, and every later ask reads what was built.
    """
    import fcntl
    import os
    import shutil

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / f"shared-{name}"
    with open(root / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / ".built").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            (folder / ".built").write_text("ok\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory) -> Path:
    """A database imported from the bundled sample, with the hostile test names planted, built once per run
    (read-only use, shared by the workers: copy it before writing)."""
    from recommender.io.csv_folder import import_folder
    from recommender.store.db import Store

    def build(folder):
        with Store(folder / "sample.db") as store:
            import_folder(store, SAMPLE_DIR)
            plant_hostile_names(store)
            store.con.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    return built_once(tmp_path_factory, "sample", build) / "sample.db"


@pytest.fixture(scope="session")
def sample_net(sample_db):
    """The sample as a Network, loaded once per session (read-only: never change it)."""
    from recommender.network import load_network
    from recommender.store.db import Store

    with Store(sample_db) as store:
        return load_network(store)


@pytest.fixture(scope="session")
def sample_fits(warm_sample_db) -> dict:
    """``{"MeetModel": ..., "Router": ...}``: the objects the warm sample's build fitted (``MeetModel().fit`` and
    ``Router().fit`` on the sample), pickled beside it, so both workers share one fit of each (read-only)."""
    import pickle

    with open(warm_sample_db.parent / "fitted.pkl", "rb") as fh:
        return pickle.load(fh)


@pytest.fixture(scope="session")
def sample_model(sample_fits):
    """The "who to meet" model fitted on the sample, once per run (read-only: fit your own to change it)."""
    return sample_fits["MeetModel"]


@pytest.fixture(scope="session")
def sample_router(sample_fits):
    """The referral router fitted on the sample, once per run (read-only)."""
    return sample_fits["Router"]


@pytest.fixture(scope="session")
def small_db(tmp_path_factory) -> Path:
    """A database of a generated 150-person network (``generate_network(150, seed=2)``: the sample's id scheme,
    p0001..p0150 and o0001.., with history, opportunities and a few opt-outs), built once per run, nothing cached
    (read-only, shared by the workers: copy it before writing)."""
    from recommender.demo import generate_network, write_network
    from recommender.io.csv_folder import import_folder
    from recommender.store.db import Store

    def build(folder):
        write_network(generate_network(150, seed=2), folder / "csv")
        with Store(folder / "small.db") as store:
            import_folder(store, folder / "csv")
            store.con.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    return built_once(tmp_path_factory, "small", build) / "small.db"


@pytest.fixture
def cold_db(small_db, tmp_path) -> Path:
    """A private copy of :func:`small_db` with no fitted model cached (the first answer fits), for the tests of
    fitting and of the model cache: they are about when a model is fitted, loaded or refused, not about the sample,
    and a fit here takes ~0.8 s of CPU (the sample's ~2.5 s, its router's 1.5 s against 0.6 s)."""
    from recommender.store.db import Store

    dst = tmp_path / "copy.db"
    with Store(small_db) as s:
        s.backup(dst)
    return dst


@pytest.fixture
def writable_db(warm_sample_db, tmp_path) -> Path:
    """A private copy of the sample for tests that write, its fitted models cached (a write that changes the
    network refits, as for a user; tests of fitting and of the cache itself take :func:`cold_db`)."""
    return copy_database(warm_sample_db, tmp_path / "copy.db")


def copy_database(src: Path, dst: Path, *, models: bool = True) -> Path:
    """A consistent copy of the database at ``src`` with its cached models (``<db>.models/``; none with
    ``models=False``: the copy's first answer fits), at ``dst``."""
    import shutil

    from recommender.store.db import Store

    with Store(src) as s:
        s.backup(dst)
    models = Path(str(src) + ".models") if models else None
    if models is not None and models.is_dir():
        shutil.copytree(models, str(dst) + ".models")
    return dst


@pytest.fixture(scope="session")
def copy_db():
    """:func:`copy_database`, for tests that keep their own copies."""
    return copy_database


@pytest.fixture(scope="session")
def warm_sample_db(sample_db, tmp_path_factory) -> Path:
    """The sample with its "who to meet" model and its referral router fitted once per run and cached beside
    it, so the CLI and the explorer load them instead of fitting (read-only, shared by the workers: copy it
    first)."""
    from recommender.model_cache import meet_model, router
    from recommender.network import load_network
    from recommender.store.db import Store

    def build(folder):
        import pickle

        from recommender.meet.model import MeetModel
        from recommender.refer.router import Router

        # without the models a CLI test may have cached in sample_db itself (it answers from it), so both are
        # fitted here whichever test ran first
        path = copy_database(sample_db, folder / "warm.db", models=False)
        with Store(path) as s:
            net = load_network(s)
            fits = {"MeetModel": meet_model(s, network=net), "Router": router(s, network=net)}
            s.con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # nothing was cached yet, so both were fitted here (MeetModel().fit, Router().fit): sample_fits' objects
        assert isinstance(fits["MeetModel"], MeetModel) and isinstance(fits["Router"], Router), fits
        with open(folder / "fitted.pkl", "wb") as fh:
            pickle.dump(fits, fh, protocol=pickle.HIGHEST_PROTOCOL)

    return built_once(tmp_path_factory, "warm", build) / "warm.db"


@pytest.fixture
def warm_db(warm_sample_db, tmp_path) -> Path:
    """A private copy of the sample whose first answer needs no fit (its model cache copied too)."""
    return copy_database(warm_sample_db, tmp_path / "warm-copy.db")


@pytest.fixture
def db_with_me(warm_db, request) -> Path:
    """A private warm copy of the sample with "me" set to the test module's ``ME`` (a practice write: the cached
    model stays valid)."""
    from recommender.practice import owner
    from recommender.store.db import Store

    with Store(warm_db) as s:
        owner.set_me(s, request.module.ME)
    return warm_db


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tiny_folder(tmp_path) -> Path:
    """A hand-made network: three people, two ties."""
    d = tmp_path / "tiny"
    d.mkdir()
    write_csv(d / "people.csv",
              "id,name,kind,function,specialties,industries,email,profile_url\n"
              "p1,Ada Lovelace,fractional,marketing,Demand Gen;Brand,SaaS,ada@example.com,https://www.linkedin.com/in/ada\n"
              "p2,Bob Stone,fractional,finance,FP&A,fintech,bob@example.com,\n"
              "p3,Cy Young,executive,,,saas,,\n")
    write_csv(d / "ties.csv", "a,b,strength,since\np1,p2,0.8,2024-01-01\np3,p2,0.5,2023-05-01\n")
    return d
