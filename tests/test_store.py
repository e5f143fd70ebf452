import sqlite3
from pathlib import Path

import pytest

from recommender.errors import StoreError, UnknownIdError
from recommender.store.schema import APPLICATION_ID, SCHEMA_VERSION
from recommender.sample import create_sample_database, open_default_store
from recommender.store.backup import restore
from recommender.store.db import Store


def test_new_database_has_schema_and_version(tmp_path):
    with Store(tmp_path / "x.db") as s:
        assert s.schema_version == SCHEMA_VERSION
        assert s.con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert s.con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.counts() == {t: 0 for t in ("companies", "people", "ties", "introductions", "opportunities", "referrals")}


def test_transaction_rolls_back_on_error(tmp_path):
    with Store(tmp_path / "x.db") as s:
        with pytest.raises(RuntimeError):
            with s.transaction() as con:
                con.execute("INSERT INTO people (id, name) VALUES ('p1', 'A')")
                raise RuntimeError("boom")
        assert s.counts()["people"] == 0


def test_not_sqlite_file_is_a_clear_error(tmp_path):
    p = tmp_path / "notes.db"
    p.write_text("hello, this is not a database")
    with pytest.raises(StoreError, match="not a fracnet database"):
        Store(p)


def test_foreign_sqlite_database_is_refused_and_untouched(tmp_path):
    p = tmp_path / "other.db"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    before = p.read_bytes()
    with pytest.raises(StoreError, match="not a fracnet one"):
        Store(p)
    assert p.read_bytes() == before


def test_corrupt_database_is_a_clear_error(tmp_path):
    p = tmp_path / "x.db"
    with Store(p) as s:
        s.backup(tmp_path / "ok.db")
    data = bytearray((tmp_path / "ok.db").read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    p2 = tmp_path / "broken.db"
    p2.write_bytes(bytes(data))
    with pytest.raises(StoreError):
        Store(p2)


def test_newer_schema_is_refused(tmp_path):
    p = tmp_path / "x.db"
    Store(p).close()
    con = sqlite3.connect(p)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(StoreError, match="newer"):
        Store(p)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "nope" / "x.db")


def test_get_unknown_id_suggests(sample_db):
    with Store(sample_db) as s:
        some = sorted(s.ids("people"))[0]
        with pytest.raises(UnknownIdError) as e:
            s.get_person(some + "x")
        assert some in e.value.suggestions


def test_default_store_is_created_from_sample(tmp_path, monkeypatch, sample_dir):
    monkeypatch.setenv("FRACNET_DB", str(tmp_path / "home" / "fracnet.db"))
    with open_default_store(warm=False) as s:  # (the explorer's warm fit: tests/test_app_scale.py's first run)
        counts = s.counts()
    import csv
    with open(sample_dir / "people.csv", newline="", encoding="utf-8") as fh:
        n_people = sum(1 for _ in csv.DictReader(fh))
    assert counts["people"] == n_people > 0
    assert not list((tmp_path / "home").glob(".fracnet-*"))  # no temp files left behind


def test_the_cli_creates_the_default_store_without_fitting(tmp_path, monkeypatch, capsys):
    """A first command that answers with no model (a mistyped id, stats) fits none: nothing is cached beside the
    new default database (a first answer fits what it needs: tests/test_model_cache.py)."""
    from recommender.cli import main

    db = tmp_path / "home" / "fracnet.db"
    monkeypatch.setenv("FRACNET_DB", str(db))
    assert main(["meet", "p0001x"]) == 5
    assert "unknown person" in capsys.readouterr().err
    assert db.exists()
    models = Path(str(db) + ".models")
    assert not (models.exists() and any(models.iterdir()))
    assert main(["stats"]) == 0
    assert not (models.exists() and any(models.iterdir()))


def test_backup_and_restore(writable_db, tmp_path):
    with Store(writable_db) as s:
        s.backup(tmp_path / "b.db")
        with s.transaction() as con:
            con.execute("DELETE FROM ties")
    restore(tmp_path / "b.db", writable_db)
    with Store(writable_db) as s:
        assert s.counts()["ties"] > 0
        assert s.integrity_check() == "ok"


def test_create_sample_database_is_atomic(tmp_path, sample_dir):
    path = create_sample_database(tmp_path / "s.db", sample_dir)
    with Store(path) as s:
        assert s.counts()["people"] > 0


def test_revision_rises_with_every_write_and_only_then(tmp_path):
    with Store(tmp_path / "x.db") as s:
        r0 = s.revision
        with s.transaction() as con:
            con.execute("INSERT INTO people (id) VALUES ('a')")
        assert s.revision == r0 + 1
        with s.transaction():
            pass  # nothing written
        assert s.revision == r0 + 1
        with pytest.raises(RuntimeError):
            with s.transaction() as con:
                con.execute("INSERT INTO people (id) VALUES ('b')")
                raise RuntimeError
        assert s.revision == r0 + 1


def _old_database(path, version: int, *statements: str):
    """A fracnet database as an older version left it: the network's tables, ``statements``, ``user_version``."""
    from recommender.store.schema import TABLES, create_table_sql

    con = sqlite3.connect(path)
    for t in TABLES.values():
        con.execute(create_table_sql(t))
    for statement in statements:
        con.execute(statement)
    con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    con.execute(f"PRAGMA user_version = {version}")
    con.commit()
    con.close()
    return path


def test_version_1_database_is_migrated(tmp_path):
    p = _old_database(tmp_path / "v1.db", 1, "INSERT INTO people (id, name) VALUES ('p1', 'Ada')")
    with Store(p) as s:
        assert s.schema_version == SCHEMA_VERSION == 3
        assert s.get_person("p1")["name"] == "Ada"
        r = s.revision
        with s.transaction() as c:
            c.execute("INSERT INTO people (id) VALUES ('p2')")
        assert s.revision == r + 1


def test_old_schema_2_database_is_migrated(tmp_path):
    from recommender.practice import owner, pipeline

    p = _old_database(tmp_path / "v2.db", 2, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
                      "INSERT INTO meta VALUES ('revision', '5')",
                      "INSERT INTO people (id, name) VALUES ('p1', 'Ada'), ('p2', 'Bo')")
    with Store(p) as s:
        assert s.schema_version == 3 and s.revision == 5
        owner.set_me(s, "p1")
        assert pipeline.add_item(s, "p2")["status"] == "to_contact"
        assert s.revision == 5  # practice writes leave the network's revision as it was
