"""Tests of the link-prediction protocol (recommender.evaluation.links) and `fracnet evaluate links`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recommender.cli import main
from recommender.errors import DataValidationError, UsageError
from recommender.evaluation.links import EdgeList, evaluate_links, plot_roc, read_edge_list, read_split

DATASETS = Path("/work/shared/datasets")


from recommender.demo.graphs import geometric_edges  # noqa: E402


@pytest.fixture
def quick_fracnet(monkeypatch):
    """The "fracnet" method with 4 holdout rounds instead of the product's 24-48: the tests taking it check the
    protocol, its output and the CLI, not the figure (tests/test_linkpred.py fits the default LinkPredictor,
    ``test_usair_one_split`` runs the default one against RA on a real graph). 0.2 s a fit instead of 3 s."""
    import functools

    from recommender.evaluation import linkpred

    monkeypatch.setattr(linkpred, "LinkPredictor", functools.partial(linkpred.LinkPredictor, n_holdouts=4,
                                                                      min_train_edges=0))


@pytest.fixture
def graph_csv(tmp_path):
    path = tmp_path / "net.csv"
    e = geometric_edges()
    path.write_text("u,v\n" + "\n".join(f"{a},{b}" for a, b in e) + "\n")
    return path


class TestReadEdgeList:
    def test_csv_with_header_and_string_ids(self, tmp_path):
        p = tmp_path / "g.csv"
        p.write_text("source,target\nann,bob\nbob,cy\ncy,bob\ncy,cy\n")
        el = read_edge_list(p)
        assert el.nodes.tolist() == ["ann", "bob", "cy"]
        assert el.edges.tolist() == [[0, 1], [1, 2]]  # duplicate merged, self loop dropped
        assert el.name == "g"

    def test_whitespace_no_header_comments_extra_columns(self, tmp_path):
        p = tmp_path / "edges.txt"
        p.write_text("# a comment\n% another\n1 2 0.5\n2\t3 1.0\n\n3 1\n")
        el = read_edge_list(p)
        assert el.edges.tolist() == [[1, 2], [1, 3], [2, 3]]
        assert el.n_nodes == 4  # integer ids are kept as they are

    def test_csv_without_header(self, tmp_path):
        p = tmp_path / "g.csv"
        p.write_text("0,1\n1,2\n")
        assert read_edge_list(p).edges.tolist() == [[0, 1], [1, 2]]

    def test_unusual_header_over_numeric_ids(self, tmp_path):
        p = tmp_path / "g.csv"
        p.write_text("person_a,person_b\n0,1\n1,2\n")
        assert read_edge_list(p).edges.tolist() == [[0, 1], [1, 2]]

    def test_sparse_integer_ids_are_remapped(self, tmp_path):
        p = tmp_path / "g.csv"
        p.write_text("u,v\n5,1000000\n1000000,7\n")
        el = read_edge_list(p)
        assert el.n_nodes == 3
        assert el.nodes.tolist() == [5, 7, 1000000]

    def test_dataset_name_from_folder(self, tmp_path):
        d = tmp_path / "usair"
        d.mkdir()
        (d / "edges.csv").write_text("u,v\n0,1\n")
        assert read_edge_list(d / "edges.csv").name == "usair"

    def test_bad_row_names_the_line(self, tmp_path):
        p = tmp_path / "bad.csv"
        p.write_text("u,v\n0,1\n1,2\n7\n2,3\n")
        with pytest.raises(DataValidationError) as info:
            read_edge_list(p)
        (problem,) = info.value.problems
        assert problem.line == 4
        assert problem.file == str(p)
        assert ":4" in str(info.value)

    def test_missing_and_empty_file(self, tmp_path):
        with pytest.raises(DataValidationError, match="not found"):
            read_edge_list(tmp_path / "nope.csv")
        p = tmp_path / "empty.csv"
        p.write_text("u,v\n")
        with pytest.raises(DataValidationError, match="no edges"):
            read_edge_list(p)


@pytest.mark.parametrize("reader, name, text, line, field", [
    (read_edge_list, "bad.csv", "u,v\n0,1\n,2\n", 3, "u"),  # an empty id
    (read_split, "split_01.csv", "u,v,label,part\n0,1,1,train\n0,2,yes,train\n", 3, "label"),
])
def test_a_bad_cell_names_its_line_and_field(reader, name, text, line, field, tmp_path):
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(DataValidationError) as info:
        reader(p)
    assert (info.value.problems[0].line, info.value.problems[0].field) == (line, field)


class TestReadSplit:
    def test_parts_and_labels(self, tmp_path):
        p = tmp_path / "split_01.csv"
        p.write_text("u,v,label,part\n0,1,1,train\n0,2,0,train\n1,2,1,test\n0,3,0,test\n")
        s = read_split(p)
        assert s.train_pos.tolist() == [[0, 1]]
        assert s.train_neg.tolist() == [[0, 2]]
        assert s.test_pos.tolist() == [[1, 2]]
        assert s.test_neg.tolist() == [[0, 3]]
        assert s.max_id == 3

    def test_missing_column(self, tmp_path):
        p = tmp_path / "split_01.csv"
        p.write_text("u,v,label\n0,1,1\n")
        with pytest.raises(DataValidationError, match="part"):
            read_split(p)


class TestEvaluateLinks:
    def test_result_structure_and_ranges(self, quick_fracnet):
        res = evaluate_links(geometric_edges(), runs=2, seed=1)
        assert res["runs"] == 2
        assert list(res["methods"]) == ["cn", "jaccard", "aa", "ra", "pa", "katz", "ppr", "fracnet"]
        for m in res["methods"].values():
            for key in ("auc", "auc_std", "ap", "ap_std"):
                assert 0.0 <= m[key] <= 1.0
            assert len(m["auc_runs"]) == 2
        # local structure is strong on a geometric graph
        assert res["methods"]["ra"]["auc"] > 0.9
        assert res["methods"]["fracnet"]["auc"] > 0.9
        assert len(res["roc"]["fracnet"]) == 2

    def test_deterministic(self):
        e = geometric_edges(seed=3)
        a = evaluate_links(e, runs=1, seed=5, methods=["ra", "katz"])
        b = evaluate_links(e, runs=1, seed=5, methods=["ra", "katz"])
        for name in ("ra", "katz"):
            assert a["methods"][name]["auc_runs"] == b["methods"][name]["auc_runs"]
            assert a["methods"][name]["ap_runs"] == b["methods"][name]["ap_runs"]

    def test_custom_scorer_and_model(self):
        from recommender.evaluation.linkpred import LinkPredictor
        from recommender.evaluation.heuristics import score_cn

        res = evaluate_links(
            geometric_edges(),
            runs=1,
            methods={"mine": lambda A, pairs: score_cn(A, pairs), "lp": LinkPredictor(n_holdouts=1, min_train_edges=0)},
        )
        assert set(res["methods"]) == {"mine", "lp"}

    def test_unknown_method(self):
        with pytest.raises(UsageError, match="unknown"):
            evaluate_links(geometric_edges(), runs=1, methods=["nope"])

    def test_too_small(self):
        with pytest.raises(UsageError, match="at least 20"):
            evaluate_links(np.array([[0, 1], [1, 2], [2, 3]]), runs=1)

    def test_too_dense_for_negatives(self):
        import itertools

        K = np.array(list(itertools.combinations(range(8), 2)))  # K8: 28 edges, no non-edge
        with pytest.raises(UsageError, match="non-edges"):
            evaluate_links(K, runs=1, methods=["cn"])

    def test_progress_called(self):
        calls = []
        evaluate_links(geometric_edges(), runs=2, methods=["cn", "ra"], progress=lambda d, t, l: calls.append((d, t)))
        assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]

    def test_edge_list_object(self):
        el = EdgeList(edges=geometric_edges(), nodes=np.arange(80), name="geo")
        assert evaluate_links(el, runs=1, methods=["cn"])["dataset"] == "geo"

    def test_splits_dir(self, tmp_path, quick_fracnet):
        e = geometric_edges(seed=2)
        rng = np.random.default_rng(0)
        d = tmp_path / "toy" / "splits"
        d.mkdir(parents=True)
        from recommender.evaluation.heuristics import adjacency_from_edges
        from recommender.evaluation.linkpred import sample_non_edges

        A = adjacency_from_edges(e[:, 0], e[:, 1], n=80)
        for i in (1, 2):
            perm = rng.permutation(len(e))
            test, train = e[perm[:30]], e[perm[30:]]
            neg = sample_non_edges(A, 60, rng)
            rows = [f"{a},{b},1,train" for a, b in train] + [f"{a},{b},0,train" for a, b in neg[:30]]
            rows += [f"{a},{b},1,test" for a, b in test] + [f"{a},{b},0,test" for a, b in neg[30:]]
            (d / f"split_0{i}.csv").write_text("u,v,label,part\n" + "\n".join(rows) + "\n")
        res = evaluate_links(e, splits_dir=d, methods=["ra", "fracnet"])
        assert res["runs"] == 2
        assert res["dataset"] == "toy"
        assert res["methods"]["fracnet"]["auc"] > 0.85

    def test_usair_one_split(self):
        if not (DATASETS / "usair" / "splits").is_dir():
            pytest.skip("shared datasets not available")
        res = evaluate_links(DATASETS / "usair" / "edges.csv", splits_dir=DATASETS / "usair" / "splits", runs=1, methods=["ra", "fracnet"])
        assert res["dataset"] == "usair"
        assert res["runs"] == 1
        assert res["methods"]["fracnet"]["auc"] > res["methods"]["ra"]["auc"]

    def test_plot_roc(self, tmp_path):
        res = evaluate_links(geometric_edges(), runs=1, methods=["cn", "ra"])
        out = plot_roc(res, tmp_path / "roc.png")
        assert out.exists() and out.stat().st_size > 1000


class TestCli:
    def test_json(self, graph_csv, capsys, quick_fracnet):
        code = main(["evaluate", "links", str(graph_csv), "--runs", "2", "--json"])
        out = capsys.readouterr()
        assert code == 0, out.err
        data = json.loads(out.out)
        assert data["dataset"] == "net"
        assert set(data["methods"]) >= {"cn", "jaccard", "aa", "ra", "pa", "katz", "ppr", "fracnet"}
        for m in data["methods"].values():
            assert 0 <= m["auc"] <= 1 and 0 <= m["ap"] <= 1 and "auc_std" in m
        assert out.err == ""  # no progress bar when stderr is not a terminal

    def test_table_and_plot(self, graph_csv, tmp_path, capsys, quick_fracnet):
        png = tmp_path / "roc.png"
        code = main(["evaluate", "links", str(graph_csv), "--runs", "1", "--seed", "3", "--plot", str(png)])
        out = capsys.readouterr().out
        assert code == 0
        assert "AUC" in out and "fracnet" in out and "ra" in out
        assert "±" in out
        assert png.exists()

    def test_bad_edge_list(self, tmp_path, capsys):
        p = tmp_path / "bad.csv"
        p.write_text("u,v\n0,1\n1,2\noops\n")
        code = main(["evaluate", "links", str(p), "--runs", "1", "--json"])
        err = capsys.readouterr().err
        assert code == 3
        assert f"{p}:4" in err

    def test_too_small_graph(self, tmp_path, capsys):
        p = tmp_path / "tiny.csv"
        p.write_text("u,v\n0,1\n1,2\n2,3\n")
        code = main(["evaluate", "links", str(p), "--runs", "1"])
        err = capsys.readouterr().err
        assert code == 2
        assert "edges" in err

    @pytest.mark.parametrize("argv", [["--runs", "0"], ["--test-frac", "1.5"]])
    def test_bad_options(self, graph_csv, argv, capsys):
        with pytest.raises(SystemExit) as info:
            main(["evaluate", "links", str(graph_csv), *argv])
        assert info.value.code == 2

    def test_evaluate_without_protocol(self, capsys):
        assert main(["evaluate"]) == 2
        assert "links" in capsys.readouterr().out
