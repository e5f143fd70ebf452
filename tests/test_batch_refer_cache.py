"""`fracnet batch refer` routes with the router cached for the database's revision (as `fracnet refer` does)."""

import pandas as pd
import pytest

from recommender.cli import main
from recommender.refer.router import Router

OPPS = """id,brought_by,needs,industry,size_band,region,description
x1,p0001,demand gen;abm,saas,5-50m,us-west,Pipeline help for a SaaS company
x2,p0042,fp-and-a,,,,
"""


@pytest.fixture
def router_fits(monkeypatch) -> list:
    """A list that gains an entry each time ``Router.fit`` runs."""
    fits = []
    real_fit = Router.fit

    def counting_fit(self, network):
        fits.append(1)
        return real_fit(self, network)

    monkeypatch.setattr(Router, "fit", counting_fit)
    return fits


def test_batch_refer_reuses_the_cached_router(cold_db, tmp_path, monkeypatch, router_fits):
    sample_db = cold_db
    fits = router_fits
    import recommender.network

    src = tmp_path / "opps.csv"
    src.write_text(OPPS)
    first = tmp_path / "first.csv"
    assert main(["batch", "refer", str(src), "--db", str(sample_db), "--out", str(first), "--quiet"]) == 0
    assert len(fits) <= 1  # fitted once (or not at all when an earlier test cached the router)

    fits.clear()

    def no_load(*args, **kwargs):
        raise AssertionError("the network was read although a router is cached")

    monkeypatch.setattr(recommender.network, "load_network", no_load)
    again = tmp_path / "again.csv"
    assert main(["batch", "refer", str(src), "--db", str(sample_db), "--out", str(again), "--quiet"]) == 0
    assert fits == []  # the data did not change: not refitted
    pd.testing.assert_frame_equal(pd.read_csv(again), pd.read_csv(first))
    # the same picks as `fracnet refer` routes with its cached router
    from recommender.model_cache import router
    from recommender.store.db import Store

    with Store(sample_db) as store:
        cached = router(store)
    r = cached.route("p0042", needs="fp-and-a", k=3)
    assert pd.read_csv(again).query("opportunity_id == 'x2'")["person_id"].tolist() == [p.person_id for p in r.picks]


def test_batch_refer_refits_after_the_data_changes(cold_db, tmp_path, router_fits):
    src = tmp_path / "opps.csv"
    src.write_text(OPPS)
    db = str(cold_db)
    assert main(["batch", "refer", str(src), "--db", db, "--out", str(tmp_path / "a.csv"), "--quiet"]) == 0
    # a new referral: the history changed, so the cached router (its track records, its weights) is stale
    assert main(["referral", "log", "--opportunity", "o0007", "--to", "p0113", "--anyway", "--db", db]) == 0
    router_fits.clear()
    assert main(["batch", "refer", str(src), "--db", db, "--out", str(tmp_path / "b.csv"), "--quiet"]) == 0
    assert router_fits == [1]
