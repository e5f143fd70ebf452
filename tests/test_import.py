"""The CSV folder importer and exporter: validation, all-or-nothing, re-import, round trip."""

import csv

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from recommender.errors import DataValidationError, UsageError
from recommender.io.csv_folder import export_folder, import_folder, neutralise_formula, read_csv_text
from recommender.store.db import Store
from tests.conftest import write_csv


def snapshot(store):
    return {name: store.read_table(name).to_dict("records") for name in store.counts()}


def test_minimal_network_people_and_ties(tmp_path, tiny_folder):
    with Store(tmp_path / "x.db") as s:
        report = import_folder(s, tiny_folder)
        assert report.written == {"people": 3, "ties": 2}
        people = s.read_table("people").set_index("id")
        assert people.loc["p1", "specialties"] == "demand-gen;brand"
        assert people.loc["p1", "industries"] == "saas"
        assert people.loc["p2", "specialties"] == "fp-and-a"
        ties = s.read_table("ties")
        assert set(zip(ties.a, ties.b)) == {("p1", "p2"), ("p2", "p3")}  # stored with a < b
        assert (ties.strength.tolist()) == [0.8, 0.5]


def test_reimport_creates_no_duplicates(tmp_path, tiny_folder):
    with Store(tmp_path / "x.db") as s:
        import_folder(s, tiny_folder)
        first = snapshot(s)
        import_folder(s, tiny_folder)
        assert snapshot(s) == first


def test_match_by_email_and_profile_url(tmp_path, tiny_folder):
    with Store(tmp_path / "x.db") as s:
        import_folder(s, tiny_folder)
        d = tmp_path / "again"
        d.mkdir()
        write_csv(d / "people.csv", "id,name,email,profile_url\n"
                                    "x9,Ada L.,ADA@example.com,\n"
                                    "x10,Ada Again,,http://linkedin.com/in/ada/\n"
                                    "x11,New Person,new@example.com,\n")
        write_csv(d / "ties.csv", "a,b\nx9,x11\n")
        report = import_folder(s, d)
        assert report.merged_people == 2
        ids = s.ids("people")
        assert "x9" not in ids and "x10" not in ids and "x11" in ids
        ties = s.read_table("ties")
        assert ("p1", "x11") in set(zip(ties.a, ties.b))


def test_bad_rows_name_file_line_field_and_write_nothing(tmp_path, tiny_folder):
    db = tmp_path / "x.db"
    with Store(db) as s:
        import_folder(s, tiny_folder)
        before = snapshot(s)
        bad = tmp_path / "bad"
        bad.mkdir()
        write_csv(bad / "people.csv", "id,name,kind,capacity\n"
                                      "q1,Quinn,fractional,2\n"
                                      ",No Id,fractional,1\n"
                                      "q1,Quinn,fractional,2\n"
                                      "q4,Robo,robot,two\n")
        write_csv(bad / "ties.csv", "a,b,since\nq1,p1,2024-02-30\n")
        with pytest.raises(DataValidationError) as e:
            import_folder(s, bad)
        got = {(p.file.split("/")[-1], p.line, p.field) for p in e.value.problems}
        assert ("people.csv", 3, "id") in got
        assert ("people.csv", 4, "id") in got  # duplicate row
        assert ("people.csv", 5, "kind") in got
        assert ("people.csv", 5, "capacity") in got
        assert ("ties.csv", 2, "since") in got
        assert snapshot(s) == before


def test_unknown_reference_is_reported_with_suggestion(tmp_path, tiny_folder):
    with Store(tmp_path / "x.db") as s:
        write_csv(tiny_folder / "ties.csv", "a,b\np1,p2\np1,p22\n")
        with pytest.raises(DataValidationError) as e:
            import_folder(s, tiny_folder)
        p = e.value.problems[0]
        assert (p.line, p.field) == (3, "b") and "p22" in p.message and "p2" in p.hint
        assert s.counts()["people"] == 0


