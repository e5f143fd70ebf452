"""The CLI over the foundation: help, version, demo-data → import → stats, export, errors."""

import csv
import json

import pytest

from recommender import __version__
from recommender.cli import main


def test_no_arguments_prints_help(capsys):
    assert main([]) == 0
    assert "usage: fracnet" in capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["frobnicate"])
    assert e.value.code == 2


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_demo_data_import_stats_match_the_csvs(tmp_path, capsys):
    out = tmp_path / "D"
    assert main(["demo-data", "--people", "600", "--seed", "7", "--out", str(out), "--quiet"]) == 0
    db = str(tmp_path / "x.db")
    assert main(["import", str(out), "--db", db, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["stats", "--db", db, "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    people = _rows(out / "people.csv")
    assert stats["people"] == len(people)
    assert stats["companies"] == len(_rows(out / "companies.csv"))
    assert stats["edges"]["ties"] == len(_rows(out / "ties.csv"))
    assert stats["edges"]["introductions"] == len(_rows(out / "introductions.csv"))
    assert stats["edges"]["referrals"] == len(_rows(out / "referrals.csv"))
    assert stats["opportunities"] == len(_rows(out / "opportunities.csv"))
    kinds = {}
    for p in people:
        kinds[p["kind"]] = kinds.get(p["kind"], 0) + 1
    assert stats["by_kind"] == kinds
    assert 0 < stats["largest_component"] <= stats["people"]


def test_stats_text_on_default_database(capsys):
    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    assert "largest component" in out


def test_bad_import_exits_nonzero_naming_file_line_field(tmp_path, capsys):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "people.csv").write_text("id,name,since_date\np1,A,\n,B,\np1,A,\n", encoding="utf-8")
    (d / "ties.csv").write_text("a,b,since\np1,p1,2020-02-30\n", encoding="utf-8")
    db = tmp_path / "x.db"
    code = main(["import", str(d), "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 3
    assert "people.csv:3: field 'id'" in err
    assert "people.csv:4: field 'id'" in err and "duplicate" in err
    assert "ties.csv:2: field 'since'" in err
    assert "nothing was written" in err
    assert main(["stats", "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["people"] == 0


def test_export_round_trip_via_cli(tmp_path, capsys):
    db = str(tmp_path / "x.db")
    out = tmp_path / "out"
    assert main(["export", str(out)]) == 0  # the default (sample) database
    assert main(["import", str(out), "--db", db, "--quiet"]) == 0
    assert main(["export", str(tmp_path / "out2"), "--db", db]) == 0
    for f in out.iterdir():
        assert (tmp_path / "out2" / f.name).read_bytes() == f.read_bytes()


def test_linkedin_import_via_cli(tmp_path, capsys, tiny_folder):
    from tests.test_linkedin import EXPORT

    db = str(tmp_path / "x.db")
    assert main(["import", str(tiny_folder), "--db", db]) == 0
    assert main(["import", "--format", "linkedin", str(EXPORT), "--db", db]) == 2
    assert "--owner" in capsys.readouterr().err
    assert main(["import", "--format", "linkedin", "--owner", "p1", str(EXPORT), "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["written"]["people"] == 4
    assert main(["import", "--format", "linkedin", "--owner", "nobody", str(EXPORT), "--db", db]) == 5


def test_database_that_is_not_ours(tmp_path, capsys):
    p = tmp_path / "notes.db"
    p.write_text("not a database")
    assert main(["stats", "--db", str(p)]) == 4
    err = capsys.readouterr().err
    assert "not a fracnet database" in err and "Traceback" not in err
