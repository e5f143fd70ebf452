"""Nothing lost: concurrent writers, a killed import, backup while in use."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recommender.io.csv_folder import import_folder
from recommender.store.db import Store

N_WRITES = 600  # per process; two processes -> 1,200 concurrent writes


def _write_referrals(db: str, prefix: str, n: int, start_evt) -> None:
    start_evt.wait()
    with Store(db) as s:
        opp = sorted(s.ids("opportunities"))[0]
        people = sorted(s.ids("people"))
        for i in range(n):
            with s.transaction() as con:
                con.execute(
                    "INSERT INTO referrals (id, opportunity_id, from_id, to_id, date, outcome) VALUES (?, ?, ?, ?, ?, ?)",
                    (f"{prefix}{i}", opp, people[i % len(people)], people[(i + 1) % len(people)], "2026-07-01", "pending"),
                )


def _write_people(db: str, prefix: str, n: int, start_evt) -> None:
    start_evt.wait()
    with Store(db) as s:
        for i in range(n):
            with s.transaction() as con:
                con.execute("INSERT INTO people (id, name, kind) VALUES (?, ?, 'fractional')", (f"{prefix}{i}", f"P {i}"))


def test_two_processes_writing_lose_nothing(writable_db, tmp_path):
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    procs = [
        ctx.Process(target=_write_referrals, args=(str(writable_db), "stress-r", N_WRITES, start)),
        ctx.Process(target=_write_people, args=(str(writable_db), "stress-p", N_WRITES, start)),
    ]
    with Store(writable_db) as s:
        before = s.counts()
    for p in procs:
        p.start()
    start.set()
    # meanwhile, this process imports through the CLI-facing library path
    d = tmp_path / "more"
    d.mkdir()
    (d / "people.csv").write_text("id,name\n" + "".join(f"imp{i},Imported {i}\n" for i in range(50)))
    with Store(writable_db) as s:
        for _ in range(5):
            import_folder(s, d)
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with Store(writable_db) as s:
        after = s.counts()
        assert after["referrals"] == before["referrals"] + N_WRITES
        assert after["people"] == before["people"] + N_WRITES + 50
        assert s.integrity_check() == "ok"


def test_cli_and_library_write_at_once(writable_db, tmp_path):
    """The CLI process imports while the library writes referrals."""
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    writer = ctx.Process(target=_write_referrals, args=(str(writable_db), "cli-r", 300, start))
    d = tmp_path / "cli"
    d.mkdir()
    (d / "people.csv").write_text("id,name\n" + "".join(f"cli{i},Cli {i}\n" for i in range(200)))
    with Store(writable_db) as s:
        before = s.counts()
    writer.start()
    start.set()
    proc = subprocess.run([sys.executable, "-m", "recommender", "import", str(d), "--db", str(writable_db), "--quiet"],
                          capture_output=True, text=True, timeout=120)
    writer.join(120)
    assert proc.returncode == 0, proc.stderr
    assert writer.exitcode == 0
    with Store(writable_db) as s:
        after = s.counts()
        assert after["people"] == before["people"] + 200
        assert after["referrals"] == before["referrals"] + 300
        assert s.integrity_check() == "ok"


def _big_folder(path: Path, n_people: int = 20000, n_ties: int = 100000) -> Path:
    """A folder whose import writes a WAL of ~10 MB over several seconds (killed at 2 MB: well inside it)."""
    import numpy as np

    path.mkdir()
    rng = np.random.default_rng(0)
    with open(path / "people.csv", "w") as fh:
        fh.write("id,name,specialties\n")
        fh.writelines(f"big{i},Person {i},demand-gen;brand\n" for i in range(n_people))
    a = rng.integers(0, n_people, n_ties)
    b = rng.integers(0, n_people, n_ties)
    keep = a != b
    with open(path / "ties.csv", "w") as fh:
        fh.write("a,b,strength\n")
        fh.writelines(f"big{x},big{y},0.5\n" for x, y in zip(a[keep], b[keep]))
    return path


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_import_killed_midway_leaves_database_as_before(writable_db, tmp_path):
    folder = _big_folder(tmp_path / "big")
    with Store(writable_db) as s:
        before = s.counts()
    wal = Path(str(writable_db) + "-wal")
    proc = subprocess.Popen([sys.executable, "-m", "recommender", "import", str(folder), "--db", str(writable_db), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # wait until the write transaction is under way (the WAL grows), then kill
    deadline = time.time() + 120
    killed_during_write = False
    while time.time() < deadline and proc.poll() is None:
        if wal.exists() and wal.stat().st_size > 2_000_000:
            os.kill(proc.pid, signal.SIGKILL)
            killed_during_write = True
            break
        time.sleep(0.01)
    proc.wait(30)
    assert killed_during_write, "the import finished before it could be killed; make the input bigger"
    with Store(writable_db) as s:
        assert s.counts() == before
        assert s.integrity_check() == "ok"


def test_backup_while_writing_is_consistent(writable_db, tmp_path):
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    writer = ctx.Process(target=_write_people, args=(str(writable_db), "bk", 400, start))
    writer.start()
    start.set()
    time.sleep(0.2)
    with Store(writable_db) as s:
        s.backup(tmp_path / "b.db")
    writer.join(60)
    with Store(tmp_path / "b.db") as b:
        assert b.integrity_check() == "ok"
        n = b.counts()["people"]
    with Store(writable_db) as s:
        assert s.counts()["people"] >= n
