"""Tests of the synthetic network generator (recommender.demo) and ``fracnet demo-data``."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender import demo
from recommender.cli import main
from recommender.errors import UsageError
from recommender.store.schema import TABLES
from recommender.taxonomy import load_taxonomy, split_tags

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@pytest.fixture(scope="module")
def net():
    return demo.generate_network(400, seed=42)


@pytest.fixture(scope="module")
def big():
    return demo.generate_network(3000, seed=7)


def _tags(cell) -> list[str]:
    return split_tags(cell) if isinstance(cell, str) else []


# -- contract ---------------------------------------------------------------------


def test_deterministic_per_seed():
    a = demo.generate_network(150, seed=5)
    b = demo.generate_network(150, seed=5)
    c = demo.generate_network(150, seed=6)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["ties"].equals(c["ties"])


def test_schema_columns_exactly(net):
    assert set(net) == set(TABLES)
    for name, df in net.items():
        assert list(df.columns) == TABLES[name].column_names


def test_ids_unique(net):
    for name in ("people", "companies", "introductions", "opportunities", "referrals"):
        assert net[name]["id"].is_unique, name


def test_ties_are_simple_and_valid(net):
    t = net["ties"]
    assert (t["a"] < t["b"]).all()
    assert not t.duplicated(["a", "b"]).any()
    assert ((t["strength"] > 0) & (t["strength"] <= 1)).all()
    assert (t["last_contact"] >= t["since"]).all()
    assert t["since"].str.match(ISO).all() and t["last_contact"].str.match(ISO).all()
    assert (t["last_contact"] <= demo.END_DATE).all()
    assert set(t["source"]) <= set(demo.SOURCES)
    mean_degree = 2 * len(t) / len(net["people"])
    assert 8 <= mean_degree <= 12


def test_mean_degree_grows_to_twenty(big):
    # 3,000 people: between the sample's ~9 and the large-network 20
    mean_degree = 2 * len(big["ties"]) / len(big["people"])
    assert 14 <= mean_degree <= 21


def test_references_exist(net):
    people = set(net["people"]["id"])
    companies = set(net["companies"]["id"])
    opps = set(net["opportunities"]["id"])
    assert set(net["ties"]["a"]) | set(net["ties"]["b"]) <= people
    i = net["introductions"]
    assert set(i["introducer"]) | set(i["a"]) | set(i["b"]) <= people
    o = net["opportunities"]
    assert set(o["brought_by"]) <= people and set(o["company_id"]) <= companies
    r = net["referrals"]
    assert set(r["opportunity_id"]) <= opps and set(r["from_id"]) | set(r["to_id"]) <= people
    p = net["people"]
    assert set(p.loc[p["company_id"] != "", "company_id"]) <= companies


def test_tags_are_canonical(net):
    tax = load_taxonomy()
    p = net["people"]
    for col, kind in (("specialties", "specialty"), ("industries", "industry"), ("icp_sizes", "size_band"), ("regions", "region")):
        for cell in p[col]:
            for tag in _tags(cell):
                assert tax.is_known(tag, kind), (col, tag)
    for f in p["function"]:
        assert f == "" or tax.is_known(f, "function")
    for cell in net["opportunities"]["needs"]:
        assert 1 <= len(_tags(cell)) <= 3
        assert all(tax.is_known(t, "specialty") for t in _tags(cell))
    c = net["companies"]
    assert all(tax.is_known(x, "industry") for x in c["industry"])
    assert all(tax.is_known(x, "size_band") for x in c["size_band"])
    assert all(tax.is_known(x, "region") for x in c["region"])


def test_people_are_realistic(net):
    tax = load_taxonomy()
    p = net["people"]
    frac = p[p["kind"] == "fractional"]
    execs = p[p["kind"] == "executive"]
    assert 0.5 < len(frac) / len(p) < 0.7
    assert (execs["function"] == "").all() and (execs["company_id"] != "").all()
    assert (frac["company_id"] == "").all() and frac["title"].str.startswith("Fractional ").all()
    for _, row in frac.iterrows():
        specs = _tags(row["specialties"])
        assert 1 <= len(specs) <= 3
        assert all(tax.function_of(s) == row["function"] for s in specs)
        assert 1 <= len(_tags(row["industries"])) <= 3
        assert 1 <= len(_tags(row["icp_sizes"])) <= 2 and 1 <= len(_tags(row["regions"])) <= 2
    companies = net["companies"].set_index("id")
    for _, row in execs.iterrows():
        assert _tags(row["industries"]) == [companies.loc[row["company_id"], "industry"]]
    assert frac["capacity"].isna().any() and frac["capacity"].dropna().between(0, 3).all()
    assert set(p["opt_out"]) <= {0, 1}
    assert p["profile_url"].str.match(r"^https://www\.linkedin\.com/in/[a-z0-9-]+-\d+$").all()
    assert p["email"].is_unique
    names = set(p["name"])
    assert not any(_looks_hostile(n) for n in names)  # a clean demo: escaping is tested on fixtures
    assert any(not n.isascii() for n in names)


def test_connected_introductions_are_ties(net):
    i = net["introductions"]
    conn = i[i["outcome"] == "connected"]
    assert 0.6 < len(conn) / len(i) < 0.8
    ties = net["ties"].set_index(["a", "b"])
    for _, row in conn.iterrows():
        a, b = sorted((row["a"], row["b"]))
        tie = ties.loc[(a, b)]
        assert tie["source"] == "introduction" and tie["since"] == row["date"]
    assert (i["date"] >= "2023-06-30").all() and (i["date"] <= demo.END_DATE).all()


# -- planted structure ----------------------------------------------------------------


def _adjacency_with_dates(ties: pd.DataFrame):
    adj = defaultdict(dict)
    for a, b, s in zip(ties["a"], ties["b"], ties["since"]):
        adj[a][b] = s
        adj[b][a] = s
    return adj


def _neighbours_before(adj, x, date):
    return {y for y, s in adj[x].items() if s < date}


def test_introduced_pairs_have_more_mutual_contacts(big):
    adj = _adjacency_with_dates(big["ties"])
    i = big["introductions"]
    conn = i[i["outcome"] == "connected"].head(600)
    rng = np.random.default_rng(0)
    people = big["people"]["id"].to_numpy()
    cn_intro, cn_random = [], []
    for a, b, d in zip(conn["a"], conn["b"], conn["date"]):
        na, nb = _neighbours_before(adj, a, d), _neighbours_before(adj, b, d)
        assert b not in na  # not yet tied at the introduction date
        cn_intro.append(len(na & nb))
        x, y = rng.choice(people, 2, replace=False)
        nx = _neighbours_before(adj, x, d)
        if y not in nx:
            cn_random.append(len(nx & _neighbours_before(adj, y, d)))
    assert min(cn_intro) >= 1  # the introducer knows both
    assert np.mean(cn_intro) > 5 * max(np.mean(cn_random), 0.05)


def test_introduced_peers_are_complementary(big):
    p = big["people"].set_index("id")
    i = big["introductions"]
    a, b = p.loc[i["a"]], p.loc[i["b"]]
    same = (a["kind"].to_numpy() == "fractional") & (b["kind"].to_numpy() == "fractional") & (
        a["function"].to_numpy() == b["function"].to_numpy()
    )
    disjoint = [not (set(_tags(x)) & set(_tags(y))) for x, y in zip(a["specialties"][same], b["specialties"][same])]
    assert len(disjoint) >= 50
    frac = p[p["kind"] == "fractional"]
    rng = np.random.default_rng(1)
    chance = []
    for func, group in frac.groupby("function"):
        specs = group["specialties"].to_numpy()
        if len(specs) < 2:
            continue
        for _ in range(200):
            x, y = rng.choice(len(specs), 2, replace=False)
            chance.append(not (set(_tags(specs[x])) & set(_tags(specs[y]))))
    assert np.mean(disjoint) > np.mean(chance) + 0.1


def test_won_referrals_cover_needs_better_than_random(big):
    p = big["people"].set_index("id")
    o = big["opportunities"].set_index("id")
    r = big["referrals"]
    won = r[r["outcome"] == "won"]
    assert len(won) >= 100
    frac_specs = p.loc[p["kind"] == "fractional", "specialties"].to_numpy()
    rng = np.random.default_rng(2)

    def coverage(specs, needs):
        n = set(_tags(needs))
        return len(set(_tags(specs)) & n) / len(n)

    won_cov = [coverage(p.loc[t, "specialties"], o.loc[op, "needs"]) for t, op in zip(won["to_id"], won["opportunity_id"])]
    rand_cov = [coverage(frac_specs[rng.integers(len(frac_specs))], o.loc[op, "needs"]) for op in won["opportunity_id"]]
    assert np.mean(won_cov) > np.mean(rand_cov) + 0.3


def test_referrals_go_to_trusted_fractionals(big):
    p = big["people"].set_index("id")
    r = big["referrals"]
    assert (p.loc[r["to_id"], "kind"] == "fractional").all()
    assert (r["from_id"] != r["to_id"]).all()
    adj = _adjacency_with_dates(big["ties"])
    direct = np.mean([t in adj[f] for f, t in zip(r["from_id"], r["to_id"])])
    assert direct > 0.5  # mostly direct contacts, some two hops away


def test_opportunities_mostly_out_of_lane(big):
    tax = load_taxonomy()
    p = big["people"].set_index("id")
    o = big["opportunities"]
    bringer_func = p.loc[o["brought_by"], "function"].to_numpy()
    frac = p.loc[o["brought_by"], "kind"].to_numpy() == "fractional"
    in_lane = [all(tax.function_of(t) == f for t in _tags(n)) for n, f in zip(o["needs"], bringer_func)]
    share = 1 - np.mean(np.array(in_lane)[frac])
    assert 0.7 < share < 0.9
    referred = set(big["referrals"]["opportunity_id"])
    # in-lane opportunities are not referred
    assert not any(oid in referred for oid, lane, fr in zip(o["id"], in_lane, frac) if lane and fr)


def test_opt_out_never_brings_or_receives(net, big):
    for t in (net, big):
        p = t["people"].set_index("id")
        out = set(p.index[p["opt_out"] == 1])
        assert out, "the generator plants some opted-out people"
        r, o, i = t["referrals"], t["opportunities"], t["introductions"]
        assert not (set(r["to_id"]) | set(r["from_id"])) & out
        assert not set(o["brought_by"]) & out
        assert not (set(i["a"]) | set(i["b"])) & out
        assert (set(t["ties"]["a"]) | set(t["ties"]["b"])) & out  # still in the network


def test_referral_dates_and_status_consistent(net):
    o = net["opportunities"].set_index("id")
    r = net["referrals"]
    assert (r["date"].to_numpy() >= o.loc[r["opportunity_id"], "date"].to_numpy()).all()
    assert (r["date"] <= demo.END_DATE).all()
    assert r.groupby("opportunity_id")["outcome"].apply(lambda s: (s == "won").sum()).max() <= 1
    for oid, group in r.groupby("opportunity_id"):
        outcomes = set(group["outcome"])
        status = o.loc[oid, "status"]
        if "won" in outcomes:
            assert status == "won"
        elif outcomes & {"pending", "accepted"}:
            assert status == "referred"
        elif "lost" in outcomes:
            assert status == "lost"
        else:
            assert status == "closed"
    assert set(o.loc[~o.index.isin(r["opportunity_id"]), "status"]) <= {"open", "won", "lost", "closed"}


def test_small_networks_work():
    for n in (10, 11, 25):
        t = demo.generate_network(n, seed=n)
        assert len(t["people"]) == n


@pytest.mark.parametrize("bad", [0, -5, 9, 2.5, "x"])
def test_bad_sizes_raise_usage_error(bad):
    with pytest.raises(UsageError):
        demo.generate_network(bad)


# -- writing and the CLI ------------------------------------------------------------------


def test_write_roundtrip(tmp_path, net):
    counts = demo.write_network(net, tmp_path)
    assert counts == {k: len(v) for k, v in net.items()}
    back = pd.read_csv(tmp_path / "people.csv", dtype=str, keep_default_na=False)
    assert list(back.columns) == TABLES["people"].column_names
    assert back["name"].tolist() == net["people"]["name"].tolist()  # HTML, quotes and commas survive
    assert not list(tmp_path.glob(".*"))


def test_write_is_atomic(tmp_path, net, monkeypatch):
    (tmp_path / "people.csv").write_text("old\n")
    calls = {"n": 0}
    real = pd.DataFrame.to_csv

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", flaky)
    with pytest.raises(KeyboardInterrupt):
        demo.write_network(net, tmp_path)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["people.csv"]
    assert (tmp_path / "people.csv").read_text() == "old\n"


def test_cli_writes_files(tmp_path, capsys):
    assert main(["demo-data", "--people", "300", "--seed", "1", "--out", str(tmp_path), "--quiet"]) == 0
    for table in TABLES.values():
        df = pd.read_csv(tmp_path / table.file, dtype=str, keep_default_na=False)
        assert list(df.columns) == table.column_names
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "300 people" in out


def test_cli_json(tmp_path, capsys):
    assert main(["demo-data", "--people", "50", "--out", str(tmp_path), "--json"]) == 0
    assert '"people": 50' in capsys.readouterr().out


def test_cli_bad_people(tmp_path, capsys):
    assert main(["demo-data", "--people", "0", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--people" in err and err.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_cli_unwritable_out(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    assert main(["demo-data", "--people", "50", "--out", str(blocker / "sub")]) != 0
    assert "cannot write" in capsys.readouterr().err
    assert main(["demo-data", "--people", "50", "--out", str(blocker)]) != 0


# -- the bundled sample -----------------------------------------------------------------------


@pytest.mark.skipif(not (SAMPLE_DIR / "people.csv").exists(), reason="no bundled sample")
def test_bundled_sample_has_history():
    t = {name: pd.read_csv(SAMPLE_DIR / table.file, dtype=str, keep_default_na=False) for name, table in TABLES.items()}
    for name, df in t.items():
        assert list(df.columns) == TABLES[name].column_names
    assert 300 <= len(t["people"]) <= 500
    assert len(t["introductions"]) >= 200
    assert t["referrals"]["opportunity_id"].nunique() >= 100
    names = t["people"]["name"]
    assert not any(_looks_hostile(n) for n in names), [n for n in names if _looks_hostile(n)]
    assert any(not n.isascii() for n in names)


def _looks_hostile(name: str) -> bool:
    """Markup, a script or a spreadsheet formula in a visible name."""
    return any(c in name for c in "<>\"") or name[:1] in "=+-@" or "script" in name.lower()


def test_hostile_names_live_in_the_test_fixtures(sample_db):
    from recommender.store import Store

    with Store(sample_db) as s:
        names = set(s.read_table("people")["name"])
    assert any("<script>" in n for n in names) and any(n.startswith("=") for n in names)


def test_out_of_lane_needs_are_servable_within_two_hops(big):
    # every needed specialty of a referred opportunity is held by an open fractional
    # (capacity > 0, not opted out, not the bringer) within two hops at the opportunity date
    p = big["people"].set_index("id")
    cap = pd.to_numeric(p["capacity"], errors="coerce").fillna(0)
    open_ids = set(p.index[(p["kind"] == "fractional") & (p["opt_out"] == 0) & (cap > 0)])
    specs = {pid: set(_tags(s)) for pid, s in p["specialties"].items()}
    adj = _adjacency_with_dates(big["ties"])
    o = big["opportunities"].set_index("id")
    referred = big["referrals"]["opportunity_id"].unique()[:300]
    missing = 0
    for oid in referred:
        b, d = o.loc[oid, "brought_by"], o.loc[oid, "date"]
        one = _neighbours_before(adj, b, d)
        reach = set(one).union(*(_neighbours_before(adj, x, d) for x in one)) - {b}
        held = set().union(*(specs[x] for x in reach & open_ids))
        missing += not set(_tags(o.loc[oid, "needs"])) <= held
    assert missing <= 0.02 * len(referred)


def test_organic_peer_ties_are_complementary(big):
    p = big["people"].set_index("id")
    t = big["ties"][big["ties"]["source"] != "introduction"]
    a, b = p.loc[t["a"]], p.loc[t["b"]]
    same = ((a["kind"].to_numpy() == "fractional") & (b["kind"].to_numpy() == "fractional")
            & (a["function"].to_numpy() == b["function"].to_numpy()))
    disjoint = np.mean([not (set(_tags(x)) & set(_tags(y)))
                        for x, y in zip(a["specialties"][same], b["specialties"][same])])
    frac = p[p["kind"] == "fractional"]
    rng = np.random.default_rng(3)
    chance = []
    for _, group in frac.groupby("function"):
        s = group["specialties"].to_numpy()
        for _ in range(200):
            x, y = rng.choice(len(s), 2, replace=False)
            chance.append(not (set(_tags(s[x])) & set(_tags(s[y]))))
    assert disjoint > np.mean(chance) + 0.1
