"""The explorer's practice: opens on me, the saved pipeline across processes and restore, touches, this week,
give first, my profile, and the view kept in the URL (AppTest, no browser)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from recommender.cli import main
from recommender.practice import owner, pipeline
from recommender.store import Store

APP = "../app.py"
PAGES = "recommender/ui/pages/{}.py"
ROOT = Path(__file__).resolve().parents[1]
ME = "p0113"
OTHER = "p0212"


def _app(db, monkeypatch, query: dict | None = None) -> AppTest:
    monkeypatch.setenv("FRACNET_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=90)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def db(warm_db):
    """A private copy of the sample with its model cached (the explorer's first view needs no fit), "me" set."""
    with Store(warm_db) as s:
        owner.set_me(s, ME)
    return warm_db


def _texts(at) -> str:
    out = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "metric"):
        for e in getattr(at, kind):
            out.append(str(getattr(e, "value", "")) + " " + str(getattr(e, "label", "")))
    return "\n".join(out)


def test_opens_on_me_with_this_week_and_give_first(db, monkeypatch):
    at = _app(db, monkeypatch)
    assert at.sidebar.selectbox(key="person").value == ME
    text = _texts(at)
    assert "This week for Karen Jackson" in text and "Give first: introduce two of your contacts" in text
    assert "Follow-ups due" in text and "Losing touch" in text
    assert any("Me: Karen Jackson" in c.value for c in at.sidebar.caption)
    assert at.query_params["person"] == [ME] or at.query_params["person"] == ME


