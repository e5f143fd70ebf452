"""Issue 17: what the explorer builds once per revision, and what a write throws away (AppTest on the sample)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from streamlit.testing.v1 import AppTest

from recommender.model_cache import HISTORY_TABLES, STRUCTURE_TABLES, tables_key
from recommender.store.db import Store

APP = "../app.py"
PAGES = "recommender/ui/pages/{}.py"
PID = "p0002"


@pytest.fixture
def counts(monkeypatch):
    """Counts of the expensive builds: tables read, lookups, trust graphs, models, routers, whole-network insights."""
    import recommender.explore as explore
    import recommender.model_cache as model_cache
    from recommender.refer.router import Router

    seen = Counter()

    def count(name, fn):
        def wrapped(*a, **k):
            seen[name] += 1
            return fn(*a, **k)
        return wrapped

    read = Store.read_table
    monkeypatch.setattr(Store, "read_table", lambda self, name, *a, **k: (seen.update([f"read:{name}"]),
                                                                        read(self, name, *a, **k))[1])
    monkeypatch.setattr(explore, "people_lookup", count("lookup", explore.people_lookup))
    monkeypatch.setattr(explore.TrustAdjacency, "from_model",
                        classmethod(count("trust", explore.TrustAdjacency.from_model.__func__)))
    monkeypatch.setattr(model_cache, "meet_model", count("model", model_cache.meet_model))
    monkeypatch.setattr(Router, "fit", count("router", Router.fit))
    monkeypatch.setattr(explore, "whole_network_insights", count("insights", explore.whole_network_insights))
    return seen


@pytest.fixture
def app(warm_db, monkeypatch, counts):
    """The explorer on a private copy of the sample with its model cached (fitting it inside the explorer:
    tests/test_app.py); builds are counted from before its first run."""
    monkeypatch.setenv("FRACNET_DB", str(warm_db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["person"] = PID
    at.run()
    assert not at.exception
    return at


def _page(at, page):
    at.switch_page(PAGES.format(page)).run()
    assert not at.exception, at.exception
    return at


def test_a_write_stamps_only_the_tables_it_wrote(writable_db):
    from recommender.ledger import log_routed_referral
    from recommender.practice.pipeline import add_item

    with Store(writable_db) as s:
        with s.transaction() as con:  # a first stamped commit
            con.execute("UPDATE people SET name = name WHERE id = ?", (PID,))
        structure, history = tables_key(s, STRUCTURE_TABLES), tables_key(s, HISTORY_TABLES)
        assert s.table_revisions(STRUCTURE_TABLES) is not None
        add_item(s, "p0042", owner=PID)  # practice: neither changes
        assert (tables_key(s, STRUCTURE_TABLES), tables_key(s, HISTORY_TABLES)) == (structure, history)
        log_routed_referral(s, PID, "p0042", needs=["fundraising"])  # history only
        assert tables_key(s, STRUCTURE_TABLES) == structure and tables_key(s, HISTORY_TABLES) != history
        with s.transaction() as con:
            con.execute("UPDATE ties SET strength = 0.9 WHERE rowid = (SELECT MIN(rowid) FROM ties)")
        assert tables_key(s, STRUCTURE_TABLES) != structure
        # a write that is not stamped (an older fracnet) makes the tables' revisions unknown: the whole revision keys them
        before = tables_key(s, STRUCTURE_TABLES)
        s.con.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'")
        assert s.table_revisions(STRUCTURE_TABLES) is None
        assert tables_key(s, STRUCTURE_TABLES) != before and tables_key(s, STRUCTURE_TABLES)[-1][0] == "revision"
        # the next stamped commit starts a new epoch: the counters from before the gap never come back
        with s.transaction() as con:
            con.execute("UPDATE referrals SET outcome = outcome WHERE rowid = (SELECT MIN(rowid) FROM referrals)")
        assert s.table_revisions(STRUCTURE_TABLES) is not None and tables_key(s, STRUCTURE_TABLES) != before


def test_an_older_database_is_stamped_when_opened(writable_db):
    """A database no fracnet stamped yet gets per-table keys at open, not at the user's first write."""
    from recommender.store import revisions

    with Store(writable_db) as s:
        s.write_meta({}, delete=[revisions.TRACKED, revisions.EPOCH])
        assert s.table_revisions(STRUCTURE_TABLES) is None
    with Store(writable_db) as s:
        assert s.table_revisions(STRUCTURE_TABLES) is not None
        structure = tables_key(s, STRUCTURE_TABLES)
        from recommender.ledger import log_routed_referral

        log_routed_referral(s, PID, "p0042", needs=["fundraising"])
        assert tables_key(s, STRUCTURE_TABLES) == structure


