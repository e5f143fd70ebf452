"""Batch jobs: equal to the interactive path, block-size and engine invariant, safe output files."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pandas as pd
import pytest

from recommender.batch.engines import SchedulerError
from recommender.batch.meet import MEET_COLUMNS, batch_meet, meet_frame
from recommender.batch.refer import REFER_COLUMNS, batch_refer
from recommender.batch.writer import OutputPathError
from recommender.cli import main
from recommender.errors import DataValidationError
from recommender.meet.model import MeetModel
from recommender.network import Network


# sample_net and sample_model: session fixtures (tests/conftest.py); compiled_kernels: the root conftest.py
pytestmark = pytest.mark.usefixtures("compiled_kernels")


@pytest.fixture(scope="module")
def sample_batch(sample_model):
    return meet_frame(sample_model, k=10, block_size=64)


@pytest.fixture(scope="module")
def small_model():
    from recommender.demo import generate_network

    return MeetModel().fit(Network.from_frames(**generate_network(150, seed=5)))


# -- the same answers as the interactive path ------------------------------------


def test_batch_equals_recommend_for_everyone_on_the_sample(sample_model, sample_batch, sample_net):
    people = sample_net.people
    expected_people = people.loc[people["opt_out"].astype(int) == 0, "id"].tolist()
    assert list(dict.fromkeys(sample_batch["person_id"])) == [p for p in expected_people
                                                              if p in set(sample_batch["person_id"])]
    by_person = dict(tuple(sample_batch.groupby("person_id", sort=False)))
    # the first and last person of every block of 64 (where a block's edges could go wrong) and a seeded 100
    # more, one by one (everyone, on any network: python bench/batch_equals_meet.py)
    ids = people["id"].tolist()
    edges = {ids[i] for start in range(0, len(ids), 64) for i in (start, min(start + 64, len(ids)) - 1)}
    picked = set(np.random.default_rng(7).choice(expected_people, size=100, replace=False))
    checked = 0
    for pid in [p for p in expected_people if p in edges or p in picked]:
        recs = sample_model.recommend(pid, k=10)
        got = by_person.get(pid)
        if not recs:
            assert got is None
            continue
        assert got["candidate_id"].tolist() == [r.candidate_id for r in recs]
        assert got["group"].tolist() == [r.group for r in recs]
        np.testing.assert_allclose(got["score"].to_numpy(), [r.score for r in recs], rtol=0, atol=1e-9)
        assert got["introducer_id"].fillna("").tolist() == [r.introducer_id or "" for r in recs]
        np.testing.assert_allclose(got["introducer_trust"], [r.introducer_trust for r in recs], atol=1e-12)
        assert got["top_reason"].tolist() == [r.reasons[0].kind if r.reasons else "" for r in recs]
        ranks = got.groupby("group", sort=False)["rank"].apply(list)
        assert all(r == list(range(1, len(r) + 1)) for r in ranks)
        checked += 1
    assert checked > 100


def test_batch_equals_the_meet_cli_json(warm_sample_db, sample_batch, capsys):
    for pid in ["p0001", "p0042", "p0300"]:  # the CLI answers from the sample's cached model (read-only use)
        assert main(["meet", pid, "--json", "--db", str(warm_sample_db)]) == 0
        recs = json.loads(capsys.readouterr().out)["recommendations"]
        got = sample_batch[sample_batch["person_id"] == pid]
        assert got["candidate_id"].tolist() == [r["id"] for r in recs]
        np.testing.assert_allclose(got["score"].round(6), [r["score"] for r in recs], atol=1e-9)


@pytest.mark.parametrize("block_size", [1, 7, 500])
def test_block_size_does_not_change_results(sample_model, sample_batch, block_size):
    ids = sample_batch["person_id"].drop_duplicates().tolist()[:60] if block_size == 1 else None
    got = meet_frame(sample_model, ids, k=10, block_size=block_size)
    want = sample_batch if ids is None else sample_batch[sample_batch["person_id"].isin(ids)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_single_group_and_k(sample_model):
    df = meet_frame(sample_model, k=3, group="executives", block_size=100)
    assert set(df["group"]) == {"executives"}
    assert df.groupby("person_id").size().max() <= 3
    pid = df["person_id"].iloc[0]
    assert df.loc[df["person_id"] == pid, "candidate_id"].tolist() == [
        r.candidate_id for r in sample_model.recommend(pid, k=3, group="executives")]


def test_opted_out_people_are_never_candidates_and_get_no_list(sample_model, sample_batch, sample_net):
    people = sample_net.people
    opted = set(people.loc[people["opt_out"].astype(int) == 1, "id"])
    assert opted, "the sample should have opted-out people"
    assert not opted & set(sample_batch["candidate_id"])
    assert not opted & set(sample_batch["person_id"])


# -- Dask --------------------------------------------------------------------------


def test_dask_engine_equals_local(small_model):
    import io

    from recommender.meet.persistence import read_state, write_state
    from recommender.meet.scoring import MeetScorer

    local = meet_frame(small_model, k=5, block_size=16)
    # the model as `fracnet batch meet` loads it from the cache (its answering half: the workers unpickle it
    # without importing scikit-learn or pandas), on a LocalCluster of 2 processes
    buf = io.BytesIO()
    write_state(buf, "MeetModel", small_model.to_state())
    buf.seek(0)
    scorer = MeetScorer.from_state(read_state(buf, "MeetModel"))
    remote = meet_frame(scorer, k=5, block_size=16, engine="dask")
    pd.testing.assert_frame_equal(remote, local, check_exact=True)


def test_unreachable_scheduler_fails_fast_with_a_hint(small_model, tmp_path, monkeypatch):
    from recommender.batch import engines

    monkeypatch.setattr(engines, "CONNECT_TIMEOUT_S", 1)  # the wait is the timeout (5 s for a user): 1 s here
    out = tmp_path / "x.csv"
    t0 = time.perf_counter()
    with pytest.raises(SchedulerError) as exc:
        batch_meet(small_model, out, engine="dask", scheduler="tcp://127.0.0.1:9")
    assert time.perf_counter() - t0 < 11
    assert "127.0.0.1:9" in str(exc.value) and "dask scheduler" in str(exc.value) and "within 1 s" in str(exc.value)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


# -- output files --------------------------------------------------------------------


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_output_files_are_readable(small_model, tmp_path, ext):
    out = tmp_path / f"meet.{ext}"
    summary = batch_meet(small_model, out, k=4, block_size=40)
    df = pd.read_csv(out, keep_default_na=False, na_values=[""]) if ext == "csv" else pd.read_parquet(out)
    assert list(df.columns) == list(MEET_COLUMNS)
    assert len(df) == summary.rows > 0
    assert df["score"].dtype == np.float64
    want = meet_frame(small_model, k=4)
    np.testing.assert_array_equal(df["candidate_id"].astype(str), want["candidate_id"].astype(str))
    np.testing.assert_allclose(df["score"], want["score"], rtol=0, atol=1e-12 if ext == "csv" else 0)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temp file left


def test_parquet_row_groups_summarise_what_readers_filter_on(small_model, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "meet.parquet"
    batch_meet(small_model, out, k=4, block_size=40)
    meta = pq.ParquetFile(out).metadata
    assert meta.num_row_groups > 1
    names = meta.schema.names
    for g in range(meta.num_row_groups):
        stats = {names[c]: meta.row_group(g).column(c).statistics for c in range(meta.num_columns)}
        person = stats["person_id"]
        assert person is not None and person.has_min_max  # a reader can skip row groups by person
        assert stats["score"] is not None and stats["score"].has_min_max
        # the candidates' and introducers' ids (many distinct strings) are not summarised: the costliest part
        assert stats["candidate_id"] is None and stats["introducer_id"] is None
    first = pq.read_table(out, filters=[("person_id", "==", str(pd.read_parquet(out)["person_id"].iloc[0]))])
    assert 0 < first.num_rows <= 3 * 4


def test_the_default_block_is_smaller_on_the_numpy_path(sample_model, tmp_path, monkeypatch):
    from recommender.batch import fast
    from recommender.batch.engines import DEFAULT_BLOCK_SIZE
    from recommender.batch.meet import NUMPY_BLOCK_SIZE, meet_block_size

    path = fast.path_taken(sample_model)
    want = DEFAULT_BLOCK_SIZE if path == "compiled" else NUMPY_BLOCK_SIZE
    assert meet_block_size(sample_model) == want
    assert batch_meet(sample_model, tmp_path / "a.csv", k=2).block_size == want
    monkeypatch.setattr(fast, "usable", lambda model: False)  # as without numba or with a tree ranker
    summary = batch_meet(sample_model, tmp_path / "b.csv", k=2)
    assert summary.block_size == NUMPY_BLOCK_SIZE < DEFAULT_BLOCK_SIZE
    assert summary.blocks == -(-summary.people // NUMPY_BLOCK_SIZE) > 1  # the sample's 400 people: two blocks
    assert batch_meet(sample_model, tmp_path / "c.csv", k=2, block_size=700).block_size == 700  # asked for: kept


def test_unknown_extension_fails_listing_formats(small_model, tmp_path):
    with pytest.raises(OutputPathError, match=r"\.csv or \.parquet"):
        batch_meet(small_model, tmp_path / "out.xlsx")


def test_unwritable_output_fails_before_any_work(small_model, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(type(small_model), "score_block",
                        lambda self, *a, **k: calls.append(1) or (_ for _ in ()).throw(AssertionError("work")))
    with pytest.raises(OutputPathError, match="does not exist"):
        batch_meet(small_model, tmp_path / "missing" / "out.csv")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions
            pytest.skip("running as root: cannot make a folder unwritable")
        with pytest.raises(OutputPathError):
            batch_meet(small_model, locked / "out.csv")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)
    assert calls == []


def test_interrupted_run_leaves_no_file(small_model, tmp_path):
    out = tmp_path / "meet.parquet"
    out_csv = tmp_path / "meet.csv"

    def stop(done, total):
        if done >= 30:
            raise KeyboardInterrupt

    for path in (out, out_csv):
        with pytest.raises(KeyboardInterrupt):
            batch_meet(small_model, path, block_size=10, progress=stop)
        assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_interrupted_run_keeps_the_previous_file(small_model, tmp_path):
    out = tmp_path / "meet.csv"
    out.write_text("old\n")
    with pytest.raises(RuntimeError):
        batch_meet(small_model, out, block_size=10, progress=lambda d, t: (_ for _ in ()).throw(RuntimeError()))
    assert out.read_text() == "old\n"


# -- batch refer -------------------------------------------------------------------------


OPPS = """id,brought_by,needs,industry,size_band,region,description
x1,p0001,demand gen;abm,saas,5-50m,us-west,Pipeline help for a SaaS company
x2,p0042,fp-and-a,,,,
x3,p0100,,,,,Need someone to fix our hiring process
"""


def test_batch_refer_writes_one_row_per_pick(sample_net, sample_router, tmp_path):
    src = tmp_path / "opps.csv"
    src.write_text(OPPS)
    out = tmp_path / "picks.csv"
    summary = batch_refer(sample_net, src, out, k=3)
    df = pd.read_csv(out)
    assert list(df.columns) == list(REFER_COLUMNS)
    assert summary.extra["opportunities"] == 3 and summary.rows == len(df)
    assert set(df["opportunity_id"]) <= {"x1", "x2", "x3"} and len(df) >= 3
    assert df.groupby("opportunity_id")["rank"].max().max() <= 3
    # the same picks as one routing at a time (the session's router, fitted on the same sample)
    r = sample_router.route("p0001", needs="demand gen;abm", industry="saas", size_band="5-50m",
                                       region="us-west", description="Pipeline help for a SaaS company", k=3)
    assert df.loc[df["opportunity_id"] == "x1", "person_id"].tolist() == [p.person_id for p in r.picks]
    assert all(path.split(">")[0] == who for path, who in zip(df["trust_path"], df["brought_by"]))


def test_batch_refer_reports_bad_rows_before_work(sample_net, tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("id,brought_by,needs,description\nx1,p0001,abm,\nx1,nobody,,\n,p0002,abm,\n")
    out = tmp_path / "picks.csv"
    with pytest.raises(DataValidationError) as exc:
        batch_refer(sample_net, src, out)
    text = [str(p) for p in exc.value.problems]
    assert any(t.startswith(f"{src}:3: field 'id'") and "duplicate" in t for t in text)
    assert any(t.startswith(f"{src}:3: field 'brought_by'") for t in text)
    assert any(t.startswith(f"{src}:3: field 'needs'") for t in text)
    assert any(t.startswith(f"{src}:4: field 'id'") for t in text)
    assert not out.exists()


# -- the CLI -------------------------------------------------------------------------------


def test_cli_batch_meet(warm_sample_db, tmp_path, capsys):
    out = tmp_path / "all.parquet"
    assert main(["batch", "meet", "--db", str(warm_sample_db), "--out", str(out), "--top-k", "3", "--block-size", "50",
                 "--json", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    df = pd.read_parquet(out)
    assert summary["rows"] == len(df) and summary["people"] > 300
    assert {"seconds", "peak_memory_mb", "fit_seconds"} <= set(summary)
    assert main(["batch", "meet", "--db", str(warm_sample_db), "--out", str(tmp_path / "a.csv"), "--quiet"]) == 0
    assert "rows for" in capsys.readouterr().out


def test_cli_batch_meet_cached_model_skips_the_network(cold_db, tmp_path, monkeypatch):
    """With a model cached for the database's revision, the network is not read again (at 1M that is minutes)."""
    import recommender.network

    first = tmp_path / "first.csv"
    assert main(["batch", "meet", "--db", str(cold_db), "--out", str(first), "--quiet"]) == 0  # fits, caches

    def no_load(*args, **kwargs):
        raise AssertionError("the network was read although a model is cached")

    monkeypatch.setattr(recommender.network, "load_network", no_load)
    again = tmp_path / "again.csv"
    assert main(["batch", "meet", "--db", str(cold_db), "--out", str(again), "--quiet"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(again), pd.read_csv(first))


@pytest.mark.parametrize("argv, code, text", [
    (["--out", "x.txt"], 2, ".csv or .parquet"),
    (["--out", "/no/such/dir/x.csv"], 2, "does not exist"),
    (["--out", "x.csv", "--top-k", "0"], 2, "--top-k"),
    (["--out", "x.csv", "--block-size", "0"], 2, "--block-size"),
    (["--out", "x.csv", "--scheduler", "tcp://127.0.0.1:9"], 2, "--engine dask"),
])
def test_cli_batch_meet_errors(sample_db, tmp_path, capsys, argv, code, text):
    argv = [a if a != "x.csv" and a != "x.txt" else str(tmp_path / a) for a in argv]
    assert main(["batch", "meet", "--db", str(sample_db), *argv]) == code
    err = capsys.readouterr().err
    assert text in err and len(err.strip().splitlines()) == 1
    assert not any(p.suffix == ".csv" for p in tmp_path.iterdir())


def test_cli_batch_refer(warm_sample_db, tmp_path, capsys):
    sample_db = warm_sample_db  # its router cached: loaded (read-only use)
    src = tmp_path / "opps.csv"
    src.write_text(OPPS)
    out = tmp_path / "picks.parquet"
    assert main(["batch", "refer", str(src), "--db", str(sample_db), "--out", str(out), "--quiet"]) == 0
    assert len(pd.read_parquet(out)) > 0
    bad = tmp_path / "bad.csv"
    bad.write_text("id,brought_by,needs\nx1,ghost,abm\n")
    assert main(["batch", "refer", str(bad), "--db", str(sample_db), "--out", str(tmp_path / "p.csv")]) == 3
    err = capsys.readouterr().err
    assert f"{bad}:2: field 'brought_by'" in err
    assert not (tmp_path / "p.csv").exists()
