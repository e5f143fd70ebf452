"""The trust rule, in one place: how much one person trusts another they are tied to.

A tie's trust is its strength (0.5 when unknown), decayed by the time since
last contact (``0.5 + 0.5 * 0.5 ** (age / half_life)``), raised by accepted or
won referrals and successful introductions between the two, capped at 1.
:func:`trust_weights` gives it per tie, :meth:`TieTable.trust
<recommender.network.TieTable.trust>` for the encoded ties of a date, and
:func:`build_trust_graph` as a networkx graph for the explorer; referral
routing and "who to meet" both read it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import pandas as pd

from recommender.kernels import match_keys, sorted_unique

if TYPE_CHECKING:  # annotations only
    from recommender.network import Network


DEFAULT_HALF_LIFE_DAYS = 730


REFERRAL_TRUST_BONUS = {"accepted": 0.1, "won": 0.2}


INTRO_TRUST_BONUS = 0.05


def trust_weights(net: Network, half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> pd.DataFrame:
    """Trust per tie: strength, decayed by time since last contact, raised by
    successful referrals and introductions between the two.

    Returns a frame ``a, b, weight`` with a < b and weight in (0, 1].
    """
    ref_day = pd.Timestamp(net.reference_date)
    ties = net.ties
    last = pd.to_datetime(ties["last_contact"].fillna(ties["since"]), errors="coerce")
    age = (ref_day - last).dt.days.to_numpy(dtype=float)
    weight = decayed_strength(tie_strength(ties["strength"]), age, half_life_days)
    lo, hi, bonus, _ = bonus_events(net)
    if len(lo) and len(ties):
        # the bonus of a tie is that of its (a, b) as stored: codes over the ids that have a bonus
        ids = pd.Index(pd.unique(np.r_[lo.to_numpy(dtype=object), hi.to_numpy(dtype=object)]))
        k = len(ids)
        ia, ib = ids.get_indexer(ties["a"]), ids.get_indexer(ties["b"])
        key = np.where((ia >= 0) & (ib >= 0), ia.astype(np.int64) * k + ib, -1)
        bkey = ids.get_indexer(lo).astype(np.int64) * k + ids.get_indexer(hi)
        weight = add_bonus(weight, key, bkey, bonus)
    return pd.DataFrame({"a": ties["a"].to_numpy(), "b": ties["b"].to_numpy(), "weight": weight})


def tie_strength(strength: pd.Series) -> np.ndarray:
    """Tie strengths as trust reads them: numbers, missing as 0.5, within [0.01, 1]."""
    return pd.to_numeric(strength, errors="coerce").fillna(0.5).clip(0.01, 1.0).to_numpy(float)


def decayed_strength(strength: np.ndarray, age: np.ndarray, half_life_days: float) -> np.ndarray:
    """Strength times the recency decay ``0.5 + 0.5 * 0.5 ** (age / half_life)`` (unknown age: one half-life)."""
    age = np.where(np.isnan(age), half_life_days, np.clip(age, 0, None))
    return strength * (0.5 + 0.5 * np.power(0.5, age / half_life_days))


def bonus_events(net: Network) -> tuple[pd.Series, pd.Series, np.ndarray, np.ndarray]:
    """Trust bonuses from referrals (accepted, won) and connected introductions, one row each.

    Returns ``(lo, hi, bonus, row)``: the pair as ids in string order, the
    bonus, and where the event comes from (``row`` indexes
    ``referrals`` then ``introductions`` twice, introducer with ``a`` then
    with ``b``), in that order; rows with a missing id are dropped.
    """
    ref, intro = net.referrals, net.introductions
    a, b, bonus, row = [], [], [], []
    if len(ref):
        ok = ref["outcome"].isin(list(REFERRAL_TRUST_BONUS)).to_numpy()
        a.append(ref["from_id"][ok])
        b.append(ref["to_id"][ok])
        bonus.append(ref["outcome"][ok].map(REFERRAL_TRUST_BONUS).to_numpy(float))
        row.append(np.flatnonzero(ok))
    if len(intro):
        ok = ((intro["outcome"] == "connected") & intro["introducer"].notna()).to_numpy()
        by = intro["introducer"][ok]
        for k, end in enumerate(("a", "b")):
            a.append(by)
            b.append(intro[end][ok])
            bonus.append(np.full(int(ok.sum()), INTRO_TRUST_BONUS))
            row.append(np.flatnonzero(ok) + len(ref) + k * len(intro))
    if not a:
        empty = pd.Series([], dtype=object)
        return empty, empty, np.zeros(0), np.zeros(0, np.int64)
    a = pd.concat(a, ignore_index=True)
    b = pd.concat(b, ignore_index=True)
    keep = (a.notna() & b.notna()).to_numpy()
    a, b = a[keep].reset_index(drop=True), b[keep].reset_index(drop=True)
    first = (a <= b).to_numpy(dtype=bool)  # the pair in string order, as min/max across the two columns
    return (a.where(first, b), b.where(first, a), np.concatenate(bonus)[keep], np.concatenate(row)[keep])


def add_bonus(weight: np.ndarray, key: np.ndarray, bonus_key: np.ndarray, bonus: np.ndarray) -> np.ndarray:
    """``min(weight + summed bonus of the tie's key, 1)``; keys < 0 match nothing."""
    ok = bonus_key >= 0
    if not ok.any():
        return np.minimum(weight, 1.0)
    uniq = sorted_unique(bonus_key[ok])
    total = np.bincount(match_keys(uniq, bonus_key[ok]), weights=bonus[ok], minlength=len(uniq))
    slot = match_keys(uniq, key)
    return np.minimum(weight + np.where(slot >= 0, total[slot], 0.0), 1.0)


def build_trust_graph(net: Network, as_of=None, half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> nx.Graph:
    """The weighted trust graph over people.

    Each tie is an edge with ``weight`` in (0, 1] (see :func:`trust_weights`)
    and ``cost = -log(weight)``, so the strongest path is the cheapest one.
    """
    net = net.until(as_of)
    g = nx.Graph(as_of=net.as_of)
    g.add_nodes_from(net.people["id"])
    w = trust_weights(net, half_life_days)
    g.add_weighted_edges_from(w.itertuples(index=False, name=None))
    for _, _, d in g.edges(data=True):
        d["cost"] = float(-np.log(max(d["weight"], 1e-9)))
    return g