def test_line_numbers_follow_quoted_newlines(tmp_path):
    d = tmp_path / "q"
    d.mkdir()
    write_csv(d / "people.csv", 'id,name,bio\np1,A,"line one\nline two"\np2,B,ok\np3,C,"x"\n,D,\n')
    with Store(tmp_path / "x.db") as s, pytest.raises(DataValidationError) as e:
        import_folder(s, d)
    assert e.value.problems[0].line == 6


def test_unknown_tags_are_kept_and_warned(tmp_path):
    d = tmp_path / "t"
    d.mkdir()
    write_csv(d / "people.csv", "id,specialties\np1,demand-genn;Brand\n")
    with Store(tmp_path / "x.db") as s:
        report = import_folder(s, d)
        assert s.read_table("people").specialties[0] == "demand-genn;brand"
    assert any("did you mean 'demand-gen'" in str(w) for w in report.warnings)


@pytest.mark.parametrize("content, message", [
    (b"", "empty file"),
    (b"\xff\xfe\x00i\x00d", "not UTF-8"),
    (b"id,name\np1,\"unclosed\n", "malformed"),
    (b"id,name\np1,a,b,c\n", "fields but the header has"),
    (b"name\nAda\n", "missing required column"),
])
def test_broken_files_are_clear_errors(tmp_path, content, message):
    d = tmp_path / "b"
    d.mkdir()
    (d / "people.csv").write_bytes(content)
    with Store(tmp_path / "x.db") as s:
        with pytest.raises(DataValidationError) as e:
            import_folder(s, d)
        assert message in str(e.value)
        assert s.counts()["people"] == 0


def test_bom_and_extra_columns(tmp_path):
    d = tmp_path / "b"
    d.mkdir()
    (d / "people.csv").write_bytes("\ufeffid,name,favourite_colour\np1,Zoë,blue\n".encode("utf-8"))
    with Store(tmp_path / "x.db") as s:
        report = import_folder(s, d)
        assert s.read_table("people").name[0] == "Zoë"
    assert any("favourite_colour" in str(w) for w in report.warnings)


def test_path_errors(tmp_path, tiny_folder):
    with Store(tmp_path / "x.db") as s:
        with pytest.raises(UsageError, match="does not exist"):
            import_folder(s, tmp_path / "missing")
        with pytest.raises(UsageError, match="takes the folder"):
            import_folder(s, tiny_folder / "people.csv")


def test_export_then_import_round_trips(sample_db, tmp_path):
    out = tmp_path / "out"
    with Store(sample_db) as s:
        counts = export_folder(s, out)
        original = snapshot(s)
    assert counts["people"] > 0
    with Store(tmp_path / "y.db") as s2:
        import_folder(s2, out)
        assert snapshot(s2) == original
    again = tmp_path / "again"
    with Store(tmp_path / "y.db") as s2:
        export_folder(s2, again)
    for f in out.iterdir():
        assert (again / f.name).read_bytes() == f.read_bytes()


def test_export_neutralises_formulas_and_import_restores_them(tmp_path):
    d = tmp_path / "f"
    d.mkdir()
    write_csv(d / "people.csv", 'id,name,bio\np1,"=HYPERLINK(""http://x"")",+1 call me\n')
    with Store(tmp_path / "x.db") as s:
        import_folder(s, d)
        export_folder(s, tmp_path / "out")
    rows = list(csv.DictReader(open(tmp_path / "out" / "people.csv", encoding="utf-8")))
    assert rows[0]["name"].startswith("'=") and rows[0]["bio"].startswith("'+")
    with Store(tmp_path / "y.db") as s:
        import_folder(s, tmp_path / "out")
        assert s.read_table("people").name[0] == '=HYPERLINK("http://x")'


@pytest.mark.parametrize("v, out", [("=1+1", "'=1+1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("Ada", "Ada"), (None, None)])
def test_neutralise_formula(v, out):
    assert neutralise_formula(v) == out


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
          deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash_the_reader(data):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    try:
        df, lines = read_csv_text(text, "people.csv")
    except DataValidationError as e:
        assert e.problems and all(p.file == "people.csv" for p in e.problems)
    else:
        assert isinstance(df, pd.DataFrame)
