"""``fracnet export DIR`` / ``fracnet import DIR`` carry the practice: me, the outreach pipeline, its history
and touches (recommender/io/practice_csv.py), with clear errors for bad rows and nothing half-written."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest

from recommender.cli import main
from recommender.errors import DataValidationError
from recommender.io.csv_folder import export_folder, import_folder
from recommender.practice import owner, pipeline, touches
from recommender.store import Store
from recommender.store.schema import FOLDER_TABLES, PRACTICE_TABLES

ME, OTHER, THIRD = "p0113", "p0212", "p0042"


def _practice_rows(db: Path) -> dict:
    """The practice as the database holds it, without its own numbering (ids differ between databases)."""
    con = sqlite3.connect(db)
    try:
        items = {r[0]: r[1:] for r in con.execute(
            "SELECT id, owner_id, person_id, source, introducer_id, note, status, follow_up, created, updated "
            "FROM outreach_items")}
        hist = sorted((items[i][:2], at, st, fu, note) for i, at, st, fu, note in con.execute(
            "SELECT item_id, at, status, follow_up, note FROM outreach_history"))
        return {
            "items": sorted(items.values()),
            "history": hist,
            "touches": sorted(con.execute("SELECT owner_id, person_id, kind, date, note FROM interactions")),
            "meta": dict(con.execute("SELECT key, value FROM meta WHERE key IN ('owner_id', 'cadence')")),
        }
    finally:
        con.close()


@pytest.fixture
def practised(writable_db) -> Path:
    """The sample with a practice: me, a cadence, three items (one moved along twice), touches, a formula note."""
    with Store(writable_db) as s:
        owner.set_me(s, ME)
        owner.set_cadence(s, {"executives": 120})
        a = pipeline.add_item(s, OTHER, note="=cmd|' /C calc'!A0", follow_up="2026-12-24", today="2026-12-01")
        pipeline.set_item(s, a["id"], "asked the introducer", note="asked, via Ann", today="2026-12-01")
        pipeline.set_item(s, a["id"], "met", follow_up="2027-01-10", today="2026-12-02")
        pipeline.add_item(s, THIRD, source="who to meet: peers")
        touches.log_touch(s, OTHER, "call", date="2026-11-30", note="a good call, with, commas")
        touches.log_touch(s, THIRD, "email", date="2026-11-29")
    return writable_db


def _read(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_export_import_round_trip_carries_the_practice(practised, tmp_path):
    out = tmp_path / "out"
    with Store(practised) as s:
        counts = export_folder(s, out)
    assert {counts[n] for n in ("me", "outreach", "touches")} == {1, 2} and counts["outreach_history"] == 4
    assert {p.name for p in out.iterdir()} == {t.file for t in FOLDER_TABLES.values()}
    assert _read(out / "me.csv") == [{"person_id": ME, "peers_days": "90", "adjacent_days": "90",
                                      "executives_days": "120"}]
    # a note a spreadsheet would run is neutralised in the file, and comes back as written
    assert any(r["note"].startswith("'=cmd") for r in _read(out / "outreach_history.csv"))

    fresh = tmp_path / "fresh.db"
    with Store(fresh) as s:
        report = import_folder(s, out)
        assert report.written["outreach"] == 2 and report.written["touches"] == 2
        assert owner.get_me(s) == ME and owner.cadence(s)["executives"] == 120
        item = pipeline.list_items(s, owner=ME, status="met")[0]
        assert item["person_id"] == OTHER and item["follow_up"] == "2027-01-10"
        assert [h["status"] for h in pipeline.item_history(s, item["id"])] == ["to_contact", "asked_introducer", "met"]
        assert "=cmd|' /C calc'!A0" in [h["note"] for h in pipeline.item_history(s, item["id"])]
        assert {t["person_id"] for t in touches.list_touches(s)} == {OTHER, THIRD}
    assert _practice_rows(fresh) == _practice_rows(practised)

    # exported again, the folder is the same file for file; imported again, nothing is doubled
    again = tmp_path / "again"
    with Store(fresh) as s:
        export_folder(s, again)
        import_folder(s, out)
    for name in PRACTICE_TABLES.values():
        assert (again / name.file).read_bytes() == (out / name.file).read_bytes(), name.file
    assert _practice_rows(fresh) == _practice_rows(practised)


def test_import_merges_an_item_by_owner_and_person(practised, tmp_path):
    """An item already on the list is updated, not added twice; its new history rows are added."""
    out = tmp_path / "out"
    with Store(practised) as s:
        export_folder(s, out)
        item = pipeline.list_items(s, owner=ME, status="met")[0]
        pipeline.set_item(s, item["id"], "closed", today="2026-12-05")
        n_hist = len(pipeline.item_history(s, item["id"]))
        import_folder(s, out)
        after = pipeline.get_item(s, item["id"])
        assert after["status"] == "met"  # the folder's state wins for the fields it holds
        assert len(pipeline.item_history(s, item["id"])) == n_hist  # every history row was there already
        assert len(pipeline.list_items(s, owner=ME)) == 2


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("file, text, expected", [
    ("outreach.csv", "id,owner_id,person_id,status\n1,p0113,p0212,met\n2,p0113,p0042,chatting\n",
     ["outreach.csv", "3", "status", "expected one of to_contact"]),
    ("outreach.csv", "id,owner_id,person_id\n1,p0113,p9999\n",
     ["outreach.csv", "2", "person_id", "unknown person id 'p9999'"]),
    ("outreach.csv", "id,owner_id,person_id\n1,p0113,p0212\n2,p0113,p0212\n",
     ["outreach.csv", "3", "person_id", "already on 'p0113''s list on line 2"]),
    ("outreach.csv", "id,owner_id,person_id,created\n1,p0113,p0212,last tuesday\n",
     ["outreach.csv", "2", "created", "expected a date and time (ISO 8601)"]),
    ("outreach_history.csv", "item_id,at,status\n7,2026-12-01T10:00:00Z,met\n",
     ["outreach_history.csv", "2", "item_id", "unknown outreach item id 7"]),
    ("touches.csv", "id,owner_id,person_id,kind,date\n1,p0113,p0212,lunch,2026-12-01\n",
     ["touches.csv", "2", "kind", "expected one of meeting"]),
    ("touches.csv", "id,owner_id,person_id,kind,date\n1,p0113,p0212,call,\n",
     ["touches.csv", "2", "date", "missing value"]),
    ("me.csv", "person_id,peers_days\np0113,30\np0212,40\n",
     ["me.csv", "3", "person_id", "me.csv holds one row"]),
    ("me.csv", "person_id,peers_days\np0113,0\n",
     ["me.csv", "2", "peers_days", "1 or more"]),
])
def test_bad_practice_rows_name_file_row_and_field_and_write_nothing(practised, tmp_path, capsys,
                                                                     file, text, expected):
    out = tmp_path / "out"
    with Store(practised) as s:
        export_folder(s, out)
    _write(out / file, text)
    if file == "outreach_history.csv":  # a history naming an item the folder does not hold
        _write(out / "outreach.csv", "id,owner_id,person_id\n1,p0113,p0212\n")
    target = tmp_path / "t.db"
    with Store(target) as s:
        with pytest.raises(DataValidationError) as err:
            import_folder(s, out)
        assert s.counts()["people"] == 0  # the network's files were not written either
    msg = str(err.value)
    line = next((ln for ln in msg.splitlines() if expected[0] in ln and expected[2] in ln), "")
    assert all(e in line for e in expected), msg
    # the same through the CLI: one line naming file, row and field, exit 3
    assert main(["import", str(out), "--db", str(tmp_path / "cli.db"), "--quiet"]) == 3
    assert f"{expected[0]}:{expected[1]}: field '{expected[2]}'" in capsys.readouterr().err


def test_cli_export_and_import_report_the_practice(practised, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["export", str(out), "--db", str(practised)]) == 0
    assert "2 outreach" in capsys.readouterr().out
    assert main(["import", str(out), "--db", str(tmp_path / "n.db"), "--quiet"]) == 0
    said = capsys.readouterr().out
    assert "1 me" in said and "4 outreach_history" in said and "2 touches" in said
    assert main(["me", "--db", str(tmp_path / "n.db")]) == 0
    assert ME in capsys.readouterr().out
