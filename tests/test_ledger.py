"""Logging referrals and outcomes, the go-giver ledger, and the CLI end to end."""

from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest

from recommender.cli import main
from recommender.errors import UnknownIdError, UsageError
from recommender.network import load_network
from recommender.io.csv_folder import import_folder
from recommender.ledger import log_referral, record_outcome, referral_ledger, smoothed_rate, track_record
from recommender.store.db import Store

PEOPLE = """id,name,kind,function,specialties,industries,icp_sizes,capacity,opt_out,bio
me,Mia Ek,fractional,finance,fundraising,saas,5-50m,1,0,CFO for SaaS
ann,Ann Lee,fractional,marketing,demand-gen,saas,5-50m,2,0,Pipeline generation for B2B SaaS
bo,Bo Lee,fractional,marketing,demand-gen,saas,5-50m,2,0,Pipeline generation for B2B SaaS
cy,Cy Park,fractional,marketing,brand,saas,5-50m,,0,Brand strategy
dee,Dee Fox,fractional,marketing,demand-gen;brand,saas,5-50m,3,1,Opted out
gus,Gus Ray,executive,,,saas,5-50m,,0,CEO
hal,Hal Oz,fractional,sales,revops,saas,,1,0,RevOps
"""
TIES = """a,b,strength,since,last_contact
me,ann,0.9,2024-01-01,2025-01-01
me,bo,0.9,2024-01-01,2025-01-01
me,cy,0.6,2024-01-01,2025-01-01
me,dee,0.9,2024-01-01,2025-01-01
me,gus,0.9,2024-01-01,2025-01-01
"""
OPPS = """id,date,brought_by,needs,industry,size_band,description,status
o1,2024-03-01,gus,demand-gen;brand,saas,5-50m,Pipeline and brand refresh,open
o2,2024-05-01,gus,fundraising,saas,5-50m,Series A raise,referred
o3,2024-08-01,me,brand,saas,5-50m,Brand,referred
o4,2025-02-01,,brand,saas,5-50m,Orphan,open
"""
REFS = """id,opportunity_id,from_id,to_id,date,outcome
r1,o2,gus,me,2024-05-02,won
r2,o3,me,cy,2024-08-02,accepted
r3,o3,me,ann,2024-08-03,declined
r4,o1,ann,me,2025-01-10,lost
"""


@pytest.fixture
def db(tmp_path):
    folder = tmp_path / "net"
    folder.mkdir()
    for name, text in (("people", PEOPLE), ("ties", TIES), ("opportunities", OPPS), ("referrals", REFS)):
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    path = tmp_path / "t.db"
    with Store(path) as store:
        import_folder(store, folder)
    return path


def _tables(store):
    return {t: store.read_table(t) for t in ("referrals", "opportunities")}


def _same(a, b):
    for t in a:
        pd.testing.assert_frame_equal(a[t], b[t])


# -- logging ------------------------------------------------------------------------------------------------------


def test_log_referral_defaults_and_status(db):
    with Store(db) as store:
        row = log_referral(store, "o1", "ann", date="2024-03-05")
        assert row == {"id": "r5", "opportunity_id": "o1", "from_id": "gus", "to_id": "ann", "date": "2024-03-05",
                       "outcome": "pending", "opportunity_status": "referred"}
        assert store.get("opportunities", "o1")["status"] == "referred"
        assert store.get("referrals", "r5")["outcome"] == "pending"


@pytest.mark.parametrize("kwargs, error, text", [
    ({"opportunity_id": "o9", "to_id": "ann"}, UnknownIdError, "unknown opportunity 'o9'"),
    ({"opportunity_id": "o1", "to_id": "anne"}, UnknownIdError, "did you mean 'ann'"),
    ({"opportunity_id": "o1", "to_id": "ann", "from_id": "zed"}, UnknownIdError, "unknown person 'zed'"),
    ({"opportunity_id": "o1", "to_id": "gus"}, UsageError, "themselves"),
    ({"opportunity_id": "o1", "to_id": "dee"}, UsageError, "opted out"),
    ({"opportunity_id": "o3", "to_id": "cy", "from_id": "me"}, UsageError, "already referred o3 to cy as r2"),
    ({"opportunity_id": "o4", "to_id": "cy"}, UsageError, "has no brought_by"),
    ({"opportunity_id": "o1", "to_id": "ann", "date": "someday"}, UsageError, "YYYY-MM-DD"),
])
def test_log_referral_refused_writes_nothing(db, kwargs, error, text):
    with Store(db) as store:
        before = _tables(store)
        with pytest.raises(error) as exc:
            log_referral(store, **kwargs)
        assert text in str(exc.value)
        _same(before, _tables(store))


