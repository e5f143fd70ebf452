"""Every output path of the CLI and the explorer, walked as a user would, on a network with opted-out
people: none of them appears anywhere in the output (issue 18, item 1's walk; the rule is
recommender/people.py, tested on the library in tests/test_opt_out.py).

Not walked on purpose: ``fracnet export DIR`` and the Data page's backup, which are the database
itself in the import format (an opted-out person must round-trip with their flag, or re-importing
would opt them back in), and the sidebar's person picker (anyone may open their own page).
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from recommender.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _opted_out() -> tuple[dict, set]:
    rows = list(csv.DictReader(open(ROOT / "data" / "sample" / "people.csv", encoding="utf-8")))
    opted = {r["id"]: r["name"] for r in rows if r.get("opt_out", "").strip().lower() in ("1", "true", "yes", "y")}
    names = [r["name"] for r in rows]
    only_theirs = {n for n in opted.values() if names.count(n) == 1}
    return opted, only_theirs


OPTED, NAMES = _opted_out()


def _neighbours_of_opted_out(n=4) -> list[str]:
    ties = list(csv.DictReader(open(ROOT / "data" / "sample" / "ties.csv", encoding="utf-8")))
    out = []
    for t in ties:
        for a, b in ((t["a"], t["b"]), (t["b"], t["a"])):
            if a in OPTED and b not in OPTED and b not in out:
                out.append(b)
    return out[:n]


PEOPLE = ["p0042"] + _neighbours_of_opted_out()


def leaks(text: str, allow: tuple = ()) -> list[str]:
    found = [i for i in OPTED if i not in allow and re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text)]
    found += [n for n in NAMES if n in text and not any(OPTED.get(a) == n for a in allow)]
    return found


def _cli(argv, capsys) -> str:
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    return cap.out + cap.err


@pytest.fixture(scope="module")
def db(warm_sample_db, copy_db, tmp_path_factory):
    assert OPTED
    return copy_db(warm_sample_db, tmp_path_factory.mktemp("optout") / "o.db")


@pytest.mark.usefixtures("compiled_kernels")  # the session's numba warm-up (root conftest.py)
def test_the_cli_never_shows_an_opted_out_person(db, tmp_path, capsys):
    seen = []
    for pid in PEOPLE:
        for extra in ([], ["--json"], ["--group", "peers", "--k", "20"]):
            seen.append((f"meet {pid} {extra}", _cli(["meet", pid, "--db", db, *extra], capsys)))
        for extra in ([], ["--json"], ["--everyone"]):
            seen.append((f"refer {pid} {extra}", _cli(["refer", "--from", pid, "--needs", "demand gen, abm, fp&a",
                                                       "--db", db, *extra], capsys)))
        out = tmp_path / f"{pid}.csv"
        _cli(["export", "outreach", "--person", pid, "--out", out, "--db", db], capsys)
        seen.append((f"export outreach {pid}", out.read_text(encoding="utf-8-sig")))
        xlsx = tmp_path / f"{pid}.xlsx"
        _cli(["export", "outreach", "--person", pid, "--out", xlsx, "--db", db], capsys)
        from openpyxl import load_workbook

        wb = load_workbook(xlsx)
        seen.append((f"export outreach {pid} xlsx",
                     "\n".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value)))
    opps = tmp_path / "opps.csv"
    opps.write_text("id,brought_by,needs\n" + "".join(f"x{i},{p},demand gen;abm\n" for i, p in enumerate(PEOPLE)))
    _cli(["batch", "refer", opps, "--out", tmp_path / "picks.csv", "--db", db, "--quiet"], capsys)
    seen.append(("batch refer", (tmp_path / "picks.csv").read_text()))
    _cli(["batch", "meet", "--out", tmp_path / "everyone.csv", "--db", db, "--quiet"], capsys)
    seen.append(("batch meet", (tmp_path / "everyone.csv").read_text()))
    _cli(["batch", "outreach", "--out", tmp_path / "lists", "--per-group", "5", "--db", db, "--quiet"], capsys)
    lists = sorted((tmp_path / "lists").glob("*.csv"))
    assert lists and not any(f.stem in OPTED for f in lists)
    seen += [(f"batch outreach {f.name}", f.read_text(encoding="utf-8-sig")) for f in lists]
    bad = [(what, leaks(text, allow=(what.split()[1],) if what.split()[0] in ("meet", "refer") else ()))
           for what, text in seen]
    bad = [b for b in bad if b[1]]
    assert not bad, bad[:5]


def _texts(at) -> str:
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "success",
                 "error", "code", "json", "metric"):
        for e in getattr(at, kind, []):
            parts.append(str(getattr(e, "value", "")))
            parts.append(str(getattr(e, "label", "")))
    for df in list(at.dataframe) + list(at.table):
        try:
            parts.append(df.value.to_csv())
        except Exception:  # noqa: BLE001 - a non-frame value
            parts.append(str(df.value))
    for kind in ("expander", "tabs"):
        for e in getattr(at, kind, []):
            parts.append(str(getattr(e, "label", "")))
    return "\n".join(parts)


@pytest.mark.parametrize("page", ["person", "network", "refer", "outreach",
                                  "insights", "overview"])
def test_the_explorer_never_shows_an_opted_out_person(page, db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("FRACNET_DB", str(db))
    at = AppTest.from_file("../app.py", default_timeout=120).run()
    assert not at.exception
    at.sidebar.selectbox(key="person").set_value("p0042")
    at.switch_page(f"recommender/ui/pages/{page}.py").run()
    assert not at.exception, at.exception
    if page == "refer":
        for b in at.button:
            if "route" in (b.label or "").lower() or "find" in (b.label or "").lower():
                b.click().run()
                break
    text = _texts(at)
    assert text.strip()
    assert not leaks(text, allow=("p0042",)), (page, leaks(text, allow=("p0042",)))
