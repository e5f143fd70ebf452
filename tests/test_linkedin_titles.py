"""LinkedIn positions read through the taxonomy: a corpus of real-looking titles with expected readings."""

from __future__ import annotations

import csv

import pytest

from recommender.io.csv_folder import import_folder
from recommender.io.linkedin import import_linkedin, read_position
from recommender.store.db import Store
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "data" / "linkedin_titles.csv"
TARGET = 0.95


def _tags(cell: str) -> set[str]:
    return {t for t in cell.split(";") if t}


def _corpus() -> list[dict]:
    with open(CORPUS, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_title_corpus_share_met(capsys):
    rows = _corpus()
    assert len(rows) >= 100
    missed = []
    for r in rows:
        got = read_position(r["position"])
        want = (r["kind"], r["function"] or None, _tags(r["specialties"]), _tags(r["industries"]))
        have = (got.kind, got.function, set(got.specialties), set(got.industries))
        if have != want:
            missed.append(f"{r['position']!r}: expected {want}, read {have}")
    share = 1 - len(missed) / len(rows)
    with capsys.disabled():
        print(f"\ntitle corpus: {len(rows) - len(missed)} of {len(rows)} readings met ({share:.1%})")
        for m in missed:
            print("  missed:", m)
    assert share >= TARGET, missed


@pytest.mark.parametrize("position", ["Senior Software Engineer", "Product Owner", "Chief of Staff",
                                      "Account Executive", "Head of People & Culture", "Director of Finance"])
def test_non_executives_are_plain_contacts(position):
    r = read_position(position)
    assert (r.kind, r.function, r.specialties, r.industries) == ("contact", None, (), ())


def test_import_reads_specialties_and_industries_and_keeps_contacts_out_of_groups(tmp_path, tiny_folder):
    from recommender.network import load_network
    from recommender.meet import MeetModel

    with Store(tmp_path / "x.db") as s:
        import_folder(s, tiny_folder)
        import_linkedin(s, ROOT / "tests" / "data" / "Connections.csv", "p1")
        people = s.read_table("people").set_index("id")
        net = load_network(s)
    maria = people.loc["li-maria-gomez-12ab"]
    assert (maria["kind"], maria["function"], maria["specialties"], maria["industries"]) == (
        "fractional", "finance", "fp-and-a", "saas")
    lee = people.loc["li-leewong"]
    assert (lee["kind"], lee["function"] or None) == ("contact", None)
    assert people.loc["li-tombaker", "kind"] == "executive"
    model = MeetModel().fit(net)
    for pid in ("p1", "p2", "p3", "li-maria-gomez-12ab"):
        assert "li-leewong" not in {r.candidate_id for r in model.recommend(pid, k=20)}