def test_new_opportunity_and_referral_in_one_transaction(db):
    with Store(db) as store:
        row = log_referral(store, None, "ann", from_id="me", date="2025-02-01",
                           new_opportunity={"needs": ["fundraising"], "industry": "saas", "description": "Series A"})
        opp = store.get("opportunities", row["opportunity_id"])
        assert (opp["brought_by"], opp["needs"], opp["status"]) == ("me", "fundraising", "referred")
        before = _tables(store)
        with pytest.raises(UsageError, match="opted out"):
            log_referral(store, None, "dee", from_id="me", new_opportunity={"needs": ["brand"]})
        _same(before, _tables(store))  # the new opportunity was rolled back with the refused referral


# -- outcomes -----------------------------------------------------------------------------------------------------


def test_outcome_chain_and_won_opportunity(db):
    with Store(db) as store:
        rid = log_referral(store, "o1", "ann", date="2024-03-05")["id"]
        assert record_outcome(store, rid, "accepted")["changed"]
        res = record_outcome(store, rid, "won")
        assert (res["previous"], res["outcome"], res["opportunity_status"]) == ("accepted", "won", "won")
        assert store.get("opportunities", "o1")["status"] == "won"
        again = record_outcome(store, rid, "won")
        assert again["changed"] is False


@pytest.mark.parametrize("rid, outcome, text", [
    ("r3", "won", "declined is final"),          # won after declined
    ("r1", "lost", "won is final"),
    ("r4", "accepted", "lost is final"),
    ("r2", "declined", "can only become won or lost"),
    ("r2", "pending", "can only become won or lost"),
    ("r2", "maybe", "unknown outcome"),
])
def test_outcome_refused_writes_nothing(db, rid, outcome, text):
    with Store(db) as store:
        before = _tables(store)
        with pytest.raises(UsageError) as exc:
            record_outcome(store, rid, outcome)
        assert text in str(exc.value)
        _same(before, _tables(store))


def test_pending_to_won_needs_accepted_first(db):
    with Store(db) as store:
        rid = log_referral(store, "o1", "bo", date="2024-03-05")["id"]
        before = _tables(store)
        with pytest.raises(UsageError) as exc:
            record_outcome(store, rid, "won")
        assert "record 'accepted' first" in str(exc.value)
        _same(before, _tables(store))
        with pytest.raises(UnknownIdError) as exc:
            record_outcome(store, "r99", "won")


def test_logged_outcomes_change_track_record_and_trust(db):
    from recommender.trust import trust_weights

    with Store(db) as store:
        net = load_network(store)
        w0 = trust_weights(net).set_index(["a", "b"])["weight"]
        rec0 = track_record(net, "bo", prior_mean=(0.5, 0.5), prior_strength=2)
        rid = log_referral(store, "o1", "bo", from_id="me", date="2025-01-01", anyway=True)["id"]
        record_outcome(store, rid, "accepted")
        record_outcome(store, rid, "won")
        net = load_network(store)
        w1 = trust_weights(net).set_index(["a", "b"])["weight"]
        rec1 = track_record(net, "bo", prior_mean=(0.5, 0.5), prior_strength=2)
    assert (rec0["won"], rec1["won"]) == (0, 1)
    assert rec1["win_rate"] == pytest.approx(smoothed_rate(1, 1, 0.5, 2), abs=1e-4) and rec1["win_rate"] > rec0["win_rate"]
    assert w1[("bo", "me")] > w0[("bo", "me")]


# -- the ledger ---------------------------------------------------------------------------------------------------


def test_ledger_balance(db):
    with Store(db) as store:
        led = referral_ledger(load_network(store), "me", by="year")
    assert led["balance"] == {"given": 2, "received": 2, "net": 0, "won_given": 0, "won_received": 1, "won_net": -1}
    assert led["given"]["by_outcome"]["accepted"] == 1 and led["given"]["by_outcome"]["declined"] == 1
    peers = {p["id"]: p for p in led["peers"]}
    assert peers["gus"] == {"id": "gus", "name": "Gus Ray", "given": 0, "received": 1, "won_given": 0,
                            "won_received": 1, "net": -1, "last": "2024-05-02"}
    assert peers["ann"]["given"] == 1 and peers["ann"]["received"] == 1
    assert [(p["period"], p["given"], p["received"]) for p in led["periods"]] == [("2024", 2, 1), ("2025", 0, 1)]
    assert led["track_record"]["received"] == 2 and led["track_record"]["won"] == 1
    with Store(db) as store:
        q = referral_ledger(load_network(store), "me")
    assert [p["period"] for p in q["periods"]] == ["2024-Q2", "2024-Q3", "2025-Q1"]


