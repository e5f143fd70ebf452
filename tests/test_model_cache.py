"""The fitted-model cache beside the database: reused until the data changes."""

from recommender.ledger import log_referral
from recommender.model_cache import cache_dir, meet_model
from recommender.store.db import Store


def _answer(model, pid):
    return [(r.candidate_id, r.score) for r in model.recommend(pid, k=5)]


def test_cached_model_is_reused_and_refreshed_after_a_write(writable_db):
    with Store(writable_db) as s:
        m1 = meet_model(s)
        files = list(cache_dir(s).glob("meet-*.pkl"))
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
        meet_model(s)
        assert len(list(cache_dir(s).glob("meet-*.pkl"))) == 2  # a new revision, a new model


def test_corrupt_cache_file_is_refitted(writable_db):
    with Store(writable_db) as s:
        meet_model(s)
        f = next(cache_dir(s).glob("meet-*.pkl"))
        f.write_bytes(b"garbage")
        model = meet_model(s)
        assert model.recommend(model.context_.ids[0], k=3) is not None


def test_one_cache_key_the_revision(writable_db):
    """The explorer and the model cache key on the store's revision, which every commit raises."""
    from recommender.model_cache import cache_key, revision_key
    from recommender.store.db import Store

    with Store(writable_db) as store, Store(writable_db) as other:
        before, key = revision_key(store), cache_key(store)
        with other.transaction() as con:  # another connection commits
            con.execute("UPDATE people SET name = name || '!' WHERE id = (SELECT MIN(id) FROM people)")
        assert revision_key(store) != before and cache_key(store) != key
        assert revision_key(store)[0] == str(store.path.resolve())
