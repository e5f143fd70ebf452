"""This week, give first (connect) and follow-ups as iCalendar."""

from __future__ import annotations

import json

import pytest

from recommender.cli import main
from recommender.practice import owner, pipeline, touches, week
from recommender.store import Store

ME = "p0113"


@pytest.fixture
def db(db_with_me):
    return db_with_me


def _strong_ties(s, me):
    return s.con.execute("SELECT CASE WHEN a = ? THEN b ELSE a END, strength, COALESCE(last_contact, since) "
                         "FROM ties WHERE ? IN (a, b) AND strength >= ?", (me, me, week.STRONG_TIE)).fetchall()


def test_week_sections_and_actions(db):
    from recommender.model_cache import meet_model

    with Store(db) as s:
        pipeline.add_item(s, "p0212", follow_up="2026-11-20", note="ABM")  # overdue
        pipeline.add_item(s, "p0311", follow_up="2026-12-05")  # due this week
        pipeline.add_item(s, "p0125", follow_up="2027-03-01")  # later: not listed
        closed = pipeline.add_item(s, "p0357", follow_up="2026-11-01")
        pipeline.set_item(s, closed["id"], "closed")  # done: not listed
        w = week.this_week(s, model=lambda: meet_model(s), today="2026-12-01")
        strong = _strong_ties(s, ME)
    fu = {f["person_id"]: f for f in w["followups"]}
    assert set(fu) == {"p0212", "p0311"}
    assert fu["p0212"]["overdue_days"] == 11 and fu["p0311"]["due_in_days"] == 4
    for f in fu.values():
        assert f["actions"]["draft"].startswith("Hi ") and "fracnet touch" in f["actions"]["touch"]
        assert "fracnet outreach set" in f["actions"]["snooze"]
    # losing touch: strong ties silent for longer than the group's cadence, nobody else
    lt = {p["person_id"]: p for p in w["losing_touch"]["people"]}
    assert lt and all(p["days"] is None or p["days"] > p["cadence_days"] for p in lt.values())
    assert set(lt) <= {t[0] for t in strong}
    assert w["new_suggestions"]["available"] and w["new_suggestions"]["people"]
    listed = {"p0212", "p0311", "p0125", "p0357"}
    assert not listed & {p["person_id"] for p in w["new_suggestions"]["people"]}
    assert w["balance"].keys() >= {"given", "received", "net"}


def test_touch_ends_losing_touch_and_cadence_counts(db):
    with Store(db) as s:
        w = week.losing_touch(s, ME, today="2026-12-01")
        who = w["people"][0]["person_id"]
        touches.log_touch(s, who, "call", date="2026-11-30")
        assert who not in {p["person_id"] for p in week.losing_touch(s, ME, today="2026-12-01")["people"]}
        owner.set_cadence(s, {"peers": 5000, "adjacent": 5000, "executives": 5000})
        assert week.losing_touch(s, ME, today="2026-12-01")["total"] == 0


def test_new_suggestions_are_new_only_for_a_week(db):
    from recommender.model_cache import meet_model

    with Store(db) as s:
        first = week.this_week(s, model=lambda: meet_model(s), today="2026-12-01")["new_suggestions"]["people"]
        later = week.this_week(s, model=None, today="2026-12-20")["new_suggestions"]  # cached, no model needed
    assert first and later["available"] and later["people"] == []


def test_week_balance_matches_the_ledger(writable_db):
    from recommender.network import load_network
    from recommender.ledger import referral_ledger

    with Store(writable_db) as s:
        who = s.con.execute("SELECT from_id FROM referrals GROUP BY from_id ORDER BY COUNT(*) DESC LIMIT 1").fetchone()[0]
        b = week.balance(s, who)
        led = referral_ledger(load_network(s), who)["balance"]
    assert b == led


