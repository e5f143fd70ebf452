"""The graph builders: typed nodes and edges, as_of replay, trust weights, stats."""

import math

import networkx as nx
import pandas as pd
import pytest

from recommender.errors import UsageError
from recommender.network import Network, load_network, network_stats, people_adjacency
from recommender.trust import build_trust_graph
from recommender.store.db import Store


@pytest.fixture
def net():
    return Network.from_frames(
        people=pd.DataFrame({
            "id": ["a", "b", "c", "d"], "name": ["A", "B", "C", "D"],
            "kind": ["fractional", "fractional", "executive", "fractional"],
            "function": ["marketing", "finance", None, "marketing"], "company_id": [None, None, "x", None],
        }),
        companies=pd.DataFrame({"id": ["x"], "name": ["X Inc"], "industry": ["saas"]}),
        ties=pd.DataFrame({"a": ["a", "b", "a"], "b": ["b", "c", "d"], "strength": [0.8, 0.5, 1.0],
                           "since": ["2022-01-01", "2024-06-01", "2023-01-01"],
                           "last_contact": ["2024-12-01", "2024-06-01", "2020-01-01"]}),
        introductions=pd.DataFrame({"id": ["i1"], "date": ["2024-06-01"], "introducer": ["b"], "a": ["a"],
                                    "b": ["c"], "outcome": ["connected"]}),
        opportunities=pd.DataFrame({"id": ["o1"], "date": ["2024-07-01"], "brought_by": ["a"], "needs": ["fundraising"]}),
        referrals=pd.DataFrame({"id": ["r1"], "opportunity_id": ["o1"], "from_id": ["a"], "to_id": ["b"],
                                "date": ["2024-07-02"], "outcome": ["won"]}),
    )


def test_as_of_replays_history(net):
    past = net.until("2023-12-31")
    assert len(past.introductions) == 0 and len(past.referrals) == 0 and len(past.opportunities) == 0
    pairs = {frozenset(p) for p in zip(past.ties["a"], past.ties["b"])}
    assert frozenset(("b", "c")) not in pairs  # that tie came in 2024
    assert frozenset(("a", "b")) in pairs and frozenset(("a", "d")) in pairs


def test_bad_as_of_is_a_usage_error(net):
    with pytest.raises(UsageError, match="YYYY-MM-DD"):
        net.until("last tuesday")


def test_trust_weights_decay_and_bonus(net):
    t = build_trust_graph(net, as_of="2024-12-31")
    # a-b: strong, recent, and a won referral between them: capped at 1
    assert t["a"]["b"]["weight"] == pytest.approx(1.0)
    # a-d: strongest strength, but no contact for ~5 years: decayed
    assert t["a"]["d"]["weight"] < 0.7
    assert t["a"]["d"]["cost"] == pytest.approx(-math.log(t["a"]["d"]["weight"]))
    path = nx.shortest_path(t, "d", "c", weight="cost")
    assert path == ["d", "a", "b", "c"]


def test_people_adjacency_is_symmetric(net):
    adj, index = people_adjacency(net)
    assert (adj != adj.T).nnz == 0
    assert adj.sum() == 2 * 3
    assert list(index.ids) == ["a", "b", "c", "d"]
    w, _ = people_adjacency(net, weighted=True)
    assert 0 < w.data.min() and w.data.max() <= 1


def test_stats(net):
    s = network_stats(net)
    assert s["people"] == 4 and s["by_kind"] == {"executive": 1, "fractional": 3}
    assert s["edges"] == {"ties": 3, "introductions": 1, "referrals": 1, "employment": 1}
    assert s["largest_component"] == 4


def test_load_network_from_store_matches_tables(sample_db):
    with Store(sample_db) as s:
        net = load_network(s)
        counts = s.counts()
    assert len(net.people) == counts["people"] and len(net.ties) == counts["ties"]
    assert len(net.companies) == counts["companies"]


def test_positions_match_get_indexer():
    """Tie ends are found among the ids as pandas' get_indexer finds them: unknown or missing ends read -1."""
    import numpy as np
    import pandas as pd
    import pytest

    from recommender.network import _positions

    ids = np.array(["p1", "p2", "p3", "10"], dtype=object)
    a = pd.Series(["p2", "nobody", None, "p1", "p3"])
    b = pd.Series([10, 3, 1, 10, 10])  # numbers read as their text, as get_indexer(column.astype(str)) does
    got = _positions(ids, [a, b])
    index = pd.Index(ids)
    for col, pos in zip((a, b), got):
        assert pos.dtype == np.int32
        np.testing.assert_array_equal(pos, index.get_indexer(col.astype(str)))
    np.testing.assert_array_equal(got[0], [1, -1, -1, 0, 2])
    with pytest.raises(pd.errors.InvalidIndexError):  # repeated ids: get_indexer's own answer
        _positions(np.array(["p1", "p1"], dtype=object), [a])


@pytest.mark.parametrize("compiled", [False, True])
def test_symmetric_components_label_as_scipy(compiled):
    """Components of a symmetric graph get scipy's labels (numbered by their lowest node), compiled or not."""
    import numpy as np
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    from recommender.components import symmetric_components

    rng = np.random.default_rng(3)
    n = 500
    a, b = rng.integers(0, n, 300), rng.integers(0, n, 300)  # many small components, isolated nodes, self ties
    A = sp.csr_matrix((np.ones(600), (np.r_[a, b], np.r_[b, a])), shape=(n, n))
    A.sum_duplicates()
    k, labels = symmetric_components(A, compiled=compiled)
    want_k, want = connected_components(A, directed=False)
    assert labels.dtype == np.int32
    assert k == want_k > 50
    np.testing.assert_array_equal(labels, want)
    k0, empty = symmetric_components(sp.csr_matrix((0, 0)), compiled=compiled)
    assert k0 == 0 and len(empty) == 0
