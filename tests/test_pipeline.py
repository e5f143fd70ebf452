"""Me, the saved outreach pipeline, touches: library and CLI, bad input, other processes, restore."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from recommender.cli import main
from recommender.errors import UsageError
from recommender.practice import owner, pipeline, touches
from recommender.store import Store

ROOT = Path(__file__).resolve().parents[1]
ME = "p0113"  # Karen Jackson, a fractional CMO in the sample
OTHER = "p0212"


def _snapshot(db: Path) -> dict:
    """Every row of every table (the practice tables and meta included)."""
    con = sqlite3.connect(db)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {n: sorted(map(repr, con.execute(f"SELECT * FROM {n}").fetchall())) for n in names}
    finally:
        con.close()


@pytest.fixture
def db(db_with_me):
    return db_with_me


# -- me ------------------------------------------------------------------------

def test_me_set_create_edit_and_default(writable_db, capsys):
    d = ["--db", str(writable_db)]
    assert main(["me", "--json"] + d) == 0
    assert json.loads(capsys.readouterr().out)["me"] is None
    assert main(["me", "--new", "--name", "Nora Quinn", "--function", "CFO", "--specialties", "FP&A, fundraising",
                 "--industries", "SaaS", "--icp-sizes", "5-50m", "--capacity", "2", "--json"] + d) == 0
    me = json.loads(capsys.readouterr().out)["me"]
    assert me["name"] == "Nora Quinn" and me["function"] == "finance" and me["capacity"] == 2
    assert "saas" in me["industries"].split(";") and me["icp_sizes"] == "5-50m"
    assert main(["me", "--title", "Fractional CFO", "--json"] + d) == 0
    assert json.loads(capsys.readouterr().out)["me"]["title"] == "Fractional CFO"
    with Store(writable_db) as s:
        assert owner.get_me(s) == me["id"]
    # commands that take a person default to me
    assert main(["ledger", "--json"] + d) == 0
    assert json.loads(capsys.readouterr().out)["person"]["id"] == me["id"]
    assert main(["me", "--set-id", ME] + d) == 0
    capsys.readouterr()
    assert main(["meet", "--k", "2", "--json"] + d) == 0
    assert json.loads(capsys.readouterr().out)["person"] == ME


def test_me_not_set_is_one_line_with_what_to_run(writable_db, capsys):
    before = _snapshot(writable_db)
    for argv in (["outreach", "add", OTHER], ["outreach", "list"], ["week"], ["touch", OTHER, "--kind", "call"],
                 ["meet"], ["connect"], ["export", "followups", "--out", str(writable_db.parent / "f.ics")]):
        assert main(argv + ["--db", str(writable_db)]) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "'me' is not set" in err and "fracnet me --set-id" in err, err
    assert _snapshot(writable_db) == before
    assert not (writable_db.parent / "f.ics").exists()


def test_me_bad_input_writes_nothing(writable_db, capsys):
    before = _snapshot(writable_db)
    assert main(["me", "--set-id", "nobody", "--db", str(writable_db)]) == 5
    assert main(["me", "--new", "--name", "X", "--capacity", "many", "--db", str(writable_db)]) == 3
    assert main(["me", "--cadence", "friends=10", "--db", str(writable_db)]) == 2
    capsys.readouterr()
    assert _snapshot(writable_db) == before


def test_cadence_is_settable(db):
    with Store(db) as s:
        assert owner.cadence(s) == {"peers": 90, "adjacent": 90, "executives": 180}
        assert owner.set_cadence(s, {"executives": 120})["executives"] == 120
        assert owner.cadence(s)["executives"] == 120


def test_linkedin_import_without_owner_attaches_to_me(db, tmp_path, capsys):
    csv = tmp_path / "Connections.csv"
    csv.write_text("Notes:\n\"When exporting your connection data...\"\n\n"
                   "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
                   "Zed,Ortiz,https://www.linkedin.com/in/zed-ortiz,,Acme,Fractional CFO,05 Mar 2025\n",
                   encoding="utf-8")
    assert main(["import", "--format", "linkedin", str(csv), "--db", str(db), "--json"]) == 0
    capsys.readouterr()
    with Store(db) as s:
        row = s.con.execute("SELECT COUNT(*) FROM ties t JOIN people p ON p.id IN (t.a, t.b) "
                            "WHERE ? IN (t.a, t.b) AND p.name = 'Zed Ortiz'", (ME,)).fetchone()
    assert row[0] == 1


# -- the pipeline ----------------------------------------------------------------

def test_pipeline_moves_along_and_keeps_history(db):
    with Store(db) as s:
        rev = s.revision
        it = pipeline.add_item(s, OTHER, note="ask about ABM", follow_up="2026-12-10", today="2026-12-01")
        assert it["status"] == "to_contact" and it["follow_up"] == "2026-12-10" and it["added"]
        assert it["introducer_id"]  # the strongest mutual contact
        again = pipeline.add_item(s, OTHER)
        assert not again["added"] and again["id"] == it["id"]
        for st in ("asked the introducer", "introduced", "met", "follow-up", "closed"):
            pipeline.set_item(s, it["id"], st)
        assert pipeline.get_item(s, it["id"])["status"] == "closed"
        hist = pipeline.item_history(s, it["id"])
        assert [h["status"] for h in hist] == ["to_contact", "asked_introducer", "introduced", "met", "follow_up",
                                               "closed"]
        # the pipeline is not the network: the model's revision is unchanged, the practice one moved
        assert s.revision == rev and s.practice_revision > 0
        assert pipeline.get_item(s, OTHER)["id"] == it["id"]  # by the person's id too
        pipeline.remove_item(s, it["id"])
        assert pipeline.list_items(s) == []


def test_not_relevant_is_not_suggested_again(db):
    from recommender.model_cache import meet_model

    with Store(db) as s:
        model = meet_model(s)
        first = pipeline.recommend_for(s, model, ME, k=5)
        gone = first[0].candidate_id
        group = first[0].group
        rev = s.revision
        pipeline.add_item(s, gone, status="not relevant")
        assert s.revision == rev  # the cached model stays valid
        after = pipeline.recommend_for(s, model, ME, k=5)
    assert gone not in {r.candidate_id for r in after}
    assert sum(r.group == group for r in after) == sum(r.group == group for r in first)  # still k in the group


def test_not_relevant_is_left_out_of_meet_cli(db, capsys):
    assert main(["meet", "--k", "3", "--json", "--db", str(db)]) == 0
    recs = json.loads(capsys.readouterr().out)["recommendations"]
    gone = recs[0]["id"] if "id" in recs[0] else recs[0]["candidate_id"]
    assert main(["outreach", "add", gone, "--db", str(db)]) == 0
    assert main(["outreach", "set", gone, "not_relevant", "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["meet", "--k", "3", "--json", "--db", str(db)]) == 0
    ids = [r.get("id", r.get("candidate_id")) for r in json.loads(capsys.readouterr().out)["recommendations"]]
    assert gone not in ids


@pytest.mark.parametrize("argv, code, text", [
    (["outreach", "set", "{item}", "maybe"], 2, "unknown outreach status 'maybe'; expected one of: to_contact"),
    (["outreach", "set", "{item}", "met", "--follow-up", "next tuesday"], 2, "expected a follow-up date as YYYY-MM-DD"),
    (["outreach", "set", "{item}", "--follow-up", "2026-02-30"], 2, "YYYY-MM-DD"),
    (["outreach", "add", "p0001", "--follow-up", "12/01/2026"], 2, "YYYY-MM-DD"),
    (["outreach", "set", "999", "met"], 5, "unknown outreach item '999'"),
    (["outreach", "remove", "999"], 5, "fracnet outreach list"),
    (["outreach", "list", "--status", "later"], 2, "expected one of"),
    (["outreach", "add", "nobody-here"], 5, "unknown person"),
    (["touch", OTHER, "--kind", "lunch"], 2, "expected one of: meeting, call, email, intro, referral"),
    (["touch", OTHER, "--kind", "call", "--date", "yesterday"], 2, "YYYY-MM-DD"),
    (["export", "followups", "--out", "{tmp}/f.txt"], 2, ".ics"),
])
def test_bad_input_is_one_line_and_writes_nothing(db, tmp_path, capsys, argv, code, text):
    with Store(db) as s:
        item = pipeline.add_item(s, OTHER, follow_up="2026-12-10")["id"]
    before = _snapshot(db)
    argv = [a.replace("{item}", str(item)).replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv + ["--db", str(db)]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and text in err, err
    assert _snapshot(db) == before


def test_outreach_cli_round_trip(db, capsys):
    d = ["--db", str(db)]
    assert main(["outreach", "add", OTHER, "--note", "compare ABM notes", "--follow-up", "2026-12-03", "--json"] + d) == 0
    item = json.loads(capsys.readouterr().out)
    assert main(["outreach", "set", str(item["id"]), "asked_introducer", "--follow-up", "2026-12-08", "--json"] + d) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "asked_introducer"
    assert main(["outreach", "list", "--status", "asked the introducer", "--json"] + d) == 0
    items = json.loads(capsys.readouterr().out)["items"]
    assert [(i["person_id"], i["follow_up"], i["note"]) for i in items] == [(OTHER, "2026-12-08", "compare ABM notes")]
    assert main(["outreach", "list"] + d) == 0
    assert "asked the introducer" in capsys.readouterr().out
    assert main(["outreach", "remove", str(item["id"])] + d) == 0
    assert "Removed" in capsys.readouterr().out
    assert main(["outreach", "list", "--json"] + d) == 0
    assert json.loads(capsys.readouterr().out)["items"] == []


def test_opted_out_person_cannot_be_added(db):
    with Store(db) as s:
        out = s.con.execute("SELECT id FROM people WHERE opt_out = 1 LIMIT 1").fetchone()[0]
        with pytest.raises(UsageError, match="opted out"):
            pipeline.add_item(s, out)


def test_export_outreach_carries_status_and_follow_up(db, tmp_path, capsys):
    import csv

    d = ["--db", str(db)]
    assert main(["outreach", "add", OTHER, "--follow-up", "2026-12-09", "--note", "ABM"] + d) == 0
    assert main(["outreach", "set", OTHER, "met"] + d) == 0
    out = tmp_path / "list.csv"
    assert main(["export", "outreach", "--out", str(out), "--per-group", "3"] + d) == 0  # person: me
    rows = list(csv.DictReader(open(out, encoding="utf-8-sig", newline="")))
    mine = [r for r in rows if r["Person id"] == OTHER]
    assert len(mine) == 1 and mine[0]["Status"] == "met" and mine[0]["Follow-up"] == "2026-12-09"
    assert mine[0]["Note"] == "ABM" and all(r["For"] == ME for r in rows)
    assert len(rows) > 1  # the suggestions follow, status empty
    xlsx = tmp_path / "list.xlsx"
    assert main(["export", "outreach", "--out", str(xlsx), "--per-group", "3"] + d) == 0
    import openpyxl

    ws = openpyxl.load_workbook(xlsx).active
    header = [c.value for c in ws[1]]
    assert "Status" in header and "Follow-up" in header


# -- touches -------------------------------------------------------------------------

def test_touch_updates_or_creates_the_tie(db):
    with Store(db) as s:
        tie = s.con.execute("SELECT a, b, last_contact FROM ties WHERE ? IN (a, b) LIMIT 1", (ME,)).fetchone()
        other = tie[1] if tie[0] == ME else tie[0]
        rev = s.revision
        t = touches.log_touch(s, other, "meeting", date="2026-11-30", note="coffee")
        assert t["tie"] == "updated" and s.revision == rev + 1  # a network change: the model refits
        assert s.con.execute("SELECT last_contact FROM ties WHERE a = ? AND b = ?", tie[:2]).fetchone()[0] == "2026-11-30"
        # an older touch never moves last contact backwards
        assert touches.log_touch(s, other, "email", date="2026-01-01")["tie"] == "unchanged"
        stranger = s.con.execute("SELECT id FROM people WHERE id NOT IN (SELECT b FROM ties WHERE a = ?) AND id NOT IN "
                                 "(SELECT a FROM ties WHERE b = ?) AND id != ? LIMIT 1", (ME, ME, ME)).fetchone()[0]
        assert touches.log_touch(s, stranger, "call", date="2026-11-29")["tie"] == "created"
        assert [x["person_id"] for x in touches.list_touches(s)][:1] == [other]
    from recommender.network import load_network

    with Store(db) as s:
        net = load_network(s)
    ties = net.ties
    assert ((ties["a"] == ME) & (ties["b"] == stranger)).any()


def test_touch_cli(db, capsys):
    assert main(["touch", OTHER, "--kind", "call", "--date", "2026-11-28", "--note", "intro chat", "--db", str(db)]) == 0
    assert "Logged a call with" in capsys.readouterr().out


# -- other processes, restore ------------------------------------------------------------

def test_item_added_in_one_process_is_seen_in_another_and_after_restore(db, tmp_path):
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "FRACNET_DB": str(tmp_path / "unused.db")}
    run = subprocess.run([sys.executable, "-m", "recommender", "outreach", "add", OTHER, "--note", "from the CLI",
                          "--follow-up", "2026-12-12", "--db", str(db)], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    backup = tmp_path / "backup.db"
    assert main(["backup", str(backup), "--db", str(db)]) == 0
    with Store(db) as s:  # lost after the backup ...
        pipeline.remove_item(s, OTHER)
        assert pipeline.list_items(s) == []
    assert main(["restore", str(backup), "--yes", "--db", str(db)]) == 0
    with Store(db) as s:  # ... and back from it
        items = pipeline.list_items(s)
    assert [(i["person_id"], i["note"], i["follow_up"]) for i in items] == [(OTHER, "from the CLI", "2026-12-12")]


def test_parse_date_and_status():
    assert pipeline.parse_date("+2w", today="2026-12-01") == "2026-12-15"
    assert pipeline.parse_date("today", today="2026-12-01") == "2026-12-01"
    assert pipeline.parse_date("") is None
    with pytest.raises(UsageError):
        pipeline.parse_date("2026-13-01")
    assert pipeline.parse_status("Not relevant") == "not_relevant"
    with pytest.raises(UsageError):
        pipeline.parse_status("done-ish")
