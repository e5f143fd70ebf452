"""History replay: metrics by hand, the protocol on a generated network, the CLI table."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from recommender.errors import UsageError
from recommender.network import Network
from recommender.evaluation.history import HEURISTICS, default_split_date, evaluate_history, ranking_metrics


class TestRankingMetrics:
    def test_hand_computed(self):
        # query 0: positives at ranks 2 and 4 of 5, plus one positive the candidates missed
        pr = np.array([0, 0, 0, 0, 0, 1, 1])
        score = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.2, 0.1])
        label = np.array([0, 1, 0, 1, 0, 1, 0])
        n_pos = np.array([3, 1])
        m = ranking_metrics(pr, score, label, n_pos, k=3)
        assert m["recall@3"] == pytest.approx((1 / 3 + 1) / 2)
        assert m["mrr"] == pytest.approx((1 / 2 + 1) / 2)
        ndcg0 = (1 / np.log2(3)) / (1 + 1 / np.log2(3) + 1 / np.log2(4))
        assert m["ndcg@3"] == pytest.approx((ndcg0 + 1) / 2)

    def test_order_of_rows_does_not_matter(self):
        rng = np.random.default_rng(0)
        pr = np.repeat(np.arange(4), 10)
        score = rng.random(40)
        label = (rng.random(40) < 0.2).astype(int)
        n_pos = np.bincount(pr, weights=label, minlength=4).astype(int) + 1
        perm = rng.permutation(40)
        assert ranking_metrics(pr, score, label, n_pos) == pytest.approx(
            ranking_metrics(pr[perm], score[perm], label[perm], n_pos))

    def test_no_queries(self):
        assert ranking_metrics(np.zeros(0, int), np.zeros(0), np.zeros(0), np.zeros(0, int)) == {
            "recall@10": 0.0, "mrr": 0.0, "ndcg@10": 0.0}


@pytest.fixture(scope="module")
def net():
    from recommender.demo import generate_network

    return Network.from_frames(**generate_network(300, seed=8))


@pytest.fixture(scope="module")
def result(net):
    return evaluate_history(net, k=10)


def test_structure(result):
    assert set(result["methods"]) == {"fracnet", "random", *HEURISTICS}
    for vals in result["methods"].values():
        assert set(vals) == {"recall@10", "mrr", "ndcg@10"}
        assert all(0.0 <= v <= 1.0 for v in vals.values())
    assert result["n_queries"] > 50
    assert 0 < result["candidate_recall"] <= 1
    assert result["model"]["fallback_reason"] is None
    json.dumps(result)


def test_fracnet_beats_random_and_pa(result):
    m = result["methods"]
    assert m["fracnet"]["recall@10"] > 2 * m["random"]["recall@10"]
    assert m["fracnet"]["mrr"] > m["pa"]["mrr"]


def test_default_split_is_two_thirds(net):
    split = default_split_date(net)
    dates = np.r_[net.ties["since"].dropna().to_numpy(), net.introductions["date"].dropna().to_numpy()]
    assert (dates <= split).mean() > 0.4
    assert (dates > split).mean() > 0.1


def test_explicit_split_and_errors(net):
    res = evaluate_history(net, split_date="2025-12-31", k=5)
    assert res["split_date"] == "2025-12-31" and "recall@5" in res["methods"]["fracnet"]
    with pytest.raises(UsageError):
        evaluate_history(net, k=0)
    with pytest.raises(UsageError, match="no dated"):
        evaluate_history(Network.from_frames(people=net.people))


def test_cli_history(net, tmp_path, capsys):
    from recommender.cli.evaluate_history import register_history
    from recommender.demo import generate_network, write_network
    from recommender.io.csv_folder import import_folder
    from recommender.store.db import Store

    folder = tmp_path / "csv"
    write_network(generate_network(150, seed=4), folder)
    db = tmp_path / "h.db"
    with Store(db) as s:
        import_folder(s, folder, progress=False)
    parser = argparse.ArgumentParser()
    register_history(parser.add_subparsers(dest="what"))
    args = parser.parse_args(["history", "--db", str(db), "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"split_date", "n_queries", "methods"} <= set(out)
    assert {"recall@10", "mrr", "ndcg@10"} == set(out["methods"]["fracnet"])
    args = parser.parse_args(["history", "--db", str(db), "--split-date", "2025-09-30"])
    assert args.func(args) == 0
    text = capsys.readouterr().out
    assert "fit before 2025-09-30" in text and "fracnet" in text and "random" in text
