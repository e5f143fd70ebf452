"""``fracnet refer`` and ``fracnet referral log`` end to end on the sample, as a new user runs them."""

from __future__ import annotations

import json

from recommender.cli import main
from recommender.store.db import Store


def test_refer_json_says_what_the_weights_learned_from_and_every_pick_covers_a_need(warm_db, capsys):
    assert main(["refer", "--from", "p0042", "--needs", "demand gen, abm", "--industry", "saas", "--json",
                 "--db", str(warm_db)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["picks"] and all(p["covers"] for p in d["picks"])
    assert d["weights"]["learned"] is True
    assert d["weights"]["description"].startswith("weights learned from ")
    assert all(not p["covers"] for p in d["nearby"])


def test_refer_needs_with_a_typo_and_a_need_nobody_holds(warm_db, capsys):
    assert main(["refer", "--from", "p0042", "--needs", "demand genn, seo", "--db", str(warm_db)]) == 0
    out = capsys.readouterr().out
    assert "note: read 'demand genn' as demand generation ('demand-gen')" in out
    assert "Nobody within 2 hops is listed for SEO" in out
    picks = out.split("Refer to")[1].split("Nearby")[0].split("Draft notes")[0]
    assert "partial fit: not listed for SEO" in picks  # each pick covers demand generation, and says what it lacks
    assert "1 referrals" not in out and "smoothed" not in out
    assert "score" not in out and "no_capacity" not in out  # the routing model's numbers and codes stay inside


def test_referral_log_defaults_to_me_when_me_is_set(writable_db, capsys):
    db = str(writable_db)
    # o0190 was brought by p0006; with me set to p0006 the referral is from me
    assert main(["me", "--set-id", "p0006", "--db", db]) == 0
    capsys.readouterr()
    assert main(["referral", "log", "--opportunity", "o0190", "--to", "p0064", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "from p0006 (you: fracnet me)" in out
    # me is someone else: the opportunity is not theirs, so it needs --anyway, and the referral is from me
    assert main(["me", "--set-id", "p0042", "--db", db]) == 0
    capsys.readouterr()
    with Store(writable_db) as s:
        opps = s.read_table("opportunities", "status = 'open' AND brought_by != 'p0042' AND id != 'o0190'")
    oid = str(opps["id"].iloc[0])
    assert main(["referral", "log", "--opportunity", oid, "--to", "p0064", "--db", db]) == 2
    assert "not by p0042" in capsys.readouterr().err
    assert main(["referral", "log", "--opportunity", oid, "--to", "p0064", "--anyway", "--json", "--db", db]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["from_id"] == "p0042" and row["from_default"] == "me"