def test_week_cli_text_and_json(db, capsys):
    assert main(["outreach", "add", "p0212", "--follow-up", "2026-11-25", "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["week", "--today", "2026-12-01", "--db", str(db)]) == 0
    text = capsys.readouterr().out
    for part in ("Follow-ups due (1)", "overdue 6 d", "Losing touch", "New suggestions", "Go-giver balance", "draft:"):
        assert part in text
    assert main(["week", "--json", "--db", str(db)]) == 0
    assert json.loads(capsys.readouterr().out)["me"]["id"] == ME


# -- give first ----------------------------------------------------------------

def test_connect_pairs_are_untied_not_opted_out_and_explained(db, capsys):
    assert main(["connect", "--k", "5", "--json", "--db", str(db)]) == 0
    out = json.loads(capsys.readouterr().out)
    pairs = out["pairs"]
    assert pairs
    with Store(db) as s:
        mine = {r[0] for r in s.con.execute("SELECT CASE WHEN a = ? THEN b ELSE a END FROM ties WHERE ? IN (a, b)",
                                            (ME, ME))}
        opted = {r[0] for r in s.con.execute("SELECT id FROM people WHERE opt_out = 1")}
        for p in pairs:
            a, b = p["a"]["id"], p["b"]["id"]
            assert a in mine and b in mine and a != b
            assert not opted & {a, b}
            assert s.con.execute("SELECT 1 FROM ties WHERE (a = ? AND b = ?) OR (a = ? AND b = ?)",
                                 (a, b, b, a)).fetchone() is None
            assert p["reasons"] and {r["kind"] for r in p["reasons"]} <= {"complementary_specialties",
                                                                            "shared_clients", "icp_fit"}
            for note, to, other in ((p["note_to_a"], p["a"], p["b"]), (p["note_to_b"], p["b"], p["a"])):
                assert note.startswith(f"Hi {to['name'].split()[0]}") and other["name"] in note
                assert "open to an introduction" in note and "-" not in note.split(",")[0]
                assert "score" not in note and "0." not in note


def test_connect_reasons_can_be_checked(db):
    from recommender.connect import suggest_connections
    from recommender.model_cache import meet_model
    from recommender.taxonomy import split_tags

    with Store(db) as s:
        model = meet_model(s)
        people = {r[0]: r for r in s.con.execute("SELECT id, specialties, industries, icp_sizes FROM people")}
    for c in suggest_connections(model, ME, k=8):
        for kind, _text, d in c.reasons:
            a, b = people[c.a_id], people[c.b_id]
            if kind == "complementary_specialties":
                assert set(d["yours"]) <= set(split_tags(a[1])) and set(d["theirs"]) <= set(split_tags(b[1]))
                assert d["yours"] or d["theirs"]


def test_connect_leaves_out_opted_out_contacts(cold_db):
    # the 150-person network (two fits of ~1 s, not two of the sample's ~5 s): the opt-out rule, not the sample
    from recommender.connect import suggest_connections
    from recommender.model_cache import meet_model

    with Store(cold_db) as s:
        model = meet_model(s)
        first = suggest_connections(model, ME, k=3)
        gone = first[0].a_id
        with s.transaction() as c:
            c.execute("UPDATE people SET opt_out = 1 WHERE id = ?", (gone,))
        model = meet_model(s)
        after = suggest_connections(model, ME, k=10)
    assert gone not in {x for c in after for x in (c.a_id, c.b_id)}


# -- iCalendar -----------------------------------------------------------------

def test_followups_export_is_valid_icalendar(db, tmp_path, capsys):
    from icalendar import Calendar

    d = ["--db", str(db)]
    assert main(["outreach", "add", "p0212", "--follow-up", "2026-12-10", "--note", "ABM, pricing; \"Q1\""] + d) == 0
    assert main(["outreach", "add", "p0311", "--follow-up", "2026-12-03"] + d) == 0
    assert main(["outreach", "add", "p0125"] + d) == 0  # no date: no event
    capsys.readouterr()
    out = tmp_path / "f.ics"
    assert main(["export", "followups", "--out", str(out), "--json"] + d) == 0
    assert json.loads(capsys.readouterr().out)["events"] == 2
    cal = Calendar.from_ical(out.read_bytes())
    events = cal.walk("VEVENT")
    assert len(events) == 2 and cal["VERSION"] == "2.0" and cal["PRODID"]
    by_day = {str(e.decoded("DTSTART")): e for e in events}
    assert set(by_day) == {"2026-12-10", "2026-12-03"}
    ev = by_day["2026-12-10"]
    assert "Follow up with" in str(ev["SUMMARY"]) and 'ABM, pricing; "Q1"' in str(ev["DESCRIPTION"])
    assert len({str(e["UID"]) for e in events}) == 2 and all(e.walk("VALARM") for e in events)


def test_new_suggestions_carry_a_draft_and_an_add_command(db):
    from recommender.model_cache import meet_model

    with Store(db) as s:
        people = week.this_week(s, model=lambda: meet_model(s), today="2026-12-01")["new_suggestions"]["people"]
    for p in people:
        assert p["actions"]["draft"].startswith("Hi ") and p["actions"]["add"].startswith(f"fracnet outreach add {p['person_id']}")
        assert "score" not in p["actions"]["draft"]


def test_refer_defaults_to_me(db, capsys):
    assert main(["refer", "--needs", "fundraising", "--json", "--db", str(db)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert ME in json.dumps(out)


def test_week_after_a_touch_does_not_refit(db):
    from recommender.model_cache import meet_model

    with Store(db) as s:
        first = week.this_week(s, model=lambda: meet_model(s), today="2026-12-01")["new_suggestions"]["people"]
        met = first[0]["person_id"]
        touches.log_touch(s, met, "meeting", date="2026-12-01")  # a network change: the cached model is stale

        def no_fit():
            raise AssertionError("week refitted the model after a touch")

        again = week.this_week(s, model=no_fit, today="2026-12-02")["new_suggestions"]
    assert again["available"] and met not in {p["person_id"] for p in again["people"]}


def test_meet_for_me_keeps_the_suggestions_week_shows(db, capsys):
    from recommender.model_cache import cache_dir

    assert main(["meet", "--k", "3", "--db", str(db)]) == 0  # me: fits, caches, and keeps my suggestions
    capsys.readouterr()
    for f in cache_dir(Store(db)).glob("meet-*.pkl"):
        f.unlink()  # week must not need the model now

    def no_fit():
        raise AssertionError("week loaded a model")

    with Store(db) as s:
        w = week.this_week(s, model=no_fit, today="2026-12-01")
    assert w["new_suggestions"]["available"] and w["new_suggestions"]["people"]


def test_cadence_groups_follow_the_one_group_rule():
    """owner.cadence_group is people.group_of on every pair of kinds and functions (a contact: adjacent)."""
    from recommender import people

    assert owner.GROUPS == people.GROUPS
    kinds = ("fractional", "executive", "contact", None)
    functions = ("marketing", "finance", None, "")
    seen = set()
    for mk in kinds:
        for mf in functions:
            for k in kinds:
                for f in functions:
                    got = owner.cadence_group(mk, mf, k, f)
                    me = {"kind": mk or "fractional", "function": mf, "specialties": ["brand"],
                          "industries": ["saas"], "sizes": ["5-50m"]}
                    other = {"kind": k or "fractional", "function": f, "specialties": ["abm"],
                             "industries": ["fintech"], "sizes": []}
                    want = people.group_of(me, other) or ("adjacent" if k == "contact" else None)
                    assert got == want, (mk, mf, k, f, got, want)
                    seen.add(got)
    assert seen == set(people.GROUPS)
    # the rule's corners: two fractionals without a function are peers; an executive's fractional is adjacent
    assert owner.cadence_group("fractional", None, "fractional", "") == "peers"
    assert owner.cadence_group("executive", "finance", "fractional", "finance") == "adjacent"
    assert owner.cadence_group("fractional", "finance", "executive", "finance") == "executives"
