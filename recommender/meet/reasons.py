"""The reason rule: which reasons a "who to meet" pair has, how much each weighs, which comes first.

Chosen once here and read by :meth:`MeetModel.recommend <recommender.meet.model.MeetModel.recommend>`
(the reasons with their data), the batch job (``top_reason``, vectorised over
a block) and the explorer (which shows ``recommend``'s reasons).

A reason kind stands for some features (:data:`REASON_FEATURES`); its weight
is their summed contribution to the pair's log-odds. Reasons are ordered by
weight, ties kept in :data:`REASON_ORDER`.

>>> import numpy as np
>>> from recommender.meet.features import FEATURE_NAMES
>>> x = np.zeros((1, len(FEATURE_NAMES))); x[0, FEATURE_NAMES.index("cn")] = 2
>>> [REASON_ORDER[i] for i in np.flatnonzero(reasons_present(x)[0])]
['mutual_contacts']
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recommender.meet.features import FEATURE_NAMES

#: Which features each kind of reason stands for (its weight is their summed contribution).
REASON_FEATURES = {
    "mutual_contacts": ("cn", "jaccard", "aa", "ra", "katz", "introducer_trust", "mutual_recency"),
    "complementary_specialties": ("complementarity", "specialty_affinity"),
    "shared_clients": ("client_overlap",),
    "icp_fit": ("icp_fit",),
    "similar_profile": ("tag_sim",),
    "active": ("cand_activity",),
}
#: Reason kinds in the order they are built (ties in weight keep this order).
REASON_ORDER = ("mutual_contacts", "complementary_specialties", "icp_fit", "shared_clients", "similar_profile",
                "active")
#: A profile similarity above this is a reason.
SIMILAR_PROFILE_MIN = 0.2
#: More ties formed in the last year than this is a reason (``cand_activity`` is ``log1p`` of the count).
ACTIVE_MIN_TIES = 2

_COL = {f: i for i, f in enumerate(FEATURE_NAMES)}
_KIND_COLS = [[_COL[f] for f in REASON_FEATURES[kind]] for kind in REASON_ORDER]
#: The feature columns whose contributions weigh a reason (all :func:`reason_weights` reads).
WEIGHT_COLUMNS = tuple(sorted({j for cols in _KIND_COLS for j in cols}))


@dataclass(frozen=True)
class Reason:
    """One reason for a "who to meet" recommendation, as data.

    ``kind`` is a key of :data:`REASON_FEATURES`; ``weight`` its contribution
    to the log-odds; ``data`` holds what a sentence needs (names, tags).
    (A referral pick's reasons are :class:`recommender.refer.request.Reason`:
    a code, its numbers and its share of the pick's score.)
    """

    kind: str
    weight: float
    data: dict = field(default_factory=dict)


def _present(x) -> list[np.ndarray]:
    """:func:`reasons_present`'s columns, ``x(j)`` giving feature column ``j`` (only :data:`WEIGHT_COLUMNS`)."""
    icp = x(_COL["icp_fit"])
    return [x(_COL["cn"]) > 0, x(_COL["complementarity"]) > 0, icp > 0, (icp <= 0) & (x(_COL["client_overlap"]) > 0),
            x(_COL["tag_sim"]) > SIMILAR_PROFILE_MIN, x(_COL["cand_activity"]) > np.log1p(ACTIVE_MIN_TIES)]


def _weights(c) -> list[np.ndarray]:
    """:func:`reason_weights`' columns, ``c(j)`` giving the contributions of feature ``j``: each kind's summed
    left to right, in :data:`REASON_FEATURES`' order (what a row sum of these few columns gives)."""
    out = []
    for cols in _KIND_COLS:
        w = c(cols[0]).copy()
        for j in cols[1:]:
            w += c(j)
        out.append(w)
    return out


def reasons_present(X: np.ndarray) -> np.ndarray:
    """Which reasons each pair has, shape (m, len(REASON_ORDER)), from its features ``X``.

    An ICP fit and shared clients say the same thing twice: a pair with an ICP
    fit does not also get "shared clients".
    """
    X = np.atleast_2d(X)
    return np.column_stack(_present(lambda j: X[:, j]))


def reason_weights(contrib: np.ndarray) -> np.ndarray:
    """Each reason's weight (summed contributions of its features), shape (m, len(REASON_ORDER))."""
    contrib = np.atleast_2d(contrib)
    return np.column_stack(_weights(lambda j: contrib[:, j]))


def reason_order(present: np.ndarray, weight: np.ndarray) -> list[int]:
    """The reasons one pair has (indices into :data:`REASON_ORDER`), heaviest first, ties in building order."""
    have = np.flatnonzero(present)
    return have[np.argsort(-weight[have], kind="stable")].tolist()


def top_reasons(X: np.ndarray, contrib: np.ndarray) -> np.ndarray:
    """The first reason of each pair (index into :data:`REASON_ORDER`, -1 for none), vectorised."""
    if len(X) == 0:
        return np.zeros(0, np.int64)
    return top_reasons_of(lambda j: X[:, j], lambda j: contrib[:, j])


def top_reasons_of(x, c) -> np.ndarray:
    """:func:`top_reasons` from column getters: ``x(j)`` the pairs' feature ``j``, ``c(j)`` its contributions (only
    :data:`WEIGHT_COLUMNS` are asked for; the batch job passes contiguous columns, several times faster)."""
    best = None
    for i, (has, w) in enumerate(zip(_present(x), _weights(c))):  # the first maximum: building order breaks
        w = np.where(has, w, -np.inf)  # ties, as a stable sort does
        if best is None:
            best, top = np.where(has, i, -1), w
        else:
            more = w > top
            best[more], top[more] = i, w[more]
    return best
