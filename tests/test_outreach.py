"""The outreach list: rows from recommendations, grouping, opt-outs, formula neutralisation, atomic writes."""

from __future__ import annotations

import csv
import io
import os

import pytest
from openpyxl import load_workbook

from recommender.errors import UsageError
from recommender.outreach import (COLUMNS, HEADERS, outreach_csv_bytes, outreach_frame, outreach_row, outreach_rows,
                                  outreach_xlsx_bytes, write_outreach)

EVIL = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]


@pytest.fixture(scope="module")
def fitted(sample_net, sample_model):
    return sample_net, sample_model  # fitted once per session (tests/conftest.py)


def _row(**kw):
    base = {c: "" for c in COLUMNS}
    base.update({"group": "peers", "name": "Ann", "person_id": "p1", "for_id": "me", "score": 0.5})
    base.update(kw)
    return base


def test_rows_from_recommendations(fitted):
    net, model = fitted
    recs = model.recommend("p0002", k=3)
    rows = outreach_rows(recs, net, model)
    assert len(rows) == len(recs) > 0
    people = net.people.set_index("id")
    for rec, row in zip(recs, rows):
        assert row["person_id"] == rec.candidate_id and row["for_id"] == "p0002"
        assert row["name"] == rec.name and row["group"] == rec.group
        assert row["email"] == (people.at[rec.candidate_id, "email"] or "")
        assert row["profile_url"] == (people.at[rec.candidate_id, "profile_url"] or "")
        assert row["why"]  # reasons in words
        if rec.introducer_id:
            assert rec.introducer_id in row["introducer"]
        assert row["draft_note"].startswith("Hi ")
    # the three groups come out in order: peers, adjacent, executives
    groups = list(outreach_frame(rows)["group"])
    order = {"peers": 0, "adjacent": 1, "executives": 2}
    assert groups == sorted(groups, key=order.get)
    assert set(groups) == {"peers", "adjacent", "executives"}


def test_opted_out_never_included(fitted):
    net, model = fitted
    opted = set(net.people.loc[net.people["opt_out"] == 1, "id"])
    assert opted
    rec = model.recommend("p0002", k=1)[0]
    # a recommendation for someone who opted out (forged) gives no row
    from dataclasses import replace

    forged = replace(rec, candidate_id=sorted(opted)[0])
    assert outreach_row(forged, net, model.person("p0002")) is None
    assert outreach_rows([forged, rec], net, model)[0]["person_id"] == rec.candidate_id
    # and rows for them are dropped again at write time
    rows = [_row(person_id="p9", name="Gone"), _row(person_id="p8", name="Kept"), _row(person_id="p7", opt_out=1)]
    df = outreach_frame(rows, opted_out={"p9"})
    assert list(df["name"]) == ["Kept"]
    text = outreach_csv_bytes(rows, opted_out={"p9"}).decode("utf-8-sig")
    assert "Gone" not in text
    wb = load_workbook(io.BytesIO(outreach_xlsx_bytes(rows, opted_out={"p9"})))
    names = [c.value for c in wb["Outreach"]["B"]][1:]
    assert names == ["Kept"]


def test_grouping_and_duplicates():
    rows = [_row(group="executives", person_id="e1", name="Exec"), _row(group="peers", person_id="a", name="A", score=0.1),
            _row(group="adjacent", person_id="b", name="B"), _row(group="peers", person_id="c", name="C", score=0.9),
            _row(group="peers", person_id="c", name="C again")]
    df = outreach_frame(rows)
    assert list(df["name"]) == ["C", "A", "B", "Exec"]


def test_formula_neutralised_in_csv():
    rows = [_row(person_id=f"p{i}", name=v, why=v, note=v) for i, v in enumerate(EVIL)]
    data = outreach_csv_bytes(rows)
    assert data.startswith(b"\xef\xbb\xbf")
    recs = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(recs) == len(EVIL)
    got = sorted(r[HEADERS["name"]] for r in recs)
    assert got == sorted("'" + v for v in EVIL)
    for r in recs:
        for col in ("name", "why", "note"):
            assert r[HEADERS[col]].startswith("'")
    # harmless text is left alone
    assert outreach_frame([_row(name="Ann-Marie = ok")]).loc[0, "name"] == "Ann-Marie = ok"


