"""fracnet evaluate ties: held-out random ties on any network, beside the heuristics; and bench/convert.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender.cli import main
from recommender.evaluation.ties import evaluate_ties, hide_ties
from recommender.network import Network

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))


def _circles(n_groups=6, size=12, seed=0):
    """Dense friend circles (no profiles, no dates): resource allocation finds hidden ties easily."""
    rng = np.random.default_rng(seed)
    ids = [f"u{i}" for i in range(n_groups * size)]
    a, b = [], []
    for g in range(n_groups):
        m = ids[g * size:(g + 1) * size]
        for i in range(size):
            for j in range(i + 1, size):
                if rng.random() < 0.7:
                    a.append(m[i]); b.append(m[j])
    for _ in range(n_groups * 3):  # a few ties between circles
        i, j = rng.choice(len(ids), 2, replace=False)
        a.append(ids[i]); b.append(ids[j])
    people = pd.DataFrame({"id": ids, "name": ids, "kind": "fractional"})
    ties = pd.DataFrame({"a": a, "b": b}).drop_duplicates()
    return Network.from_frames(people=people, ties=ties)


def test_hide_ties_hides_the_share_and_keeps_the_rest():
    net = _circles()
    obs, hidden = hide_ties(net, 0.2, np.random.default_rng(1))
    assert len(hidden) == round(0.2 * len(net.ties)) and len(obs.ties) + len(hidden) == len(net.ties)
    keys = set(zip(obs.ties["a"], obs.ties["b"]))
    assert not any((x, y) in keys for x, y in zip(hidden["a"], hidden["b"]))


def test_evaluate_ties_learns_and_finds_hidden_friends():
    res = evaluate_ties(_circles(), holdout=0.1, runs=2, seed=0, k=10)
    m = res["methods"]
    assert set(m) == {"fracnet", "cn", "jaccard", "aa", "ra", "pa", "katz", "tag_sim", "random"}
    assert res["runs"] == 2 and res["queries"] > 0 and len(res["per_run"]) == 2
    assert m["fracnet"]["candidate_recall"] > 0.9  # people without a function or specialties are candidates
    assert m["fracnet"]["recall@10"] > 3 * m["random"]["recall@10"]
    assert m["fracnet"]["recall@10"] >= 0.8 * m["ra"]["recall@10"]
    assert res["model"]["fallback_reason"] is None and "random holdout" in res["model"]["description"]


@pytest.mark.parametrize("argv, text", [
    (["--holdout", "0.6"], "--holdout"), (["--holdout", "0"], "--holdout"), (["--runs", "0"], "--runs"),
])
def test_usage_errors(argv, text, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "ties", *argv])
    assert exc.value.code == 2 and text in capsys.readouterr().err


def test_unknown_folder_format_names_what_it_expected(tmp_path, capsys):
    (tmp_path / "events.csv").write_text("src,dst,time\n1,2,1082040961\n")
    assert main(["evaluate", "ties", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown format" in err and "people.csv" in err and "bench/convert.py" in err


def test_convert_and_evaluate_a_folder_as_json(tmp_path, capsys):
    from convert import convert

    net = _circles()
    src = tmp_path / "src"
    src.mkdir()
    pd.DataFrame({"id": net.people["id"].str[1:], "tags": "work.employer:3;location:7"}).to_csv(src / "nodes.csv", index=False)
    pd.DataFrame({"u": net.ties["a"].str[1:], "v": net.ties["b"].str[1:]}).to_csv(src / "edges.csv", index=False)
    counts = convert(src, tmp_path / "out", holdout=0.1, seed=0)
    assert counts["format"] == "attributed" and counts["heldout"] == round(0.1 * len(net.ties))
    people = pd.read_csv(tmp_path / "out" / "people.csv")
    assert people["specialties"].iloc[0] == "employer-3" and people["regions"].iloc[0] == "place-7"
    assert main(["evaluate", "ties", str(tmp_path / "out"), "--runs", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["runs"] == 1 and out["queries"] > 0 and "fracnet" in out["methods"] and "ra" in out["methods"]


def test_convert_events_first_message_is_the_tie(tmp_path):
    from convert import convert_events

    (tmp_path / "events.csv").write_text("src,dst,time\n1,2,86400\n2,1,172800\n3,1,259200\n3,3,1\n")
    t = convert_events(tmp_path)
    ties = t["ties"].set_index(["a", "b"])["since"].to_dict()
    assert ties == {("1", "2"): "1970-01-02", ("1", "3"): "1970-01-04"}
    assert sorted(t["people"]["id"]) == ["1", "2", "3"]


def test_a_network_too_sparse_to_learn_from_says_what_it_used():
    """A ring of 30 people: the holdouts give a handful of positives, so the evaluation names the fallback."""
    ids = [f"p{i:02d}" for i in range(30)]
    people = pd.DataFrame({"id": ids, "name": ids, "kind": "fractional"})
    ties = pd.DataFrame({"a": ids, "b": ids[1:] + ids[:1]})
    res = evaluate_ties(Network.from_frames(people=people, ties=ties), holdout=0.1, runs=1)
    m = res["model"]
    assert m["fallback_reason"] and "default weights" in m["description"]
    assert "need 30" in m["description"] and "holdout" in m["description"]
