"""The fitted-model cache beside the database: reused until the data changes."""

from recommender.ledger import log_referral
from recommender.model_cache import cache_dir, meet_model, router
from pathlib import Path

from recommender.store.db import Store


def _answer(model, pid):
    return [(r.candidate_id, r.score) for r in model.recommend(pid, k=5)]


def test_cached_model_is_reused_and_refreshed_after_a_write(cold_db):
    with Store(cold_db) as s:
        m1 = meet_model(s)
        files = list(cache_dir(s).glob("meet-*.npz"))
        assert len(files) == 1
        stamp = files[0].stat().st_mtime_ns
        m2 = meet_model(s)
        assert files[0].stat().st_mtime_ns == stamp  # loaded, not refitted
        pid = m1.context_.ids[5]
        assert _answer(m1, pid) == _answer(m2, pid)
        opp = sorted(s.read_table("opportunities", "status = 'open'")["id"])[0]  # closed ones need --anyway
        fractional = s.read_table("people", "kind = 'fractional' AND (opt_out IS NULL OR opt_out = 0)")["id"]
        brought_by = s.get("opportunities", opp)["brought_by"]
        to = next(p for p in fractional if p != brought_by)
        log_referral(s, opp, to)
        meet_model(s)  # the "who to meet" model reads the structure only: a referral keeps it
        assert [f.stat().st_mtime_ns for f in cache_dir(s).glob("meet-*.npz")] == [stamp]
        router(s)
        routers = list(cache_dir(s).glob("route-*.npz"))
        log_referral(s, opp, next(p for p in fractional if p not in (brought_by, to)))
        router(s)  # the router reads the referrals: a new one
        assert len(list(cache_dir(s).glob("route-*.npz"))) == len(routers) + 1
        with s.transaction() as con:  # a structural write: a new model
            con.execute("UPDATE ties SET strength = strength / 2 WHERE rowid = (SELECT MIN(rowid) FROM ties)")
        meet_model(s)
        assert len(list(cache_dir(s).glob("meet-*.npz"))) == 2


def test_corrupt_cache_file_is_refitted(cold_db):
    with Store(cold_db) as s:
        meet_model(s)
        f = next(cache_dir(s).glob("meet-*.npz"))
        f.write_bytes(b"garbage")
        import pytest

        from recommender.errors import FracnetWarning

        with pytest.warns(FracnetWarning, match="SHA-256"):
            model = meet_model(s)
        assert model.recommend(model.context_.ids[0], k=3) is not None


def test_one_cache_key_the_revision(cold_db):
    """The explorer and the model cache key on the store's revision, which every commit raises."""
    from recommender.model_cache import cache_key, revision_key
    from recommender.store.db import Store

    with Store(cold_db) as store, Store(cold_db) as other:
        before, key = revision_key(store), cache_key(store)
        with other.transaction() as con:  # another connection commits
            con.execute("UPDATE people SET name = name || '!' WHERE id = (SELECT MIN(id) FROM people)")
        assert revision_key(store) != before and cache_key(store) != key
        assert revision_key(store)[0] == str(store.path.resolve())


# -- issue 18: a cache bound to its data -------------------------------------------------------

import pickle
import shutil
import warnings

import pytest

from recommender.model_cache import cache_key
from recommender.store.backup import restore


def _opt_out(store, pid):
    with store.transaction() as con:
        con.execute("UPDATE people SET opt_out = 1 WHERE id = ?", (pid,))


def test_after_restore_and_a_new_opt_out_meet_never_answers_from_the_old_model(cold_db, tmp_path):
    backup = tmp_path / "before.db"
    with Store(cold_db) as s:
        s.backup(backup)
        pid = s.read_table("people", "kind = 'fractional'")["id"].iloc[3]
        with s.transaction() as con:  # some write after the backup: a new revision, and a model for it
            con.execute("UPDATE people SET bio = 'changed' WHERE id = ?", (pid,))
        first = meet_model(s)
        victim = first.recommend(pid, k=5)[0].candidate_id
        rev_with_model = s.revision
    with Store(cold_db) as s:
        ident = s.identity
    restore(backup, cold_db)
    with Store(cold_db) as s:
        assert s.identity != ident  # a restored database is a new one: no older model can match it
        _opt_out(s, victim)  # the restored database reaches the same revision number again
        assert s.revision == rev_with_model
        model = meet_model(s)
        assert victim not in [r.candidate_id for r in model.recommend(pid, k=30)]


class _Exploit:
    marker = None

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_file_placed_in_the_cache_folder_is_never_unpickled(cold_db, tmp_path):
    marker = tmp_path / "pwned"
    _Exploit.marker = marker
    payload = pickle.dumps(_Exploit())
    with Store(cold_db) as s:
        key = cache_key(s)
        cache_dir(s).mkdir(exist_ok=True)
        for name in (f"meet-{key}-0000000000000000.npz", f"meet-{key}-0000000000000000.pkl", f"meet-{key}.npz",
                     "meet-anything.pkl"):
            (cache_dir(s) / name).write_bytes(payload)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = meet_model(s)
        assert not marker.exists()
        # now a model is recorded; overwrite its file with the payload: the checksum refuses it
        recorded = next(p for p in cache_dir(s).glob(f"meet-{key}-*.npz") if p.read_bytes() != payload)
        recorded.write_bytes(payload)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            again = meet_model(s)
        assert not marker.exists()
        assert any("SHA-256" in str(w.message) for w in caught)
        pid = model.context_.ids[0]
        assert _answer(again, pid) == _answer(model, pid)


def test_a_replaced_database_file_never_matches_the_old_cache(cold_db, tmp_path):
    other = tmp_path / "other.db"
    with Store(other) as o:
        with o.transaction() as con:
            con.execute("INSERT INTO people (id, name, kind) VALUES ('z1', 'Zed', 'fractional')")
    with Store(cold_db) as s:
        meet_model(s)
        ident = s.identity
    for suffix in ("-wal", "-shm"):
        p = Path(str(cold_db) + suffix)
        if p.exists():
            p.unlink()
    shutil.copyfile(other, cold_db)
    with Store(cold_db) as s:
        assert s.identity != ident
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = meet_model(s)
        assert list(model.context_.ids) == ["z1"]


def test_cache_files_are_private_and_the_record_lives_in_the_database(cold_db):
    with Store(cold_db) as s:
        meet_model(s)
        f = next(cache_dir(s).glob("meet-*.npz"))
        assert f.stat().st_mode & 0o777 == 0o600
        assert s.meta("model:" + cache_key(s))