def test_cli_item_is_seen_in_a_fresh_explorer_session(db, monkeypatch, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FRACNET_DB": str(tmp_path / "unused.db")}
    run = subprocess.run([sys.executable, "-m", "recommender", "outreach", "add", OTHER, "--note", "from the CLI",
                          "--follow-up", "2026-12-12", "--db", str(db)], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    at = _app(db, monkeypatch)
    at.switch_page(PAGES.format("outreach")).run()
    assert not at.exception, at.exception
    editor = at.dataframe
    frames = [e.value for e in editor] if editor else []
    assert any((f["name"] == "Robert O'Brien").any() and (f["note"] == "from the CLI").any() for f in frames), frames
    assert any("Outreach list: 1 person" in c.value for c in at.sidebar.caption)


def test_cli_item_is_seen_after_restore(db, monkeypatch, tmp_path):
    d = ["--db", str(db)]
    assert main(["outreach", "add", OTHER, "--note", "kept in the backup"] + d) == 0
    assert main(["backup", str(tmp_path / "b.db")] + d) == 0
    assert main(["outreach", "remove", OTHER] + d) == 0
    assert main(["restore", str(tmp_path / "b.db"), "--yes"] + d) == 0
    at = _app(db, monkeypatch)
    at.switch_page(PAGES.format("outreach")).run()
    frames = [e.value for e in at.dataframe]
    assert any((f["note"] == "kept in the backup").any() for f in frames)


def test_url_keeps_person_and_page(db, monkeypatch):
    at = _app(db, monkeypatch, {"person": "p0042", "page": "outreach"})
    assert at.sidebar.selectbox(key="person").value == "p0042"
    assert [t.value for t in at.title] == ["Outreach list"]
    qp = dict(at.query_params)
    assert str(qp.get("person")).strip("[]'") == "p0042" and str(qp.get("page")).strip("[]'") == "outreach"
    at.sidebar.selectbox(key="person").set_value("p0212").run()
    assert str(dict(at.query_params).get("person")).strip("[]'") == "p0212"


def test_add_to_outreach_and_touch_from_person_page(db, monkeypatch):
    at = _app(db, monkeypatch)
    at.switch_page(PAGES.format("person")).run()
    add = [b for b in at.button if b.key.startswith("add_")]
    add[0].click().run()
    assert not at.exception
    with Store(db) as s:
        assert [i["person_id"] for i in pipeline.list_items(s)] == [add[0].key.split("_", 2)[2]]
    # log a touch with someone else, as me
    at.sidebar.selectbox(key="person").set_value(OTHER).run()
    at.switch_page(PAGES.format("person")).run()
    at.selectbox(key=f"touch_kind_{OTHER}").set_value("meeting")
    at.text_input(key=f"touch_note_{OTHER}").set_value("coffee")
    at.button(key=f"FormSubmitter:touch_{OTHER}-Log touch").click().run()
    assert not at.exception, at.exception
    with Store(db) as s:
        row = s.con.execute("SELECT kind, note FROM interactions WHERE owner_id = ? AND person_id = ?",
                            (ME, OTHER)).fetchone()
    assert row == ("meeting", "coffee")


def test_not_relevant_is_not_shown_on_the_person_page(db, monkeypatch):
    at = _app(db, monkeypatch)
    at.switch_page(PAGES.format("person")).run()
    first = [b for b in at.button if b.key.startswith("add_")][0].key.split("_", 2)[2]
    with Store(db) as s:
        pipeline.add_item(s, first, status="not_relevant")
    at.run()
    keys = [b.key for b in at.button if b.key.startswith("add_")]
    assert not any(k.endswith("_" + first) for k in keys) and len(keys) == 15


def test_create_my_profile_in_the_explorer(writable_db, monkeypatch):
    at = _app(writable_db, monkeypatch)
    assert any("not set" in c.value for c in at.sidebar.caption)
    at.text_input(key="me_name").set_value("Nora Quinn")
    at.selectbox(key="me_function").set_value("finance")
    at.multiselect(key="me_specialties").select("fundraising")
    at.button(key="FormSubmitter:me_new_form-Create my profile").click().run()
    assert not at.exception, at.exception
    with Store(writable_db) as s:
        me = owner.my_profile(s)
    assert me["name"] == "Nora Quinn" and me["function"] == "finance" and me["specialties"]
    assert at.sidebar.selectbox(key="person").value == me["id"]


def test_pipeline_edits_are_written(db):
    from recommender.ui.practice import apply_pipeline_edits, pipeline_frame

    with Store(db) as s:
        pipeline.add_item(s, OTHER, note="old")
        pipeline.add_item(s, "p0311")
    import streamlit as st  # noqa: F401  (pipeline_frame reads the store through the UI state)

    with Store(db) as s:
        items = pipeline.list_items(s)
        before = pd.DataFrame([{"item": i["id"], "person_id": i["person_id"], "name": i["name"],
                                "status": i["status_label"], "follow_up": None, "note": i["note"] or "",
                                "introducer": "", "source": "", "remove": False} for i in items])
        after = before.copy()
        after.loc[0, "status"] = "met"
        after.loc[0, "follow_up"] = pd.Timestamp("2026-12-20")
        after.loc[0, "note"] = "new"
        after.loc[1, "remove"] = True
        msgs = apply_pipeline_edits(s, before, after)
        left = pipeline.list_items(s)
    assert len(msgs) == 2
    assert [(i["person_id"], i["status"], i["follow_up"], i["note"]) for i in left] == [
        (before.loc[0, "person_id"], "met", "2026-12-20", "new")]
    assert pipeline_frame  # the page's own frame builder exists


def test_snooze_and_touch_from_this_week(db, monkeypatch):
    from datetime import date, timedelta

    with Store(db) as s:
        item = pipeline.add_item(s, OTHER, follow_up="2026-01-05")["id"]  # long overdue
    at = _app(db, monkeypatch)
    at.button(key=f"snooze_{item}").click().run()
    assert not at.exception, at.exception
    with Store(db) as s:
        fu = pipeline.get_item(s, item)["follow_up"]
    assert fu == (date.today() + timedelta(days=7)).isoformat()
    with Store(db) as s:
        pipeline.set_item(s, item, follow_up="2026-01-05")
    at.run()
    at.button(key=f"wtouch_{item}").click().run()
    with Store(db) as s:
        assert s.con.execute("SELECT COUNT(*) FROM interactions WHERE person_id = ?", (OTHER,)).fetchone()[0] == 1
