"""``fracnet export outreach``: grouped, explained, safe to open in a spreadsheet, no opted-out people."""

from __future__ import annotations

import csv
import json

import openpyxl
import pytest

from recommender.cli import main
from recommender.network import load_network
from recommender.store.db import Store

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def db(warm_sample_db, copy_db, tmp_path_factory):
    """A private copy of the sample with its model cached: the exports load it instead of fitting."""
    return copy_db(warm_sample_db, tmp_path_factory.mktemp("exports") / "e.db")


@pytest.fixture(scope="module")
def facts(sample_db):
    with Store(sample_db) as s:
        net = load_network(s)
    people = net.people
    out = set(people.loc[people["opt_out"].fillna(0).astype(int) == 1, "id"])
    fractionals = list(people.loc[people["kind"] == "fractional", "id"][:4])
    return out, fractionals


def test_csv_outreach_is_grouped_and_has_no_opted_out(db, facts, tmp_path, capsys):
    opted_out, people = facts
    for pid in people:
        out = tmp_path / f"{pid}.csv"
        assert main(["export", "outreach", "--person", pid, "--per-group", "15", "--out", str(out),
                     "--db", str(db), "--json"]) == 0
        summary = json.loads(capsys.readouterr().out)
        rows = list(csv.DictReader(open(out, encoding="utf-8-sig", newline="")))
        assert len(rows) == summary["rows"] > 0
        assert not {r["Person id"] for r in rows} & opted_out
        groups = [r["Group"] for r in rows]
        assert groups == sorted(groups, key=["peers", "adjacent", "executives"].index)
        for g in set(groups):
            assert groups.count(g) <= 15
        for r in rows:
            assert r["Why"] and r["Draft note"]
            for v in r.values():
                assert not (v or "").startswith(FORMULA_START), v


def test_xlsx_outreach_cells_are_not_formulas(db, facts, tmp_path):
    _, people = facts
    out = tmp_path / "list.xlsx"
    assert main(["export", "outreach", "--person", people[0], "--out", str(out), "--db", str(db)]) == 0
    wb = openpyxl.load_workbook(out)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.value


@pytest.mark.parametrize("argv, code, text", [
    (["export", "outreach", "--person", "p0001"], 2, "--out"),
    (["export", "outreach", "--person", "p0001", "--out", "{tmp}/x.pdf"], 2, ".csv or .xlsx"),
    (["export", "outreach", "--person", "p0001", "--out", "{tmp}/no/x.csv"], 2, "does not exist"),
    (["export", "outreach", "--person", "nobody-here", "--out", "{tmp}/x.csv"], 5, "unknown person"),
])
def test_outreach_bad_input(argv, code, text, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == code
    assert text in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_batch_outreach_writes_one_list_per_person(db, facts, tmp_path, capsys):
    opted_out, people = facts
    out = tmp_path / "lists"
    assert main(["batch", "outreach", "--out", str(out), "--per-group", "5", "--db", str(db), "--json",
                 "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    files = {p.stem for p in out.glob("*.csv")}
    assert summary["files"] == len(files) > 0
    assert not files & opted_out and summary["skipped_opted_out"] == len(opted_out)
    for f in out.glob("*.csv"):
        ids = {r["Person id"] for r in csv.DictReader(open(f, encoding="utf-8-sig", newline=""))}
        assert not ids & opted_out
    # a person's batch list equals their interactive export
    single = tmp_path / "one.csv"
    assert main(["export", "outreach", "--person", people[0], "--per-group", "5", "--out", str(single),
                 "--db", str(db)]) == 0
    assert (out / f"{people[0]}.csv").read_bytes() == single.read_bytes()
