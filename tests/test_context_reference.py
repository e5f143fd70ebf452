"""build_context, trust_weights and the training labels, vectorised on encoded ties, equal the
string-merge versions they replaced (kept here as slow references)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.meet.context import build_context
from recommender.people import encode_people
from recommender.trust import DEFAULT_HALF_LIFE_DAYS, INTRO_TRUST_BONUS, REFERRAL_TRUST_BONUS, trust_weights
from recommender.network import Network, TieTable
from recommender.meet.training import history_span, query_pairs
from recommender.similarity import ProfileModel

# ---------------------------------------------------------------------------
# The references: the code as it was before it ran on encoded ties
# ---------------------------------------------------------------------------


def _trust_reference(net: Network, half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> pd.DataFrame:
    ref_day = pd.Timestamp(net.reference_date)
    ties = net.ties
    strength = pd.to_numeric(ties["strength"], errors="coerce").fillna(0.5).clip(0.01, 1.0).to_numpy(float)
    last = pd.to_datetime(ties["last_contact"].fillna(ties["since"]), errors="coerce")
    age = (ref_day - last).dt.days.to_numpy(dtype=float)
    age = np.where(np.isnan(age), half_life_days, np.clip(age, 0, None))
    decay = 0.5 + 0.5 * np.power(0.5, age / half_life_days)
    w = pd.DataFrame({"a": ties["a"].to_numpy(), "b": ties["b"].to_numpy(), "weight": strength * decay})
    bonus = []
    ref = net.referrals
    if len(ref):
        r = ref[ref["outcome"].isin(list(REFERRAL_TRUST_BONUS))]
        bonus.append(pd.DataFrame({"a": r["from_id"], "b": r["to_id"], "bonus": r["outcome"].map(REFERRAL_TRUST_BONUS)}))
    intro = net.introductions
    if len(intro):
        i = intro[intro["outcome"] == "connected"]
        i = i[i["introducer"].notna()]
        bonus.append(pd.DataFrame({"a": i["introducer"], "b": i["a"], "bonus": INTRO_TRUST_BONUS}))
        bonus.append(pd.DataFrame({"a": i["introducer"], "b": i["b"], "bonus": INTRO_TRUST_BONUS}))
    if bonus and len(w):
        bon = pd.concat(bonus, ignore_index=True).dropna()
        lo = bon[["a", "b"]].min(axis=1)
        hi = bon[["a", "b"]].max(axis=1)
        bon = pd.DataFrame({"a": lo, "b": hi, "bonus": bon["bonus"].astype(float)}).groupby(
            ["a", "b"], as_index=False)["bonus"].sum()
        w = w.merge(bon, on=["a", "b"], how="left")
        w["weight"] = (w["weight"] + w["bonus"].fillna(0.0)).clip(upper=1.0)
        w = w.drop(columns="bonus")
    return w


def _context_reference(net: Network, as_of=None, people=None):
    """The tie part of the old build_context: A, W, F, deg, activity."""
    import scipy.sparse as sp

    net = net.until(as_of)
    day = pd.Timestamp(net.reference_date)
    enc = people
    index = pd.Index(enc.ids)
    n = len(enc.ids)
    ties = net.ties.copy()
    if len(ties):
        late = pd.to_datetime(ties["last_contact"], errors="coerce", format="%Y-%m-%d") > day
        if late.any():
            ties.loc[late, "last_contact"] = None
    view = Network.from_frames(people=net.people, ties=ties, introductions=net.introductions,
                               referrals=net.referrals, as_of=day.strftime("%Y-%m-%d"))
    tw = _trust_reference(view) if len(ties) else pd.DataFrame({"a": [], "b": [], "weight": []})
    ia = index.get_indexer(ties["a"].astype(str))
    ib = index.get_indexer(ties["b"].astype(str))
    since = pd.to_datetime(ties["since"], errors="coerce", format="%Y-%m-%d")
    age = (day - since).dt.days.to_numpy(dtype=float)
    fresh = np.where(np.isnan(age), np.exp(-3.0), np.exp(-np.clip(age, 0, None) / 365.0))
    recent = (~np.isnan(age)) & (age <= 365)
    weight = tw["weight"].to_numpy(float) if len(tw) == len(ties) else np.full(len(ties), 0.5)
    keep = (ia >= 0) & (ib >= 0) & (ia != ib)
    ia, ib, fresh, weight, recent = ia[keep], ib[keep], fresh[keep], weight[keep], recent[keep]
    rows = np.r_[ia, ib].astype(np.int64)
    cols = np.r_[ib, ia].astype(np.int64)
    wv_all, fv_all = np.r_[weight, weight], np.r_[fresh, fresh]
    key = rows * n + cols
    order = np.lexsort((-wv_all, key))
    key_s = key[order]
    order = order[np.r_[True, key_s[1:] != key_s[:-1]]] if len(order) else order
    r, c = rows[order], cols[order]
    A = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, n))
    # stored in single precision, as the context documents
    W = sp.csr_matrix((np.clip(wv_all[order], 1e-6, 1.0).astype(np.float32), (r, c)), shape=(n, n))
    F = sp.csr_matrix((fv_all[order].astype(np.float32), (r, c)), shape=(n, n))
    rec = np.bincount(np.r_[ia[recent], ib[recent]], minlength=n).astype(float)
    return {"A": A, "W": W, "F": F, "deg": np.diff(A.indptr).astype(float), "activity": np.log1p(rec),
            "as_of": day.strftime("%Y-%m-%d")}


# ---------------------------------------------------------------------------


def _check(net: Network, cuts):
    profile = ProfileModel().fit(net.people)
    enc = encode_people(net, profile)
    ties = TieTable.encode(net, enc.ids)
    assert ties.span == history_span(net)
    for as_of in cuts:
        ctx = build_context(net, profile, as_of=as_of, people=enc, ties=ties, time_scale=1.0)  # the references use fixed windows
        ref = _context_reference(net, as_of, enc)
        assert ctx.as_of == ref["as_of"]
        for name in ("A", "W", "F"):
            got, want = getattr(ctx, name), ref[name]
            assert got.has_sorted_indices and want.has_sorted_indices
            np.testing.assert_array_equal(got.indptr, want.indptr)
            np.testing.assert_array_equal(got.indices, want.indices)
            np.testing.assert_allclose(got.data, want.data, rtol=0, atol=1e-12, err_msg=name)
        np.testing.assert_array_equal(ctx.deg, ref["deg"])
        np.testing.assert_array_equal(ctx.activity, ref["activity"])
        # the same context without the shared encodings
        alone = build_context(net, profile, as_of=as_of)
        assert (alone.W != ctx.W).nnz == 0 and (alone.F != ctx.F).nnz == 0
        np.testing.assert_array_equal(alone.affinity, ctx.affinity)
        for after, until in ((as_of, None), (as_of, "2025-06-30"), ("2023-01-01", as_of)):
            if after is None:
                continue
            got = query_pairs(ctx, net, after, until, ties=ties)
            want = query_pairs(ctx, net, after, until)  # without the tie table: the string path
            assert set(zip(*map(list, got))) == set(zip(*map(list, want)))


def _same_trust(net: Network):
    got, want = trust_weights(net), _trust_reference(net)
    assert list(got.columns) == ["a", "b", "weight"]
    assert got["a"].tolist() == want["a"].tolist() and got["b"].tolist() == want["b"].tolist()
    np.testing.assert_allclose(got["weight"].to_numpy(), want["weight"].to_numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("n,seed", [(400, 42), (2500, 3)])
def test_generated_networks_match_reference(n, seed):
    from recommender.demo import generate_network

    net = Network.from_frames(**generate_network(n, seed=seed))
    _same_trust(net)
    _same_trust(net.until("2025-01-01"))
    _check(net, [None, "2026-01-01", "2025-07-05", "2024-01-06", "2021-01-01", "1999-01-01"])


def _awkward() -> Network:
    """Repeated ties (both ways, equal weights), self ties, unknown people, missing and late dates, bonuses."""
    people = pd.DataFrame({"id": list("abcdef"), "name": list("ABCDEF"),
                           "kind": ["fractional"] * 5 + ["executive"], "specialties": ["x", "y", "x;y", None, "z", "x"],
                           "opt_out": [0, 0, 0, 1, 0, 0]})
    ties = pd.DataFrame({
        "a": ["a", "b", "a", "a", "c", "zz", "d", "e", "b", "c", "f", "a", None, "e", "b"],
        "b": ["b", "a", "b", "a", "d", "a", "e", "f", "c", "b", "a", "c", "b", "b", "e"],
        "strength": [0.8, 0.8, "0.9", 0.5, None, 0.7, "junk", 2.0, 0.6, 0.6, 0.3, 0.4, 0.5, 0.5, 0.5],
        "since": ["2022-01-01", "2022-01-01", "2023-05-01", "2023-01-01", None, "2023-01-01", "2024-06-01",
                  "2024-12-31", "2024-02-01", "2024-02-01", "2025-03-01", "2021-01-01", "2024-01-01",
                  "2023-01-01", "2022-01-01"],
        "last_contact": ["2024-12-01", None, "2025-04-01", None, "2024-01-01", None, "2024-06-02", None,
                         "2025-02-01", "2024-03-01", None, "2030-01-01", None, "2024-05-01", "2024-05-01"],
    })
    intro = pd.DataFrame({"id": ["i1", "i2", "i3", "i4"], "date": ["2024-06-01", None, "2025-01-01", "2024-01-01"],
                          "introducer": ["b", "c", None, "f"], "a": ["a", "a", "b", "e"], "b": ["c", "b", "e", "a"],
                          "outcome": ["connected", "connected", "connected", "declined"]})
    refs = pd.DataFrame({"id": ["r1", "r2", "r3", "r4"], "opportunity_id": ["o1"] * 4,
                         "from_id": ["a", "b", "c", None], "to_id": ["b", "a", "b", "a"],
                         "date": ["2024-07-02", "2024-08-01", None, "2024-01-01"],
                         "outcome": ["won", "accepted", "won", "won"]})
    return Network.from_frames(people=people, ties=ties, introductions=intro, referrals=refs)


def test_awkward_network_matches_reference():
    net = _awkward()
    _same_trust(net)
    ctx = build_context(net)
    b, e = ctx.position["b"], ctx.position["e"]
    assert ctx.W[b, e] == ctx.W[e, b] and ctx.F[b, e] != ctx.F[e, b]  # equal weights: each way its first record
    _check(net, [None, "2024-06-01", "2024-07-01", "2024-12-31", "2025-01-15", "2023-06-01", "2020-01-01"])


def test_dates_that_are_not_iso_fall_back_to_the_old_reading():
    net = _awkward()
    ties = net.ties.copy()
    ties.loc[0, "last_contact"] = "2024-12-01 10:00"
    ties.loc[2, "since"] = "2023-5-1"
    # a first tie that is not between two people, in another date format: it sets how dates are read
    ties = pd.concat([pd.DataFrame({"a": ["zz", "c"], "b": ["a", "e"], "strength": [0.5, 0.7],
                                    "since": ["01/02/2023", "2024-01-01"],
                                    "last_contact": ["02/03/2024", "2024-12-01 10:00"]}), ties], ignore_index=True)
    net = Network.from_frames(people=net.people, ties=ties, introductions=net.introductions,
                              referrals=net.referrals)
    assert not TieTable.encode(net, net.people["id"].to_numpy()).last_contact.strict
    _same_trust(net)
    _check(net, [None, "2024-07-01", "2025-01-15"])


def test_no_ties():
    net = Network.from_frames(people=pd.DataFrame({"id": ["a", "b"], "specialties": ["x", "y"]}))
    _same_trust(net)
    ctx = build_context(net)
    assert ctx.A.nnz == 0 and ctx.A.shape == (2, 2)
