"""MeetModel: contract, invariants, reasons, explain, persistence, and the CLI end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from recommender.errors import NotFittedError, UnknownIdError, UsageError
from recommender.meet.features import FEATURE_NAMES
from recommender.network import Network
from recommender.meet.model import MeetModel
from recommender.meet.persistence import ModelFileError
from recommender.people import opt_out_flags

N_PEOPLE = 220
SEED = 3


@pytest.fixture(scope="session")
def tables():
    from recommender.demo import generate_network

    return generate_network(N_PEOPLE, seed=SEED)


@pytest.fixture(scope="session")
def net(tables):
    return Network.from_frames(**tables)


@pytest.fixture(scope="session")
def model(net):
    return MeetModel().fit(net)


@pytest.fixture(scope="session")
def db(tables, tmp_path_factory):
    from recommender.demo import write_network
    from recommender.io.csv_folder import import_folder
    from recommender.store.db import Store

    folder = tmp_path_factory.mktemp("meet-csv")
    write_network(tables, folder)
    path = tmp_path_factory.mktemp("meet-db") / "meet.db"
    with Store(path) as store:
        import_folder(store, folder, progress=False)
    return str(path)


def _people(net):
    p = net.people.set_index("id")
    return p


def _fractionals(net, n=25):
    p = net.people
    return p.loc[(p["kind"] == "fractional") & (p["opt_out"].astype(int) == 0), "id"].head(n).tolist()


# -- contract ------------------------------------------------------------------


def test_the_fitted_model_learned(model):
    # that fit returns self is checked by test_deterministic's second fit
    assert model.fallback_reason_ is None
    assert model.ranker_.kind_ == "logistic"


def test_not_fitted():
    with pytest.raises(NotFittedError):
        MeetModel().recommend("p0001")


def test_fit_rejects_non_network():
    with pytest.raises(UsageError, match="expected a Network"):
        MeetModel().fit(pd.DataFrame())


def test_undated_network_learns_from_holdouts(net):
    """No history at all: the ranker still learns, from random holdouts of the current ties, and says so."""
    undated = Network.from_frames(people=net.people, companies=net.companies,
                                  ties=net.ties.assign(since=None))
    m = MeetModel().fit(undated)
    assert m.ranker_.kind_ == "logistic" and m.fallback_reason_ is None
    assert m.training_sources_["history_positives"] == 0 and m.training_sources_["holdout_positives"] > 30
    assert "random holdout" in m.description() and "history window" not in m.description()
    pid = _fractionals(net, 1)[0]
    recs = m.recommend(pid, k=5)
    assert recs and all(np.isfinite(r.score) for r in recs)


def test_fallback_when_too_few_ties(net):
    few = Network.from_frames(people=net.people, companies=net.companies, ties=net.ties.head(12))
    m = MeetModel().fit(few)
    assert m.ranker_.kind_ == "default"
    assert "default weights" in m.fallback_reason_ and "default weights" in m.description()


def test_windows_sized_to_a_short_history(net):
    """A history of weeks gets windows of days, so it trains on its history too."""
    days = pd.date_range("2024-01-01", periods=60, freq="D").strftime("%Y-%m-%d")
    rng = np.random.default_rng(0)
    short = Network.from_frames(people=net.people, companies=net.companies,
                                ties=net.ties.assign(since=rng.choice(days, len(net.ties)), last_contact=None))
    m = MeetModel().fit(short)
    assert m.horizon_ < 30
    assert m.training_sources_["history_windows"] >= 2 and m.training_sources_["history_positives"] > 0


@pytest.mark.parametrize("bad", [{"k": 0}, {"k": "3"}, {"group": "friends"}])
def test_bad_arguments(model, bad):
    with pytest.raises(UsageError):
        model.recommend("p0001", **bad)



def test_unknown_person(model):
    with pytest.raises(UnknownIdError) as exc:
        model.recommend("p00001")
    assert exc.value.suggestions


# -- invariants --------------------------------------------------------------


def test_invariants(model, net):
    people = _people(net)
    ties = {(a, b) for a, b in zip(net.ties["a"], net.ties["b"])}
    opted = set(people.index[people["opt_out"].astype(int) == 1])
    spec = {pid: frozenset(str(s).split(";")) if isinstance(s, str) else frozenset() for pid, s in people["specialties"].items()}
    checked = 0
    for pid in _fractionals(net) + people.index[people["kind"] == "executive"][:5].tolist():
        recs = model.recommend(pid, k=5)
        for r in recs:
            c = r.candidate_id
            assert c != pid
            assert (pid, c) not in ties and (c, pid) not in ties
            assert c not in opted
            assert np.isfinite(r.score) and 0 < r.score < 1
            if people.at[pid, "kind"] == "fractional":
                if r.group == "peers":
                    assert people.at[c, "kind"] == "fractional"
                    assert people.at[c, "function"] == people.at[pid, "function"]  # identical specialty sets allowed
                elif r.group == "adjacent":
                    assert people.at[c, "kind"] == "fractional"
                    assert people.at[c, "function"] != people.at[pid, "function"]
                else:
                    assert r.group == "executives"
                    assert people.at[c, "kind"] == "executive"
            checked += 1
        for g in ("peers", "adjacent", "executives"):
            assert sum(r.group == g for r in recs) <= 5
        scores = {g: [r.score for r in recs if r.group == g] for g in ("peers", "adjacent", "executives")}
        assert all(s == sorted(s, reverse=True) for s in scores.values())
    assert checked > 50


@pytest.mark.parametrize("group", ["peers", "adjacent", "executives"])
def test_single_group(model, net, group):
    for pid in _fractionals(net, 8):
        recs = model.recommend(pid, k=4, group=group)
        assert len(recs) <= 4
        assert all(r.group == group for r in recs)


def test_recommend_equals_recommend_many(model, net):
    execs = net.people.loc[net.people["kind"] == "executive", "id"].head(3).tolist()
    pids = _fractionals(net, 20) + execs
    many = model.recommend_many(pids + pids[:2], k=6)  # duplicates are answered once
    assert list(many) == pids
    for pid in pids:
        one = model.recommend(pid, k=6)
        assert [r.candidate_id for r in one] == [r.candidate_id for r in many[pid]]
        assert [r.score for r in one] == [r.score for r in many[pid]]
        assert one == many[pid]  # reasons, introducers, features and contributions too, to the bit


def test_top_per_row_sorts_few_entries_and_keeps_what_the_partition_keeps(monkeypatch):
    """Up to kernels._SORT_MAX entries the top k per row come from one sort; above, from a partition per row:
    the same entries, ties at the k-th value (0.0 and -0.0 among them) to the lowest tiebreak or the earliest."""
    from recommender import kernels

    rng = np.random.default_rng(0)
    cases = []
    for trial in range(400):
        nrows, m, k = int(rng.integers(1, 6)), int(rng.integers(0, 300)), int(rng.integers(1, 40))
        row = np.sort(rng.integers(0, nrows, m))
        val = rng.integers(-3, 4, m) * 0.5 if trial % 2 else rng.random(m)
        val[rng.random(m) < 0.1] = -0.0
        cases.append((row, val, k, nrows, rng.permutation(m) if trial % 3 else None))
    sorted_ = [kernels._top_per_row(*c) for c in cases]
    monkeypatch.setattr(kernels, "_SORT_MAX", -1)
    for c, keep in zip(cases, sorted_):
        assert np.array_equal(keep, kernels._top_per_row(*c))
    assert any(keep.any() and not keep.all() for keep in sorted_)


def test_list_order_is_the_lexsort_of_the_answer():
    """The answer's order (row and group, score descending, then position) by kernels.list_order: np.lexsort's,
    on keys in any order, with scores tied, -0.0 among them, and lists of one to many entries."""
    from recommender.kernels import list_order

    rng = np.random.default_rng(1)
    for trial in range(300):
        m = int(rng.integers(0, 400))
        key = rng.integers(0, int(rng.integers(1, 60)), m)
        key = np.sort(key) if trial % 2 else key
        score = rng.integers(-2, 3, m) * 0.25 if trial % 3 else rng.random(m)
        score[rng.random(m) < 0.05] = -0.0
        tb = rng.permutation(10 * m + 1)[:m]
        assert np.array_equal(list_order(key, score, tb), np.lexsort((tb, -score, key)))


def test_deterministic(net, model):
    again = MeetModel()
    assert again.fit(net) is again
    for pid in _fractionals(net, 5):
        assert again.recommend(pid) == model.recommend(pid)


def test_fit_on_two_threads_equals_its_steps_in_order(net, model):
    """fit overlaps its steps on two threads; run one after another they give the same model."""
    from recommender.meet.context import build_context
    from recommender.people import encode_people
    from recommender.network import TieTable
    from recommender.meet.ranker import PairRanker
    from recommender.meet.training import build_training_set
    from recommender.similarity import ProfileModel

    profile = ProfileModel().fit(net.people)
    people = encode_people(net, profile)
    ties = TieTable.encode(net, people.ids)
    from recommender.meet.context import history_time_scale
    from recommender.meet.holdout import history_horizon, holdout_training_set
    from recommender.meet.training import history_span

    lo, hi = history_span(net)
    scale = history_time_scale(np.array([(pd.Timestamp(hi) - pd.Timestamp(lo)).days], dtype=float))
    ctx = build_context(net, profile, people=people, ties=ties, time_scale=scale)

    m = MeetModel()
    horizon = history_horizon(*history_span(net), n_windows=m.n_windows)
    train = build_training_set(net, ctx.as_of, profile=profile, horizon_days=horizon, n_windows=m.n_windows,
                               random_state=m.random_state, candidate_kw=m._candidate_kw, people=people,
                               enough_positives=m.enough_positives, ties=ties, time_scale=scale)
    held = holdout_training_set(net, profile=profile, people=people, share=m.holdout_share, time_scale=scale,
                                n_holdouts=0 if train.n_positive >= m.enough_positives else m.n_holdouts,
                                candidate_kw=m._candidate_kw, random_state=m.random_state)
    from recommender.meet.ranker import stage1_estimator

    window = train.qid // len(people.ids)  # the estimator is chosen on the latest history window
    val = np.r_[window == window.min(), np.zeros(len(held.y), bool)]
    # the holdouts as of the latest window's cutoff: what the choice weighs them by
    probe = holdout_training_set(net.until(train.cutoffs[0]), profile=profile, people=people, share=m.holdout_share,
                                 time_scale=scale, n_holdouts=m.n_holdouts, candidate_kw=m._candidate_kw,
                                 random_state=m.random_state)
    optional = np.r_[np.zeros(len(train.y), bool), np.ones(len(held.y), bool)]
    ranker = PairRanker(estimator=stage1_estimator(len(people.ids), m.estimator), min_positives=m.min_positives,
                        random_state=m.random_state).fit(
        np.vstack([train.X, held.X]), np.concatenate([train.y, held.y]), groups=np.concatenate([train.qid, held.qid]),
        validation=val if val.any() else None, optional=optional, probe=(probe.X, probe.y, probe.qid))
    assert model.horizon_ == horizon
    assert model.as_of_ == ctx.as_of and model.training_cutoffs_ == train.cutoffs
    assert model.ranker_.kind_ == ranker.kind_
    np.testing.assert_array_equal(model.ranker_.coef_, ranker.coef_)
    for name in ("W", "F", "A"):
        assert (getattr(model.context_, name) != getattr(ctx, name)).nnz == 0
    np.testing.assert_array_equal(model.context_.activity, ctx.activity)
    from recommender.meet.model import _people_info

    facts = _people_info(net)
    assert all(facts[i] == model.people_[i] for i in range(0, len(facts), 37))


def test_reasons_name_mutual_contacts_and_introducer_is_mutual(model, net):
    adj = {}
    for a, b in zip(net.ties["a"], net.ties["b"]):
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    names = _people(net)["name"]
    opted = set(net.people["id"][opt_out_flags(net.people["opt_out"])].astype(str))
    seen = 0
    for pid in _fractionals(net, 25):
        for r in model.recommend(pid, k=5):
            mutual = adj.get(pid, set()) & adj.get(r.candidate_id, set())
            if r.features["cn"] > 0:
                assert len(mutual) == r.features["cn"]
                reason = next(x for x in r.reasons if x.kind == "mutual_contacts")
                named = mutual - opted  # opted-out contacts are counted, never named or introducers
                assert reason.data["count"] == len(mutual)
                assert {p["id"] for p in reason.data["people"]} == named
                assert {p["name"] for p in reason.data["people"]} == {names[m] for m in named}
                if not named:
                    assert r.introducer_id is None
                    continue
                assert r.introducer_id in named
                assert r.introducer_name == names[r.introducer_id]
                best = max(p["trust"] for p in reason.data["people"])
                assert r.introducer_trust == pytest.approx(best)
                seen += 1
            else:
                assert r.introducer_id is None and not mutual
    assert seen > 10


def test_explain_returns_numbers(model, net):
    pid = _fractionals(net, 1)[0]
    rec = model.recommend(pid, k=1)[0]
    ex = model.explain(pid, rec.candidate_id)
    assert ex["score"] == pytest.approx(rec.score)
    assert set(ex["features"]) == set(FEATURE_NAMES)
    assert sum(ex["contributions"].values()) + ex["base"] == pytest.approx(ex["log_odds"])
    assert ex["group"] == rec.group
    assert all(isinstance(v, float) for v in ex["contributions"].values())


def test_save_load_round_trip(model, net, tmp_path):
    path = tmp_path / "meet.model"
    model.save(path)
    back = MeetModel.load(path)
    for pid in _fractionals(net, 5):
        assert back.recommend(pid) == model.recommend(pid)
    (tmp_path / "junk.model").write_bytes(b"\x80\x04junk")
    with pytest.raises(ModelFileError):
        MeetModel.load(tmp_path / "junk.model")


def test_draft_notes(model, net):
    from recommender.meet.text import draft_note

    pid = _fractionals(net, 1)[0]
    me = model.person(pid)
    for r in model.recommend(pid, k=2):
        them = model.person(r.candidate_id)
        note = draft_note(r, me, them)
        assert note.startswith("Hi ")
        assert "compare notes" in note or "swap notes" in note
        assert "suggested we talk" not in note  # never claimed before the introducer was asked
        if r.introducer_name:  # the note goes to the introducer, asking for a double-opt-in introduction
            assert note.startswith(f"Hi {r.introducer_name.split()[0]},")
            assert f"introducing me to {them['name']}" in note and "say yes" in note
            after = draft_note(r, me, them, introduced_by=r.introducer_name)  # once introduced
            assert after.startswith(f"Hi {them['name'].split()[0]},")
            assert f"{r.introducer_name.split()[0]} introduced us" in after
        elif r.group == "peers":
            assert "another fractional" in note


# -- CLI ---------------------------------------------------------------------


def test_cli_json(db, capsys, net):
    from recommender.cli import main

    pid = _fractionals(net, 1)[0]
    assert main(["meet", pid, "--db", db, "--json", "--k", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["person"] == pid
    recs = out["recommendations"]
    assert recs and len(recs) <= 9
    for r in recs:
        assert {"id", "name", "group", "score", "reasons", "introducer", "message"} <= set(r)
        assert r["group"] in ("peers", "adjacent", "executives")
        assert isinstance(r["reasons"], list) and all(isinstance(x, str) for x in r["reasons"])
        assert r["introducer"] is None or set(r["introducer"]) >= {"id", "name"}


def test_cli_human_and_group(db, capsys, net):
    from recommender.cli import main

    pid = _fractionals(net, 1)[0]
    assert main(["meet", pid, "--db", db, "--group", "peers", "--k", "2"]) == 0
    out = capsys.readouterr().out
    assert "should meet next" in out
    assert "Adjacent" not in out and "Executives in your ICP" not in out


def test_cli_model_save_and_load(db, capsys, net, tmp_path):
    from recommender.cli import main

    pid = _fractionals(net, 1)[0]
    path = str(tmp_path / "m.model")
    assert main(["meet", pid, "--db", db, "--json", "--save-model", path]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["meet", pid, "--db", db, "--json", "--model", path]) == 0
    assert json.loads(capsys.readouterr().out) == first
    (tmp_path / "bad.model").write_text("nope")
    assert main(["meet", pid, "--db", db, "--model", str(tmp_path / "bad.model")]) == 4
    assert "not a readable fracnet model" in capsys.readouterr().err


def test_cli_unknown_person(db, capsys):
    from recommender.cli import main

    assert main(["meet", "p0001x", "--db", db]) == 5
    err = capsys.readouterr().err
    assert "unknown person 'p0001x'" in err and "did you mean 'p0001'" in err
    assert err.count("\n") == 1


def test_no_candidate_dropped_for_missing_function_or_identical_specialties():
    """People without a function, and peers with the very same specialties, are still candidates."""
    people = pd.DataFrame({"id": list("abcdef"), "name": list("ABCDEF"), "kind": ["fractional"] * 6,
                           "function": ["", "", "", "marketing", "marketing", "marketing"],
                           "specialties": ["", "", "", "seo", "seo", "seo"]})
    ties = pd.DataFrame({"a": ["a", "b", "d", "e"], "b": ["b", "c", "e", "f"]})
    m = MeetModel().fit(Network.from_frames(people=people, ties=ties))
    assert "c" in [r.candidate_id for r in m.recommend("a", k=5)]
    recs = m.recommend("d", k=5)
    assert "f" in [r.candidate_id for r in recs] and all(r.group is not None for r in recs)