def test_outreach_and_the_slider_rebuild_nothing(app, counts):
    at = _page(app, "person")
    assert counts["lookup"] == 1  # one lookup for every card of the page
    built = dict(counts)
    add = [b for b in at.button if b.key.startswith("add_")]
    assert len(add) == 15
    add[0].click().run()
    assert not at.exception and at.button(key=add[0].key).disabled
    at.slider(key="meet_k").set_value(8).run()
    assert not at.exception
    assert len([b for b in at.button if b.key.startswith("add_")]) == 24
    assert dict(counts) == built  # nothing read again: no table, lookup, model or trust graph


def test_logging_a_referral_keeps_the_network_model_and_router(app, counts):
    at = _page(app, "refer")
    at.multiselect(key="refer_needs").set_value(["fundraising", "fp-and-a"])
    at.button(key="refer_submit").click().run()
    _page(at, "insights")
    _page(at, "person")
    built = Counter(counts)
    assert built["router"] == 1 and built["trust"] == 1
    logs = [b for b in _page(at, "refer").button if b.key.startswith("log_")]
    logs[0].click().run()
    assert not at.exception and any(s.value.startswith("Logged referral") for s in at.success)
    _page(at, "insights")
    _page(at, "person")
    new = Counter(counts) - built
    assert set(new) <= {"read:referrals", "read:opportunities"}, new  # the history only, read once
    assert new["read:referrals"] == 1
    # the ledger shows the new referral at once
    _page(at, "refer")
    with Store(app_db()) as s:
        rid = s.read_table("referrals", "from_id = ?", (PID,))["id"].max()
    assert rid in set(at.dataframe[-1].value["id"])


def app_db() -> str:
    import os

    return os.environ["FRACNET_DB"]


def test_a_structure_write_rebuilds_once(app, counts):
    _page(app, "person")
    assert counts["lookup"] == 1
    before = Counter(counts)
    with Store(app_db()) as s:
        with s.transaction() as con:
            con.execute("UPDATE people SET title = 'Fractional CFO' WHERE id = 'p0042'")
    _page(app, "person")
    _page(app, "person")
    new = Counter(counts) - before
    assert new["lookup"] == 1 and new["model"] == 1  # rebuilt once for the new revision, then shared
    assert not any(k.startswith("read:") and k[5:] in HISTORY_TABLES for k in new)  # the history is kept


def test_insights_come_from_the_disk_cache_on_the_second_view(app, counts):
    from recommender import result_cache
    from recommender.explore import INSIGHTS_CACHE, insights_cache_key
    from recommender.ui import state

    at = _page(app, "insights")
    assert counts["insights"] == 1
    captions = " ".join(c.value for c in at.caption)
    assert "sampled from" in captions and "pivots" in captions  # what the numbers are computed on
    assert "communities in all" in captions and "Louvain on trust, whole network" in captions
    with Store(app_db()) as s:
        stored = result_cache.load(s, INSIGHTS_CACHE, insights_cache_key(s))
    assert stored is not None and stored["pivots"] > 0 and len(stored["ids"]) == 400
    state.clear_caches()  # as a new explorer process would start
    _page(at, "overview")
    _page(at, "insights")
    assert counts["insights"] == 1  # read from disk, not computed again
    assert not any("being computed" in i.value for i in at.info)
    # an outreach item (a practice write) keeps them too
    from recommender.practice.pipeline import add_item

    with Store(app_db()) as s:
        add_item(s, "p0042", owner=PID)
    _page(at, "insights")
    assert counts["insights"] == 1


def test_a_tampered_result_file_is_never_read(writable_db):
    from recommender import result_cache

    with Store(writable_db) as s:
        path = result_cache.save(s, "demo", ("k",), {"brokers": ["p1"]})
        assert result_cache.load(s, "demo", ("k",)) == {"brokers": ["p1"]}
        path.write_text(json.dumps({"brokers": ["someone else"]}))
        assert result_cache.load(s, "demo", ("k",)) is None
        assert result_cache.cached(s, "demo", ("k",), lambda: {"brokers": []}) == ({"brokers": []}, False)