def test_formula_neutralised_in_xlsx(tmp_path):
    rows = [_row(person_id=f"p{i}", name=v, email=v) for i, v in enumerate(EVIL)]
    path = write_outreach(rows, tmp_path / "out.xlsx")
    wb = load_workbook(path)
    ws = wb["Outreach"]
    header = [c.value for c in ws[1]]
    assert header == [HEADERS[c] for c in COLUMNS]
    name_col = header.index("Name") + 1
    values = []
    for r in range(2, ws.max_row + 1):
        cell = ws.cell(row=r, column=name_col)
        assert cell.data_type == "s"  # stored as text, never as a formula
        values.append(cell.value)
    # XML stores a lone CR as a line feed; what matters is the leading quote
    assert sorted(values) == sorted("'" + v.replace("\r", "\n") for v in EVIL)
    assert all(ws.cell(row=r, column=header.index("Email") + 1).value.startswith("'") for r in range(2, ws.max_row + 1))
    assert ws.freeze_panes == "A2"


def test_atomic_writes(tmp_path, monkeypatch):
    rows = [_row()]
    out = write_outreach(rows, tmp_path / "list.csv")
    before = out.read_bytes()
    assert b"Ann" in before

    import recommender.outreach as mod

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(mod.os, "replace", boom)
    from recommender.errors import FileAccessError

    with pytest.raises(FileAccessError, match="cannot write .*list.csv"):  # one line naming the file
        write_outreach([_row(name="Changed")], out)
    assert out.read_bytes() == before  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["list.csv"]  # no temp file left behind


def test_write_errors(tmp_path):
    with pytest.raises(UsageError):
        write_outreach([_row()], tmp_path / "list.txt")
    with pytest.raises(UsageError):
        write_outreach([_row()], tmp_path / "missing" / "list.csv")
    path = write_outreach([], tmp_path / "empty.xlsx")
    assert load_workbook(path)["Outreach"].max_row == 1
    assert os.path.getsize(write_outreach([], tmp_path / "empty.csv")) > 0


def _pandas_csv(rows, opted_out=()):
    """The plain definition with pandas: drop opted-out and repeated (for, person) rows, sort by group, for and
    score (descending, stable), neutralise formula-like text, write with to_csv."""
    import pandas as pd

    from recommender.io.csv_folder import neutralise_formula

    skip = set(opted_out)
    rows = [r for r in rows if str(r.get("person_id")) not in skip and str(r.get("opt_out", "")).lower() != "yes"]
    df = pd.DataFrame(rows, columns=list(COLUMNS)).astype(object)
    df = df.where(df.notna(), "").drop_duplicates(["for_id", "person_id"], keep="first")
    df["_g"] = df["group"].map({"peers": 0, "adjacent": 1, "executives": 2}).fillna(3)
    df["_s"] = pd.to_numeric(df["score"], errors="coerce").fillna(0.0)
    df = df.sort_values(["_g", "for_id", "_s"], ascending=[True, True, False], kind="stable").drop(columns=["_g", "_s"])
    for c in COLUMNS:
        if c != "score":
            df[c] = df[c].map(lambda v: neutralise_formula(str(v)))
    return df.rename(columns=HEADERS).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def test_csv_equals_the_pandas_definition():
    rows = [_row(group="executives", name=EVIL[0], company=None, title=float("nan"), why="a, b\nc", score=0.5,
                 person_id="x", for_id="y"),
            _row(name=EVIL[2], company=EVIL[3], title=EVIL[4], why='say "hi"', score=None, person_id="z", for_id="y"),
            _row(name="Zoë, again", score=float("nan"), person_id="z", for_id="y"),  # repeated pair: dropped
            _row(group="other", name="+", score="0.7", person_id="w", for_id="a"),
            _row(name="b", score=0.9, person_id="v", for_id="a", opt_out="yes"),
            _row(group="adjacent", name=EVIL[5], score=0.25, person_id="u", for_id="a"),
            _row(group="adjacent", name="tie", score=0.25, person_id="t", for_id="a"),
            _row(name="gone", score=1.0, person_id="p9", for_id="a")]
    assert outreach_csv_bytes(rows, opted_out={"p9"}) == _pandas_csv(rows, opted_out={"p9"})
