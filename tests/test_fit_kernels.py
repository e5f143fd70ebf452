"""The fit's compiled graph builds (recommender.kernels_graph, used on big networks) give what the numpy steps give."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("numba")

from recommender import network as network_module  # noqa: E402
from recommender.meet.context import build_context  # noqa: E402
from recommender.network import Network, TieTable  # noqa: E402
from recommender.people import encode_people  # noqa: E402
from recommender.similarity import ProfileModel  # noqa: E402


@pytest.fixture(scope="module")
def demo():
    from recommender.demo import generate_network

    net = Network.from_frames(**generate_network(600, seed=5))
    profile = ProfileModel().fit(net.people)
    return net, profile, encode_people(net, profile)


def _both(monkeypatch, f):
    """``f()`` with the numpy steps, then with the compiled kernels."""
    monkeypatch.setattr(network_module, "COMPILED_MIN_RECORDS", 1 << 62)
    slow = f()
    monkeypatch.setattr(network_module, "COMPILED_MIN_RECORDS", 0)
    assert network_module.graph_kernels(0) is not None
    return slow, f()


def _same_context(a, b):
    for name in ("A", "W", "F"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.indices.dtype == y.indices.dtype and x.indptr.dtype == y.indptr.dtype
        np.testing.assert_array_equal(x.indptr, y.indptr)
        np.testing.assert_array_equal(x.indices, y.indices)
        np.testing.assert_array_equal(x.data, y.data)  # the same bits
    for name in ("deg", "affinity", "activity"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.as_of == b.as_of


def _net_with_repeats(net: Network) -> Network:
    """Some ties listed twice (once reversed, with another strength) and some self-ties."""
    t = net.ties
    extra = t.iloc[::7].rename(columns={"a": "b", "b": "a"}).assign(strength=0.99)
    selfie = t.iloc[:5].assign(b=t["a"].iloc[:5])
    return replace(net, ties=pd.concat([t, extra, selfie], ignore_index=True))


@pytest.mark.parametrize("repeats", [False, True])
def test_directed_records_are_the_same(demo, monkeypatch, repeats):
    net = _net_with_repeats(demo[0]) if repeats else demo[0]
    ids = demo[2].ids
    slow, fast = _both(monkeypatch, lambda: TieTable.encode(net, ids).directed())
    assert slow["repeated"] == fast["repeated"] == repeats
    for key in ("tie", "indptr", "col", "rec"):
        assert slow[key].dtype == fast[key].dtype
        np.testing.assert_array_equal(slow[key], fast[key])


@pytest.mark.parametrize("as_of", [None, "2025-06-01", "2024-01-15"])
def test_a_graph_as_of_a_date_is_the_same(demo, monkeypatch, as_of):
    net, profile, people = demo
    ties = TieTable.encode(net, people.ids)
    ties.directed()  # the records, computed once (as the fit does), shared by both builds
    slow, fast = _both(monkeypatch, lambda: build_context(net, profile, as_of=as_of, people=people, ties=ties,
                                                          time_scale=0.8))
    assert slow.A.nnz and (as_of is None or slow.A.nnz < 2 * len(net.ties))
    _same_context(slow, fast)
