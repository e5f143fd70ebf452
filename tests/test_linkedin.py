"""LinkedIn's Connections.csv, as it comes."""


import pytest

from recommender.errors import DataValidationError, UnknownIdError
from recommender.io.csv_folder import import_folder
from recommender.io.linkedin import guess_role, import_linkedin, parse_connected_on
from recommender.store.db import Store
from recommender.taxonomy import load_taxonomy
from tests.conftest import ROOT

EXPORT = ROOT / "tests" / "data" / "Connections.csv"


@pytest.fixture
def store(tmp_path, tiny_folder):
    s = Store(tmp_path / "x.db")
    import_folder(s, tiny_folder)
    yield s
    s.close()


def test_imports_preamble_bom_and_quoted_company(store):
    report = import_linkedin(store, EXPORT, "p1")
    assert report.written["people"] == 4
    people = store.read_table("people").set_index("id")
    maria = people.loc["li-maria-gomez-12ab"]
    assert (maria["name"], maria["kind"], maria["function"]) == ("Maria Gomez", "fractional", "finance")
    assert people.loc["li-tombaker", "kind"] == "executive"
    assert people.loc["li-priyashah", "function"] == "marketing"
    companies = store.read_table("companies").set_index("id")
    assert companies.loc["co-shah-patel-co", "name"] == "Shah, Patel & Co"
    ties = store.read_table("ties")
    owner = ties[(ties.a == "p1") | (ties.b == "p1")]
    mine = owner[owner.source == "linkedin"]
    assert len(mine) == 4
    assert "2023-03-15" in set(mine.since)


def test_reimport_adds_nothing(store):
    import_linkedin(store, EXPORT, "p1")
    before = store.counts()
    import_linkedin(store, EXPORT, "p1")
    assert store.counts() == before


def test_matches_existing_person_by_url(store, tmp_path):
    text = EXPORT.read_text(encoding="utf-8-sig").replace("https://www.linkedin.com/in/priyashah", "https://www.linkedin.com/in/ada")
    p = tmp_path / "Connections.csv"
    p.write_text(text, encoding="utf-8")
    import_linkedin(store, p, "p2")
    people = store.read_table("people")
    assert "li-ada" not in set(people.id)
    assert people.set_index("id").loc["p1", "name"] == "Ada Lovelace"  # existing data kept


def test_unknown_owner_suggests(store):
    with pytest.raises(UnknownIdError) as e:
        import_linkedin(store, EXPORT, "p11")
    assert "p1" in e.value.suggestions


def test_bad_date_names_line_and_writes_nothing(store, tmp_path):
    text = EXPORT.read_text(encoding="utf-8-sig").replace("02 Jan 2024", "yesterday")
    p = tmp_path / "Connections.csv"
    p.write_text(text, encoding="utf-8")
    before = store.counts()
    with pytest.raises(DataValidationError) as e:
        import_linkedin(store, p, "p1")
    prob = e.value.problems[0]
    assert (prob.line, prob.field) == (6, "Connected On")
    assert store.counts() == before


def test_not_a_linkedin_file(store, tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(DataValidationError, match="no LinkedIn header"):
        import_linkedin(store, p, "p1")


@pytest.mark.parametrize("text, expected", [("15 Mar 2023", "2023-03-15"), ("03/15/23", "2023-03-15"), ("nope", None)])
def test_parse_connected_on(text, expected):
    assert parse_connected_on(text) == expected


@pytest.mark.parametrize("position, kind, function", [
    ("Fractional CFO", "fractional", "finance"),
    ("Interim Chief Marketing Officer", "fractional", "marketing"),
    ("Founder & CEO", "executive", None),
    ("Fractional COO | EOS Implementer", "fractional", "operations"),
])
def test_guess_role(position, kind, function):
    assert guess_role(position, load_taxonomy()) == (kind, function)
