"""Property-based tests: whatever bytes arrive, import either loads them or
explains every problem, and never half-writes."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings, strategies as st

from recommender.errors import DataValidationError, FracnetError
from recommender.io.csv_folder import export_folder, import_folder
from recommender.io.linkedin import import_linkedin
from recommender.store.db import Store

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow,
                                                                         HealthCheck.data_too_large])

cell = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "a,b", 'say "hi"', "line\nbreak", "Ünïcödé", ""]),
    st.text(min_size=2000, max_size=5000, alphabet="ab ,\"\n"),
)
column = st.sampled_from(["id", "name", "kind", "function", "specialties", "industries", "capacity", "email",
                          "profile_url", "bio", "opt_out", "unknown_col", "Kind", "ID"])


def _csv(header, rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _snapshot(store):
    return {name: store.read_table(name).to_dict("records") for name in store.counts()}


@SETTINGS
@given(header=st.lists(column, min_size=1, max_size=6),
       rows=st.lists(st.lists(cell, min_size=0, max_size=7), max_size=8),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]))
def test_people_file_loads_or_explains_and_never_half_writes(tmp_path_factory, header, rows, encoding):
    tmp = tmp_path_factory.mktemp("prop")
    (tmp / "in").mkdir()
    data = _csv(header, rows).decode("utf-8")
    try:
        raw = data.encode(encoding)
    except UnicodeEncodeError:
        raw = data.encode("utf-8")
    (tmp / "in" / "people.csv").write_bytes(raw)
    with Store(tmp / "x.db") as s:
        with s.transaction() as con:
            con.execute("INSERT INTO people (id, name) VALUES ('keep', 'Existing')")
        before = _snapshot(s)
        try:
            import_folder(s, tmp / "in")
        except DataValidationError as e:
            assert e.problems
            for p in e.problems:
                assert p.file.endswith("people.csv") and p.message
            assert _snapshot(s) == before
        except FracnetError:
            assert _snapshot(s) == before
        else:
            # what went in comes back out, formulas neutralised
            out = tmp / "out"
            export_folder(s, out)
            for row in csv.DictReader(open(out / "people.csv", encoding="utf-8", newline="")):
                for v in row.values():
                    assert not (v or "").startswith(("=", "+", "-", "@", "\t", "\r"))
            assert s.integrity_check() == "ok"


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes_as_linkedin_export(tmp_path_factory, data):
    tmp = tmp_path_factory.mktemp("li")
    f = tmp / "Connections.csv"
    f.write_bytes(data)
    with Store(tmp / "x.db") as s:
        with s.transaction() as con:
            con.execute("INSERT INTO people (id, name) VALUES ('me', 'Me')")
        before = _snapshot(s)
        try:
            import_linkedin(s, f, "me")
        except FracnetError:
            assert _snapshot(s) == before


@SETTINGS
@given(rows=st.lists(st.tuples(st.sampled_from(["a", "b", "c", "zz", ""]), st.sampled_from(["a", "b", "c", "q", ""]),
                               st.sampled_from(["0.5", "1", "2", "-1", "x", "", "nan", "inf"]),
                               st.sampled_from(["2024-01-01", "2024-02-30", "", "01/02/2024"])), max_size=10))
def test_ties_file_references_and_values(tmp_path_factory, rows):
    tmp = tmp_path_factory.mktemp("ties")
    (tmp / "in").mkdir()
    (tmp / "in" / "people.csv").write_bytes(_csv(["id"], [["a"], ["b"], ["c"]]))
    (tmp / "in" / "ties.csv").write_bytes(_csv(["a", "b", "strength", "since"], rows))
    with Store(tmp / "x.db") as s:
        try:
            import_folder(s, tmp / "in")
        except DataValidationError as e:
            assert all(p.line is None or p.line >= 1 for p in e.problems)
            assert s.counts()["people"] == 0
        else:
            ties = s.read_table("ties")
            assert (ties.a < ties.b).all()
            assert ties.strength.between(0, 1).all()
            assert not ties.duplicated(["a", "b"]).any()