def test_neighbourhood_brokers_and_communities(sample_db):
    from recommender.explore import TrustAdjacency, brokers, communities, neighbourhood, pivots_for, whole_network_insights
    from recommender.network import load_network
    from recommender.ui import views

    with Store(sample_db) as s:
        net = load_network(s)
    fx = views.people_facts(net)
    adj = TrustAdjacency.from_network(net)
    ids, _ = neighbourhood(adj, fx, PID, hops=2, limit=300)
    g = adj.subgraph(ids)
    b = brokers(g, fx, pivots=20, seed=1)
    assert pivots_for(g, 20) == 20 and 0 < len(b) <= 15
    assert not set(b["id"]) & set(fx.index[fx["opt_out"]])
    assert b.equals(brokers(g, fx, pivots=20, seed=1))  # seeded
    labels = communities(g)
    assert set(labels) == set(ids) and labels == communities(g)
    whole = whole_network_insights(adj, fx, pivots=50)
    assert whole == whole_network_insights(adj, fx, pivots=50)  # one thread, fixed seed: the same answer
    assert whole["pivots"] == 50 and len(whole["community"]) == len(adj) == 400
    assert not {r["id"] for r in whole["brokers"]} & set(fx.index[fx["opt_out"]])
    assert sum(whole["community_sizes"]) == 400 and whole["community_sizes"] == sorted(whole["community_sizes"], reverse=True)


def test_first_run_shows_a_message_before_the_database_is_made(tmp_path, monkeypatch):
    """A fresh default database: the message is on the page before the sample database is created."""
    import streamlit as st

    import recommender.sample as sample
    import recommender.ui.start as ui

    monkeypatch.delenv("FRACNET_DB", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(ui, "_started", False)  # a new explorer process
    made = []

    def create(path, *a, **k):  # stop where the slow part would start: what the page shows by then
        made.append(path)
        st.stop()
    monkeypatch.setattr(sample, "create_sample_database", create)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert made and [i.value for i in at.info] == [ui.STARTING]
    monkeypatch.undo()
    monkeypatch.delenv("FRACNET_DB", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(ui, "_started", False)
    at = AppTest.from_file(APP, default_timeout=120).run()  # the whole first run: the message is gone when done
    assert not at.exception and (tmp_path / ".fracnet" / "fracnet.db").exists()
    assert ui.STARTING not in [i.value for i in at.info] and [t.value for t in at.title] == ["fracnet"]


def test_row_index_and_people_rows_give_what_a_scan_gives(sample_db):
    from recommender.explore import RowIndex, people_lookup
    from recommender.network import load_network
    from recommender.outreach import _people_lookup
    from recommender.ui import views

    with Store(sample_db) as s:
        net = load_network(s)
    fx = views.people_facts(net)
    ties, intros = RowIndex(net.ties, ("a", "b")), RowIndex(net.introductions, ("a", "b", "introducer"))
    refs = RowIndex(net.referrals, ("from_id", "to_id"))
    for pid in (PID, "p0042", "p0113", "nobody"):
        if pid in fx.index:
            assert views.ties_table(net, fx, pid, ties(pid)).equals(views.ties_table(net, fx, pid))
            assert views.hidden_ties(net, fx, pid, ties(pid)) == views.hidden_ties(net, fx, pid)
            assert views.coverage(net, fx, pid, ties(pid)).equals(views.coverage(net, fx, pid))
            assert views.introductions_table(net, fx, pid, intros(pid)).equals(views.introductions_table(net, fx, pid))
            assert views.referrals_table(net, fx, pid, refs(pid)).equals(views.referrals_table(net, fx, pid))
        else:
            assert len(ties(pid)) == 0
    rows, comps = people_lookup(net)
    old_rows, old_comps = _people_lookup(net)
    assert comps == old_comps and all(rows.get(p) == old_rows[p] for p in list(old_rows)[:50])
    assert rows.get("nobody") is None and "nobody" not in rows


def test_the_models_trust_graph_is_the_trust_rule(writable_db):
    """The explorer reads the trust graph off the fitted model: the same ties and weights as trust_weights."""
    import numpy as np

    from recommender.explore import TrustAdjacency
    from recommender.model_cache import meet_model
    from recommender.network import load_network

    with Store(writable_db) as s:
        net = load_network(s)
        model = meet_model(s, network=net)
    a, b = TrustAdjacency.from_model(model), TrustAdjacency.from_network(net)
    assert a.edges == b.edges and set(a.ids) == set(b.ids)
    pos = b.index.get_indexer(a.ids)
    wb = b.weights[pos][:, pos]
    assert (a.weights != 0).sum() == (wb != 0).sum() and abs(a.weights - wb).max() < 1e-6
    assert np.allclose(a.weights.sum(axis=1), wb.sum(axis=1), atol=1e-4)
