"""The Streamlit explorer, driven by AppTest (no browser), on a private copy of the sample per test."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from recommender.explore import TrustAdjacency
from recommender.trust import build_trust_graph
from recommender.network import load_network
from recommender.store.db import Store
from recommender.ui import views

APP = "../app.py"
HTML_ID = "p0002"
HTML_NAME = "<b>Ada</b> <script>alert(1)</script> Lovelace"
PAGES = "recommender/ui/pages/{}.py"
GROUP_TITLES = ["Peers (same function, complementary specialty)", "Adjacent fractionals (same kind of client)",
                "Executives in your ICP"]


@pytest.fixture
def app(writable_db, monkeypatch):
    """An AppTest of app.py on a private database, first run done."""
    monkeypatch.setenv("FRACNET_DB", str(writable_db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    return at


def _open(at: AppTest, page: str, person: str | None = HTML_ID) -> AppTest:
    if person is not None:
        at.sidebar.selectbox(key="person").set_value(person)
    at.switch_page(PAGES.format(page))
    at.run()
    assert not at.exception, at.exception
    return at


def _markdown_texts(at: AppTest) -> list[str]:
    """Every text Streamlit renders as Markdown (titles, headers, markdown, captions, alerts)."""
    out = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "success", "error"):
        out += [str(e.value) for e in getattr(at, kind)]
    return out


def _assert_no_raw_html(at: AppTest) -> None:
    for text in _markdown_texts(at):
        assert "<script>" not in text and "<b>" not in text, text


def test_overview_without_person(app):
    assert any("fracnet" == t.value for t in app.title)
    assert any("Choose a person" in i.value for i in app.info)
    # a page that needs a person says so and stops
    app.switch_page(PAGES.format("person")).run()
    assert not app.exception
    assert [i.value for i in app.info] == ["Choose a person in the sidebar to begin."]
    assert not app.button


def test_person_grouped_recommendations_and_outreach(app):
    at = _open(app, "person")
    subheaders = [s.value for s in at.subheader]
    assert subheaders == GROUP_TITLES
    # the HTML name is shown as text: escaped in Markdown, never raw
    assert at.title[0].value == views.md_escape(HTML_NAME)
    _assert_no_raw_html(at)
    add = [b for b in at.button if b.key.startswith("add_")]
    assert {b.key.split("_")[1] for b in add} == {"peers", "adjacent", "executives"}
    assert len(add) == 15  # 5 per group by default
    # reasons, introducer and a draft note per recommendation
    assert any("mutual contact" in m.value for m in at.markdown)
    assert any(c.value.startswith("Introducer:") for c in at.caption)
    assert len(at.code) == 15 and all(c.value.startswith("Hi ") for c in at.code)
    # opted-out people are never recommended
    with Store(app_db(at)) as s:
        opted = set(s.read_table("people", "opt_out = 1")["id"])
    assert not {b.key.split("_", 2)[2] for b in add} & opted

    first = add[0]
    first.click().run()
    assert not at.exception
    # "Add to outreach" writes to the saved pipeline of the person explored
    from recommender.practice.pipeline import list_items

    with Store(app_db(at)) as s:
        items = list_items(s, owner=HTML_ID)
    assert [i["person_id"] for i in items] == [first.key.split("_", 2)[2]]
    assert items[0]["source"].startswith("who to meet: ")
    assert at.button(key=first.key).disabled
    # the outreach page is the pipeline, with downloads
    at.switch_page(PAGES.format("outreach")).run()
    assert not at.exception
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 1
    assert [b.key for b in at.get("download_button")] == ["outreach_csv", "outreach_xlsx", "followups_ics"]


def app_db(at: AppTest) -> str:
    import os

    return os.environ["FRACNET_DB"]


def test_refer_form_picks_and_logging(app):
    at = _open(app, "refer")
    assert any("Describe the opportunity" in i.value for i in at.info)
    at.multiselect(key="refer_needs").set_value(["fundraising", "fp-and-a"])
    at.selectbox(key="refer_industry").set_value("saas")
    at.selectbox(key="refer_size").set_value("5-50m")
    at.text_area(key="refer_description").set_value("Series A raise, needs a model and board pack")
    at.button(key="refer_submit").click().run()
    assert not at.exception
    assert any(w.value.startswith("Out of your lane") for w in at.warning)
    assert "Draft notes (double opt-in)" in [s.value for s in at.subheader]
    logs = [b for b in at.button if b.key.startswith("log_")]
    assert 2 <= len(logs) <= 3
    intro = at.code[0].value
    assert intro.startswith("Hi ") and "no cut" in intro
    _assert_no_raw_html(at)

    with Store(app_db(at)) as s:
        opted = set(s.read_table("people", "opt_out = 1")["id"])
        before = s.counts()
    assert not {b.key[4:] for b in logs} & opted
    to_id = logs[0].key[4:]
    logs[0].click().run()
    assert not at.exception
    assert any(s.value.startswith("Logged referral") for s in at.success)
    assert at.button(key=logs[0].key).disabled

    with Store(app_db(at)) as s:
        after = s.counts()
        ref = s.read_table("referrals", "from_id = ? AND to_id = ?", (HTML_ID, to_id))
        assert len(ref) == 1 and ref.iloc[0]["outcome"] == "pending"
        opp = s.get("opportunities", ref.iloc[0]["opportunity_id"])
    assert after["referrals"] == before["referrals"] + 1
    assert after["opportunities"] == before["opportunities"] + 1
    assert opp["brought_by"] == HTML_ID and opp["needs"] == "fundraising;fp-and-a" and opp["status"] == "referred"
    # shown at once in the ledger view on the same page
    ledger = at.dataframe[-1].value  # the ledger table closes the page
    assert ref.iloc[0]["id"] in set(ledger["id"])
    # a second pick for the same opportunity reuses it
    logs[1].click().run()
    with Store(app_db(at)) as s:
        assert s.counts()["opportunities"] == after["opportunities"]
        assert s.counts()["referrals"] == after["referrals"] + 1


def test_refer_needs_something(app):
    at = _open(app, "refer")
    at.button(key="refer_submit").click().run()
    assert not at.exception
    assert any("Say what the client needs" in e.value for e in at.error)


def test_network_page_caps_and_notes(app):
    at = _open(app, "network")
    assert [t.value for t in at.title] == ["Network"]
    at.slider(key="map_limit").set_value(30).run()
    assert not at.exception
    assert any("Showing 30 of" in i.value for i in at.info)
    on_map = [m for m in at.metric if m.label == "On the map"][0]
    assert on_map.value == "30"
    at.multiselect(key="map_functions").set_value(["finance"]).run()
    assert not at.exception
    _assert_no_raw_html(at)


def test_insights_and_data_pages(app):
    at = _open(app, "insights")
    assert [s.value for s in at.subheader] == ["Your three groups against the starter target", "Go-giver ledger",
                                              "Referral outcomes over time", "Brokers", "Communities"]
    at.radio(key="insights_scope").set_value("this person").run()
    assert not at.exception
    at.switch_page(PAGES.format("data")).run()
    assert not at.exception
    assert at.button(key="import_csvs").disabled  # nothing uploaded yet


def test_upload_problems_shown_with_file_line_field(app):
    bad = b"id,name,kind,capacity\np1,Ann,fractional,2\np2,Bob,robot,lots\n"
    with Store(app_db(app)) as s:
        before = s.counts()
        res = views.import_uploads(s, [("people.csv", bad), ("ties.csv", b"a,b,strength\np1,nobody,0.5\n"),
                                       ("notes.csv", b"x\n1\n")])
        assert s.counts() == before  # nothing written
    assert not res.ok
    probs = res.problems
    assert list(probs.columns) == ["file", "line", "field", "message", "hint"]
    assert ("notes.csv" in set(probs["file"]))
    # fix the file name problem: now the row problems show, still all-or-nothing
    with Store(app_db(app)) as s:
        res = views.import_uploads(s, [("people.csv", bad)])
        assert s.counts() == before
    rows = res.problems
    assert {("people.csv", 3, "kind"), ("people.csv", 3, "capacity")} <= set(
        zip(rows["file"], rows["line"].astype(int), rows["field"]))
    # the Data page renders the table of problems
    app.session_state["import_result"] = res
    at = _open(app, "data", person=None)
    assert any("problem" in e.value and "Nothing was written" in e.value for e in at.error)
    shown = at.dataframe[0].value
    assert set(shown["field"]) >= {"kind", "capacity"}


def test_upload_good_files_and_linkedin(writable_db, tmp_path):
    with Store(writable_db) as s:
        before = s.counts()
        res = views.import_uploads(s, [("people.csv", b"id,name,kind,function\nn1,New Person,fractional,finance\n"),
                                       ("ties.csv", b"a,b,strength\nn1,p0002,0.7\n")])
        assert res.ok, res.problems
        after = s.counts()
        assert after["people"] == before["people"] + 1 and after["ties"] == before["ties"] + 1
        li = (b"Notes:\n\"When exporting your connection data...\"\n\n"
              b"First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
              b"Grace,Hopper,https://www.linkedin.com/in/grace-hopper-x,,Navy,Fractional CTO,15 Mar 2023\n")
        res = views.import_linkedin_upload(s, "Connections.csv", li, "p0002")
        assert res.ok, res.problems
        assert s.counts()["people"] == after["people"] + 1
        bad = li.replace(b"15 Mar 2023", b"someday")
        res = views.import_linkedin_upload(s, "Connections.csv", bad, "p0002")
        assert not res.ok
        assert list(res.problems[["file", "field"]].iloc[0]) == ["Connections.csv", "Connected On"]
        assert int(res.problems["line"].iloc[0]) == 5


def test_backup_bytes(writable_db, tmp_path):
    from recommender.ui.pages.data import backup_bytes

    with Store(writable_db) as s:
        data = backup_bytes(s)
        counts = s.counts()
    assert data.startswith(b"SQLite format 3\x00")
    copy = tmp_path / "restored.db"
    copy.write_bytes(data)
    with Store(copy, create=False) as r:
        assert r.counts() == counts


def test_map_never_shows_opted_out_and_respects_cap(sample_db):
    with Store(sample_db) as s:
        net = load_network(s)
    facts = views.people_facts(net)
    trust = TrustAdjacency.from_network(net)
    graph = build_trust_graph(net)
    opted = set(facts.index[facts["opt_out"]])
    hub = max(graph.degree, key=lambda kv: kv[1])[0]
    for pid in (HTML_ID, hub):
        ids, info = views.neighbourhood(trust, facts, pid, hops=2, limit=40)
        assert ids[0] == pid and len(ids) <= 40
        assert not set(ids[1:]) & opted
        m = views.map_layout(trust.subgraph(ids), facts, pid, ids, info)
        assert len(m.nodes) == len(ids) and m.cut == (info["total"] > len(ids))
        assert set(m.edges["a"]) | set(m.edges["b"]) <= set(ids)
    # near an opted-out person, they are counted but never drawn
    near = next(n for o in opted for n in graph[o] if n not in opted)
    ids, info = views.neighbourhood(trust, facts, near, hops=1, limit=300)
    assert info["opted_out"] >= 1 and not set(ids) & opted
    # filters: only finance fractionals (plus the centre)
    ids, _ = views.neighbourhood(trust, facts, HTML_ID, hops=2, limit=300, functions=["finance"])
    assert all(facts.at[p, "function"] == "finance" for p in ids[1:])
    ids, _ = views.neighbourhood(trust, facts, HTML_ID, hops=2, limit=300, groups=["executives"])
    assert all(facts.at[p, "kind"] == "executive" for p in ids[1:])


def test_record_an_outcome_in_the_ledger(app, writable_db):
    with Store(writable_db) as s:
        pending = s.read_table("referrals", "outcome = 'pending'")
    rid, giver = pending["id"].iloc[0], pending["from_id"].iloc[0]
    at = _open(app, "refer", giver)
    at.selectbox(key="refer_outcome_referral").set_value(rid).run()
    assert not at.exception
    assert at.radio(key="refer_outcome_value").options == ["accepted", "declined"]
    at.radio(key="refer_outcome_value").set_value("accepted").run()
    at.button(key="refer_outcome_save").click().run()
    assert not at.exception
    assert any(f"Referral {rid}: pending → accepted" in m.value for m in at.success)
    with Store(writable_db) as s:
        assert s.get("referrals", rid)["outcome"] == "accepted"
    # now accepted: the next step is won or lost
    at.selectbox(key="refer_outcome_referral").set_value(rid).run()
    assert at.radio(key="refer_outcome_value").options == ["won", "lost"]


def test_big_network_picker_searches_first(writable_db, monkeypatch):
    """Above PICKER_LIST_ALL people the sidebar asks for letters and lists only the best matches."""
    from recommender.ui import main as ui_main
    from recommender.ui import picker

    monkeypatch.setattr(picker, "PICKER_LIST_ALL", 10)  # the 400-person sample counts as big
    monkeypatch.setenv("FRACNET_DB", str(writable_db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert at.sidebar.selectbox(key="person").options == []  # nothing listed before a search
    at.sidebar.text_input(key=ui_main.SEARCH_KEY).input("lovelace").run()
    picker = at.sidebar.selectbox(key="person")
    assert len(picker.options) >= 1 and all("lovelace" in o.lower() for o in picker.options)
    picker.set_value(HTML_ID)
    at.switch_page(PAGES.format("person")).run()
    assert not at.exception, at.exception
    _assert_no_raw_html(at)
    # a search with no match says so; the chosen person stays chosen
    at.sidebar.text_input(key=ui_main.SEARCH_KEY).input("zzzz-nobody").run()
    assert any(c.value.startswith("No one matches") and "nobody" in c.value for c in at.sidebar.caption)
    assert at.sidebar.selectbox(key="person").value == HTML_ID


def test_big_network_linkedin_owner_searches_first(writable_db, monkeypatch):
    """The Data page's owner picker searches first too; it starts on the sidebar's person."""
    from recommender.ui import picker

    monkeypatch.setattr(picker, "PICKER_LIST_ALL", 10)
    monkeypatch.setenv("FRACNET_DB", str(writable_db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.sidebar.text_input(key="person_search").input("lovelace").run()
    at.sidebar.selectbox(key="person").set_value(HTML_ID)
    at.switch_page(PAGES.format("data")).run()
    assert not at.exception, at.exception
    owner = at.selectbox(key="linkedin_owner")
    assert owner.value == HTML_ID and len(owner.options) == 1 and "lovelace" in owner.options[0].lower()
    at.text_input(key="linkedin_owner_search").input("a").run()
    owner = at.selectbox(key="linkedin_owner")
    assert owner.value == HTML_ID and 1 < len(owner.options) <= picker.PICKER_MATCHES + 1  # the owner stays listed
    _assert_no_raw_html(at)


def test_neighbourhood_matches_the_networkx_trust_graph(sample_db):
    """The sparse trust graph gives the neighbourhood the networkx graph gives: same people, hops, trust."""
    import networkx as nx

    with Store(sample_db) as s:
        net = load_network(s)
    facts = views.people_facts(net)
    trust, graph = TrustAdjacency.from_network(net), build_trust_graph(net)
    assert trust.edges == graph.number_of_edges()
    for pid in (HTML_ID, "p0042", "p0113"):
        ids, info = views.neighbourhood(trust, facts, pid, hops=2, limit=300)
        bfs = nx.single_source_shortest_path_length(graph, pid, cutoff=2)
        reach = {p for p in bfs if p != pid and not facts.at[p, "opt_out"]}
        assert set(ids[1:]) == reach or len(ids) == 300
        assert all(info["hop"][p] == bfs[p] for p in ids)
        # the strongest path using at most two ties
        for p in ids[1:6]:
            paths = [graph[pid][p]["weight"]] if graph.has_edge(pid, p) else []
            paths += [graph[pid][m]["weight"] * graph[m][p]["weight"] for m in graph[pid] if graph.has_edge(m, p)]
            assert info["trust"][p] == pytest.approx(max(paths))
        sub = trust.subgraph(ids)
        assert sorted(map(sorted, sub.edges)) == sorted(map(sorted, graph.subgraph(ids).edges))