# -- CLI end to end -----------------------------------------------------------------------------------------------


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_refer_json(db, capsys):
    code, out, err = _run(capsys, "refer", "--db", str(db), "--from", "me", "--needs", "demand gen;brand",
                          "--industry", "SaaS", "--k", "2", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert set(d) >= {"lane", "picks", "alternatives", "message"}
    assert set(d["lane"]) >= {"fit", "in_lane", "reasons"} and d["lane"]["in_lane"] is False
    assert {p["id"] for p in d["picks"]} & {"cy"} and not {p["id"] for p in d["picks"]} & {"me", "dee"}
    for p in d["picks"]:
        assert set(p) >= {"id", "name", "score", "covers", "reasons", "trust_path", "track_record"}


def test_cli_refer_opportunity_text_and_errors(db, capsys):
    code, out, err = _run(capsys, "refer", "--db", str(db), "--from", "gus", "--opportunity", "o1")
    assert code == 0, err
    assert "Lane check for gus: OUT of your lane" in out and "Draft notes (double opt-in" in out
    code, out, err = _run(capsys, "refer", "--db", str(db), "--from", "gus", "--opportunity", "o7")
    assert code == 5 and "unknown opportunity 'o7'" in err
    code, out, err = _run(capsys, "refer", "--db", str(db), "--from", "mee", "--needs", "brand")
    assert code == 5 and "did you mean 'me'" in err
    code, out, err = _run(capsys, "refer", "--db", str(db), "--from", "me")
    assert code == 2 and err.count("\n") == 1 and "--needs" in err  # one line, hint included
    code, out, err = _run(capsys, "refer", "--db", str(db), "--from", "me", "--needs", "demand genn", "--json")
    assert code == 0 and any("read 'demand genn' as demand generation" in w for w in json.loads(out)["warnings"])


def test_cli_refer_no_peer(db, capsys):
    code, out, err = _run(capsys, "refer", "--db", str(db), "--from", "hal", "--needs", "brand", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["picks"] == [] and "No eligible fractional" in d["explanation"] and "--everyone" in d["suggestions"]
    code, out, err = _run(capsys, "refer", "--db", str(db), "--from", "hal", "--needs", "brand")
    assert "Try --max-hops 3 or --everyone" in out


def test_cli_referral_and_ledger(db, capsys):
    code, out, err = _run(capsys, "referral", "log", "--db", str(db), "--opportunity", "o1", "--to", "ann",
                          "--date", "2024-03-04", "--json")
    assert code == 0 and json.loads(out)["id"] == "r5"
    code, out, err = _run(capsys, "referral", "outcome", "--db", str(db), "r5", "won")
    assert code == 2 and "record 'accepted' first" in err
    code, out, err = _run(capsys, "referral", "outcome", "--db", str(db), "r5", "accepted")
    assert code == 0 and "pending -> accepted" in out
    code, out, err = _run(capsys, "referral", "outcome", "--db", str(db), "r55", "won")
    assert code == 5 and "did you mean 'r5'" in err
    code, out, err = _run(capsys, "referral", "log", "--db", str(db), "--opportunity", "o1", "--to", "dee")
    assert code == 2 and "opted out" in err
    code, out, err = _run(capsys, "ledger", "--db", str(db), "gus", "--json")
    led = json.loads(out)
    assert code == 0 and led["balance"]["given"] == 2 and led["balance"]["won_given"] == 1
    code, out, err = _run(capsys, "ledger", "--db", str(db), "me")
    assert code == 0 and "go-giver balance" in out
    code, out, err = _run(capsys, "ledger", "--db", str(db), "nobody")
    assert code == 5


def test_cli_evaluate_referrals(db, capsys):
    from recommender.cli.evaluate_referrals import register_referrals

    parser = argparse.ArgumentParser()
    register_referrals(parser.add_subparsers())
    args = parser.parse_args(["referrals", "--db", str(db), "--json"])
    assert args.func(args) == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d["methods"]) >= {"fracnet", "similarity", "most_connected"}
    assert d["n"] == 1  # o2 was won (referred by gus to me)
    assert d["include_full"] is True  # today's zero open slots are penalised in the replay, not left out
    args = parser.parse_args(["referrals", "--db", str(db), "--json", "--exclude-full"])
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)["include_full"] is False
